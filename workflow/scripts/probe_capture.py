"""Capture the token sample (probes) and the per-verse neuron responses (concepts) of every language in one job,
so a point pays one model start-up for both (see linguafranca.probes.capture)."""
from linguafranca.data.samples import read_jsonl
from linguafranca.io.manifest import provenance
from linguafranca.model.loading import check_context, load_job_model
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads
from linguafranca.probes.capture import capture_probe_stores

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    wildcards, params = snakemake.wildcards, snakemake.params
    # batch_size, like the device, changes floating-point rounding only, so it comes from the config, not params.
    spec = snakemake.config["models"][wildcards.model]
    model, tokenizer, manifest = load_job_model(snakemake.input.manifest, params.loading, spec)
    check_context(model, f"models.{wildcards.model}.max_length", params.settings["max_length"])
    capture_probe_stores(
        model,
        tokenizer,
        {lang: read_jsonl(path) for lang, path in zip(params.langs, snakemake.input.texts)},
        [store_of(path) for path in snakemake.output.tokens],
        [store_of(path) for path in snakemake.output.responses],
        settings={**params.settings, **params.probes, "batch_size": spec["batch_size"]},
        attrs={
            "model": wildcards.model,
            "revision": wildcards.revision,
            "dataset": wildcards.dataset,
            "weights": provenance(manifest),
        },
    )
