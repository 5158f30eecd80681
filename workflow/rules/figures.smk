# Figures of the analysis stage (paper Figures 2, 3, 5 and 6), PNG and PDF.


rule figure_similarity:
    input:
        SIMILARITY,
    output:
        png=with_ext(FIGURE, "png", figure="similarity"),
        pdf=with_ext(FIGURE, "pdf", figure="similarity"),
    log:
        "results/logs/{model}/{revision}/figures/{dataset}_similarity.log",
    conda:
        ENV
    params:
        plot="plot_similarity_heatmap",
        code=code_of("figure.py"),
    script:
        "../scripts/figure.py"


rule figure_lrds_sads:
    input:
        METRICS,
    output:
        png=with_ext(FIGURE, "png", figure="lrds_sads"),
        pdf=with_ext(FIGURE, "pdf", figure="lrds_sads"),
    log:
        "results/logs/{model}/{revision}/figures/{dataset}_lrds_sads.log",
    conda:
        ENV
    params:
        plot="plot_lrds_sads",
        code=code_of("figure.py"),
    script:
        "../scripts/figure.py"


rule figure_region_layers:
    input:
        REGIONS,
    output:
        png=with_ext(FIGURE, "png", figure="regions_z{threshold}_layers"),
        pdf=with_ext(FIGURE, "pdf", figure="regions_z{threshold}_layers"),
    log:
        "results/logs/{model}/{revision}/figures/{dataset}_regions_z{threshold}_layers.log",
    conda:
        ENV
    params:
        plot="plot_region_layers",
        code=code_of("figure.py"),
    script:
        "../scripts/figure.py"


rule figure_region_sizes:
    input:
        REGIONS,
    output:
        png=with_ext(FIGURE, "png", figure="regions_z{threshold}_sizes"),
        pdf=with_ext(FIGURE, "pdf", figure="regions_z{threshold}_sizes"),
    log:
        "results/logs/{model}/{revision}/figures/{dataset}_regions_z{threshold}_sizes.log",
    conda:
        ENV
    params:
        plot="plot_region_sizes",
        code=code_of("figure.py"),
    script:
        "../scripts/figure.py"
