"""Capture one language's mean MLP activations into a Zarr store (see linguafranca.capture)."""
from linguafranca.capture import capture_store
from linguafranca.data import read_jsonl
from linguafranca.joblog import job_log, set_threads
from linguafranca.models import check_context, load_model, provenance, read_manifest

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    wildcards = snakemake.wildcards
    spec = snakemake.config["models"][wildcards.model]
    manifest = read_manifest(snakemake.input.manifest)
    model, tokenizer = load_model(manifest, spec)
    check_context(model, f"models.{wildcards.model}.max_length", snakemake.params.settings["max_length"])
    capture_store(
        model,
        tokenizer,
        read_jsonl(snakemake.input.data),
        snakemake.output[0],
        settings={**snakemake.params.settings, "batch_size": spec["batch_size"]},
        attrs={
            "model": wildcards.model,
            "model_name": spec["name"],
            "revision": wildcards.revision,
            "dataset": wildcards.dataset,
            "lang": wildcards.lang,
            "weights": provenance(manifest),
        },
    )
