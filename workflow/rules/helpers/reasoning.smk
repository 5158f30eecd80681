# What workflow/rules/reasoning.smk needs beyond common.smk: the functions and constants its rules take.
from linguafranca.ablation.conditions import by_name
from linguafranca.reasoning.items import available as reasoning_available
from linguafranca.reasoning.items import unavailable_languages
from linguafranca.reasoning.tasks import files_hash as task_files_hash

# The reasoning stage's conditions: none, random, each region and its size-matched control, each on its own language
# (every language with reasoning.full_matrix); one lm-eval job per (model, revision, task family, condition), those
# that read a regions store per (regions dataset, threshold) too.
REASONING_CONDITIONS = condition_list(
    LANGS,
    regions_on_all_languages=config["reasoning"]["full_matrix"],
    matched_random_on_all_languages=config["reasoning"]["full_matrix"],
)
REASONING_REGION_CONDITIONS = [
    c.name for c in REASONING_CONDITIONS if c.name not in THRESHOLD_FREE
]
REASONING_TASKS = "bible|xstorycloze"
# The accuracy table, like Table 1, belongs to one regions source and threshold.
REPORT_LABELS_REASONING = {
    **REPORT_LABELS_MODEL,
    "regions": "{regions_dataset}",
    "threshold": "{threshold}",
}


# A language a task family has no items in is said at parse time, before any job; accuracy.tsv marks it.
for family, missing in unavailable_languages(
    config["reasoning"]["tasks"], LANGS
).items():
    print(
        f"linguafranca: note: reasoning task {family} has no items in {', '.join(missing)}; "
        "accuracy.tsv marks them not available",
        file=sys.stderr,
    )


def reasoning_langs(condition):
    """The languages a reasoning job's condition is evaluated on, in config order."""
    return list(by_name(REASONING_CONDITIONS, condition).evaluated)


def reasoning_jobs():
    """(task family, condition) of every reasoning result the accuracy table reads: a condition whose languages
    the family has no items in (XStoryCloze's fr, pt, vi) gets no job, and accuracy.tsv marks them not available.
    """
    return [
        (task, c.name)
        for task in config["reasoning"]["tasks"]
        for c in REASONING_CONDITIONS
        if any(reasoning_available(task, lang) for lang in c.evaluated)
    ]


def reasoning_result(task, condition):
    """The results JSON of one (task family, condition): none and random outside the threshold folders, the
    regions and their controls in that of the table's regions dataset and threshold (left as wildcards).
    """
    if condition == BASELINE:
        return expand(REASONING_BASELINE, task=task, allow_missing=True)[0]
    if condition == RANDOM:
        return expand(REASONING_RANDOM, task=task, allow_missing=True)[0]
    return expand(REASONING_RESULT, task=task, condition=condition, allow_missing=True)[
        0
    ]


def reasoning_regions(wildcards):
    """The regions store a reasoning job switches off: that of the regions dataset and threshold in its path."""
    return expand(
        REGIONS,
        dataset=wildcards.regions_dataset,
        threshold=wildcards.threshold,
        allow_missing=True,
    )


def reasoning_settings(wildcards):
    """The reasoning settings that change the job's accuracies: the limit, max_length and its own task family's
    section (full_matrix changes which jobs run, not their numbers; the other family's path reruns nothing here).
    """
    return {
        key: config["reasoning"][key] for key in ("limit", "max_length", wildcards.task)
    }


def reasoning_targets():
    if not config["reasoning"]["tasks"]:
        return []
    return [
        path
        for model, revision in model_revisions()
        for path in expand(
            [ACCURACY, ACCURACY_PAGE, ACCURACY_FIGURE],
            model=model,
            revision=revision,
            regions_dataset=REGIONS_FROM,
            threshold=THRESHOLD,
            ext=["png", "pdf"],
        )
    ]
