"""The methods store (``regions/methods.zarr``, Zarr v3): the field's other language-neuron selections, LAPE and
AP experts, computed on the same capture as the z-score regions, with a ``method`` dimension.

Arrays (docs/outputs.md, "Methods store"):

- ``mask`` bool ``[method, lang, layer, neuron]``: each method's selection per language;
- ``score`` float32 ``[method, lang, layer, neuron]``: the per-neuron score it selects by (LAPE: the activation
  probability; AP: the average precision of the top experts);
- ``rank`` int32 ``[method, lang, layer, neuron]``: 1 for the neuron the method ranks first for the language;
- ``random_mask_per_language`` bool ``[method, lang, layer, neuron]``: size-matched random controls;
- ``null_count`` int32 ``[method, permutation, lang, layer]``: selected neurons under each label shuffle;
- ``median`` float32 ``[lang, layer, neuron]``: each language's median per-sample mean response of every neuron
  (what median forcing fixes a language's neurons to, whichever method selected them);
- ``lape_entropy`` float32 ``[layer, neuron]`` and, with bottom experts, ``ap_bottom`` float32
  ``[lang, layer, neuron]``; ``ap_null_cutoff`` float32 ``[permutation, lang]``.

Every per-language array is chunked one (method, language) at a time, so a deactivation job reads one region.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.checksummed import Stored, index_coordinates, open_group, read_array, write_group
from linguafranca.io.provenance import check_provenance

METHODS_STORE = "methods store"

#: The arrays every methods store holds, with their dimension names.
METHOD_ARRAYS = {
    "mask": ("method", "lang", "layer", "neuron"),
    "score": ("method", "lang", "layer", "neuron"),
    "rank": ("method", "lang", "layer", "neuron"),
    "random_mask_per_language": ("method", "lang", "layer", "neuron"),
    "null_count": ("method", "permutation", "lang", "layer"),
    "median": ("lang", "layer", "neuron"),
}

#: Arrays of one method only, written where the method ran (and, for ``ap_bottom``, with bottom experts on).
EXTRA_ARRAYS = {
    "lape_entropy": ("layer", "neuron"),
    "ap_bottom": ("lang", "layer", "neuron"),
    "ap_null_cutoff": ("permutation", "lang"),
}


def _chunks(dimensions: tuple[str, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """One chunk per method and language of a per-neuron array; small arrays are one chunk (at least one entry
    along every axis, so that a store without a null, zero permutations, still has a chunk shape)."""
    if dimensions[-2:] != ("layer", "neuron"):
        return tuple(max(1, size) for size in shape)
    return tuple(1 if name in ("method", "lang") else size for name, size in zip(dimensions, shape))


def write_methods_store(
    path: str | os.PathLike, arrays: Mapping[str, np.ndarray], descriptions: Mapping[str, str], attrs: Mapping[str, Any]
) -> None:
    """Write a methods store atomically: ``arrays`` by name (:data:`METHOD_ARRAYS` and any :data:`EXTRA_ARRAYS`),
    each with its ``descriptions`` entry as the array attribute ``description``; ``attrs`` must hold ``methods``
    and ``langs`` (the coordinates)."""
    dimensions = {**METHOD_ARRAYS, **EXTRA_ARRAYS}
    missing = sorted(set(METHOD_ARRAYS) - set(arrays))
    if missing:
        raise ValueError(f"a methods store needs arrays {missing}")
    stored = {name: Stored(data, _chunks(dimensions[name], data.shape), dimensions[name]) for name, data in arrays.items()}
    _, n_perm, _, _ = arrays["null_count"].shape
    _, _, n_layers, n_neurons = arrays["mask"].shape
    coordinates = {"method": list(attrs["methods"]), "lang": list(attrs["langs"]),
                   **index_coordinates(layer=n_layers, neuron=n_neurons, permutation=n_perm)}
    write_group(path, stored, {**attrs, "descriptions": dict(descriptions)}, coordinates)


@dataclass(frozen=True)
class StoredMethods:
    """What later stages need from a methods store: ``methods`` and ``langs`` in store order, ``mask`` and
    ``random_mask_per_language`` bool ``[method, lang, layer, neuron]``, the attributes, and ``median`` float32
    ``[lang, layer, neuron]`` where it was asked for (median forcing), else None."""

    methods: list[str]
    langs: list[str]
    mask: np.ndarray
    random_mask_per_language: np.ndarray
    attrs: dict[str, Any]
    median: np.ndarray | None = None

    def masks(self, method: str, control: bool = False) -> np.ndarray:
        """Bool ``[lang, layer, neuron]``: ``method``'s regions, or their size-matched controls."""
        if method not in self.methods:
            raise LinguaFrancaError(
                f"the methods store has methods {self.methods}, not {method!r}: add it to regions.methods"
            )
        return (self.random_mask_per_language if control else self.mask)[self.methods.index(method)]


def open_methods(path: str | os.PathLike):
    """The store's group after the existence check (its arrays are verified as they are read)."""
    if not Path(path).exists():
        raise LinguaFrancaError(f"methods store {path} does not exist: run the regions stage (rule methods) first")
    return open_group(METHODS_STORE, path)


def read_methods(
    path: str | os.PathLike, expected: Mapping[str, Any] | None = None, expected_from: str = "this job",
    medians: bool = False,
) -> StoredMethods:
    """Masks and controls of a methods store, and with ``medians`` its medians, every chunk verified, after the
    provenance check against ``expected`` (:func:`linguafranca.io.provenance.check_provenance`). The medians are as
    large as every mask together, so the deactivation jobs, which switch masks off, leave them unread."""
    group = open_methods(path)
    attrs = dict(group.attrs)
    if expected:
        check_provenance(f"methods store {path}", attrs, expected, expected_from)
    names = ("mask", "random_mask_per_language", *(("median",) if medians else ()))
    arrays = {name: read_array(METHODS_STORE, path, group, name) for name in names}
    return StoredMethods(list(attrs["methods"]), list(attrs["langs"]), attrs=attrs, **arrays)


def read_method_arrays(path: str | os.PathLike, names: tuple[str, ...]) -> tuple[dict[str, np.ndarray], dict]:
    """Named arrays of a methods store (every chunk verified) and its attributes, for the tables and figures."""
    group = open_methods(path)
    return {name: read_array(METHODS_STORE, path, group, name) for name in names}, dict(group.attrs)
