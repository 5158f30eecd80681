"""Provenance checks: an artefact is combined with others, or used by a job, only when it was made from the same
weights and settings.

Every store records where it came from in its attributes (see docs/outputs.md). A reader that combines stores, or
a job that uses one with a model it loaded itself, compares those attributes first, so that another model's
``en.zarr`` copied into place, or a regions store from other settings, stops the job instead of changing results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from linguafranca.errors import LinguaFrancaError


def check_provenance(path: str, attrs: Mapping[str, Any], expected: Mapping[str, Any], against: str) -> None:
    """Raise one line naming ``path``, the first key whose value differs from ``expected``, and ``against`` (what
    ``expected`` came from: another store, the model's manifest, the job's settings)."""
    for key, value in expected.items():
        if not _same(attrs.get(key), value):
            raise LinguaFrancaError(
                f"{path} has {key} {attrs.get(key)!r} but {against} has {value!r}: it was made from other weights or "
                "settings, so the two cannot be combined; remove it and run the workflow again to remake it"
            )


def _same(ours: Any, theirs: Any) -> bool:
    """Equal, with numbers compared as numbers (a threshold of 2 in a path, 2.0 in a store)."""
    numbers = (int, float)
    if isinstance(ours, numbers) and isinstance(theirs, numbers) and not isinstance(ours, bool) | isinstance(theirs, bool):
        return float(ours) == float(theirs)
    return ours == theirs
