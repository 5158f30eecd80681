# Deactivation (paper section 4.3, Table 1): perplexity with a key region switched off, one job per condition,
# then the tables and the heatmap; and greedy generation samples with each region switched off (Appendix A).


rule ablation_condition:
    input:
        manifest=MANIFEST,
        regions=regions_of,
        texts=texts_of,
    output:
        CONDITION,
    log:
        "results/logs/{model}/{revision}/ablation/{dataset}_z{threshold}_{condition}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/ablation/{dataset}_z{threshold}_{condition}.tsv"
    conda:
        ENV
    threads: 8
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        langs=LANGS,
        joiner=lambda wc: dataset_spec(wc)["joiner"],
        settings={
            key: config["ablation"][key]
            for key in ("seqlen", "max_tokens", "bos_per_window")
        },
        bos=lambda wc: model_spec(wc)["bos"],
        loading=loading,
        code=code_of("ablation_condition.py"),
    script:
        "../scripts/ablation_condition.py"


rule ablation_tables:
    input:
        conditions=expand(CONDITION, condition=conditions(), allow_missing=True),
        regions=regions_of,
    output:
        perplexity=PERPLEXITY,
        increase=INCREASE,
        dominance=DOMINANCE,
        png=with_ext(INCREASE_FIGURE, "png"),
        pdf=with_ext(INCREASE_FIGURE, "pdf"),
    log:
        "results/logs/{model}/{revision}/ablation/{dataset}_z{threshold}_tables.log",
    conda:
        ENV
    params:
        conditions=conditions(),
        code=code_of("ablation_tables.py"),
    script:
        "../scripts/ablation_tables.py"


rule generations:
    input:
        manifest=MANIFEST,
        regions=REGIONS,
        texts=lambda wc: expand(
            DATA,
            dataset=wc.dataset,
            lang=config["ablation"]["generation"]["languages"],
        ),
    output:
        jsonl=with_ext(GENERATIONS, "jsonl"),
        md=with_ext(GENERATIONS, "md"),
    log:
        "results/logs/{model}/{revision}/generations/{dataset}_z{threshold}.log",
    conda:
        ENV
    threads: 8
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        generation=config["ablation"]["generation"],
        conditions=conditions(),
        bos=lambda wc: model_spec(wc)["bos"],
        loading=loading,
        code=code_of("generations.py"),
    script:
        "../scripts/generations.py"
