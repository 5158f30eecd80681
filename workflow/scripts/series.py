"""Aggregate one series into evolution.tsv and its figures (see linguafranca.series, linguafranca.figures.series)."""
import logging

from linguafranca.figures.series import draw_series
from linguafranca.io.html_table import write_tsv_page
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.series.evolution import evolution_rows, write_evolution

with job_log(snakemake.log[0]):
    params, inputs = snakemake.params, snakemake.input
    kinds = list(inputs.keys())  # the file kinds of linguafranca.series.evolution.point_files that are configured
    files = [dict(zip(kinds, values)) for values in zip(*(inputs[kind] for kind in kinds))]
    for point in files:  # the regions store is declared by its zarr.json
        point["regions"] = store_of(point["regions"])
    if "accuracy" not in kinds:
        logging.info("the reasoning stage is not configured: the accuracy column is empty")
    rows = evolution_rows(params.points, files, params.info, params.langs)
    write_evolution(rows, params.langs, snakemake.output.evolution)
    write_tsv_page(snakemake.output.evolution, snakemake.output.page,
                   f"Series {snakemake.wildcards.series}: every measure at every point")
    outputs = {name: (png, pdf) for name, png, pdf in zip(params.figures, snakemake.output.png, snakemake.output.pdf)}
    draw_series(rows, [f["sklr"] for f in files], params.langs, params.vary, outputs,
                [f["probes"] for f in files if "probes" in f])
