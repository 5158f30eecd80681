"""Capture the mean MLP activations of one language (rule capture) or of every language (rule capture_combined,
for a model with jobs: combined) into Zarr stores (see linguafranca.capture): the model is loaded once per job."""
from linguafranca.capture import capture_store
from linguafranca.data import read_jsonl
from linguafranca.joblog import job_log, set_threads
from linguafranca.models import check_context, load_model, provenance, read_manifest

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    wildcards, params = snakemake.wildcards, snakemake.params
    # device and batch_size change floating-point rounding only, so they come from the config, not from params:
    # changing them reruns nothing. Every setting that changes a number comes through params.
    spec = snakemake.config["models"][wildcards.model]
    manifest = read_manifest(snakemake.input.manifest)
    model, tokenizer = load_model(manifest, {**params.loading, "device": spec["device"]})
    check_context(model, f"models.{wildcards.model}.max_length", params.settings["max_length"])
    for lang, data, store in zip(params.langs, snakemake.input.data, snakemake.output, strict=True):
        capture_store(
            model,
            tokenizer,
            read_jsonl(data),
            store,
            settings={**params.settings, "batch_size": spec["batch_size"]},
            attrs={
                "model": wildcards.model,
                "model_name": params.model_name,
                "revision": wildcards.revision,
                "dataset": wildcards.dataset,
                "lang": lang,
                "weights": provenance(manifest),
            },
        )
