"""Capture the mean MLP activations of one language (rule capture) or of every language (rule capture_combined,
for a model with jobs: combined) into Zarr stores (see linguafranca.analysis.capture): the model is loaded once per job."""
from linguafranca.analysis.capture import capture_store
from linguafranca.data.samples import read_jsonl
from linguafranca.io.manifest import provenance
from linguafranca.model.loading import check_context, load_job_model
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    wildcards, params = snakemake.wildcards, snakemake.params
    # batch_size, like the device, changes floating-point rounding only, so it comes from the config, not params.
    spec = snakemake.config["models"][wildcards.model]
    model, tokenizer, manifest = load_job_model(snakemake.input.manifest, params.loading, spec)
    check_context(model, f"models.{wildcards.model}.max_length", params.settings["max_length"])
    for lang, data, store in zip(params.langs, snakemake.input.data, map(store_of, snakemake.output), strict=True):
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
                "capture_code": params.code,
            },
        )
