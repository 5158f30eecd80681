"""Perplexity with a condition's neurons switched off, on the languages that condition is evaluated on (see
linguafranca.ablation and linguafranca.ablation.conditions): one condition (rule ablation_condition), every region
condition of a model with jobs: combined (rule ablation_combined, the model loaded once), the baseline (rule
ablation_baseline: nothing switched off), the random control (rule ablation_random: its mask drawn from the
model's shape, fraction and seed; the last two read no regions) or another method's regions and controls (rules
ablation_method_condition and ablation_method_combined: the methods store only)."""
from linguafranca.ablation.deactivation import evaluate_condition, job_mask, text_windows, write_condition
from linguafranca.ablation.perplexity import load_joined_text
from linguafranca.io.manifest import regions_provenance
from linguafranca.io.methods_store import read_methods
from linguafranca.io.regions_store import read_regions
from linguafranca.model.compute import compute_of
from linguafranca.model.loading import check_context, load_job_model
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    wildcards, params = snakemake.wildcards, snakemake.params
    # ablation.batch_size, like the device, changes floating-point rounding only, so it comes from the config.
    spec = snakemake.config["models"][wildcards.model]
    model, tokenizer, manifest = load_job_model(snakemake.input.manifest, params.loading, spec)
    regions = methods = None
    if snakemake.input.get("regions"):
        expected = regions_provenance(wildcards.model, wildcards.revision, wildcards.regions_dataset,
                                      wildcards.threshold, manifest, compute_of(model))
        regions = read_regions(store_of(snakemake.input.regions[0]), *expected)
    if snakemake.input.get("methods"):
        expected = regions_provenance(wildcards.model, wildcards.revision, wildcards.regions_dataset, None,
                                      manifest, compute_of(model))
        methods = read_methods(store_of(snakemake.input.methods[0]), *expected)
    check_context(model, "ablation.seqlen", params.settings["seqlen"])
    texts = {lang: load_joined_text(path, params.joiner) for lang, path in zip(params.text_langs, snakemake.input.texts)}
    settings = params.settings
    wins = text_windows(tokenizer, texts, settings["seqlen"], settings["max_tokens"], params.bos,
                        settings["bos_per_window"])
    for condition, langs, output in zip(params.conditions, params.langs, snakemake.output, strict=True):
        mask = job_mask(model, condition, regions, params.get("random"), methods)
        results = evaluate_condition(model, {lang: wins[lang] for lang in langs}, mask,
                                     batch_size=snakemake.config["ablation"]["batch_size"])
        write_condition(output, condition, results)
