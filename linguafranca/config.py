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
    schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), _path(e)))
    if errors:
        error = errors[0]
        raise LinguaFrancaError(f"config error at {_path(error)}: {_message(error)}")
    _check_references(config)
    return config


def _check_references(config: dict[str, Any]) -> None:
    """Dataset names used by a stage must be defined under ``datasets``."""
    known = sorted(config["datasets"])
    for stage in ("capture", "ablation"):
        for name in config.get(stage, {}).get("datasets", []):
            if name not in config["datasets"]:
                raise LinguaFrancaError(
                    f"config error at {stage}.datasets: unknown dataset {name!r}; defined datasets: {', '.join(known)}"
                )
