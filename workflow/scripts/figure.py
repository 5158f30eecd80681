"""Draw figures, PNG and PDF, each with the linguafranca.plots function the rule names: one figure per job, or every
analysis figure of a point of a model with jobs: combined (rule figures_combined), where starting a job costs more
than drawing."""
from linguafranca import plots
from linguafranca.joblog import job_log

with job_log(snakemake.log[0]):
    for plot, source, png, pdf in snakemake.params.figures:
        getattr(plots, plot)(source, png, pdf)
