# What workflow/rules/ablation.smk needs beyond common.smk: the functions and constants its rules take.
from linguafranca.ablation.conditions import by_name, paper_conditions
from linguafranca.data.scripts import romanised_pairs


def perplexity_settings(wildcards):
    """The ablation settings that change a perplexity (batch_size does not, beyond rounding)."""
    return {
        key: config["ablation"][key]
        for key in ("seqlen", "max_tokens", "bos_per_window")
    }


def condition_langs(wildcards):
    """The languages a condition's perplexity job evaluates, in config order (the baseline's and the random
    control's jobs have no condition wildcard: both are evaluated on every language); ``wildcards`` may also be a
    condition's name."""
    name = (
        wildcards
        if isinstance(wildcards, str)
        else getattr(wildcards, "condition", BASELINE)
    )
    return list(by_name(CONDITIONS, name).evaluated)


def method_conditions(method):
    """The conditions of one method in the order of its files, ``METHOD_MEMBERS``: each language's region, then
    each language's control."""
    return [
        *(f"{method}_{lang}" for lang in LANGS),
        *(f"random_{method}_{lang}" for lang in LANGS),
    ]


def condition_texts(wildcards):
    """The prepared text of each language the job's condition is evaluated on, for the dataset of the job."""
    return expand(DATA, dataset=wildcards.dataset, lang=condition_langs(wildcards))


def regions_of(wildcards):
    """The regions store that a deactivation job switches off: that of the regions dataset in its path."""
    return expand(REGIONS, dataset=wildcards.regions_dataset, allow_missing=True)


def methods_of(wildcards):
    """The methods store whose regions a method condition switches off: that of the regions dataset in its path."""
    return expand(METHODS, dataset=wildcards.regions_dataset, allow_missing=True)


def script_deactivation_output():
    """The script control's deactivation table (an output of the ablation_tables rule with a romanised language
    whose base language is in the run)."""
    return {"script": SCRIPT_DEACTIVATION} if romanised_pairs(LANGS) else {}


def generation_conditions():
    """Generation keeps the paper's conditions: none, random and each region (no size-matched controls)."""
    return [condition.name for condition in paper_conditions(LANGS)]


def ablation_targets():
    datasets = config["ablation"]["datasets"]
    if not datasets:
        return []
    tables = dict(regions_dataset=REGIONS_FROM, threshold=THRESHOLD)
    return [
        *for_each(PERPLEXITY, datasets, **tables),
        *for_each(INCREASE, datasets, **tables),
        *for_each(DOMINANCE, datasets, **tables),
        *for_each(PERPLEXITY_PAGE, datasets, **tables),
        *for_each(INCREASE_PAGE, datasets, **tables),
        *for_each(DOMINANCE_PAGE, datasets, **tables),
        *for_each(INCREASE_FIGURE, datasets, **tables, ext=EXTS),
        *[
            path
            for pattern in script_deactivation_output().values()
            for path in for_each(pattern, datasets, **tables)
        ],
        *for_each(
            GENERATIONS,
            [REGIONS_FROM],
            threshold=THRESHOLD,
            ext=["jsonl", "md", "html"],
        ),
        *for_each(
            FORCED, [REGIONS_FROM], threshold=THRESHOLD, ext=["jsonl", "md", "html"]
        ),
        *for_each(FORCED_LANGUAGE, [REGIONS_FROM], threshold=THRESHOLD),
        *for_each(FORCED_LANGUAGE_PAGE, [REGIONS_FROM], threshold=THRESHOLD),
    ]
