"""The per-point summary a series reads: probe accuracy per layer and expert overlap (linguafranca.probes.summary)."""
from linguafranca.pipeline.joblog import job_log
from linguafranca.probes.summary import write_summary

with job_log(snakemake.log[0]):
    write_summary(snakemake.input.language_id, snakemake.input.overlap, snakemake.input.shared, snakemake.output[0])
