# Deactivation (paper section 4.3, Table 1): perplexity with a key region or a control switched off, one job per
# condition (linguafranca.ablation.conditions) on the languages that condition is evaluated on (one job for every
# region condition of a model with jobs: combined), then the tables and the heatmap; and greedy generation samples
# with each region switched off (Appendix A). The baseline none and the random control read no regions store: one
# job each per (model, revision, dataset), split or combined alike, outside the threshold folders.


include: "helpers/ablation.smk"


rule ablation_baseline:
    input:
        manifest=MANIFEST,
        texts=condition_texts,
        languages=LANGUAGE_SET,
    output:
        BASELINE_PPL,
    log:
        "results/logs/{model}/{revision}/ablation/{dataset}_none.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/ablation/{dataset}_none.tsv"
    conda:
        ENV
    threads: model_threads
    resources:
        **MODEL_RESOURCES,
    params:
        conditions=lambda wc: [getattr(wc, "condition", BASELINE)],
        langs=lambda wc: [condition_langs(wc)],
        text_langs=condition_langs,
        joiner=lambda wc: dataset_spec(wc)["joiner"],
        settings=perplexity_settings,
        bos=lambda wc: model_spec(wc)["bos"],
        loading=loading,
        code=code_of("ablation_condition.py"),
    script:
        "../scripts/ablation_condition.py"


# The random control: the baseline's job with random_fraction of the model's neurons off, drawn from its shape and
# regions.seed as the regions stage draws its random_mask; no regions store, so no threshold reruns it.
use rule ablation_baseline as ablation_random with:
    output:
        RANDOM_PPL,
    log:
        "results/logs/{model}/{revision}/ablation/{dataset}_random.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/ablation/{dataset}_random.tsv"
    params:
        conditions=[RANDOM],
        random=random_settings(),


# A condition's job: the baseline's, with the regions store it switches off.
use rule ablation_baseline as ablation_condition with:
    input:
        manifest=MANIFEST,
        regions=regions_of,
        texts=condition_texts,
    output:
        CONDITION,
    log:
        "results/logs/{model}/{revision}/ablation/{dataset}_regions-{regions_dataset}_z{threshold}_{condition}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/ablation/{dataset}_regions-{regions_dataset}_z{threshold}_{condition}.tsv"
    wildcard_constraints:
        model=SPLIT_MODELS,


# Every region condition of a model with jobs: combined in one job that loads the model once (the other params as
# above); none and random keep their own jobs, so that neither reruns with the threshold, nor none with the seed.
use rule ablation_condition as ablation_combined with:
    input:
        manifest=MANIFEST,
        regions=regions_of,
        texts=expand(DATA, lang=LANGS, allow_missing=True),
    output:
        expand(CONDITION, condition=REGION_CONDITIONS, allow_missing=True),
    log:
        "results/logs/{model}/{revision}/ablation/{dataset}_regions-{regions_dataset}_z{threshold}_conditions.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/ablation/{dataset}_regions-{regions_dataset}_z{threshold}_conditions.tsv"
    wildcard_constraints:
        model=COMBINED_MODELS,
    params:
        conditions=REGION_CONDITIONS,
        langs=[list(by_name(CONDITIONS, name).evaluated) for name in REGION_CONDITIONS],
        text_langs=LANGS,


# Another method's regions and controls (lape_{lang}, random_lape_{lang}, ...): one job per method, the baseline's
# with the methods store. A job per method, not per condition: every condition of a method reads the same store,
# so they rerun together anyway, and one model load serves them all.
use rule ablation_baseline as ablation_method with:
    input:
        manifest=MANIFEST,
        methods=methods_of,
        texts=expand(DATA, lang=LANGS, allow_missing=True),
    output:
        expand(METHOD_CONDITION, member=METHOD_MEMBERS, allow_missing=True),
    log:
        "results/logs/{model}/{revision}/ablation/{dataset}_regions-{regions_dataset}_methods_{method}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/ablation/{dataset}_regions-{regions_dataset}_methods_{method}.tsv"
    wildcard_constraints:
        model=SPLIT_MODELS,
    params:
        conditions=lambda wc: method_conditions(wc.method),
        langs=lambda wc: [
            condition_langs(name) for name in method_conditions(wc.method)
        ],
        text_langs=LANGS,
        joiner=lambda wc: dataset_spec(wc)["joiner"],
        settings=perplexity_settings,
        bos=lambda wc: model_spec(wc)["bos"],
        loading=loading,
        code=code_of("ablation_condition.py"),


# Every method's conditions of a model with jobs: combined, in one job that loads the model once.
use rule ablation_method as ablation_method_combined with:
    output:
        expand(
            METHOD_CONDITION,
            method=OTHER_METHODS,
            member=METHOD_MEMBERS,
            allow_missing=True,
        ),
    log:
        "results/logs/{model}/{revision}/ablation/{dataset}_regions-{regions_dataset}_methods.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/ablation/{dataset}_regions-{regions_dataset}_methods.tsv"
    wildcard_constraints:
        model=COMBINED_MODELS,
    params:
        conditions=[
            name for method in OTHER_METHODS for name in method_conditions(method)
        ],
        langs=[
            condition_langs(name)
            for method in OTHER_METHODS
            for name in method_conditions(method)
        ],
        text_langs=LANGS,
        joiner=lambda wc: dataset_spec(wc)["joiner"],
        settings=perplexity_settings,
        bos=lambda wc: model_spec(wc)["bos"],
        loading=loading,
        code=code_of("ablation_condition.py"),


rule ablation_tables:
    input:
        baseline=BASELINE_PPL,
        random=RANDOM_PPL,
        conditions=expand(CONDITION, condition=REGION_CONDITIONS, allow_missing=True),
        method_conditions=expand(
            METHOD_CONDITION,
            method=OTHER_METHODS,
            member=METHOD_MEMBERS,
            allow_missing=True,
        ),
        regions=regions_of,
        methods=methods_of,
    output:
        **script_deactivation_output(),
        perplexity=PERPLEXITY,
        increase=INCREASE,
        dominance=DOMINANCE,
        perplexity_page=report(
            PERPLEXITY_PAGE,
            caption="../report/perplexity.rst",
            category=REPORT_ABLATION,
            subcategory="Perplexity per condition",
            labels=REPORT_LABELS_THRESHOLD,
        ),
        increase_page=report(
            INCREASE_PAGE,
            caption="../report/increase.rst",
            category=REPORT_ABLATION,
            subcategory="Table 1: perplexity increase",
            labels=REPORT_LABELS_THRESHOLD,
        ),
        dominance_page=report(
            DOMINANCE_PAGE,
            caption="../report/dominance.rst",
            category=REPORT_ABLATION,
            subcategory="Diagonal dominance",
            labels=REPORT_LABELS_THRESHOLD,
        ),
        png=report(
            with_ext(INCREASE_FIGURE, "png"),
            caption="../report/increase_heatmap.rst",
            category=REPORT_ABLATION,
            subcategory="Perplexity increase heatmap",
            labels=REPORT_LABELS_THRESHOLD,
        ),
        pdf=with_ext(INCREASE_FIGURE, "pdf"),
    log:
        "results/logs/{model}/{revision}/ablation/{dataset}_regions-{regions_dataset}_z{threshold}_tables.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/ablation/{dataset}_regions-{regions_dataset}_z{threshold}_tables.tsv"
    conda:
        ENV
    params:
        langs=LANGS,
        matched_random_on_all_languages=config["ablation"][
            "matched_random_on_all_languages"
        ],
        significant_regions=config["ablation"]["significant_regions"],
        methods=OTHER_METHODS,
        methods_full_matrix=config["ablation"]["methods_full_matrix"],
        romanised=romanised_pairs(LANGS),
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
        page=report(
            with_ext(GENERATIONS, "html"),
            caption="../report/generations.rst",
            category=REPORT_GENERATION,
            subcategory="Continuations",
            labels=REPORT_LABELS_THRESHOLD,
        ),
    log:
        "results/logs/{model}/{revision}/generations/{dataset}_z{threshold}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/generations/{dataset}_z{threshold}.tsv"
    conda:
        ENV
    threads: model_threads
    resources:
        **MODEL_RESOURCES,
    params:
        generation=config["ablation"]["generation"],
        conditions=generation_conditions(),
        bos=lambda wc: model_spec(wc)["bos"],
        loading=loading,
        code=code_of("generations.py"),
    script:
        "../scripts/generations.py"


# Every method's region of every language fixed to its median response (Kojima et al.), prompts in the forcing
# languages, and the share of continuations langid.py, restricted to the run's languages, places in the forced one.
rule forced_generations:
    input:
        manifest=MANIFEST,
        regions=REGIONS,
        methods=METHODS,
        prompts=lambda wc: expand(
            DATA, dataset=wc.dataset, lang=config["ablation"]["forcing"]["languages"]
        ),
    output:
        jsonl=with_ext(FORCED, "jsonl"),
        md=with_ext(FORCED, "md"),
        page=report(
            with_ext(FORCED, "html"),
            caption="../report/forced.rst",
            category=REPORT_GENERATION,
            subcategory="Continuations with a region forced to its median",
            labels=REPORT_LABELS_THRESHOLD,
        ),
        shares=FORCED_LANGUAGE,
        shares_page=report(
            FORCED_LANGUAGE_PAGE,
            caption="../report/forced_language.rst",
            category=REPORT_GENERATION,
            subcategory="Output language under median forcing",
            labels=REPORT_LABELS_THRESHOLD,
        ),
    log:
        "results/logs/{model}/{revision}/generations/{dataset}_z{threshold}_forced.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/generations/{dataset}_z{threshold}_forced.tsv"
    conda:
        ENV
    threads: model_threads
    resources:
        **MODEL_RESOURCES,
    params:
        langs=LANGS,
        methods=OTHER_METHODS,
        forcing=config["ablation"]["forcing"],
        bos=lambda wc: model_spec(wc)["bos"],
        loading=loading,
        code=code_of("forced_generations.py"),
    script:
        "../scripts/forced_generations.py"
