# Series (docs/series.md): one evolution.tsv and figures 4-7 per configured series, from the files each of its
# (model, revision) points already has. linguafranca.series.evolution.point_files lists those files; a stage joins the
# series by adding its pattern to series_patterns and a reader to linguafranca.series.evolution.READERS. Rule series draws
# the figures of a series along steps, series_sizes those of a series along sizes.


include: "helpers/series.smk"


rule series:
    input:
        unpack(series_input),
    output:
        evolution=EVOLUTION,
        page=evolution_page(),
        png=figure_outputs("step", "png"),
        pdf=figure_outputs("step", "pdf"),
    log:
        "results/logs/series/{series}.log",
    benchmark:
        "results/benchmarks/series/{series}.tsv"
    wildcard_constraints:
        series=series_named("step"),
    conda:
        ENV
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        langs=LANGS,
        vary=lambda wc: config["series"][wc.series]["vary"],
        figures=lambda wc: series_figure_names(config["series"][wc.series]["vary"]),
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
        page=evolution_page(),
        png=figure_outputs("size", "png"),
        pdf=figure_outputs("size", "pdf"),
    wildcard_constraints:
        series=series_named("size"),
