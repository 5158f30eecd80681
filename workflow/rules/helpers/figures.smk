# What workflow/rules/figures.smk needs beyond common.smk: the functions and constants its rules take.
from linguafranca.pipeline.config import analysis_datasets

ANALYSIS_FIGURES = [
    ("similarity", "plot_similarity_heatmap", "similarity"),
    ("lrds_sads", "plot_lrds_sads", "metrics"),
    (f"regions_z{THRESHOLD}_layers", "plot_region_layers", "regions"),
    (f"regions_z{THRESHOLD}_sizes", "plot_region_sizes", "regions"),
]
"""Each analysis figure of a point: its name in FIGURE, its linguafranca.figures.analysis function, and the input it draws."""

# Where each analysis figure sits in the report (caption, category, subcategory), for split and combined jobs alike.
FIGURE_REPORT = {
    "plot_similarity_heatmap": (
        "similarity.rst",
        REPORT_SIMILARITY,
        "Fig. 2: similarity map",
    ),
    "plot_lrds_sads": (
        "lrds_sads.rst",
        REPORT_SIMILARITY,
        "Fig. 3: LRDS and SADS per layer",
    ),
    "plot_region_layers": (
        "region_layers.rst",
        REPORT_REGIONS,
        "Fig. 5: key neurons per layer",
    ),
    "plot_region_sizes": ("region_sizes.rst", REPORT_REGIONS, "Fig. 6: region sizes"),
}


def combined_figure_outputs():
    """figures_combined's outputs: each figure's png (in the report, as the split rules put it) and pdf."""
    outputs = []
    for name, plot, _ in ANALYSIS_FIGURES:
        caption, category, subcategory = FIGURE_REPORT[plot]
        labels = (
            REPORT_LABELS
            if plot in ("plot_similarity_heatmap", "plot_lrds_sads")
            else {
                **REPORT_LABELS,
                "threshold": THRESHOLD,
            }
        )
        png = with_ext(FIGURE, "png", figure=name)
        outputs.append(
            in_report(
                png,
                caption=f"../report/{caption}",
                category=category,
                subcategory=subcategory,
                labels=labels,
            )
        )
        outputs.append(with_ext(FIGURE, "pdf", figure=name))
    return outputs


def analysis_targets():
    figures = [name for name, _, _ in ANALYSIS_FIGURES]
    datasets = analysis_datasets(config)
    return [
        *for_each(ACTIVATIONS, datasets, lang=LANGS),
        *for_each(SIMILARITY, datasets),
        *for_each(METRICS, datasets),
        *for_each(METRICS_PAGE, datasets),
        *for_each(REGIONS, datasets, threshold=THRESHOLD),
        *for_each(SKLR, datasets, threshold=THRESHOLD),
        *for_each(SKLR_PAGE, datasets, threshold=THRESHOLD),
        *for_each(FIGURE, datasets, figure=figures, ext=EXTS),
    ]
