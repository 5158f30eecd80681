"""Key linguistic regions of one (model, revision, dataset, threshold) (see linguafranca.analysis.regions).

The whole-model norms come from similarity.h5, which already has them, so the stores are read once here.
"""
from linguafranca.analysis.regions import NullSettings, compute_regions, warn_empty_regions, write_regions, write_sklr
from linguafranca.io.activations import open_stores
from linguafranca.io.html_table import write_tsv_page
from linguafranca.io.manifest import job_provenance
from linguafranca.io.similarity_file import read_norms
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    wildcards = snakemake.wildcards
    expected = job_provenance(
        snakemake.input.manifest, model=wildcards.model, revision=wildcards.revision, dataset=wildcards.dataset
    )
    result = compute_regions(
        open_stores(dict(zip(snakemake.params.langs, map(store_of, snakemake.input.stores))), *expected),
        threshold=float(snakemake.wildcards.threshold),
        random_fraction=snakemake.params.random_fraction,
        seed=snakemake.params.seed,
        norms=read_norms(snakemake.input.similarity, snakemake.params.langs),
        null=NullSettings(
            null_permutations=snakemake.params.null_permutations,
            significance_permutations=snakemake.params.significance_permutations,
            fdr_q=snakemake.params.fdr_q,
            statistic=snakemake.params.significance_statistic,
        ),
    )
    warn_empty_regions(result)
    write_regions(result, store_of(snakemake.output.regions))
    write_sklr(result, snakemake.output.sklr)
    point = f"{wildcards.model} @ {wildcards.revision} on {wildcards.dataset}, z > {wildcards.threshold}"
    write_tsv_page(snakemake.output.sklr, snakemake.output.page, f"Key linguistic regions (SKLR): {point}")
