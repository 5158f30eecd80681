"""Activation stores, the input of every analysis: one Zarr v3 group per language, written block by block during
capture and read layer by layer.

Layout of ``results/{model}/{revision}/{dataset}/activations/{lang}.zarr`` (docs/outputs.md):

- ``mean``: float32 ``[n_samples, n_layers, n_neurons]``, chunked ``[block, 1, n_neurons]`` so that a reader can
  stream one layer at a time without touching the others;
- ``n_tokens``: int32 ``[n_samples]``;
- ``active_count``: uint16 (uint32 past 65,535 tokens) ``[n_samples, n_layers, n_neurons]``, chunked like ``mean``:
  per sample, the averaged tokens at which each neuron's LAPE activation is above zero;
- the coordinates ``sample`` (the sample ids, str), ``layer`` and ``neuron`` (indices), so that xarray labels the
  dimensions;
- group attributes describing where the numbers came from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from zarr.codecs import BloscCodec

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.atomic import atomic_path
from linguafranca.io.checksummed import (
    ALL_CHUNKS,
    CHUNK_CHECKSUMS,
    checksum,
    chunk_grid,
    chunk_key,
    consolidate,
    index_coordinates,
    open_group,
    read_array,
    read_chunks,
    rebuild_error,
    recorded_checksums,
    write_array,
    write_coordinates,
)
from linguafranca.io.provenance import check_provenance

DIMENSIONS = ("sample", "layer", "neuron")


ACTIVATION_STORE = "activation store"

#: The array of per-sample LAPE counts.
ACTIVE = "active_count"

#: The ``description`` attribute of each array.
DESCRIPTIONS = {
    "mean": "mean over each sample's tokens of the MLP neuron activations",
    ACTIVE: "per sample, the averaged tokens at which the neuron's LAPE activation (group attribute "
            "active_definition, read at active_site) is above zero",
    "n_tokens": "number of tokens averaged per sample (padding excluded)",
}


def count_dtype(max_tokens: int) -> np.dtype:
    """The dtype of ``active_count``: a count is at most the sample's ``n_tokens``, so at most ``max_tokens`` (the
    capture's ``max_length``); uint16 holds that up to 65,535 tokens at half the bytes of uint32, which holds the rest.
    """
    return np.dtype(np.uint16 if max_tokens <= np.iinfo(np.uint16).max else np.uint32)


def block_size(
    n_samples: int, n_layers: int, n_neurons: int, max_tokens: int, budget_bytes: int = 256 * 2**20
) -> int:
    """Samples per write block: as many as fit in ``budget_bytes`` of float32 means and their active counts
    (:func:`count_dtype`), at least one.

    Capture holds one block of both in memory and writes it as whole chunks, so memory stays bounded for
    a 70B model and chunks stay aligned with writes.
    """
    per_sample = n_layers * n_neurons * (4 + count_dtype(max_tokens).itemsize)
    return max(1, min(n_samples, budget_bytes // per_sample))


#: Codec of the ``mean`` array, chosen from ``bench/scale.py`` on real Gemma activations: Blosc LZ4 with bit
#: shuffling stores them in 0.877 of their raw size and reads a store layer by layer in 22 ms, against 0.918 and
#: 29 ms for zarr's default (Zstd level 0); Zstd at levels 3 and 9 compresses no better (docs/performance.md).
MEAN_CODEC = BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle")

#: Codec of the ``active_count`` array, chosen from ``bench/active_counts.py`` on Gemma 3 270M's uint16 counts (100
#: verses): Blosc Zstd with bit shuffling stores them in 0.307 of their raw size, against 0.330 for mean's Blosc LZ4,
#: 0.321 with byte shuffling and 0.407 for zarr's default (Zstd level 0).
COUNT_CODEC = BloscCodec(cname="zstd", clevel=5, shuffle="bitshuffle")


class ActivationWriter:
    """Writes one language's store block by block into a temporary folder (see :func:`activation_writer`).

    Each block is one row of chunks (``[block, 1, n_neurons]`` per layer) of ``mean`` and of ``active_count``;
    their checksums are taken from the values in memory as they are written, so recording them costs no second read.
    """

    def __init__(self, group: zarr.Group, n_samples: int, n_layers: int, n_neurons: int, block: int, max_tokens: int):
        self.block = block
        self.max_tokens = max_tokens
        self.arrays = {
            name: group.create_array(
                name,
                shape=(n_samples, n_layers, n_neurons),
                chunks=(block, 1, n_neurons),
                dtype=dtype,
                dimension_names=DIMENSIONS,
                compressors=codec,
                config=ALL_CHUNKS,
            )
            for name, dtype, codec in (("mean", "float32", MEAN_CODEC), (ACTIVE, count_dtype(max_tokens), COUNT_CODEC))
        }
        self.group = group
        self._n_tokens = np.zeros(n_samples, dtype=np.int32)
        self._checksums: dict[str, dict[str, int]] = {name: {} for name in self.arrays}

    def write(self, start: int, mean: np.ndarray, n_tokens: np.ndarray, active_count: np.ndarray) -> None:
        """Write samples ``start .. start + len(mean)``: ``mean`` and ``active_count`` are ``[b, n_layers,
        n_neurons]``, ``n_tokens`` is ``[b]``; no count may exceed its sample's ``n_tokens``.

        A write covers whole chunks: ``start`` is a multiple of the block and ``b`` the block, or the rest.
        """
        stop = start + len(mean)
        if start % self.block or (len(mean) != self.block and stop != self.arrays["mean"].shape[0]):
            raise ValueError(f"write samples {start}..{stop} do not cover whole chunks of {self.block} samples")
        n_tokens = np.asarray(n_tokens)
        if n_tokens.max(initial=0) > self.max_tokens or (active_count > n_tokens[:, None, None]).any():
            raise ValueError(f"samples {start}..{stop}: an active count exceeds its n_tokens, or n_tokens exceeds "
                             f"max_tokens = {self.max_tokens}")
        self._n_tokens[start:stop] = n_tokens
        values = {"mean": mean.astype(np.float32, copy=False), ACTIVE: active_count.astype(self.arrays[ACTIVE].dtype)}
        for name, array in self.arrays.items():
            array[start:stop] = values[name]
            for layer in range(array.shape[1]):
                self._checksums[name][chunk_key(array, (start // self.block, layer, 0))] = checksum(values[name][:, layer])

    def finish(self, attrs: dict[str, Any]) -> None:
        """Write ``n_tokens``, the coordinates (``sample``: ``attrs["sample_ids"]``; ``layer``, ``neuron``) and the
        group's ``attrs``, once every block is written."""
        for name, array in self.arrays.items():
            expected = {chunk_key(array, coords) for coords, _ in chunk_grid(array)}
            if set(self._checksums[name]) != expected:
                unwritten = len(expected - set(self._checksums[name]))
                raise ValueError(f"activation store finished with {unwritten} chunks of {name!r} unwritten")
            array.attrs.update({"description": DESCRIPTIONS[name], CHUNK_CHECKSUMS: self._checksums[name]})
        n_tokens = write_array(self.group, "n_tokens", self._n_tokens, self._n_tokens.shape, ("sample",))
        n_tokens.attrs["description"] = DESCRIPTIONS["n_tokens"]
        _, n_layers, n_neurons = self.arrays["mean"].shape
        write_coordinates(
            self.group, {"sample": attrs["sample_ids"], **index_coordinates(layer=n_layers, neuron=n_neurons)}
        )
        self.group.attrs.update(attrs)


@contextmanager
def activation_writer(
    path: str | os.PathLike, n_samples: int, n_layers: int, n_neurons: int, block: int, max_tokens: int
) -> Iterator[ActivationWriter]:
    """Create an activation store that appears at ``path`` only when the ``with`` block succeeds.

    ``max_tokens`` bounds a sample's ``n_tokens`` (the capture's ``max_length``) and so chooses the dtype of
    ``active_count`` (:func:`count_dtype`). The caller must call ``writer.finish(attrs)`` before leaving the block;
    the metadata is then consolidated.
    """
    with atomic_path(path, directory=True) as temporary:
        group = zarr.open_group(str(temporary), mode="w", zarr_format=3)
        writer = ActivationWriter(group, n_samples, n_layers, n_neurons, block, max_tokens)
        yield writer
        consolidate(temporary)


def open_activations(path: str | os.PathLike) -> zarr.Group:
    """Open an activation store read-only, after checking that it is complete.

    Every chunk of ``mean`` and, where the store has it, of ``active_count`` must have its file and a recorded
    checksum, and ``n_tokens`` must match its checksum. Values of ``mean`` and ``active_count`` are verified as they
    are read: use :func:`read_layer` or :func:`open_stores`.
    """
    group = open_group(ACTIVATION_STORE, path)
    recorded_checksums(ACTIVATION_STORE, path, group, "mean")
    if ACTIVE in group:  # stores captured before LAPE counts lack it; reading their counts says so (no_counts)
        recorded_checksums(ACTIVATION_STORE, path, group, ACTIVE)
    read_array(ACTIVATION_STORE, path, group, "n_tokens")
    return group


def _read_one_layer(
    path: str | os.PathLike, name: str, array: zarr.Array, recorded: Mapping[str, int], layer: int
) -> np.ndarray:
    """Layer ``layer`` of array ``name`` (``mean`` or ``active_count``), ``[n_samples, n_neurons]``, its chunks
    verified."""
    chunks = (chunk for chunk in chunk_grid(array) if chunk[0][1] == layer)
    return read_chunks(ACTIVATION_STORE, path, name, array, recorded, (slice(None), layer, slice(None)), chunks)


def read_layer(path: str | os.PathLike, layer: int) -> np.ndarray:
    """One layer's means, float32 ``[n_samples, n_neurons]``: reads and verifies only that layer's chunks."""
    group = open_activations(path)
    return _read_one_layer(path, "mean", group["mean"], group["mean"].attrs[CHUNK_CHECKSUMS], layer)


def no_counts(path: str | os.PathLike, lang: str) -> LinguaFrancaError:
    """The one-line error for a store captured before linguafranca recorded LAPE counts."""
    return rebuild_error(
        ACTIVATION_STORE, path, f"(language {lang!r}) has no {ACTIVE!r} array: it was captured by a linguafranca "
        "that did not record LAPE counts yet"
    )


#: Store attributes that say where the activations came from and how they were made: they must agree across the
#: languages a reader combines, and with the job's model manifest (``weights``).
PROVENANCE = (
    "model",
    "model_name",
    "weights",
    "revision",
    "dataset",
    "compute",
    "mean_over",
    "bos",
    "max_length",
    "capture_code",
)


@dataclass(frozen=True)
class LanguageStores:
    """The activation stores of several languages opened together and checked to describe the same samples.

    Use :func:`open_stores`. ``read_layer`` returns one layer of every row, float64 ``[N, n_neurons]``, and
    ``read_active_layer`` its LAPE counts; ``n_tokens`` (int64 ``[N]``, verified when opened) is each row's number
    of averaged tokens, the denominator of a count. ``active_arrays`` holds ``None`` for a store without counts.
    """

    languages: tuple[str, ...]
    paths: tuple[str, ...]
    arrays: tuple[zarr.Array, ...]
    checksums: tuple[dict[str, int], ...]
    active_arrays: tuple[zarr.Array | None, ...]
    active_checksums: tuple[dict[str, int] | None, ...]
    n_tokens: np.ndarray
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
            out[self.rows_of(index)] = _read_one_layer(path, "mean", array, recorded, layer)
        return out

    def read_active_layer(self, layer: int, out: np.ndarray | None = None) -> np.ndarray:
        """LAPE counts of layer ``layer`` for every row, float64 ``[N, n_neurons]`` (exact integers, at most the
        row's ``n_tokens``), language-major like :meth:`read_layer`; reads and verifies only that layer's chunks.

        A store captured without counts stops with a one-line error before any is read.
        """
        missing = [index for index, array in enumerate(self.active_arrays) if array is None]
        if missing:
            raise no_counts(self.paths[missing[0]], self.languages[missing[0]])
        if out is None:
            out = np.empty((self.n_rows, self.n_neurons), dtype=np.float64)
        for index, (path, array, recorded) in enumerate(zip(self.paths, self.active_arrays, self.active_checksums)):
            out[self.rows_of(index)] = _read_one_layer(path, ACTIVE, array, recorded, layer)
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
    group = open_group(ACTIVATION_STORE, path)
    if "mean" not in group or "sample_ids" not in group.attrs:
        raise LinguaFrancaError(
            f"{str(path)!r} (language {lang!r}) is not a complete activation store: it needs a 'mean' array "
            "and a 'sample_ids' attribute (see linguafranca/io/activations.py)"
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


def open_stores(
    stores: Mapping[str, str | os.PathLike],
    expected: Mapping[str, Any] | None = None,
    expected_from: str = "the job",
) -> LanguageStores:
    """Open ``{language: store path}`` (in the given language order) and check they can be compared.

    Every store must be complete (:func:`open_activations`); values are verified layer by layer as they are read.

    Every store must hold the same sample ids in the same order (the meaning labels), the same layers and
    neurons, and agree on every :data:`PROVENANCE` attribute (model and its weights, revision, dataset, compute,
    the capture settings and the code that captured them); and each must have the ``expected`` attributes (the
    job's model, revision, dataset and the weights of its manifest, named ``expected_from`` in a message). At
    least two languages and two samples are needed: the scores compare languages and pairs of samples.
    """
    if len(stores) < 2:
        raise LinguaFrancaError(
            f"need the activation stores of at least two languages to compare languages, got {list(stores)}"
        )
    languages = tuple(stores)
    groups = [_open_one(lang, stores[lang]) for lang in languages]
    first, reference = languages[0], [str(i) for i in groups[0].attrs["sample_ids"]]
    shape = groups[0]["mean"].shape
    provenance = {key: groups[0].attrs.get(key) for key in PROVENANCE}
    against = f"{stores[first]} (language {first!r})"
    for lang, group in zip(languages, groups):
        check_provenance(f"{stores[lang]} (language {lang!r})", group.attrs, provenance, against)
        if expected:
            check_provenance(f"{stores[lang]} (language {lang!r})", group.attrs, expected, expected_from)
        _check_same_samples(lang, [str(i) for i in group.attrs["sample_ids"]], reference, first)
        if group["mean"].shape != shape:
            raise LinguaFrancaError(
                f"language {lang!r} has means of shape {group['mean'].shape} but language {first!r} has {shape} "
                "[samples, layers, neurons]: all languages must come from the same model and samples"
            )
    if shape[0] != len(reference):
        raise LinguaFrancaError(f"language {first!r} has {shape[0]} rows of means but {len(reference)} sample ids")
    if len(set(reference)) != len(reference):
        duplicate = next(i for i in reference if reference.count(i) > 1)
        raise LinguaFrancaError(f"sample id {duplicate!r} occurs twice: sample ids label meanings, so must be unique")
    if len(reference) < 2:
        raise LinguaFrancaError(f"need at least two samples per language to form pairs, got {len(reference)}")
    active = [group[ACTIVE] if ACTIVE in group else None for group in groups]
    return LanguageStores(
        languages=languages,
        paths=tuple(str(stores[lang]) for lang in languages),
        arrays=tuple(group["mean"] for group in groups),
        checksums=tuple(group["mean"].attrs[CHUNK_CHECKSUMS] for group in groups),
        active_arrays=tuple(active),
        active_checksums=tuple(None if array is None else array.attrs[CHUNK_CHECKSUMS] for array in active),
        n_tokens=np.concatenate(
            [read_array(ACTIVATION_STORE, stores[lang], group, "n_tokens") for lang, group in zip(languages, groups)]
        ).astype(np.int64),
        sample_ids=tuple(reference),
        n_layers=int(shape[1]),
        n_neurons=int(shape[2]),
        provenance=provenance,
    )


def as_source(stores: Mapping[str, str | os.PathLike] | LanguageStores) -> LanguageStores:
    """``stores`` opened with :func:`open_stores`, or as given when already a :class:`LanguageStores` (an opened
    set, or one whose arrays compute their values, as ``bench/analysis.py`` does at sizes that do not fit on disk)."""
    return stores if isinstance(stores, LanguageStores) else open_stores(stores)
