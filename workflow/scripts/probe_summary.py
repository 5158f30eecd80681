"""The per-point summary a series reads: probe accuracy per layer and expert overlap (linguafranca.probes.summary)."""
from linguafranca.io.html_table import write_tsv_page
from linguafranca.pipeline.joblog import job_log
from linguafranca.probes.summary import write_summary

with job_log(snakemake.log[0]):
    out, wildcards = snakemake.output, snakemake.wildcards
    write_summary(snakemake.input.language_id, snakemake.input.overlap, snakemake.input.shared, out.table)
    point = f"{wildcards.model} @ {wildcards.revision} on {wildcards.dataset}"
    write_tsv_page(out.table, out.page, f"Probe accuracy and concept-expert overlap per layer: {point}")
