# Key linguistic regions (paper section 3.3): contributions, z-scores, masks, SKLR, the random controls, and the
# chance level (label-shuffled null) with per-neuron significance; and the field's other selections beside them.


include: "helpers/regions.smk"


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


# The field's other selections (LAPE, AP experts) on the same capture, with their label-shuffled null, size-matched
# controls and each language's median responses (docs/methods.md). No threshold: the z-score's does not change them.
rule methods:
    input:
        manifest=MANIFEST,
        stores=stores_of,
    output:
        METHODS,
    log:
        "results/logs/{model}/{revision}/regions/{dataset}_methods.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/regions/{dataset}_methods.tsv"
    conda:
        ENV
    threads: 8
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        langs=LANGS,
        methods=OTHER_METHODS,
        lape=config["regions"]["lape"],
        ap=config["regions"]["ap"],
        null_permutations=config["regions"]["null_permutations"],
        seed=config["regions"]["seed"],
        code=code_of("methods.py"),
    script:
        "../scripts/methods.py"


# Every method side by side: sizes and nulls, Jaccard overlaps, layer thirds, one row per selected neuron, the masks
# as safetensors, and the figure; with romanised languages, the script control.
rule methods_table:
    input:
        regions=REGIONS,
        methods=METHODS,
    output:
        **methods_table_outputs(),
    log:
        "results/logs/{model}/{revision}/regions/{dataset}_z{threshold}_methods_table.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/regions/{dataset}_z{threshold}_methods_table.tsv"
    conda:
        ENV
    params:
        langs=LANGS,
        methods=config["regions"]["methods"],
        romanised=ROMANISED,
        code=code_of("methods_table.py"),
    script:
        "../scripts/methods_table.py"
