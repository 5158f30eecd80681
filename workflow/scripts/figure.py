"""Draw figures, PNG and PDF, each with the figure function the rule names (linguafranca.figures): one figure per
job, or every analysis figure of a point of a model with jobs: combined (rule figures_combined), where starting a job
costs more than drawing."""
from linguafranca.figures import analysis, sandbox
from linguafranca.pipeline.joblog import job_log

DRAW = {
    draw.__name__: draw
    for draw in (
        analysis.plot_similarity_heatmap,
        analysis.plot_lrds_sads,
        analysis.plot_region_layers,
        analysis.plot_region_sizes,
        sandbox.plot_loss,
    )
}

with job_log(snakemake.log[0]):
    for plot, source, png, pdf in snakemake.params.figures:
        DRAW[plot](source, png, pdf)
