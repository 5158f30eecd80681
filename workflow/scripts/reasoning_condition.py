"""Reasoning through lm-eval with linguafranca's fast model (see linguafranca.reasoning and linguafranca.reasoning.fast_lm),
one task family, on the languages each condition is evaluated on: one condition (rule reasoning_condition), every
region condition of a model with jobs: combined (rule reasoning_combined, the model loaded once), the baseline
(rule reasoning_baseline) or the random control (rule reasoning_random, its mask drawn from the model's shape,
fraction and seed); the last two read no regions."""
from linguafranca.ablation.deactivation import job_mask
from linguafranca.io.manifest import provenance, regions_provenance
from linguafranca.io.regions_store import read_regions
from linguafranca.model.compute import compute_of
from linguafranca.model.loading import load_job_model
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads
from linguafranca.reasoning.evaluation import evaluate, write_results
from linguafranca.reasoning.fast_lm import FastLM

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    wildcards, params = snakemake.wildcards, snakemake.params
    # batch_size, like the device, changes floating-point rounding only, so it comes from the config, not params.
    spec = snakemake.config["models"][wildcards.model]
    model, tokenizer, manifest = load_job_model(snakemake.input.manifest, params.loading, spec)
    regions = None
    if snakemake.input.get("regions"):
        expected = regions_provenance(wildcards.model, wildcards.revision, wildcards.regions_dataset,
                                      wildcards.threshold, manifest, compute_of(model))
        regions = read_regions(store_of(snakemake.input.regions[0]), *expected)
    for condition, langs, output in zip(params.conditions, params.langs, snakemake.output, strict=True):
        mask = job_mask(model, condition, regions, params.get("random"))
        lm = FastLM(model, tokenizer, mask, bos=params.bos, max_length=params.settings["max_length"],
                    batch_size=spec["batch_size"])
        results = evaluate(lm, wildcards.task, langs, params.settings)
        write_results(output, results, {
            "model": wildcards.model, "revision": wildcards.revision, "task": wildcards.task, "condition": condition,
            "languages": list(langs), "compute": compute_of(model), "weights": provenance(manifest),
            "neurons_off": 0 if mask is None else int(mask.sum()),
        })
