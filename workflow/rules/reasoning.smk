# Cross-lingual understanding through lm-eval (linguafranca.reasoning): a text in one language, two English
# continuations; one job per (model, revision, task family, condition) on the languages the condition is evaluated
# on, then the accuracy table and its figure per (regions dataset, threshold). none and random read no regions
# store: one job each per task family, outside the threshold folders, read by every table. The regions and their
# controls: one job each per (regions dataset, threshold), or, for models with jobs: combined, one job for all of
# them, the model loaded once.


include: "helpers/reasoning.smk"


rule reasoning_baseline:
    input:
        manifest=MANIFEST,
    output:
        REASONING_BASELINE,
    log:
        "results/logs/{model}/{revision}/reasoning/{task}_none.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/reasoning/{task}_none.tsv"
    wildcard_constraints:
        task=REASONING_TASKS,
    conda:
        ENV
    threads: model_threads
    resources:
        **MODEL_RESOURCES,
    params:
        conditions=[BASELINE],
        langs=[reasoning_langs(BASELINE)],
        settings=reasoning_settings,
        bos=lambda wc: model_spec(wc)["bos"],
        loading=loading,
        code=code_of("reasoning_condition.py"),
        tasks=task_files_hash(),
    script:
        "../scripts/reasoning_condition.py"


# The random control: random_fraction of the model's neurons, drawn from its shape and regions.seed as the regions
# stage draws its random_mask; no regions store, so no threshold reruns it.
use rule reasoning_baseline as reasoning_random with:
    output:
        REASONING_RANDOM,
    log:
        "results/logs/{model}/{revision}/reasoning/{task}_random.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/reasoning/{task}_random.tsv"
    params:
        conditions=[RANDOM],
        langs=[reasoning_langs(RANDOM)],
        random=random_settings(),


use rule reasoning_baseline as reasoning_condition with:
    input:
        manifest=MANIFEST,
        regions=reasoning_regions,
    output:
        REASONING_RESULT,
    log:
        "results/logs/{model}/{revision}/reasoning/regions-{regions_dataset}_z{threshold}_{task}_{condition}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/reasoning/regions-{regions_dataset}_z{threshold}_{task}_{condition}.tsv"
    wildcard_constraints:
        model=SPLIT_MODELS,
        task=REASONING_TASKS,
        condition="|".join(re.escape(name) for name in REASONING_REGION_CONDITIONS),
    params:
        conditions=lambda wc: [wc.condition],
        langs=lambda wc: [reasoning_langs(wc.condition)],


use rule reasoning_condition as reasoning_combined with:
    input:
        manifest=MANIFEST,
        regions=reasoning_regions,
    output:
        expand(
            REASONING_RESULT,
            condition=REASONING_REGION_CONDITIONS,
            allow_missing=True,
        ),
    log:
        "results/logs/{model}/{revision}/reasoning/regions-{regions_dataset}_z{threshold}_{task}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/reasoning/regions-{regions_dataset}_z{threshold}_{task}.tsv"
    wildcard_constraints:
        model=COMBINED_MODELS,
        task=REASONING_TASKS,
    params:
        conditions=REASONING_REGION_CONDITIONS,
        langs=[reasoning_langs(name) for name in REASONING_REGION_CONDITIONS],


rule reasoning_table:
    input:
        results=[
            reasoning_result(task, condition) for task, condition in reasoning_jobs()
        ],
    output:
        tsv=ACCURACY,
        page=report(
            ACCURACY_PAGE,
            caption="../report/accuracy.rst",
            category=REPORT_REASONING,
            subcategory="Accuracy table",
            labels=REPORT_LABELS_REASONING,
        ),
        png=report(
            with_ext(ACCURACY_FIGURE, "png"),
            caption="../report/accuracy_figure.rst",
            category=REPORT_REASONING,
            subcategory="Accuracy per language",
            labels=REPORT_LABELS_REASONING,
        ),
        pdf=with_ext(ACCURACY_FIGURE, "pdf"),
    log:
        "results/logs/{model}/{revision}/reasoning/regions-{regions_dataset}_z{threshold}_table.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/reasoning/regions-{regions_dataset}_z{threshold}_table.tsv"
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
