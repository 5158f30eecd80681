"""Similarity matrices and LRDS/SADS of one (model, revision, dataset) (see linguafranca.similarity)."""
from linguafranca.joblog import job_log, set_threads
from linguafranca.similarity import compute_similarity, write_metrics, write_similarity

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    result = compute_similarity(dict(zip(snakemake.params.langs, snakemake.input.stores)))
    write_similarity(result, snakemake.output.h5)
    write_metrics(result, snakemake.output.metrics)
