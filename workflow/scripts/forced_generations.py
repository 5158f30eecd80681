"""Greedy continuations with every method's region of every language fixed to its median response, and the share
of continuations in the forced language (see linguafranca.ablation.forcing)."""
import os
from dataclasses import astuple, fields

from linguafranca.ablation.forcing import (
    forcing_conditions,
    language_shares,
    write_forced,
    write_language_shares,
)
from linguafranca.ablation.generation import Generation, generate_samples, load_prompts
from linguafranca.data.identify import language_of
from linguafranca.io.html_table import write_table_page, write_tsv_page
from linguafranca.io.manifest import regions_provenance
from linguafranca.io.methods_store import read_methods
from linguafranca.io.regions_store import read_regions
from linguafranca.model.compute import compute_of
from linguafranca.model.loading import load_job_model
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    params, out, wildcards = snakemake.params, snakemake.output, snakemake.wildcards
    settings = params.forcing
    spec = snakemake.config["models"][wildcards.model]
    model, tokenizer, manifest = load_job_model(snakemake.input.manifest, params.loading, spec)
    job = (wildcards.model, wildcards.revision, wildcards.dataset)
    regions = read_regions(store_of(snakemake.input.regions),
                           *regions_provenance(*job, wildcards.threshold, manifest, compute_of(model)))
    methods = read_methods(store_of(snakemake.input.methods),
                           *regions_provenance(*job, None, manifest, compute_of(model)), medians=True)
    masks = {"zscore": regions.mask, **{method: methods.masks(method) for method in params.methods}}
    by_name, values, conditions = forcing_conditions(masks, methods.median, params.langs)
    prompts = [prompt for lang, path in zip(settings["languages"], snakemake.input.prompts)
               for prompt in load_prompts(path, lang, settings["prompts"])]
    records = generate_samples(model, tokenizer, prompts, by_name, settings["max_new_tokens"], bos=params.bos,
                               values=values)
    identified = [language_of(record.continuation, among=params.langs) for record in records]
    write_forced(records, identified, out.jsonl, out.md)
    sizes = {(method, lang): int(mask[index].sum()) for method, mask in masks.items()
             for index, lang in enumerate(params.langs)}
    write_language_shares(out.shares, language_shares(records, identified, conditions, sizes, params.langs))
    where = f"{wildcards.model} @ {wildcards.revision} on {wildcards.dataset}, z > {wildcards.threshold}"
    header = [field.name for field in fields(Generation)] + ["identified"]
    write_table_page(out.page, f"Greedy continuations with a region forced to its median: {where}", header,
                     [(*astuple(r), lang) for r, lang in zip(records, identified)],
                     source=os.path.basename(out.jsonl))
    write_tsv_page(out.shares, out.shares_page, f"Output language under median forcing: {where}")
