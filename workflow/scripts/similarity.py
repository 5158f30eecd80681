"""Similarity maps and LRDS/SADS of one (model, revision, dataset) (see linguafranca.analysis.similarity)."""
from linguafranca.analysis.similarity import write_metrics, write_similarity
from linguafranca.io.activations import open_stores
from linguafranca.io.html_table import write_tsv_page
from linguafranca.io.manifest import job_provenance
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    wildcards = snakemake.wildcards
    expected = job_provenance(
        snakemake.input.manifest, model=wildcards.model, revision=wildcards.revision, dataset=wildcards.dataset
    )
    stores = open_stores(dict(zip(snakemake.params.langs, map(store_of, snakemake.input.stores))), *expected)
    result = write_similarity(
        stores,
        snakemake.output.h5,
        per_layer_maps=snakemake.params.per_layer_maps,
        map_samples=snakemake.params.map_samples,
        map_seed=snakemake.params.map_seed,
    )
    write_metrics(result, snakemake.output.metrics)
    point = f"{wildcards.model} @ {wildcards.revision} on {wildcards.dataset}"
    write_tsv_page(snakemake.output.metrics, snakemake.output.page, f"LRDS and SADS per layer: {point}")
