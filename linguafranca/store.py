"""Reading and writing the stores every later stage starts from: activation stores (Zarr v3), the similarity
file's norms (HDF5) and the regions store (Zarr v3). Stages read through here, never through each other.

A damaged store is never read as data. Zarr returns the fill value for a missing chunk, so a deleted or changed
chunk file would otherwise pass as zeros or as other numbers. Every array written here records a crc32 of each
chunk's values (attribute ``chunk_crc32``), every chunk file is written even when it holds only fill values, and
every HDF5 dataset records a crc32 of its values (attribute ``crc32``). A reader checks up front that every chunk
the shape implies has a file and a checksum, and verifies each chunk's values as it reads them; a damaged store
stops the job with a message that names the store, the chunk and how to rebuild it.

Layout of ``results/{model}/{revision}/{dataset}/activations/{lang}.zarr`` (see the README's output table):

- ``mean``: float32 ``[n_samples, n_layers, n_neurons]``, chunked ``[block, 1, n_neurons]`` so that a reader can
  stream one layer at a time without touching the others;
- ``n_tokens``: int32 ``[n_samples]``;
- group attributes describing where the numbers came from.
"""

from __future__ import annotations

import itertools
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import zarr
from zarr.codecs import BloscCodec

from linguafranca.atomic import atomic_path
from linguafranca.errors import LinguaFrancaError

DIMENSIONS = ("sample", "layer", "neuron")


# ---------------------------------------------------------------------------------------------------------------
# Integrity: checksums recorded when written, verified when read
# ---------------------------------------------------------------------------------------------------------------

#: Attribute of every Zarr array written here: ``{chunk key: crc32 of the chunk's values}``.
CHUNK_CHECKSUMS = "chunk_crc32"
#: Attribute of every HDF5 dataset written here: crc32 of the dataset's values.
DATASET_CHECKSUM = "crc32"
#: Zarr skips chunks that hold only the fill value unless told otherwise; then a missing file would be normal.
ALL_CHUNKS = {"write_empty_chunks": True}

ACTIVATION_STORE = "activation store"
REGIONS_STORE = "regions store"
SIMILARITY_FILE = "similarity file"


def checksum(values: np.ndarray, start: int = 0) -> int:
    """crc32 of ``values``: numbers as little-endian bytes in C order, strings as UTF-8 each followed by NUL.

    It covers the values, not their encoding on disk, so it does not depend on compression or on the chunk file
    layout, and any change that alters a value is caught. ``start`` continues an earlier checksum, so data
    written in pieces (one layer at a time) gives the checksum of the whole: ``checksum(b, checksum(a))`` is the
    checksum of ``a`` followed by ``b`` along the first axis.
    """
    values = np.asarray(values)
    if values.dtype.kind in "OUS":
        text = (v.decode() if isinstance(v, bytes) else str(v) for v in values.ravel())
        return zlib.crc32(b"".join(item.encode() + b"\0" for item in text), start)
    return zlib.crc32(np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).data, start)


def _rebuild_error(kind: str, path: str | os.PathLike, problem: str) -> LinguaFrancaError:
    """The one message for a store that cannot be trusted: what is wrong, and the command that rebuilds it."""
    return LinguaFrancaError(
        f"{kind} {str(path)!r} {problem}. Rebuild it: delete it (rm -r '{path}') and run the same snakemake "
        "command again, which recreates it and reruns every job that reads it"
    )


def _chunk_grid(array: zarr.Array) -> Iterator[tuple[tuple[int, ...], tuple[slice, ...]]]:
    """``(chunk coordinates, region of the array)`` of every chunk that the array's shape implies."""
    starts = [range(0, size, chunk) for size, chunk in zip(array.shape, array.chunks)]
    for corner in itertools.product(*starts):
        coords = tuple(start // chunk for start, chunk in zip(corner, array.chunks))
        ends = (min(start + chunk, size) for start, chunk, size in zip(corner, array.chunks, array.shape))
        yield coords, tuple(slice(start, end) for start, end in zip(corner, ends))


def _chunk_key(array: zarr.Array, coords: tuple[int, ...]) -> str:
    """The chunk's key inside its array folder, ``c/0/3/0`` with Zarr v3's default encoding."""
    return array.metadata.encode_chunk_key(coords)


def _describe(array: zarr.Array, region: tuple[slice, ...]) -> str:
    """``sample 0-899, layer 3, neuron 0-2047``: where a chunk lies, by dimension name."""
    names = array.metadata.dimension_names or [f"axis {i}" for i in range(len(region))]
    spans = (f"{r.start}" if r.stop - r.start == 1 else f"{r.start}-{r.stop - 1}" for r in region)
    return ", ".join(f"{name} {span}" for name, span in zip(names, spans))


def chunk_checksums(array: zarr.Array, values: np.ndarray) -> dict[str, int]:
    """Checksums of every chunk of ``array`` given all its ``values``, keyed by chunk key (``c/0/3/0``)."""
    return {_chunk_key(array, coords): checksum(values[region]) for coords, region in _chunk_grid(array)}


def write_array(
    group: zarr.Group, name: str, data: np.ndarray, chunks: tuple[int, ...], dimension_names: Sequence[str]
) -> zarr.Array:
    """Create array ``name`` holding ``data``, with every chunk written and its checksum recorded."""
    array = group.create_array(
        name, shape=data.shape, chunks=chunks, dtype=data.dtype, dimension_names=dimension_names, config=ALL_CHUNKS
    )
    array[...] = data
    array.attrs[CHUNK_CHECKSUMS] = chunk_checksums(array, data)
    return array


def _open_group(kind: str, path: str | os.PathLike) -> zarr.Group:
    try:
        return zarr.open_group(str(Path(path)), mode="r", zarr_format=3)
    except Exception as error:  # a damaged zarr.json raises whatever its parser raises
        problem = f"cannot be opened as a Zarr v3 group ({type(error).__name__}: {error})"
        raise _rebuild_error(kind, path, problem) from error


def recorded_checksums(kind: str, path: str | os.PathLike, group: zarr.Group, name: str) -> dict[str, int]:
    """The chunk checksums of array ``name``, after checking that every chunk its shape implies has one and has
    a chunk file. This is the up-front completeness check: it reads no values."""
    try:
        array = group[name]
    except Exception as error:
        raise _rebuild_error(kind, path, f"is damaged: array {name!r} cannot be opened ({error})") from error
    recorded = array.attrs.get(CHUNK_CHECKSUMS)
    if not isinstance(recorded, dict):
        raise _rebuild_error(
            kind, path, f"cannot be verified: array {name!r} records no chunk checksums (attribute "
            f"{CHUNK_CHECKSUMS!r}; stores written by earlier versions of linguafranca lack it)"
        )
    grid = list(_chunk_grid(array))
    for coords, region in grid:
        key = _chunk_key(array, coords)
        where = f"chunk '{name}/{key}' ({_describe(array, region)})"
        if key not in recorded:
            raise _rebuild_error(kind, path, f"is damaged: no checksum is recorded for {where}")
        if not (Path(path) / name / key).is_file():
            raise _rebuild_error(kind, path, f"is damaged: {where} is missing")
    if len(recorded) != len(grid):
        raise _rebuild_error(
            kind, path, f"is damaged: array {name!r} records {len(recorded)} chunk checksums but its shape "
            f"{tuple(array.shape)} implies {len(grid)} chunks"
        )
    return recorded


def _read_chunks(
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
                where = f"chunk '{name}/{_chunk_key(array, coords)}' ({_describe(array, region)})"
                raise _rebuild_error(kind, path, f"is damaged: {where} cannot be decoded ({chunk_error})") from error
        raise
    for coords, region in chunks:
        key = _chunk_key(array, coords)
        inside = tuple(r for r, s in zip(region, selection) if isinstance(s, slice))
        if checksum(values[inside]) != recorded.get(key):
            raise _rebuild_error(
                kind, path, f"is damaged: chunk '{name}/{key}' ({_describe(array, region)}) does not match the "
                "checksum recorded when it was written (changed, or missing after the store was opened)"
            )
    return values


def read_array(kind: str, path: str | os.PathLike, group: zarr.Group, name: str) -> np.ndarray:
    """All of array ``name`` of a store written here, after the completeness check, every chunk verified."""
    recorded = recorded_checksums(kind, path, group, name)
    array = group[name]
    return _read_chunks(kind, path, name, array, recorded, (slice(None),) * array.ndim, _chunk_grid(array))


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


def read_h5(h5_path: str | os.PathLike, names: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Datasets ``names`` of an HDF5 file written here, each verified against its checksum (strings as str),
    and the file's attributes."""
    path = Path(h5_path)
    if not path.exists():
        raise LinguaFrancaError(f"{SIMILARITY_FILE} {str(path)!r} does not exist: run the similarity stage first")
    try:
        with h5py.File(path, "r") as h5:
            attrs = dict(h5.attrs)
            values = {name: _read_dataset(path, h5, name) for name in names}
    except OSError as error:  # h5py raises OSError on a truncated or otherwise unreadable file
        raise _rebuild_error(SIMILARITY_FILE, path, f"is damaged: it cannot be read as HDF5 ({error})") from error
    return values, attrs


def _read_dataset(path: Path, h5: h5py.File, name: str) -> np.ndarray:
    if name not in h5:
        raise _rebuild_error(SIMILARITY_FILE, path, f"is damaged: dataset {name!r} is missing")
    dataset = h5[name]
    if DATASET_CHECKSUM not in dataset.attrs:
        raise _rebuild_error(
            SIMILARITY_FILE, path, f"cannot be verified: dataset {name!r} records no checksum (attribute "
            f"{DATASET_CHECKSUM!r}; files written by earlier versions of linguafranca lack it)"
        )
    values = dataset.asstr()[...] if h5py.check_string_dtype(dataset.dtype) else dataset[...]
    if checksum(values) != int(dataset.attrs[DATASET_CHECKSUM]):
        raise _rebuild_error(
            SIMILARITY_FILE, path, f"is damaged: dataset {name!r} does not match the checksum recorded when it was "
            "written"
        )
    return values


def block_size(n_samples: int, n_layers: int, n_neurons: int, budget_bytes: int = 256 * 2**20) -> int:
    """Samples per write block: as many as fit in ``budget_bytes`` of float32 means, at least one.

    Capture holds one block of means in memory and writes it as whole chunks, so memory stays bounded for
    a 70B model and chunks stay aligned with writes.
    """
    per_sample = n_layers * n_neurons * 4
    return max(1, min(n_samples, budget_bytes // per_sample))


#: Codec of the ``mean`` array, chosen from ``bench/scale.py`` on real Gemma activations: Blosc LZ4 with bit
#: shuffling stores them in 0.877 of their raw size and reads a store layer by layer in 22 ms, against 0.918 and
#: 29 ms for zarr's default (Zstd level 0); Zstd at levels 3 and 9 compresses no better (README, Performance).
MEAN_CODEC = BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle")


class ActivationWriter:
    """Writes one language's store block by block into a temporary folder (see :func:`activation_writer`).

    Each block is one row of chunks (``[block, 1, n_neurons]`` per layer); their checksums are taken from the
    values in memory as they are written, so recording them costs no second read.
    """

    def __init__(self, group: zarr.Group, n_samples: int, n_layers: int, n_neurons: int, block: int):
        self.block = block
        self.mean = group.create_array(
            "mean",
            shape=(n_samples, n_layers, n_neurons),
            chunks=(block, 1, n_neurons),
            dtype="float32",
            dimension_names=DIMENSIONS,
            compressors=MEAN_CODEC,
            config=ALL_CHUNKS,
        )
        self.group = group
        self._n_tokens = np.zeros(n_samples, dtype=np.int32)
        self._checksums: dict[str, int] = {}

    def write(self, start: int, mean: np.ndarray, n_tokens: np.ndarray) -> None:
        """Write samples ``start .. start + len(mean)``: ``mean`` is ``[b, n_layers, n_neurons]``.

        A write covers whole chunks: ``start`` is a multiple of the block and ``b`` the block, or the rest.
        """
        n_samples = self.mean.shape[0]
        stop = start + len(mean)
        if start % self.block or (len(mean) != self.block and stop != n_samples):
            raise ValueError(f"write samples {start}..{stop} do not cover whole chunks of {self.block} samples")
        values = mean.astype(np.float32, copy=False)
        self.mean[start:stop] = values
        self._n_tokens[start:stop] = n_tokens
        for layer in range(values.shape[1]):
            self._checksums[_chunk_key(self.mean, (start // self.block, layer, 0))] = checksum(values[:, layer])

    def finish(self, attrs: dict[str, Any]) -> None:
        expected = {_chunk_key(self.mean, coords) for coords, _ in _chunk_grid(self.mean)}
        if set(self._checksums) != expected:
            raise ValueError(f"activation store finished with {len(expected - set(self._checksums))} chunks unwritten")
        n_tokens = write_array(self.group, "n_tokens", self._n_tokens, self._n_tokens.shape, ("sample",))
        self.mean.attrs.update(
            {
                "description": "mean over each sample's tokens of the MLP neuron activations",
                CHUNK_CHECKSUMS: self._checksums,
            }
        )
        n_tokens.attrs["description"] = "number of tokens averaged per sample (padding excluded)"
        self.group.attrs.update(attrs)


@contextmanager
def activation_writer(
    path: str | os.PathLike, n_samples: int, n_layers: int, n_neurons: int, block: int
) -> Iterator[ActivationWriter]:
    """Create an activation store that appears at ``path`` only when the ``with`` block succeeds.

    The caller must call ``writer.finish(attrs)`` before leaving the block.
    """
    with atomic_path(path, directory=True) as temporary:
        group = zarr.open_group(str(temporary), mode="w", zarr_format=3)
        writer = ActivationWriter(group, n_samples, n_layers, n_neurons, block)
        yield writer


def open_activations(path: str | os.PathLike) -> zarr.Group:
    """Open an activation store read-only, after checking that it is complete.

    Every chunk of ``mean`` must have its file and a recorded checksum, and ``n_tokens`` must match its
    checksum. Values of ``mean`` are verified as they are read: use :func:`read_layer` or :func:`open_stores`.
    """
    group = _open_group(ACTIVATION_STORE, path)
    recorded_checksums(ACTIVATION_STORE, path, group, "mean")
    read_array(ACTIVATION_STORE, path, group, "n_tokens")
    return group


def _read_mean_layer(
    path: str | os.PathLike, array: zarr.Array, recorded: Mapping[str, int], layer: int
) -> np.ndarray:
    """Layer ``layer`` of ``mean``, float32 ``[n_samples, n_neurons]``, its chunks verified."""
    chunks = (chunk for chunk in _chunk_grid(array) if chunk[0][1] == layer)
    return _read_chunks(ACTIVATION_STORE, path, "mean", array, recorded, (slice(None), layer, slice(None)), chunks)


def read_layer(path: str | os.PathLike, layer: int) -> np.ndarray:
    """One layer's means, float32 ``[n_samples, n_neurons]``: reads and verifies only that layer's chunks."""
    group = open_activations(path)
    return _read_mean_layer(path, group["mean"], group["mean"].attrs[CHUNK_CHECKSUMS], layer)


#: Store attributes that say where the activations came from; they must agree across languages.
PROVENANCE = ("model", "revision", "dataset", "compute")


@dataclass(frozen=True)
class LanguageStores:
    """The activation stores of several languages opened together and checked to describe the same samples.

    Use :func:`open_stores`. ``read_layer`` returns one layer of every row, float64 ``[N, n_neurons]``.
    """

    languages: tuple[str, ...]
    paths: tuple[str, ...]
    arrays: tuple[zarr.Array, ...]
    checksums: tuple[dict[str, int], ...]
    sample_ids: tuple[str, ...]
    n_layers: int
    n_neurons: int
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return len(self.sample_ids)

    @property
    def n_rows(self) -> int:
        return len(self.languages) * self.n_samples

    @property
    def row_langs(self) -> np.ndarray:
        """Language of each row, str ``[N]``."""
        return np.repeat(np.array(self.languages, dtype=str), self.n_samples)

    @property
    def row_sample_ids(self) -> np.ndarray:
        """Sample id (meaning) of each row, str ``[N]``."""
        return np.tile(np.array(self.sample_ids, dtype=str), len(self.languages))

    def rows_of(self, index: int) -> slice:
        """The rows of the ``index``-th language."""
        return slice(index * self.n_samples, (index + 1) * self.n_samples)

    def read_layer(self, layer: int, out: np.ndarray | None = None) -> np.ndarray:
        """Layer ``layer`` of every row, float64 ``[N, n_neurons]``; reads and verifies only that layer's chunks.

        ``out`` (float64 ``[N, n_neurons]``) is reused when given, so a pass over the layers allocates once.
        """
        if out is None:
            out = np.empty((self.n_rows, self.n_neurons), dtype=np.float64)
        for index, (path, array, recorded) in enumerate(zip(self.paths, self.arrays, self.checksums)):
            out[self.rows_of(index)] = _read_mean_layer(path, array, recorded, layer)
        return out

    def layers(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(layer, X_l)`` for every layer in order; ``X_l`` is one reused float64 ``[N, n_neurons]`` buffer."""
        buffer = np.empty((self.n_rows, self.n_neurons), dtype=np.float64)
        for layer in range(self.n_layers):
            yield layer, self.read_layer(layer, out=buffer)

    def describe_row(self, row: int) -> str:
        """``language 'de', sample id 'GEN.1.1'`` for error messages."""
        lang, sample = self.languages[row // self.n_samples], self.sample_ids[row % self.n_samples]
        return f"language {lang!r}, sample id {sample!r}"


def _open_one(lang: str, path: str | os.PathLike) -> zarr.Group:
    if not Path(path).exists():
        raise LinguaFrancaError(f"activation store of language {lang!r} not found: {str(path)!r}")
    group = _open_group(ACTIVATION_STORE, path)
    if "mean" not in group or "sample_ids" not in group.attrs:
        raise LinguaFrancaError(
            f"{str(path)!r} (language {lang!r}) is not a complete activation store: it needs a 'mean' array "
            "and a 'sample_ids' attribute (see linguafranca/store.py)"
        )
    stored = group.attrs.get("lang", lang)
    if stored != lang:
        raise LinguaFrancaError(f"{str(path)!r} was given as language {lang!r} but holds language {stored!r}")
    return open_activations(path)


def _check_same_samples(lang: str, ids: list[str], reference: list[str], first_lang: str) -> None:
    if ids == reference:
        return
    for position, (ours, theirs) in enumerate(zip(ids, reference)):
        if ours != theirs:
            raise LinguaFrancaError(
                f"language {lang!r} has sample id {ours!r} at position {position} where language {first_lang!r} "
                f"has {theirs!r}: every language must hold the same samples (translations) in the same order"
            )
    raise LinguaFrancaError(
        f"language {lang!r} has {len(ids)} samples but language {first_lang!r} has {len(reference)}: every "
        "language must hold the same samples (translations) in the same order"
    )


def open_stores(stores: Mapping[str, str | os.PathLike]) -> LanguageStores:
    """Open ``{language: store path}`` (in the given language order) and check they can be compared.

    Every store must be complete (:func:`open_activations`); values are verified layer by layer as they are read.

    Every store must hold the same sample ids in the same order (the meaning labels), the same layers and
    neurons, and come from the same model, revision and dataset. At least two languages and two samples are
    needed: the scores compare languages and pairs of samples.
    """
    if len(stores) < 2:
        raise LinguaFrancaError(
            f"need the activation stores of at least two languages to compare languages, got {list(stores)}"
        )
    languages = tuple(stores)
    groups = [_open_one(lang, stores[lang]) for lang in languages]
    first, reference = languages[0], [str(i) for i in groups[0].attrs["sample_ids"]]
    shape = groups[0]["mean"].shape
    provenance = {key: groups[0].attrs[key] for key in PROVENANCE if key in groups[0].attrs}
    for lang, group in zip(languages, groups):
        _check_same_samples(lang, [str(i) for i in group.attrs["sample_ids"]], reference, first)
        if group["mean"].shape != shape:
            raise LinguaFrancaError(
                f"language {lang!r} has means of shape {group['mean'].shape} but language {first!r} has {shape} "
                "[samples, layers, neurons]: all languages must come from the same model and samples"
            )
        for key, value in provenance.items():
            if group.attrs.get(key, value) != value:
                raise LinguaFrancaError(
                    f"language {lang!r} has {key} {group.attrs[key]!r} but language {first!r} has {value!r}: "
                    "compare activations of one model, revision and dataset"
                )
    if shape[0] != len(reference):
        raise LinguaFrancaError(f"language {first!r} has {shape[0]} rows of means but {len(reference)} sample ids")
    if len(set(reference)) != len(reference):
        duplicate = next(i for i in reference if reference.count(i) > 1)
        raise LinguaFrancaError(f"sample id {duplicate!r} occurs twice: sample ids label meanings, so must be unique")
    if len(reference) < 2:
        raise LinguaFrancaError(f"need at least two samples per language to form pairs, got {len(reference)}")
    return LanguageStores(
        languages=languages,
        paths=tuple(str(stores[lang]) for lang in languages),
        arrays=tuple(group["mean"] for group in groups),
        checksums=tuple(group["mean"].attrs[CHUNK_CHECKSUMS] for group in groups),
        sample_ids=tuple(reference),
        n_layers=int(shape[1]),
        n_neurons=int(shape[2]),
        provenance=provenance,
    )


def as_source(stores: Mapping[str, str | os.PathLike] | LanguageStores) -> LanguageStores:
    """``stores`` opened with :func:`open_stores`, or as given when already a :class:`LanguageStores` (an opened
    set, or one whose arrays compute their values, as ``bench/analysis.py`` does at sizes that do not fit on disk)."""
    return stores if isinstance(stores, LanguageStores) else open_stores(stores)


def read_norms(h5_path: str | os.PathLike, languages: Sequence[str]) -> np.ndarray:
    """Whole-model norms float64 ``[N]`` from ``similarity.h5``, verified, and checked to be in the given language
    order."""
    values, attrs = read_h5(h5_path, ["norms"])
    stored = [str(lang) for lang in attrs["languages"]]
    if stored != list(languages):
        raise LinguaFrancaError(
            f"{h5_path} holds languages {', '.join(stored)}, not {', '.join(languages)}: re-run the similarity stage"
        )
    return np.asarray(values["norms"], dtype=np.float64)


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


def read_regions(zarr_path: str | os.PathLike) -> StoredRegions:
    """Load the masks and attributes written by :func:`linguafranca.regions.write_regions`.

    Every chunk of every array must exist with its checksum; the masks read are verified chunk by chunk. A store
    with significance (attribute ``significance_permutations``) must also hold its arrays, and gives its
    ``significant`` masks and their size-matched controls; one with a null (attribute ``null_permutations``) its
    ``null_count`` ``[B, n_langs, n_layers]``; otherwise those are None.
    """
    if not Path(zarr_path).exists():
        raise LinguaFrancaError(f"regions store {zarr_path} does not exist: run the regions stage first")
    group = _open_group(REGIONS_STORE, zarr_path)
    attrs = dict(group.attrs)
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


# ---------------------------------------------------------------------------------------------------------------
# Small stores written whole: token samples, concept responses, concept APs
# ---------------------------------------------------------------------------------------------------------------

TOKEN_STORE = "token sample store"
RESPONSE_STORE = "concept response store"
CONCEPT_STORE = "concept store"


@dataclass(frozen=True)
class Stored:
    """One array to write with :func:`write_group`: values, chunk shape and dimension names."""

    data: np.ndarray
    chunks: tuple[int, ...]
    dimensions: tuple[str, ...]


def write_group(path: str | os.PathLike, arrays: Mapping[str, Stored], attrs: Mapping[str, Any]) -> None:
    """Write a Zarr v3 group of whole arrays, each chunk's checksum recorded, atomically at ``path``."""
    with atomic_path(path, directory=True) as temporary:
        group = zarr.open_group(str(temporary), mode="w", zarr_format=3)
        for name, array in arrays.items():
            write_array(group, name, array.data, array.chunks, array.dimensions)
        group.attrs.update(dict(attrs))


def read_group(kind: str, path: str | os.PathLike, names: Sequence[str]) -> tuple[dict[str, np.ndarray], dict]:
    """The named arrays of a store written by :func:`write_group`, every chunk verified, and its attributes."""
    if not Path(path).exists():
        raise LinguaFrancaError(f"{kind} {str(path)!r} does not exist: run the stage that writes it first")
    group = _open_group(kind, path)
    return {name: read_array(kind, path, group, name) for name in names}, dict(group.attrs)


def read_layer_of(kind: str, path: str | os.PathLike, name: str, layer: int) -> np.ndarray:
    """``array[:, layer]`` of a store chunked one layer per chunk (axis 1), only that layer's chunks verified."""
    group = _open_group(kind, path)
    recorded = recorded_checksums(kind, path, group, name)
    array = group[name]
    chunks = (chunk for chunk in _chunk_grid(array) if chunk[0][1] == layer)
    return _read_chunks(kind, path, name, array, recorded, (slice(None), layer, slice(None)), chunks)
