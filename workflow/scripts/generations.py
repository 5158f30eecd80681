"""Greedy continuations with each region switched off (paper Appendix A; see linguafranca.ablation.generation).

The conditions are the paper's (none, random, each region; linguafranca.ablation.conditions.paper_conditions)."""
import os
from dataclasses import astuple, fields

from linguafranca.ablation.conditions import condition_mask
from linguafranca.ablation.generation import Generation, generate_samples, load_prompts, write_generations
from linguafranca.io.html_table import write_table_page
from linguafranca.io.manifest import regions_provenance
from linguafranca.io.regions_store import read_regions
from linguafranca.model.compute import compute_of
from linguafranca.model.loading import load_job_model
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    params = snakemake.params
    settings = params.generation
    spec = snakemake.config["models"][snakemake.wildcards.model]
    model, tokenizer, manifest = load_job_model(snakemake.input.manifest, params.loading, spec)
    prompts = [
        prompt
        for lang, path in zip(settings["languages"], snakemake.input.texts)
        for prompt in load_prompts(path, lang, settings["prompts"])
    ]
    wildcards = snakemake.wildcards
    expected = regions_provenance(wildcards.model, wildcards.revision, wildcards.dataset, wildcards.threshold,
                                  manifest, compute_of(model))
    regions = read_regions(store_of(snakemake.input.regions), *expected)
    masks = {condition: condition_mask(regions, condition) for condition in params.conditions}
    records = generate_samples(
        model, tokenizer, prompts, masks, settings["max_new_tokens"], settings["max_prompt_tokens"], bos=params.bos
    )
    write_generations(records, snakemake.output.jsonl, snakemake.output.md)
    point = f"{wildcards.model} @ {wildcards.revision} on {wildcards.dataset}, z > {wildcards.threshold}"
    write_table_page(snakemake.output.page, f"Greedy continuations with a region off: {point}",
                     [field.name for field in fields(Generation)], [astuple(record) for record in records],
                     source=os.path.basename(snakemake.output.jsonl))
