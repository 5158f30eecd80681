# Config validation and the functions that turn config into paths. Rule files repeat no path strings.
import sys
from pathlib import Path

from linguafranca.config import validate
from linguafranca.errors import LinguaFrancaError

try:
    validate(config, Path(workflow.basedir) / "config" / "schema.yaml")
except LinguaFrancaError as error:
    sys.exit(f"linguafranca: {error}")

LANGS = config["languages"]
ENV = "../../envs/linguafranca.yaml"
MANIFEST = "resources/models/{model}/{revision}/manifest.json"
DATA = "resources/data/{dataset}/{lang}.jsonl"
ACTIVATIONS = "results/{model}/{revision}/{dataset}/activations/{lang}.zarr"


wildcard_constraints:
    model="[A-Za-z0-9][A-Za-z0-9._-]*",
    revision="[A-Za-z0-9][A-Za-z0-9._-]*",
    dataset="[A-Za-z0-9][A-Za-z0-9._-]*",
    lang="[a-z]{2,3}",


def model_spec(wildcards):
    return config["models"][wildcards.model]


def dataset_spec(wildcards):
    return config["datasets"][wildcards.dataset]


def dataset_samples(wildcards):
    spec = dataset_spec(wildcards)
    return spec["samples"] if spec["samples"] is not None else config["samples"]


def capture_settings(wildcards):
    """The model settings that change captured numbers (batch size and device do not, beyond rounding)."""
    spec = model_spec(wildcards)
    return {key: spec[key] for key in ("dtype", "max_length", "bos")}


def model_revisions():
    return [(m, r) for m, spec in config["models"].items() for r in spec["revisions"]]


def analysis_datasets():
    return config["capture"]["datasets"] or sorted(config["datasets"])


def activation_stores(model, revision, dataset):
    return expand(
        ACTIVATIONS, model=model, revision=revision, dataset=dataset, lang=LANGS
    )


def stores_of(wildcards):
    """The activation stores of every language, in config order, for one (model, revision, dataset)."""
    return activation_stores(wildcards.model, wildcards.revision, wildcards.dataset)


def per_analysis(pattern, **extra):
    """Expand a results path pattern for every (model, revision) and analysis dataset."""
    return [
        path
        for model, revision in model_revisions()
        for dataset in analysis_datasets()
        for path in expand(
            pattern, model=model, revision=revision, dataset=dataset, **extra
        )
    ]


def all_targets():
    return per_analysis(ACTIVATIONS, lang=LANGS)
