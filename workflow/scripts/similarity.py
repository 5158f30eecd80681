"""Similarity maps and LRDS/SADS of one (model, revision, dataset) (see linguafranca.similarity)."""
from linguafranca.joblog import job_log, set_threads
from linguafranca.similarity import write_metrics, write_similarity

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    stores = dict(zip(snakemake.params.langs, snakemake.input.stores))
    result = write_similarity(stores, snakemake.output.h5, per_layer_maps=snakemake.params.per_layer_maps)
    write_metrics(result, snakemake.output.metrics)
