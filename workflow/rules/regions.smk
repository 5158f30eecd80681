# Key linguistic regions (paper section 3.3): contributions, z-scores, masks, SKLR, the random controls, and the
# chance level (label-shuffled null) with per-neuron significance.


rule regions:
    input:
        manifest=MANIFEST,
        stores=stores_of,
        similarity=SIMILARITY,
    output:
        regions=REGIONS,
        sklr=SKLR,
        page=report(
            SKLR_PAGE,
            caption="../report/sklr.rst",
            category=REPORT_REGIONS,
            subcategory="SKLR table",
            labels=REPORT_LABELS_THRESHOLD,
        ),
    log:
        "results/logs/{model}/{revision}/regions/{dataset}_z{threshold}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/regions/{dataset}_z{threshold}.tsv"
    conda:
        ENV
    threads: 8
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        langs=LANGS,
        random_fraction=config["regions"]["random_fraction"],
        seed=config["regions"]["seed"],
        null_permutations=config["regions"]["null_permutations"],
        significance_permutations=config["regions"]["significance_permutations"],
        significance_statistic=config["regions"]["significance_statistic"],
        fdr_q=config["regions"]["fdr_q"],
        code=code_of("regions.py"),
    script:
        "../scripts/regions.py"
