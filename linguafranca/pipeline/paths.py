"""Where the workflow writes: every path pattern, once. ``common.smk`` imports them all for the rule files.

Patterns hold Snakemake wildcards (``{model}``, ``{revision}``, ...); docs/outputs.md describes each file.

A Zarr store's pattern is that of its root ``zarr.json`` (:func:`store_file`): rules declare and depend on that file,
and scripts open the folder it names (:func:`store_of`).
"""

import os

#: The file a rule declares for a Zarr store. Snakemake writes a ``.snakemake_timestamp`` into every
#: ``directory()`` output, a file foreign to Zarr that zarr and xarray warn about when they list the store; the store's
#: root metadata is a file of its own. It is written last (the consolidated metadata of the whole store), the store
#: appears whole by one rename, and deleting the store deletes it, so its presence and time are the store's.
STORE_FILE = "zarr.json"


def store_file(store: str) -> str:
    """The pattern a rule declares for the Zarr store ``store``: its root ``zarr.json``."""
    return f"{store}/{STORE_FILE}"


def store_of(declared: str | os.PathLike) -> str:
    """The Zarr store folder of a path given by :func:`store_file` (a script's input or output)."""
    path = os.fspath(declared)
    if os.path.basename(path) != STORE_FILE:
        raise ValueError(f"{path!r} is not a Zarr store's {STORE_FILE}")
    return os.path.dirname(path)

# The pretraining sandbox: the tokenizer, each size's checkpoints (model folders), training log and loss curve.
SANDBOX_TOKENIZER = "resources/sandbox/tokenizer"
SANDBOX_CHECKPOINT = "resources/sandbox/{size}/checkpoints/{revision}"
SANDBOX_LOSS = "resources/sandbox/{size}/loss.tsv"
SANDBOX_LOSS_FIGURE = "resources/sandbox/{size}/loss.{ext}"

# Resources.
MANIFEST = "resources/models/{model}/{revision}/manifest.json"
# Text, prepared one job per (dataset, language), then checked as a set (languages.json): capture reads one
# language's text only, so a new or edited language recaptures that language alone; jobs that combine languages
# take the set's record, so a change of language set reruns them.
DATA = "resources/data/{dataset}/{lang}.jsonl"
DATA_IDS = "resources/data/{dataset}/{lang}.ids.json"
LANGUAGE_SET = "resources/data/{dataset}/languages.json"
# Capture and analysis, per (model, revision, dataset).
ACTIVATIONS = store_file("results/{model}/{revision}/{dataset}/activations/{lang}.zarr")
SIMILARITY = "results/{model}/{revision}/{dataset}/similarity.h5"
METRICS = "results/{model}/{revision}/{dataset}/metrics.tsv"
REGIONS = store_file("results/{model}/{revision}/{dataset}/regions/z{threshold}.zarr")
SKLR = "results/{model}/{revision}/{dataset}/regions/z{threshold}_sklr.tsv"
FIGURE = "results/{model}/{revision}/{dataset}/figures/{figure}.{ext}"
# The other selection methods (LAPE, AP experts) on the same capture (no threshold), and their comparison with the
# z-score regions of a threshold, beside that threshold's SKLR table (docs/methods.md).
METHODS = store_file("results/{model}/{revision}/{dataset}/regions/methods.zarr")
METHODS_TABLE = "results/{model}/{revision}/{dataset}/regions/z{threshold}_methods.tsv"
METHOD_NEURONS = "results/{model}/{revision}/{dataset}/regions/z{threshold}_methods_neurons.tsv"
METHODS_FIGURE = "results/{model}/{revision}/{dataset}/regions/z{threshold}_methods.{ext}"
MASKS_SAFETENSORS = "results/{model}/{revision}/{dataset}/regions/z{threshold}_masks.safetensors"
LAPE_LAYOUT = "results/{model}/{revision}/{dataset}/regions/z{threshold}_lape_layout"
SCRIPT_OVERLAP = "results/{model}/{revision}/{dataset}/regions/z{threshold}_script_control.tsv"
# The baseline perplexity (condition none) per (model, revision, perplexity dataset): it switches nothing off, so it
# depends on no regions or threshold and is computed once for every table that needs it. So is the random control:
# its mask depends only on the model's shape, regions.random_fraction and regions.seed.
BASELINE_PPL = "results/{model}/{revision}/{dataset}/ablation/none.tsv"
RANDOM_PPL = "results/{model}/{revision}/{dataset}/ablation/random.tsv"
# Deactivation, per (model, revision, perplexity dataset, regions dataset, threshold): the regions dataset is in
# the path, so results for another ablation.regions_from sit beside these instead of replacing them.
ABLATION = "results/{model}/{revision}/{dataset}/ablation/regions-{regions_dataset}/z{threshold}"
CONDITION = f"{ABLATION}/conditions/{{condition}}.tsv"
PERPLEXITY = f"{ABLATION}/perplexity.tsv"
INCREASE = f"{ABLATION}/perplexity_increase.tsv"
DOMINANCE = f"{ABLATION}/diagonal_dominance.tsv"
INCREASE_FIGURE = f"{ABLATION}/perplexity_increase.{{ext}}"
GENERATIONS = "results/{model}/{revision}/{dataset}/generations/z{threshold}.{ext}"
# Another method's region ({member}: its language) or control (random_{lang}) switched off: its job reads the
# methods store only, so it sits outside the threshold folders and no threshold reruns it.
METHOD_CONDITION = "results/{model}/{revision}/{dataset}/ablation/regions-{regions_dataset}/methods/{method}/{member}.tsv"
SCRIPT_DEACTIVATION = f"{ABLATION}/script_control.tsv"
# Generation with each region fixed to its median response (Kojima et al.), and the output language's share.
FORCED = "results/{model}/{revision}/{dataset}/generations/z{threshold}_forced.{ext}"
FORCED_LANGUAGE = "results/{model}/{revision}/{dataset}/generations/z{threshold}_forced_language.tsv"
# Reasoning through lm-eval, per (model, revision): one results JSON per (task family, condition), then the table.
# none and random read no regions, so they sit outside the threshold folders, computed once for every table; the
# regions and their controls, and the table, per (regions dataset, threshold), as perplexity's.
REASONING = "results/{model}/{revision}/reasoning"
REASONING_BASELINE = f"{REASONING}/{{task}}/none.json"
REASONING_RANDOM = f"{REASONING}/{{task}}/random.json"
REASONING_REGIONS = f"{REASONING}/regions-{{regions_dataset}}/z{{threshold}}"
REASONING_RESULT = f"{REASONING_REGIONS}/{{task}}/{{condition}}.json"
ACCURACY = f"{REASONING_REGIONS}/accuracy.tsv"
ACCURACY_FIGURE = f"{REASONING_REGIONS}/accuracy.{{ext}}"
# Each table of the report also as an HTML page beside it (linguafranca.io.html_table): the report shows HTML on
# the page, a TSV only as a download. The job that writes the table writes its page.
METRICS_PAGE = METRICS.replace(".tsv", ".html")
SKLR_PAGE = SKLR.replace(".tsv", ".html")
METHODS_PAGE = METHODS_TABLE.replace(".tsv", ".html")
FORCED_LANGUAGE_PAGE = FORCED_LANGUAGE.replace(".tsv", ".html")
PERPLEXITY_PAGE = PERPLEXITY.replace(".tsv", ".html")
INCREASE_PAGE = INCREASE.replace(".tsv", ".html")
DOMINANCE_PAGE = DOMINANCE.replace(".tsv", ".html")
ACCURACY_PAGE = ACCURACY.replace(".tsv", ".html")
PROBE_SUMMARY_PAGE = "results/{model}/{revision}/{dataset}/probes/summary.html"
EVOLUTION_PAGE = "results/series/{series}/evolution.html"
# Probes and concept neurons, per (model, revision, probes dataset): one capture job for every language, then CPU
# jobs for the probes and the concepts, and one model job for the intervention.
TOKENS = store_file("results/{model}/{revision}/{dataset}/tokens/{lang}.zarr")
RESPONSES = store_file("results/{model}/{revision}/{dataset}/concepts/responses/{lang}.zarr")
LANGUAGE_ID = "results/{model}/{revision}/{dataset}/probes/language_id.tsv"
LANGUAGE_ID_FIGURE = "results/{model}/{revision}/{dataset}/probes/language_id.{ext}"
PROBE_SUMMARY = "results/{model}/{revision}/{dataset}/probes/summary.tsv"
CONCEPT_AP = store_file("results/{model}/{revision}/{dataset}/concepts/ap.zarr")
CONCEPT_TABLE = "results/{model}/{revision}/{dataset}/concepts/{table}.tsv"
INTERVENTION_JSONL = "results/{model}/{revision}/{dataset}/concepts/intervention.jsonl"

# Series across points (results/series/{series}/).
# Series (workflow/rules/series.smk).
EVOLUTION = "results/series/{series}/evolution.tsv"
SERIES_FIGURE = "results/series/{series}/figures/{figure}.{ext}"

#: What does not depend on the set of languages: one language's text and capture, a model, the sandbox. Everything
#: else combines languages (or, as the baseline perplexity, one job runs them all) and moves with language_set.
SET_FREE = (
    "SANDBOX_TOKENIZER",
    "SANDBOX_CHECKPOINT",
    "SANDBOX_LOSS",
    "SANDBOX_LOSS_FIGURE",
    "MANIFEST",
    "DATA",
    "DATA_IDS",
    "ACTIVATIONS",
)


def language_set_paths(name: str | None) -> dict[str, str]:
    """Every set-dependent pattern for the language set ``name`` (config ``language_set``): under
    ``results/sets/{name}/``, the set's record under ``resources/data/{dataset}/sets/{name}/``; unchanged for None.

    The captures stay where they are, so two sets share every language they have in common.
    """
    patterns = {key: value for key, value in globals().items() if key in __all__ and key not in SET_FREE}
    if name is None:
        return patterns
    moved = {key: value.replace("results/", f"results/sets/{name}/", 1) for key, value in patterns.items()}
    moved["LANGUAGE_SET"] = LANGUAGE_SET.replace("/languages.json", f"/sets/{name}/languages.json")
    return moved


__all__ = [
    "SANDBOX_TOKENIZER",
    "SANDBOX_CHECKPOINT",
    "SANDBOX_LOSS",
    "MANIFEST",
    "DATA",
    "DATA_IDS",
    "LANGUAGE_SET",
    "ACTIVATIONS",
    "SIMILARITY",
    "METRICS",
    "REGIONS",
    "SKLR",
    "FIGURE",
    "METHODS",
    "METHODS_TABLE",
    "METHOD_NEURONS",
    "METHODS_FIGURE",
    "MASKS_SAFETENSORS",
    "LAPE_LAYOUT",
    "SCRIPT_OVERLAP",
    "BASELINE_PPL",
    "RANDOM_PPL",
    "ABLATION",
    "CONDITION",
    "PERPLEXITY",
    "INCREASE",
    "DOMINANCE",
    "INCREASE_FIGURE",
    "GENERATIONS",
    "METHOD_CONDITION",
    "SCRIPT_DEACTIVATION",
    "FORCED",
    "FORCED_LANGUAGE",
    "REASONING",
    "REASONING_BASELINE",
    "REASONING_RANDOM",
    "REASONING_REGIONS",
    "REASONING_RESULT",
    "ACCURACY",
    "ACCURACY_FIGURE",
    "METRICS_PAGE",
    "SKLR_PAGE",
    "METHODS_PAGE",
    "FORCED_LANGUAGE_PAGE",
    "PERPLEXITY_PAGE",
    "INCREASE_PAGE",
    "DOMINANCE_PAGE",
    "ACCURACY_PAGE",
    "PROBE_SUMMARY_PAGE",
    "EVOLUTION_PAGE",
    "TOKENS",
    "RESPONSES",
    "LANGUAGE_ID",
    "LANGUAGE_ID_FIGURE",
    "PROBE_SUMMARY",
    "CONCEPT_AP",
    "CONCEPT_TABLE",
    "INTERVENTION_JSONL",
    "SANDBOX_LOSS_FIGURE",
    "EVOLUTION",
    "SERIES_FIGURE",
]
