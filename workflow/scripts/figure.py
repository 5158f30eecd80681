"""Draw one figure, PNG and PDF, with the linguafranca.plots function the rule names."""
from linguafranca import plots
from linguafranca.joblog import job_log

with job_log(snakemake.log[0]):
    getattr(plots, snakemake.params.plot)(snakemake.input[0], snakemake.output.png, snakemake.output.pdf)
