# Similarity map and LRDS/SADS (paper section 3.1-3.2), one job per (model, revision, dataset).


rule similarity:
    input:
        manifest=MANIFEST,
        stores=stores_of,
        languages=LANGUAGE_SET,
    output:
        h5=SIMILARITY,
        metrics=METRICS,
        page=report(
            METRICS_PAGE,
            caption="../report/metrics.rst",
            category=REPORT_SIMILARITY,
            subcategory="LRDS and SADS table",
            labels=REPORT_LABELS,
        ),
    log:
        "results/logs/{model}/{revision}/similarity/{dataset}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/similarity/{dataset}.tsv"
    conda:
        ENV
    threads: 8
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        langs=LANGS,
        per_layer_maps=config["similarity"]["per_layer_maps"],
        map_samples=config["similarity"]["map_samples"],
        map_seed=config["similarity"]["map_seed"],
        code=code_of("similarity.py"),
    script:
        "../scripts/similarity.py"
