"""The regions store (``regions/z{threshold}.zarr``, Zarr v3): its array names, chunking, writer and reader."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.atomic import atomic_path
from linguafranca.io.checksummed import (
    consolidate,
    index_coordinates,
    open_group,
    read_array,
    recorded_checksums,
    write_array,
    write_coordinates,
)
from linguafranca.io.provenance import check_provenance

REGIONS_STORE = "regions store"

DIMENSIONS = ("lang", "layer", "neuron")
"""Dimension names of a regions store's per-language arrays."""


def _write_region_array(
    group: zarr.Group, name: str, data: np.ndarray, description: str, dimensions: tuple[str, ...] | None = None
) -> None:
    """One array chunked a language at a time (``[1, n_layers, n_neurons]``): later stages load one region.

    Every chunk is written with its checksum (:func:`linguafranca.io.checksummed.write_array`), so readers can tell a
    damaged store from an empty region. Arrays with other ``dimensions`` (the null counts) are one chunk.
    """
    if dimensions is not None:
        chunks = data.shape
    else:
        chunks = data.shape if data.ndim == 2 else (1, *data.shape[1:])
        dimensions = DIMENSIONS[-data.ndim :]
    array = write_array(group, name, data, chunks, dimensions)
    array.attrs["description"] = description


def write_regions_store(
    zarr_path: str | os.PathLike,
    arrays: Mapping[str, tuple[np.ndarray, str, tuple[str, ...] | None]],
    attrs: Mapping[str, Any],
) -> None:
    """Write a regions store atomically: each array as ``name -> (values, description, dimensions)``, where
    dimensions None means the default ``lang, layer, neuron`` chunked a language at a time; then the group's
    attributes. :func:`linguafranca.analysis.regions.write_regions` says which arrays and attributes a store holds.
    The coordinates (:func:`region_coordinates`) follow the arrays, and the metadata is consolidated last."""
    with atomic_path(zarr_path, directory=True) as temporary:
        group = zarr.open_group(str(temporary), mode="w", zarr_format=3)
        for name, (data, description, dimensions) in arrays.items():
            _write_region_array(group, name, data, description, dimensions)
        write_coordinates(group, region_coordinates(arrays, attrs))
        group.attrs.update(dict(attrs))
        consolidate(temporary)


def region_coordinates(
    arrays: Mapping[str, tuple[np.ndarray, str, tuple[str, ...] | None]], attrs: Mapping[str, Any]
) -> dict[str, Any]:
    """``lang`` (the ``langs`` attribute), ``layer`` and ``neuron`` indices, and ``permutation`` where the store
    has a null (``null_count``)."""
    _, n_layers, n_neurons = arrays["mask"][0].shape
    sizes = {"layer": n_layers, "neuron": n_neurons}
    if "null_count" in arrays:
        sizes["permutation"] = len(arrays["null_count"][0])
    return {"lang": list(attrs["langs"]), **index_coordinates(**sizes)}


@dataclass(frozen=True)
class StoredRegions:
    """What later stages need from a regions store: masks are bool ``[n_langs, n_layers, n_neurons]``
    (``random_mask``: ``[n_layers, n_neurons]``; ``random_mask_per_language``: each language's size-matched random
    control, like ``mask``; ``significant`` and ``random_mask_significant`` when the store has significance);
    ``null_count``: int ``[B, n_langs, n_layers]`` key neurons under label shuffles, when it has a null."""

    langs: list[str]
    mask: np.ndarray
    random_mask: np.ndarray
    random_mask_per_language: np.ndarray
    attrs: dict[str, Any]
    significant: np.ndarray | None = None
    random_mask_significant: np.ndarray | None = None
    null_count: np.ndarray | None = None


#: Arrays of every regions store.
REGION_ARRAYS = ("contribution", "zscore", "mask", "random_mask", "random_mask_per_language")


#: Arrays of a regions store with significance (``regions.significance_permutations`` > 0).
SIGNIFICANCE_ARRAYS = ("pvalue", "significant", "random_mask_significant")


def _open_regions(zarr_path: str | os.PathLike) -> zarr.Group:
    if not Path(zarr_path).exists():
        raise LinguaFrancaError(f"regions store {zarr_path} does not exist: run the regions stage first")
    return open_group(REGIONS_STORE, zarr_path)


def check_regions(zarr_path: str | os.PathLike, expected: Mapping[str, Any], expected_from: str = "this job") -> None:
    """The provenance check of :func:`read_regions` alone, from the store's attributes: for a job that hands the
    store to a reader of its own (a figure), so the masks are read and verified once, by that reader."""
    check_provenance(f"regions store {zarr_path}", _open_regions(zarr_path).attrs, expected, expected_from)


def read_regions(
    zarr_path: str | os.PathLike, expected: Mapping[str, Any] | None = None, expected_from: str = "this job"
) -> StoredRegions:
    """Load the masks and attributes written by :func:`linguafranca.analysis.regions.write_regions`.

    With ``expected`` (the job's model, revision, regions dataset, threshold, and where it loads a model the
    weights and compute), the store's attributes must agree (:func:`linguafranca.io.provenance.check_provenance`),
    so that a store made from other weights or settings stops the job that would switch it off or draw it.

    Every chunk of every array must exist with its checksum; the masks read are verified chunk by chunk. A store
    with significance (attribute ``significance_permutations``) must also hold its arrays, and gives its
    ``significant`` masks and their size-matched controls; one with a null (attribute ``null_permutations``) its
    ``null_count`` ``[B, n_langs, n_layers]``; otherwise those are None.
    """
    group = _open_regions(zarr_path)
    attrs = dict(group.attrs)
    if expected:
        check_provenance(f"regions store {zarr_path}", attrs, expected, expected_from)
    names = REGION_ARRAYS + (SIGNIFICANCE_ARRAYS if "significance_permutations" in attrs else ())
    names += ("null_count",) if "null_permutations" in attrs else ()
    for name in names:
        recorded_checksums(REGIONS_STORE, zarr_path, group, name)
    masks = {name: read_array(REGIONS_STORE, zarr_path, group, name) for name in names if name != "pvalue" and (
        "mask" in name or name in ("significant", "null_count"))}
    return StoredRegions(
        langs=list(attrs["langs"]),
        mask=masks["mask"],
        random_mask=masks["random_mask"],
        random_mask_per_language=masks["random_mask_per_language"],
        attrs=attrs,
        significant=masks.get("significant"),
        random_mask_significant=masks.get("random_mask_significant"),
        null_count=masks.get("null_count"),
    )
