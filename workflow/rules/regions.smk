# Key linguistic regions (paper section 3.3): contributions, z-scores, masks, SKLR, and the random control.


rule regions:
    input:
        stores=stores_of,
        similarity=SIMILARITY,
    output:
        regions=directory(REGIONS),
        sklr=SKLR,
    log:
        "results/logs/{model}/{revision}/regions/{dataset}_z{threshold}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/regions/{dataset}_z{threshold}.tsv"
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        langs=LANGS,
        random_fraction=config["regions"]["random_fraction"],
        seed=config["regions"]["seed"],
        per_language_random=config["regions"]["per_language_random"],
        code=code_of("regions.py"),
    script:
        "../scripts/regions.py"
