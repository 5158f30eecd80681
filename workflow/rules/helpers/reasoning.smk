# What workflow/rules/reasoning.smk needs beyond common.smk: the functions and constants its rules take.
from linguafranca.ablation.conditions import by_name
from linguafranca.reasoning.items import available as reasoning_available
from linguafranca.reasoning.items import unavailable_languages
from linguafranca.reasoning.tasks import files_hash as task_files_hash

# The reasoning stage's conditions: none, random, each region and its size-matched control, each on its own language
# (every language with reasoning.full_matrix); one lm-eval job per (model, revision, task family, condition).
REASONING_CONDITIONS = condition_list(
    LANGS,
    regions_on_all_languages=config["reasoning"]["full_matrix"],
    matched_random_on_all_languages=config["reasoning"]["full_matrix"],
)


# A language a task family has no items in is said at parse time, before any job; accuracy.tsv marks it.
for family, missing in unavailable_languages(
    config["reasoning"]["tasks"], LANGS
).items():
    print(
        f"linguafranca: note: reasoning task {family} has no items in {', '.join(missing)}; "
        "accuracy.tsv marks them not available",
        file=sys.stderr,
    )


def reasoning_langs(wildcards):
    """The languages a reasoning job's condition is evaluated on, in config order."""
    return list(by_name(REASONING_CONDITIONS, wildcards.condition).evaluated)


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


def reasoning_regions(wildcards):
    """The regions store a reasoning job switches off (none for the baseline, which reads no regions)."""
    if wildcards.condition == BASELINE:
        return []
    return expand(
        REGIONS, dataset=REGIONS_FROM, threshold=THRESHOLD, allow_missing=True
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
            [ACCURACY, ACCURACY_FIGURE],
            model=model,
            revision=revision,
            ext=["png", "pdf"],
        )
    ]
