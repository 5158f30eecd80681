# Figures of the analysis stage (paper Figures 2, 3, 5 and 6), PNG and PDF: one job per figure, or one job for every
# figure of a point of a model with jobs: combined (small models, where starting a job costs more than drawing).


include: "helpers/figures.smk"


rule figure_similarity:
    input:
        SIMILARITY,
    output:
        png=report(
            with_ext(FIGURE, "png", figure="similarity"),
            caption="../report/similarity.rst",
            category=REPORT_SIMILARITY,
            subcategory="Fig. 2: similarity map",
            labels=REPORT_LABELS,
        ),
        pdf=with_ext(FIGURE, "pdf", figure="similarity"),
    log:
        "results/logs/{model}/{revision}/figures/{dataset}_similarity.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/figures/{dataset}_similarity.tsv"
    wildcard_constraints:
        model=SPLIT_MODELS,
    conda:
        ENV
    params:
        figures=one_figure("plot_similarity_heatmap"),
        code=code_of("figure.py"),
    script:
        "../scripts/figure.py"


rule figure_lrds_sads:
    input:
        METRICS,
    output:
        png=report(
            with_ext(FIGURE, "png", figure="lrds_sads"),
            caption="../report/lrds_sads.rst",
            category=REPORT_SIMILARITY,
            subcategory="Fig. 3: LRDS and SADS per layer",
            labels=REPORT_LABELS,
        ),
        pdf=with_ext(FIGURE, "pdf", figure="lrds_sads"),
    log:
        "results/logs/{model}/{revision}/figures/{dataset}_lrds_sads.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/figures/{dataset}_lrds_sads.tsv"
    wildcard_constraints:
        model=SPLIT_MODELS,
    conda:
        ENV
    params:
        figures=one_figure("plot_lrds_sads"),
        code=code_of("figure.py"),
    script:
        "../scripts/figure.py"


rule figure_region_layers:
    input:
        REGIONS,
    output:
        png=report(
            with_ext(FIGURE, "png", figure="regions_z{threshold}_layers"),
            caption="../report/region_layers.rst",
            category=REPORT_REGIONS,
            subcategory="Fig. 5: key neurons per layer",
            labels=REPORT_LABELS_THRESHOLD,
        ),
        pdf=with_ext(FIGURE, "pdf", figure="regions_z{threshold}_layers"),
    log:
        "results/logs/{model}/{revision}/figures/{dataset}_regions_z{threshold}_layers.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/figures/{dataset}_regions_z{threshold}_layers.tsv"
    wildcard_constraints:
        model=SPLIT_MODELS,
    conda:
        ENV
    params:
        figures=one_figure("plot_region_layers"),
        code=code_of("figure.py"),
    script:
        "../scripts/figure.py"


rule figure_region_sizes:
    input:
        REGIONS,
    output:
        png=report(
            with_ext(FIGURE, "png", figure="regions_z{threshold}_sizes"),
            caption="../report/region_sizes.rst",
            category=REPORT_REGIONS,
            subcategory="Fig. 6: region sizes",
            labels=REPORT_LABELS_THRESHOLD,
        ),
        pdf=with_ext(FIGURE, "pdf", figure="regions_z{threshold}_sizes"),
    log:
        "results/logs/{model}/{revision}/figures/{dataset}_regions_z{threshold}_sizes.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/figures/{dataset}_regions_z{threshold}_sizes.tsv"
    wildcard_constraints:
        model=SPLIT_MODELS,
    conda:
        ENV
    params:
        figures=one_figure("plot_region_sizes"),
        code=code_of("figure.py"),
    script:
        "../scripts/figure.py"


rule figures_combined:
    input:
        similarity=SIMILARITY,
        metrics=METRICS,
        regions=expand(REGIONS, threshold=THRESHOLD, allow_missing=True)[0],
    output:
        combined_figure_outputs(),
    log:
        "results/logs/{model}/{revision}/figures/{dataset}_all.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/figures/{dataset}_all.tsv"
    wildcard_constraints:
        model=COMBINED_MODELS,
    conda:
        ENV
    params:
        figures=lambda wildcards, input, output: [
            [plot, input[source], output[2 * i], output[2 * i + 1]]
            for i, (_, plot, source) in enumerate(ANALYSIS_FIGURES)
        ],
        code=code_of("figure.py"),
    script:
        "../scripts/figure.py"
