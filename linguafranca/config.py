"""Config validation: the JSON Schema in ``config/schema.yaml`` plus the cross-references a schema cannot express.

Errors name the offending key as a dotted path and the allowed values, and the workflow stops before any job runs.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .errors import LinguaFrancaError

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "config" / "schema.yaml"

PLACEHOLDER = "FILL IN:"
"""Example configs mark what each user must set, such as a data folder, with a string that starts with this."""


def _with_defaults(validator_class):
    """A validator class that fills in ``default`` values while it validates (the jsonschema FAQ recipe)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"{error.message}; allowed keys here: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"{error.instance!r} is not allowed; allowed values: {', '.join(map(str, error.validator_value))}"
    return error.message


def validate(config: dict[str, Any], schema_path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """Validate ``config`` in place, fill in defaults, and return it; raise one clear error otherwise."""
    _check_placeholders(config)
    schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), _path(e)))
    if errors:
        error = errors[0]
        raise LinguaFrancaError(f"config error at {_path(error)}: {_message(error)}")
    _check_references(config)
    return config


def _check_placeholders(value: Any, path: str = "") -> None:
    """Refuse a config that still holds an example's placeholder, quoting it: it says what to fill in."""
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        raise LinguaFrancaError(f"config error at {path}: fill in this setting ({value})")
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        _check_placeholders(child, f"{path}.{key}" if path else str(key))


def _check_references(config: dict[str, Any]) -> None:
    """Names that point elsewhere in the config must exist there: datasets, the regions source, languages."""
    known = sorted(config["datasets"])
    for stage in ("capture", "ablation"):
        for name in config[stage]["datasets"]:
            if name not in config["datasets"]:
                raise LinguaFrancaError(
                    f"config error at {stage}.datasets: unknown dataset {name!r}; defined datasets: {', '.join(known)}"
                )
    analysed = analysis_datasets(config)
    if not analysed:
        raise LinguaFrancaError("config error at capture.datasets: every dataset is used for perplexity, none is analysed")
    ablation = config["ablation"]
    if ablation["regions_from"] is not None and ablation["regions_from"] not in analysed:
        raise LinguaFrancaError(
            f"config error at ablation.regions_from: {ablation['regions_from']!r} is not an analysis dataset; "
            f"analysis datasets: {', '.join(analysed)}"
        )
    unknown = [lang for lang in ablation["generation"]["languages"] if lang not in config["languages"]]
    if unknown:
        raise LinguaFrancaError(
            f"config error at ablation.generation.languages: {', '.join(unknown)} not in languages "
            f"({', '.join(config['languages'])})"
        )


def analysis_datasets(config: dict[str, Any]) -> list[str]:
    """Datasets whose activations are captured: ``capture.datasets``, or all not used for perplexity."""
    perplexity = set(config["ablation"]["datasets"])
    return config["capture"]["datasets"] or [name for name in config["datasets"] if name not in perplexity]


def regions_dataset(config: dict[str, Any]) -> str:
    """The analysis dataset whose key regions the ablation stage deactivates."""
    return config["ablation"]["regions_from"] or analysis_datasets(config)[0]


def threshold_tag(threshold: float) -> str:
    """The threshold as it appears in paths: ``2`` for 2.0, ``2.5`` for 2.5."""
    return f"{threshold:g}"
