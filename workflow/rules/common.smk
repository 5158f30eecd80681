# Config validation and the functions that turn config into paths. Rule files repeat no path strings.
import os
import re
import sys
from dataclasses import asdict
from pathlib import Path

from linguafranca.ablation.conditions import (
    BASELINE,
    RANDOM,
    condition_list,
    is_method_condition,
)
from linguafranca.errors import LinguaFrancaError
from linguafranca.pipeline.codehash import code_hash
from linguafranca.pipeline.config_files import check_unique_keys
from linguafranca.pipeline.config import (
    language_pattern,
    model_jobs_pattern,
    NAME_PATTERN,
    regions_dataset,
    THRESHOLD_TAG,
    threshold_tag,
    validate,
)
from linguafranca.pipeline.paths import *  # every path pattern (linguafranca/pipeline/paths.py)
from linguafranca.pipeline.paths import language_set_paths
from linguafranca.pipeline.job_resources import (
    machine_memory_mb,
    model_resource_functions,
)
from linguafranca.pipeline.threads import (
    CLUSTER_MODEL_THREADS,
    CORES_ENV,
    local_model_threads,
)

try:
    check_unique_keys(workflow.configfiles)
    validate(config)
except LinguaFrancaError as error:
    sys.exit(f"linguafranca: {error}")

# A named language set moves every set-dependent path (linguafranca.pipeline.paths.language_set_paths).
globals().update(language_set_paths(config["language_set"]))
LANGS = config["languages"]
ENV = "../../envs/linguafranca.yaml"
THRESHOLD = threshold_tag(config["regions"]["threshold"])
REGIONS_FROM = regions_dataset(config)
# The selection methods beyond the z-score (regions.methods): computed by the regions stage, switched off by the
# ablation stage.
OTHER_METHODS = [
    method for method in config["regions"]["methods"] if method != "zscore"
]
# The deactivation conditions (linguafranca.ablation.conditions), each with the languages its perplexity job evaluates.
CONDITIONS = condition_list(
    LANGS,
    matched_random_on_all_languages=config["ablation"][
        "matched_random_on_all_languages"
    ],
    significant_regions=config["ablation"]["significant_regions"],
    methods=OTHER_METHODS,
    methods_full_matrix=config["ablation"]["methods_full_matrix"],
)
# The conditions that read a regions store, one perplexity job each per (regions dataset, threshold). none and random
# read none (random's mask depends only on the model's shape, random_fraction and seed): one job each per model and
# text, read by every table. The other methods' regions and controls read only the methods store: one job each per
# regions dataset, outside the threshold folders.
THRESHOLD_FREE = (BASELINE, RANDOM)
METHOD_CONDITIONS = [
    condition.name for condition in CONDITIONS if is_method_condition(condition)
]
# A method condition's file is methods/{method}/{member}.tsv: member is the language of its region, or random_{lang}.
METHOD_MEMBERS = [*LANGS, *(f"random_{lang}" for lang in LANGS)]
REGION_CONDITIONS = [
    condition.name
    for condition in CONDITIONS
    if condition.name not in THRESHOLD_FREE and not is_method_condition(condition)
]
EXTS = ["png", "pdf"]


# What `snakemake --report report.html` shows: each figure and table under the paper section it belongs to, one row
# per (model, revision, dataset), with a caption from workflow/report/. Rule files wrap their outputs in report().

# Numbered, because the report orders its categories by name: the paper's order, then the stages beyond it.
REPORT_SIMILARITY = "1. Similarity (paper 3.1-3.2)"
REPORT_REGIONS = "2. Key linguistic regions (paper 3.3)"
REPORT_ABLATION = "3. Deactivation (paper 4.3, Table 1)"
REPORT_GENERATION = "4. Generation with a region off (Appendix A)"
REPORT_REASONING = "5. Cross-lingual reasoning (lm-eval, Appendix B)"
REPORT_PROBES = "6. Language-ID probes (Riemenschneider & Frank 2025)"
REPORT_SERIES = "7. Series across checkpoints and sizes"
REPORT_SANDBOX = "8. Pretraining sandbox"
REPORT_LABELS_MODEL = {"model": "{model}", "revision": "{revision}"}


def in_report(path, **settings):
    """report() for helper functions: Snakemake's parser takes a line that starts with report( for its keyword."""
    return report(path, **settings)


REPORT_LABELS = {"model": "{model}", "revision": "{revision}", "dataset": "{dataset}"}
REPORT_LABELS_THRESHOLD = {**REPORT_LABELS, "threshold": "{threshold}"}


wildcard_constraints:
    model=NAME_PATTERN,
    revision=NAME_PATTERN,
    dataset=NAME_PATTERN,
    regions_dataset=NAME_PATTERN,
    lang=language_pattern(),
    threshold=THRESHOLD_TAG,
    condition="|".join(re.escape(name) for name in REGION_CONDITIONS),
    method="|".join(re.escape(name) for name in OTHER_METHODS) or "(?!)",
    member="|".join(re.escape(name) for name in METHOD_MEMBERS),
    size="[A-Za-z0-9][A-Za-z0-9_-]*",
    ext="png|pdf|jsonl|md|html",


# Each model's capture, ablation and figure jobs run split or combined (its jobs setting); these keep the two apart.
COMBINED_MODELS = model_jobs_pattern(config, combined=True)
SPLIT_MODELS = model_jobs_pattern(config, combined=False)


def with_ext(pattern, ext, **fixed):
    """One output path of a multi-format pattern, other wildcards left for Snakemake to fill."""
    return expand(pattern, ext=ext, **fixed, allow_missing=True)[0]


def model_spec(wildcards):
    return config["models"][wildcards.model]


def dataset_spec(wildcards):
    return config["datasets"][wildcards.dataset]


def random_settings():
    """What the random condition's mask depends on beyond the model's shape (a job's params: no threshold)."""
    return {
        "fraction": config["regions"]["random_fraction"],
        "seed": config["regions"]["seed"],
    }


def loading(wildcards):
    """The settings a job loads its model with that change numbers: compute (the dtype), and trust_remote_code (which picks the
    model's code). device stays out, like batch_size: both change floating-point rounding only, so the scripts read
    them from the config and changing them reruns nothing."""
    spec = model_spec(wildcards)
    return {key: spec[key] for key in ("compute", "trust_remote_code")}


# What the jobs that load a model ask for, as `resources: **MODEL_RESOURCES`.
MODEL_RESOURCES = model_resource_functions(config)

# Jobs run here (not on a cluster): tell them how many cores Snakemake was given, so that each uses its share of the
# real CPUs (linguafranca.pipeline.threads.set_threads) when --cores promises more than the machine has; and cap the summed
# mem_mb of running jobs at the machine's memory, unless --resources sets it, so that model jobs run side by side
# only where they fit (a job asking for more than there is runs alone, its request lowered to the cap). A cluster
# profile gives --jobs, not --cores, and its executor is not known yet while this file is read: no cores, no cap.
LOCAL_CORES = workflow.global_resources["_cores"].value


def running_here():
    """True when this Snakemake process runs the jobs itself: --cores given, no cluster executor, not a cluster job."""
    return bool(LOCAL_CORES) and workflow.local_exec and not workflow.remote_exec


if running_here():
    os.environ[CORES_ENV] = str(LOCAL_CORES)
    if not any(
        name in workflow.global_resources for name in ("mem", "mem_mb", "mem_mib")
    ):
        workflow.register_resource("mem_mb", machine_memory_mb())
else:
    os.environ.pop(CORES_ENV, None)


def model_threads(wildcards):
    """Threads of a job that loads a model: on this machine, half the cores, so two run side by side
    (linguafranca.pipeline.threads.local_model_threads); on a cluster node, CLUSTER_MODEL_THREADS.
    """
    return local_model_threads(LOCAL_CORES) if running_here() else CLUSTER_MODEL_THREADS


def code_of(script):
    """The code param of every job: the sha256 of the package modules its script imports, followed transitively.
    Snakemake's code trigger sees only the script file, so without it an edited module would rerun nothing.
    """
    return code_hash(Path(workflow.basedir) / "workflow" / "scripts" / script)


def model_revisions():
    return [(m, r) for m, spec in config["models"].items() for r in spec["revisions"]]


def stores_of(wildcards):
    """The activation stores of every language, in config order, for one (model, revision, dataset)."""
    return expand(ACTIVATIONS, lang=LANGS, allow_missing=True)


def for_each(pattern, datasets, **extra):
    """Expand a results path pattern for every (model, revision) and the given datasets."""
    return [
        path
        for model, revision in model_revisions()
        for dataset in datasets
        for path in expand(
            pattern, model=model, revision=revision, dataset=dataset, **extra
        )
    ]


def one_figure(plot):
    """The figures param of a one-figure rule: ``plot`` drawn from the rule's only input to its png and pdf."""
    return lambda wildcards, input, output: [[plot, input[0], output.png, output.pdf]]


def all_targets():
    return (
        analysis_targets()
        + methods_targets()
        + ablation_targets()
        + reasoning_targets()
        + probe_targets()
        + series_targets()
        + sandbox_targets()
    )
