# Cross-lingual understanding through lm-eval (linguafranca.reasoning): a text in one language, two English
# continuations; one job per (model, revision, task family, condition) on the languages the condition is evaluated
# on (for models with jobs: combined, one job per task family for every condition, the model loaded once), then the
# accuracy table and its figure.


include: "helpers/reasoning.smk"


rule reasoning_condition:
    input:
        manifest=MANIFEST,
        regions=reasoning_regions,
    output:
        REASONING_RESULT,
    log:
        "results/logs/{model}/{revision}/reasoning/{task}_{condition}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/reasoning/{task}_{condition}.tsv"
    wildcard_constraints:
        model=SPLIT_MODELS,
        task="bible|xstorycloze",
        condition="|".join(re.escape(c.name) for c in REASONING_CONDITIONS),
    conda:
        ENV
    threads: model_threads
    resources:
        **MODEL_RESOURCES,
    params:
        conditions=lambda wc: [wc.condition],
        langs=lambda wc: [reasoning_langs(wc)],
        settings=reasoning_settings,
        bos=lambda wc: model_spec(wc)["bos"],
        loading=loading,
        code=code_of("reasoning_condition.py"),
        tasks=task_files_hash(),
    script:
        "../scripts/reasoning_condition.py"


use rule reasoning_condition as reasoning_combined with:
    input:
        manifest=MANIFEST,
        regions=expand(
            REGIONS, dataset=REGIONS_FROM, threshold=THRESHOLD, allow_missing=True
        ),
    output:
        expand(
            REASONING_RESULT,
            condition=[c.name for c in REASONING_CONDITIONS],
            allow_missing=True,
        ),
    log:
        "results/logs/{model}/{revision}/reasoning/{task}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/reasoning/{task}.tsv"
    wildcard_constraints:
        model=COMBINED_MODELS,
        task="bible|xstorycloze",
    params:
        conditions=[c.name for c in REASONING_CONDITIONS],
        langs=[list(c.evaluated) for c in REASONING_CONDITIONS],
        settings=reasoning_settings,
        bos=lambda wc: model_spec(wc)["bos"],
        loading=loading,
        code=code_of("reasoning_condition.py"),
        tasks=task_files_hash(),


rule reasoning_table:
    input:
        results=[
            expand(
                REASONING_RESULT, task=task, condition=condition, allow_missing=True
            )[0]
            for task, condition in reasoning_jobs()
        ],
    output:
        tsv=report(
            ACCURACY,
            caption="../report/accuracy.rst",
            category=REPORT_REASONING,
            subcategory="accuracy.tsv",
            labels=REPORT_LABELS_MODEL,
        ),
        png=report(
            with_ext(ACCURACY_FIGURE, "png"),
            caption="../report/accuracy_figure.rst",
            category=REPORT_REASONING,
            subcategory="Accuracy per language",
            labels=REPORT_LABELS_MODEL,
        ),
        pdf=with_ext(ACCURACY_FIGURE, "pdf"),
    log:
        "results/logs/{model}/{revision}/reasoning/table.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/reasoning/table.tsv"
    conda:
        ENV
    params:
        tasks=config["reasoning"]["tasks"],
        jobs=reasoning_jobs(),
        conditions=[c.name for c in REASONING_CONDITIONS],
        langs=LANGS,
        code=code_of("reasoning_table.py"),
    script:
        "../scripts/reasoning_table.py"
