"""Draw figures, PNG and PDF, each with the figure function the rule names (linguafranca.figures): one figure per
job, or every analysis figure of a point of a model with jobs: combined (rule figures_combined), where starting a job
costs more than drawing."""
from linguafranca.figures import analysis, sandbox
from linguafranca.io.manifest import regions_provenance
from linguafranca.io.regions_store import check_regions
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of

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

#: The figures drawn from a regions store, which is checked first to come from the job's model and settings.
FROM_REGIONS = {analysis.plot_region_layers.__name__, analysis.plot_region_sizes.__name__}

with job_log(snakemake.log[0]):
    wildcards = snakemake.wildcards
    for plot, source, png, pdf in snakemake.params.figures:
        if plot in FROM_REGIONS:
            source = store_of(source)
            threshold = getattr(wildcards, "threshold", snakemake.config["regions"]["threshold"])
            check_regions(source, *regions_provenance(wildcards.model, wildcards.revision, wildcards.dataset, threshold))
        if plot == sandbox.plot_loss.__name__:
            DRAW[plot](source, png, pdf)
        else:
            labels = {key: wildcards[key] for key in ("model", "revision", "dataset")}
            DRAW[plot](source, png, pdf, labels)
