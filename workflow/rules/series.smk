# Series (README, Series): one evolution.tsv and figures 4-7 per configured series, from the files each of its
# (model, revision) points already has. linguafranca.series.point_files lists those files; a stage joins the
# series by adding its pattern to series_patterns and a reader to linguafranca.series.READERS. Rule series draws
# the figures of a series along steps, series_sizes those of a series along sizes.

EVOLUTION = "results/series/{series}/evolution.tsv"
SERIES_FIGURE = "results/series/{series}/figures/{figure}.{ext}"


def series_patterns():
    """Each per-point file kind and its path pattern ({model}, {revision}); None where the stage is off."""
    fixed = dict(dataset=REGIONS_FROM, threshold=THRESHOLD)
    ablation = config["ablation"]["datasets"]
    return {
        "manifest": MANIFEST,
        "metrics": expand(METRICS, **fixed, allow_missing=True)[0],
        "sklr": expand(SKLR, **fixed, allow_missing=True)[0],
        "regions": expand(REGIONS, **fixed, allow_missing=True)[0],
        "increase": expand(INCREASE, dataset=ablation[:1], regions_dataset=REGIONS_FROM, threshold=THRESHOLD,
                           allow_missing=True)[0] if ablation else None,
        "accuracy": None,  # the reasoning stage's accuracy.tsv, once it is configured
    }


def series_files(series):
    """Each point's files, in series order."""
    return [point_files(series_patterns(), model, revision) for model, revision in series_points(config, series)]


def series_input(wildcards):
    """Every point's files, grouped by kind (kinds of every point alike)."""
    files = series_files(wildcards.series)
    return {kind: [f[kind] for f in files] for kind in files[0]}


def series_figures(series, ext):
    return expand(SERIES_FIGURE, series=series, figure=FIGURES[config["series"][series]["vary"]], ext=ext)


def series_named(vary):
    """A regex matching exactly the series that vary ``vary``: each kind has its own rule (its own figures)."""
    names = [re.escape(name) for name, series in config["series"].items() if series["vary"] == vary]
    return "|".join(names) or "(?!)"


def figure_outputs(vary, ext):
    return expand(SERIES_FIGURE, figure=FIGURES[vary], ext=ext, allow_missing=True)


def series_targets():
    return [
        path
        for series in config["series"]
        for path in [expand(EVOLUTION, series=series)[0], *series_figures(series, EXTS)]
    ]


rule series:
    input:
        unpack(series_input),
    output:
        evolution=EVOLUTION,
        png=figure_outputs("step", "png"),
        pdf=figure_outputs("step", "pdf"),
    wildcard_constraints:
        series=series_named("step"),
    log:
        "results/logs/series/{series}.log",
    benchmark:
        "results/benchmarks/series/{series}.tsv"
    conda:
        ENV
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        langs=LANGS,
        vary=lambda wc: config["series"][wc.series]["vary"],
        points=lambda wc: series_points(config, wc.series),
        info=lambda wc: [
            config["models"][model]["revision_info"].get(revision, {})
            for model, revision in series_points(config, wc.series)
        ],
        code=code_of("series.py"),
    script:
        "../scripts/series.py"


use rule series as series_sizes with:
    output:
        evolution=EVOLUTION,
        png=figure_outputs("size", "png"),
        pdf=figure_outputs("size", "pdf"),
    wildcard_constraints:
        series=series_named("size"),
