# What workflow/rules/figures.smk needs beyond common.smk: the functions and constants its rules take.
from linguafranca.pipeline.config import analysis_datasets

ANALYSIS_FIGURES = [
    ("similarity", "plot_similarity_heatmap", "similarity"),
    ("lrds_sads", "plot_lrds_sads", "metrics"),
    (f"regions_z{THRESHOLD}_layers", "plot_region_layers", "regions"),
    (f"regions_z{THRESHOLD}_sizes", "plot_region_sizes", "regions"),
]
"""Each analysis figure of a point: its name in FIGURE, its linguafranca.figures.analysis function, and the input it draws."""


def analysis_targets():
    figures = [name for name, _, _ in ANALYSIS_FIGURES]
    datasets = analysis_datasets(config)
    return [
        *for_each(ACTIVATIONS, datasets, lang=LANGS),
        *for_each(SIMILARITY, datasets),
        *for_each(METRICS, datasets),
        *for_each(REGIONS, datasets, threshold=THRESHOLD),
        *for_each(SKLR, datasets, threshold=THRESHOLD),
        *for_each(FIGURE, datasets, figure=figures, ext=EXTS),
    ]
