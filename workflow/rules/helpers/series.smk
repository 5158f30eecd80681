# What workflow/rules/series.smk needs beyond common.smk: the functions and constants its rules take.
from linguafranca.pipeline.config import series_points
from linguafranca.series.evolution import figure_names, point_files


def series_patterns():
    """Each per-point file kind and its path pattern ({model}, {revision}); None where the stage is off."""
    fixed = dict(dataset=REGIONS_FROM, threshold=THRESHOLD)
    ablation = config["ablation"]["datasets"]
    return {
        "manifest": MANIFEST,
        "metrics": expand(METRICS, **fixed, allow_missing=True)[0],
        "sklr": expand(SKLR, **fixed, allow_missing=True)[0],
        "regions": expand(REGIONS, **fixed, allow_missing=True)[0],
        "increase": (
            expand(
                INCREASE,
                dataset=ablation[:1],
                regions_dataset=REGIONS_FROM,
                threshold=THRESHOLD,
                allow_missing=True,
            )[0]
            if ablation
            else None
        ),
        "accuracy": (
            expand(
                ACCURACY,
                regions_dataset=REGIONS_FROM,
                threshold=THRESHOLD,
                allow_missing=True,
            )[0]
            if "bible" in config["reasoning"]["tasks"]
            else None
        ),
        "probes": (
            expand(
                PROBE_SUMMARY, dataset=config["probes"]["dataset"], allow_missing=True
            )[0]
            if config["probes"]["dataset"] is not None
            else None
        ),
    }


def series_files(series):
    """Each point's files, in series order."""
    return [
        point_files(series_patterns(), model, revision)
        for model, revision in series_points(config, series)
    ]


def series_input(wildcards):
    """Every point's files, grouped by kind (kinds of every point alike)."""
    files = series_files(wildcards.series)
    return {kind: [f[kind] for f in files] for kind in files[0]}


def series_figures(series, ext):
    return expand(
        SERIES_FIGURE,
        series=series,
        figure=series_figure_names(config["series"][series]["vary"]),
        ext=ext,
    )


def series_named(vary):
    """A regex matching exactly the series that vary ``vary``: each kind has its own rule (its own figures)."""
    names = [
        re.escape(name)
        for name, series in config["series"].items()
        if series["vary"] == vary
    ]
    return "|".join(names) or "(?!)"


def series_figure_names(vary):
    """The figures of a series along ``vary``: the paper's, and the probes' where that stage runs."""
    return figure_names(vary, config["probes"]["dataset"] is not None)


def figure_outputs(vary, ext):
    """The series' figures in one format; the png ones are in the report."""
    names = series_figure_names(vary)
    paths = expand(SERIES_FIGURE, figure=names, ext=ext, allow_missing=True)
    if ext != "png":
        return paths
    return [
        in_report(
            path,
            caption="../report/series.rst",
            category=REPORT_SERIES,
            subcategory="{series}",
            labels={"series": "{series}", "figure": name},
        )
        for path, name in zip(paths, names)
    ]


def evolution_page():
    """The series table as an HTML page, in the report beside the series' figures."""
    return in_report(
        EVOLUTION_PAGE,
        caption="../report/series.rst",
        category=REPORT_SERIES,
        subcategory="{series}",
        labels={"series": "{series}", "figure": "evolution.tsv"},
    )


def series_targets():
    return [
        path
        for series in config["series"]
        for path in [
            *expand([EVOLUTION, EVOLUTION_PAGE], series=series),
            *series_figures(series, EXTS),
        ]
    ]
