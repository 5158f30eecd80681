"""Checks shared by the loaders, so that every mistake in a dataset's ``options`` reads the same way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from linguafranca.errors import LinguaFrancaError

REQUIRED = object()
"""Default marker: the option has no default and must be given."""


def check_options(loader: str, options: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Reject option names the loader does not know (a typo would otherwise be silently ignored)."""
    allowed = sorted(allowed)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise LinguaFrancaError(
            f"loader {loader!r} has no option {', '.join(map(repr, unknown))}; its options are {', '.join(allowed)}"
        )


def get_option(
    loader: str, options: Mapping[str, Any], name: str, kinds: type | tuple[type, ...], default: Any = REQUIRED
) -> Any:
    """Return ``options[name]`` after checking its type; a missing or null option gives ``default``."""
    value = options.get(name)
    if value is None:
        if default is REQUIRED:
            raise LinguaFrancaError(f"loader {loader!r} needs the option {name!r}")
        return default
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
        expected = " or ".join(kind.__name__ for kind in kinds)
        raise LinguaFrancaError(f"loader {loader!r}: option {name!r} must be {expected}, not {value!r}")
    return value


def per_language(loader: str, mapping: Mapping[str, Any], languages: list[str], what: str) -> dict[str, Any]:
    """Pick ``mapping[lang]`` for every requested language, or say which languages the loader knows."""
    unknown = [lang for lang in languages if lang not in mapping]
    if unknown:
        raise LinguaFrancaError(
            f"loader {loader!r} has no {what} for language {', '.join(map(repr, unknown))}; "
            f"it knows {', '.join(sorted(mapping)) or 'none'}"
        )
    return {lang: mapping[lang] for lang in languages}
