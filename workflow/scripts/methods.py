"""LAPE and AP experts of one (model, revision, dataset), with their null, controls and the language medians, in
one pass over the activation stores (see linguafranca.analysis.methods)."""
from linguafranca.analysis.methods import compute_methods, methods_from_config, write_methods
from linguafranca.io.activations import open_stores
from linguafranca.io.manifest import job_provenance
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    wildcards, params = snakemake.wildcards, snakemake.params
    expected = job_provenance(
        snakemake.input.manifest, model=wildcards.model, revision=wildcards.revision, dataset=wildcards.dataset
    )
    source = open_stores(dict(zip(params.langs, map(store_of, snakemake.input.stores))), *expected)
    lape, ap = methods_from_config({"lape": params.lape, "ap": params.ap})
    result = compute_methods(source, params.methods, lape, ap, params.null_permutations, params.seed,
                             threads=snakemake.threads)
    write_methods(result, store_of(snakemake.output[0]))
