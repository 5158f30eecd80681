"""The checksummed Zarr v3 / HDF5 engine every store format is written and read through.

A damaged store is never read as data. Zarr returns the fill value for a missing chunk, so a deleted or changed
chunk file would otherwise pass as zeros or as other numbers. Every array written here records a crc32 of each
chunk's values (attribute ``chunk_crc32``), every chunk file is written even when it holds only fill values, and
every HDF5 dataset records a crc32 of its values (attribute ``crc32``). A reader checks up front that every chunk
the shape implies has a file and a checksum, and verifies each chunk's values as it reads them; a damaged store
stops the job with a message that names the store, the chunk and how to rebuild it.

The formats built on it, each with its writer and its reader, are the other modules of :mod:`linguafranca.io`.
"""

from __future__ import annotations

import itertools
import os
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import zarr

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.atomic import atomic_path

#: Attribute of every Zarr array written here: ``{chunk key: crc32 of the chunk's values}``.
CHUNK_CHECKSUMS = "chunk_crc32"


#: Attribute of every HDF5 dataset written here: crc32 of the dataset's values.
DATASET_CHECKSUM = "crc32"


#: Zarr skips chunks that hold only the fill value unless told otherwise; then a missing file would be normal.
ALL_CHUNKS = {"write_empty_chunks": True}


def checksum(values: np.ndarray, start: int = 0) -> int:
    """crc32 of ``values``: numbers as little-endian bytes in C order, strings as UTF-8 each followed by NUL.

    It covers the values, not their encoding on disk, so it does not depend on compression or on the chunk file
    layout, and any change that alters a value is caught. ``start`` continues an earlier checksum, so data
    written in pieces (one layer at a time) gives the checksum of the whole: ``checksum(b, checksum(a))`` is the
    checksum of ``a`` followed by ``b`` along the first axis.
    """
    values = np.asarray(values)
    if values.dtype.kind in "OUST":
        text = (v.decode() if isinstance(v, bytes) else str(v) for v in values.ravel())
        return zlib.crc32(b"".join(item.encode() + b"\0" for item in text), start)
    return zlib.crc32(np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).data, start)


def rebuild_error(kind: str, path: str | os.PathLike, problem: str) -> LinguaFrancaError:
    """The one message for a store that cannot be trusted: what is wrong, and the command that rebuilds it."""
    return LinguaFrancaError(
        f"{kind} {str(path)!r} {problem}. Rebuild it: delete it (rm -r '{path}') and run the same snakemake "
        "command again, which recreates it and reruns every job that reads it"
    )


def chunk_grid(array: zarr.Array) -> Iterator[tuple[tuple[int, ...], tuple[slice, ...]]]:
    """``(chunk coordinates, region of the array)`` of every chunk that the array's shape implies."""
    starts = [range(0, size, chunk) for size, chunk in zip(array.shape, array.chunks)]
    for corner in itertools.product(*starts):
        coords = tuple(start // chunk for start, chunk in zip(corner, array.chunks))
        ends = (min(start + chunk, size) for start, chunk, size in zip(corner, array.chunks, array.shape))
        yield coords, tuple(slice(start, end) for start, end in zip(corner, ends))


def chunk_key(array: zarr.Array, coords: tuple[int, ...]) -> str:
    """The chunk's key inside its array folder, ``c/0/3/0`` with Zarr v3's default encoding."""
    return array.metadata.encode_chunk_key(coords)


def _describe(array: zarr.Array, region: tuple[slice, ...]) -> str:
    """``sample 0-899, layer 3, neuron 0-2047``: where a chunk lies, by dimension name."""
    names = array.metadata.dimension_names or [f"axis {i}" for i in range(len(region))]
    spans = (f"{r.start}" if r.stop - r.start == 1 else f"{r.start}-{r.stop - 1}" for r in region)
    return ", ".join(f"{name} {span}" for name, span in zip(names, spans))


def chunk_checksums(array: zarr.Array, values: np.ndarray) -> dict[str, int]:
    """Checksums of every chunk of ``array`` given all its ``values``, keyed by chunk key (``c/0/3/0``)."""
    return {chunk_key(array, coords): checksum(values[region]) for coords, region in chunk_grid(array)}


def write_array(
    group: zarr.Group, name: str, data: np.ndarray, chunks: tuple[int, ...], dimension_names: Sequence[str]
) -> zarr.Array:
    """Create array ``name`` holding ``data``, with every chunk written and its checksum recorded.

    Strings are stored as Zarr's variable-length UTF-8 ``string`` type, which reads back as str; numpy's own
    fixed-width ``<U`` type has no Zarr v3 specification (zarr warns), so it is never stored as such.
    """
    dtype = str if data.dtype.kind in "OUST" else data.dtype
    array = group.create_array(
        name, shape=data.shape, chunks=chunks, dtype=dtype, dimension_names=dimension_names, config=ALL_CHUNKS
    )
    array[...] = data
    array.attrs[CHUNK_CHECKSUMS] = chunk_checksums(array, data)
    return array


#: What each dimension's coordinate array holds (its ``description``).
COORDINATES = {
    "sample": "sample id of each row (the meaning it labels, the same in every language)",
    "lang": "language code",
    "layer": "layer index, 0 to n_layers - 1",
    "neuron": "neuron index within its layer",
    "concept": "concept name",
    "permutation": "label shuffle index",
    "method": "language-neuron selection method (docs/methods.md)",
}


def write_coordinates(group: zarr.Group, coordinates: Mapping[str, Sequence[Any] | np.ndarray]) -> None:
    """One 1-D array per dimension, named after it and holding its labels (sample ids, languages, layer and
    neuron indices), so that ``xarray.open_zarr`` gives labelled dimensions. Checksummed like every array."""
    for dimension, labels in coordinates.items():
        values = np.asarray(labels)
        array = write_array(group, dimension, values, (max(len(values), 1),), (dimension,))
        array.attrs["description"] = COORDINATES[dimension]


def index_coordinates(**sizes: int) -> dict[str, np.ndarray]:
    """``{dimension: 0 .. size - 1}`` (int32), the coordinates of the index dimensions (layer, neuron)."""
    return {dimension: np.arange(size, dtype=np.int32) for dimension, size in sizes.items()}


def consolidate(path: str | os.PathLike) -> None:
    """Gather every array's metadata into the root ``zarr.json``, the last write of a store.

    Readers such as ``xarray.open_zarr`` then read one file instead of listing the store, and warn when it is
    missing. Zarr warns that consolidated metadata is not yet part of the v3 specification: it is written and read
    by zarr-python itself here (a reader without it lists the store as before), so that notice is silenced.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Consolidated metadata is currently not part", zarr.errors.ZarrUserWarning)
        zarr.consolidate_metadata(str(path))


def open_group(kind: str, path: str | os.PathLike) -> zarr.Group:
    """The store at ``path``, read-only, from each array's own metadata: the consolidated copy in the root
    (:func:`consolidate`) is for other readers, and a reader here must see what every array itself records."""
    try:
        return zarr.open_group(str(Path(path)), mode="r", zarr_format=3, use_consolidated=False)
    except Exception as error:  # a damaged zarr.json raises whatever its parser raises
        problem = f"cannot be opened as a Zarr v3 group ({type(error).__name__}: {error})"
        raise rebuild_error(kind, path, problem) from error


def recorded_checksums(kind: str, path: str | os.PathLike, group: zarr.Group, name: str) -> dict[str, int]:
    """The chunk checksums of array ``name``, after checking that every chunk its shape implies has one and has
    a chunk file. This is the up-front completeness check: it reads no values."""
    try:
        array = group[name]
    except Exception as error:
        raise rebuild_error(kind, path, f"is damaged: array {name!r} cannot be opened ({error})") from error
    recorded = array.attrs.get(CHUNK_CHECKSUMS)
    if not isinstance(recorded, dict):
        raise rebuild_error(
            kind, path, f"cannot be verified: array {name!r} records no chunk checksums (attribute "
            f"{CHUNK_CHECKSUMS!r}; stores written by earlier versions of linguafranca lack it)"
        )
    grid = list(chunk_grid(array))
    for coords, region in grid:
        key = chunk_key(array, coords)
        where = f"chunk '{name}/{key}' ({_describe(array, region)})"
        if key not in recorded:
            raise rebuild_error(kind, path, f"is damaged: no checksum is recorded for {where}")
        if not (Path(path) / name / key).is_file():
            raise rebuild_error(kind, path, f"is damaged: {where} is missing")
    if len(recorded) != len(grid):
        raise rebuild_error(
            kind, path, f"is damaged: array {name!r} records {len(recorded)} chunk checksums but its shape "
            f"{tuple(array.shape)} implies {len(grid)} chunks"
        )
    return recorded


def read_chunks(
    kind: str,
    path: str | os.PathLike,
    name: str,
    array: zarr.Array,
    recorded: Mapping[str, int],
    selection: tuple[int | slice, ...],
    chunks: Iterable[tuple[tuple[int, ...], tuple[slice, ...]]],
) -> np.ndarray:
    """``array[selection]``, verified chunk by chunk against ``recorded``.

    ``selection`` takes whole axes (``slice(None)``) or one index per axis, and ``chunks`` are exactly the chunks
    it covers, so a chunk's values are ``values[region]`` with the indexed axes dropped.
    """
    chunks = list(chunks)
    try:
        values = np.asarray(array[selection])
    except Exception as error:  # a changed byte can make a compressed chunk undecodable: find which
        for coords, region in chunks:
            try:
                array[region]
            except Exception as chunk_error:
                where = f"chunk '{name}/{chunk_key(array, coords)}' ({_describe(array, region)})"
                raise rebuild_error(kind, path, f"is damaged: {where} cannot be decoded ({chunk_error})") from error
        raise
    for coords, region in chunks:
        key = chunk_key(array, coords)
        inside = tuple(r for r, s in zip(region, selection) if isinstance(s, slice))
        if checksum(values[inside]) != recorded.get(key):
            raise rebuild_error(
                kind, path, f"is damaged: chunk '{name}/{key}' ({_describe(array, region)}) does not match the "
                "checksum recorded when it was written (changed, or missing after the store was opened)"
            )
    return values


def read_array(kind: str, path: str | os.PathLike, group: zarr.Group, name: str) -> np.ndarray:
    """All of array ``name`` of a store written here, after the completeness check, every chunk verified."""
    recorded = recorded_checksums(kind, path, group, name)
    array = group[name]
    return read_chunks(kind, path, name, array, recorded, (slice(None),) * array.ndim, chunk_grid(array))


def record_checksum(dataset: h5py.Dataset, crc: int) -> None:
    """Record ``crc`` (from :func:`checksum` of the dataset's values, in order) as the dataset's checksum.

    For datasets written in pieces: chain ``crc = checksum(piece, crc)`` over the pieces along the first axis.
    """
    dataset.attrs[DATASET_CHECKSUM] = np.uint32(crc)


def write_dataset(h5: h5py.File | h5py.Group, name: str, data: np.ndarray, **options: Any) -> h5py.Dataset:
    """``h5.create_dataset(name, data=data, **options)`` plus the checksum of the values as stored."""
    dataset = h5.create_dataset(name, data=data, **options)
    stored = data if h5py.check_string_dtype(dataset.dtype) else np.asarray(data, dtype=dataset.dtype)
    record_checksum(dataset, checksum(stored))
    return dataset


@dataclass(frozen=True)
class Stored:
    """One array to write with :func:`write_group`: values, chunk shape and dimension names."""

    data: np.ndarray
    chunks: tuple[int, ...]
    dimensions: tuple[str, ...]


def write_group(
    path: str | os.PathLike,
    arrays: Mapping[str, Stored],
    attrs: Mapping[str, Any],
    coordinates: Mapping[str, Sequence[Any] | np.ndarray],
) -> None:
    """Write a Zarr v3 group of whole arrays and their dimensions' ``coordinates``
    (:func:`write_coordinates`), each chunk's checksum recorded, consolidated, atomically at ``path``."""
    with atomic_path(path, directory=True) as temporary:
        group = zarr.open_group(str(temporary), mode="w", zarr_format=3)
        for name, array in arrays.items():
            write_array(group, name, array.data, array.chunks, array.dimensions)
        write_coordinates(group, coordinates)
        group.attrs.update(dict(attrs))
        consolidate(temporary)


def read_group(kind: str, path: str | os.PathLike, names: Sequence[str]) -> tuple[dict[str, np.ndarray], dict]:
    """The named arrays of a store written by :func:`write_group`, every chunk verified, and its attributes."""
    if not Path(path).exists():
        raise LinguaFrancaError(f"{kind} {str(path)!r} does not exist: run the stage that writes it first")
    group = open_group(kind, path)
    return {name: read_array(kind, path, group, name) for name in names}, dict(group.attrs)


def read_layer_of(kind: str, path: str | os.PathLike, name: str, layer: int) -> np.ndarray:
    """``array[:, layer]`` of a store chunked one layer per chunk (axis 1), only that layer's chunks verified."""
    group = open_group(kind, path)
    recorded = recorded_checksums(kind, path, group, name)
    array = group[name]
    chunks = (chunk for chunk in chunk_grid(array) if chunk[0][1] == layer)
    return read_chunks(kind, path, name, array, recorded, (slice(None), layer, slice(None)), chunks)
