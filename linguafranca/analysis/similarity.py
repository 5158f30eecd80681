"""Similarity maps of mean neuron activations, and the two scores read off them: LRDS and SADS.

Every sample of every language is one row. Rows are language-major: row ``a * n_samples + s`` is sample ``s``
(in store order) of language ``a`` (in the order the stores are given). A row's *meaning* is its sample id, which
is the same for a sample and its translations, so pairs of rows fall into classes by whether they share a
language and whether they share a meaning.

- Whole-model vector of a row: its ``[n_layers, n_neurons]`` means flattened, ``x = mean.reshape(-1)``, normalised
  ``v = x / ||x||``; the similarity map is ``S = V V^T`` (cosine similarity, ``[N, N]``).
- Per-layer vector: ``v^l = mean[l] / ||mean[l]||`` giving ``S^l``.
- LRDS (language relevance difference score) = mean ``S_ij`` over pairs with the same language and different
  meanings minus the mean over pairs with different languages and different meanings.
- SADS (semantic alignment difference score) = mean ``S_ij`` over pairs with different languages and the same
  meaning minus the mean over pairs with different languages and different meanings.

The paper's released code pairs rows for SADS with a stride of ``n_samples + 1`` (``rearrange_by_meaning``), which
matches sample ``s`` of language ``a`` with sample ``s + a`` of the others rather than with its translation.
Here the meaning label is the sample id itself, so translations are matched by construction.

Scale: a 70B model has 80 layers of 28,672 neurons, and full NTREX has 9 x 1,997 rows, so neither the data
(``N x n_layers x n_neurons`` float32) nor all per-layer maps (``n_layers x N^2``) fit in memory. The stores are
read one layer at a time. Because ``||x_i||^2 = sum_l ||x_i^l||^2`` and ``x_i . x_j = sum_l x_i^l . x_j^l``, one
pass over the layers gives everything: each layer's Gram matrix ``G_l = X_l X_l^T`` (float64) is added to the
whole-model sum, turned into ``S^l``, scored, handed to the caller (which may write it) and overwritten by the
next layer. Memory is one layer of data plus two ``N x N`` float64 matrices.

The stores hold the same sample ids in the same order in every language (:func:`linguafranca.io.activations.open_stores`),
so the pair classes follow from the block structure of ``S``: the ``n_langs x n_langs`` blocks of
``n_samples x n_samples``, whose diagonals are the same-meaning pairs. Class sums are block sums and block traces
(:func:`block_class_means`); no ``N x N`` mask is built.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.activations import LanguageStores, as_source
from linguafranca.io.atomic import atomic_path
from linguafranca.io.checksummed import checksum, record_checksum, write_dataset
from linguafranca.io.tsv import write_tsv

#: The pair classes of :func:`pair_classes`, in the order of the metrics table.
PAIR_CLASSES = ("same_lang_diff_meaning", "diff_lang_same_meaning", "diff_lang_diff_meaning", "all_offdiag")

#: Columns of the metrics table (:func:`write_metrics`).
METRIC_COLUMNS = ("layer", "lrds", "sads", *PAIR_CLASSES)

DEFINITIONS = {
    "similarity": "cosine similarity of whole-model mean-activation vectors (all layers' neurons concatenated)",
    "similarity_by_layer": "cosine similarity of each layer's mean-activation vectors, [layer, row, row]",
    "block_mean": "mean similarity of each pair of languages, [lang, lang]: mean S over the block of their rows; "
    "on the diagonal the pairs i == j are left out",
    "block_mean_by_layer": "block_mean of each layer's similarity map, [layer, lang, lang]",
    "rows": "language-major: row a * n_samples + s is sample s (store order) of language a (languages order)",
    "lrds": "mean S over same-language different-meaning pairs minus mean S over different-language "
    "different-meaning pairs",
    "sads": "mean S over different-language same-meaning pairs minus mean S over different-language "
    "different-meaning pairs",
    "meaning": "the sample id: a sample and its translations share it",
}

#: Rows of an ``N x N`` map handled at once when dividing by norms or converting to float32 for writing: bounds
#: the temporaries to ``_SLAB_ROWS x N`` and matches the HDF5 chunks, so each write fills whole chunks.
_SLAB_ROWS = 256


# ---------------------------------------------------------------------------------------------------------------
# Pure functions on arrays
# ---------------------------------------------------------------------------------------------------------------


def pair_classes(langs: Sequence[str], meanings: Sequence[str]) -> dict[str, np.ndarray]:
    """Boolean ``[N, N]`` masks of the pair classes of :data:`PAIR_CLASSES`; the diagonal is in none of them.

    ``langs`` and ``meanings`` (length ``N``) label each row, in any order: use this for labels that do not follow
    the stores' block structure (e.g. shuffled meanings); :func:`block_class_means` is the streaming equivalent
    for the stores' rows. ``same_lang_diff_meaning``, ``diff_lang_same_meaning`` and ``diff_lang_diff_meaning``
    are the three classes the scores use; ``all_offdiag`` is every pair ``i != j``, the baseline similarity level
    that the three are relative to (mean-activation vectors are far from isotropic, so raw similarities are all
    high).
    """
    langs = np.asarray(langs)
    meanings = np.asarray(meanings)
    if langs.shape != meanings.shape or langs.ndim != 1:
        raise ValueError(f"langs {langs.shape} and meanings {meanings.shape} must be 1-D and of equal length")
    same_lang = langs[:, None] == langs[None, :]
    same_meaning = meanings[:, None] == meanings[None, :]
    offdiag = ~np.eye(len(langs), dtype=bool)
    return {
        "same_lang_diff_meaning": same_lang & ~same_meaning,
        "diff_lang_same_meaning": ~same_lang & same_meaning,
        "diff_lang_diff_meaning": ~same_lang & ~same_meaning,
        "all_offdiag": offdiag,
    }


def pair_class_means(S: np.ndarray, langs: Sequence[str], meanings: Sequence[str]) -> dict[str, float]:
    """The four pair-class means of :func:`pair_classes` for a similarity map ``S`` (``[N, N]``); NaN for an
    empty class (e.g. one language has no cross-language pairs)."""
    S = np.asarray(S)
    masks = pair_classes(langs, meanings)
    return {name: float(S[mask].mean()) if mask.any() else math.nan for name, mask in masks.items()}


def block_class_means(S: np.ndarray, n_langs: int) -> tuple[dict[str, float], np.ndarray]:
    """Pair-class means and the block-mean map of a similarity map whose rows are the stores' rows.

    ``S``: ``[N, N]`` with ``N = n_langs * n_samples``, rows language-major, the same samples in the same order in
    every language, ``n_langs >= 2`` and ``n_samples >= 2``. Returns the four means of :data:`PAIR_CLASSES` (equal
    to :func:`pair_class_means` with the rows' labels) and the float64 ``[n_langs, n_langs]`` block means
    (diagonal blocks without their diagonal, ``i == j``). Costs one read of ``S`` and no ``N x N`` temporaries.
    """
    n_rows = S.shape[0]
    n = n_rows // n_langs
    blocks = S.reshape(n_langs, n, n_langs, n)
    sums = blocks.sum(axis=(1, 3))  # [a, b]: sum of the block of languages a and b
    traces = np.einsum("asbs->ab", blocks)  # [a, b]: sum over meanings s of S[(a, s), (b, s)]
    within = np.diagonal(sums) - np.diagonal(traces)  # same language, different meaning, per language
    cross = ~np.eye(n_langs, dtype=bool)
    cross_same, cross_all = traces[cross].sum(), sums[cross].sum()
    means = {
        "same_lang_diff_meaning": float(within.sum() / (n_langs * n * (n - 1))),
        "diff_lang_same_meaning": float(cross_same / (n_langs * (n_langs - 1) * n)),
        "diff_lang_diff_meaning": float((cross_all - cross_same) / (n_langs * (n_langs - 1) * n * (n - 1))),
        "all_offdiag": float((sums.sum() - np.trace(traces)) / (n_rows * (n_rows - 1))),
    }
    block_mean = sums / (n * n)
    block_mean[np.diag_indices(n_langs)] = within / (n * (n - 1))
    return means, block_mean


def _scores(means: Mapping[str, float]) -> tuple[float, float]:
    """(LRDS, SADS) from pair-class means."""
    baseline = means["diff_lang_diff_meaning"]
    return means["same_lang_diff_meaning"] - baseline, means["diff_lang_same_meaning"] - baseline


def lrds(S: np.ndarray, langs: Sequence[str], meanings: Sequence[str]) -> float:
    """Language relevance difference score: how much more alike a language's own samples are than others'."""
    return _scores(pair_class_means(S, langs, meanings))[0]


def sads(S: np.ndarray, langs: Sequence[str], meanings: Sequence[str]) -> float:
    """Semantic alignment difference score: how much more alike translations are than unrelated samples."""
    return _scores(pair_class_means(S, langs, meanings))[1]


def _metrics_row(layer: int | str, means: dict[str, float]) -> dict[str, Any]:
    lrds_value, sads_value = _scores(means)
    return {"layer": layer, "lrds": lrds_value, "sads": sads_value, **means}


def _divide_by_outer(M: np.ndarray, norms: np.ndarray) -> None:
    """``M[i, j] /= norms[i] * norms[j]`` in place, a slab of rows at a time (no ``N x N`` temporary)."""
    for start in range(0, len(M), _SLAB_ROWS):
        rows = slice(start, start + _SLAB_ROWS)
        M[rows] /= np.outer(norms[rows], norms)


# ---------------------------------------------------------------------------------------------------------------
# Similarity maps, streamed over the layers
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class SimilarityResult:
    """The whole-model similarity map and every score (see the module docstring for the row order).

    ``similarity``: float64 ``[N, N]`` whole model; ``langs`` / ``sample_ids``: str ``[N]`` language and meaning
    of each row; ``languages``: the language order; ``norms``: float64 ``[N]`` whole-model ``||x_i||``;
    ``block_mean``: float64 ``[n_langs, n_langs]``; ``block_mean_by_layer``: float64 ``[n_layers, n_langs,
    n_langs]``; ``metrics``: the rows of ``metrics.tsv`` (keys :data:`METRIC_COLUMNS`), whole model first
    (``layer='all'``), then layers ``0..L-1``. The per-layer maps are not kept (see :func:`compute_similarity`).
    """

    similarity: np.ndarray
    langs: np.ndarray
    sample_ids: np.ndarray
    languages: list[str]
    norms: np.ndarray
    block_mean: np.ndarray
    block_mean_by_layer: np.ndarray
    metrics: list[dict[str, Any]]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        return self.block_mean_by_layer.shape[0]

    @property
    def n_samples(self) -> int:
        return len(self.langs) // len(self.languages)


def _check_layer(source: LanguageStores, layer: int, squares: np.ndarray) -> None:
    """Raise on a non-finite or zero vector in one layer (``squares``: its rows' squared norms, ``[N]``).

    A whole-model zero vector is zero in layer 0 already, so it is reported there.
    """
    bad = np.flatnonzero(~np.isfinite(squares))
    if bad.size:
        raise LinguaFrancaError(
            f"{source.describe_row(int(bad[0]))} has non-finite mean activations in layer {layer}: re-run the capture"
        )
    zero = np.flatnonzero(squares == 0)
    if zero.size:
        raise LinguaFrancaError(
            f"{source.describe_row(int(zero[0]))} has a zero mean-activation vector in layer {layer}: its cosine "
            "similarity is undefined"
        )


#: Called with ``(layer, S^l)`` as each per-layer map is ready; ``S^l`` is a reused float64 ``[N, N]`` buffer,
#: valid only during the call.
LayerSink = Callable[[int, np.ndarray], None]


def compute_similarity(
    stores: Mapping[str, str | os.PathLike] | LanguageStores, on_layer: LayerSink | None = None
) -> SimilarityResult:
    """Whole-model map, scores and block means of ``{language: activation store}``, streamed layer by layer.

    For each layer, ``G_l = X_l X_l^T`` (``X_l``: float64 ``[N, n_neurons]``) is added to the whole-model Gram
    matrix, then ``S^l_ij = G_l[i, j] / (||x_i^l|| ||x_j^l||)`` with ``||x_i^l||^2 = G_l[i, i]`` is scored and
    passed to ``on_layer`` (e.g. to write it) before the next layer overwrites it. After the last layer,
    ``S_ij = sum_l G_l[i, j] / (||x_i|| ||x_j||)`` with ``||x_i||^2 = sum_l G_l[i, i]``. Peak memory is one layer of
    data plus two ``N x N`` float64 matrices. ``stores`` may also be an opened :class:`LanguageStores`.
    """
    source = as_source(stores)
    n_rows, n_langs = source.n_rows, len(source.languages)
    whole = np.zeros((n_rows, n_rows), dtype=np.float64)
    layer_map = np.empty((n_rows, n_rows), dtype=np.float64)
    squares = np.zeros(n_rows, dtype=np.float64)
    block_mean_by_layer = np.empty((source.n_layers, n_langs, n_langs), dtype=np.float64)
    metrics = []
    for layer, X in source.layers():
        np.matmul(X, X.T, out=layer_map)  # X @ X.T of one buffer: numpy uses the symmetric BLAS kernel
        layer_squares = np.diagonal(layer_map).copy()
        _check_layer(source, layer, layer_squares)
        whole += layer_map
        squares += layer_squares
        _divide_by_outer(layer_map, np.sqrt(layer_squares))
        means, block_mean_by_layer[layer] = block_class_means(layer_map, n_langs)
        metrics.append(_metrics_row(layer, means))
        if on_layer is not None:
            on_layer(layer, layer_map)
    del layer_map
    norms = np.sqrt(squares)
    _divide_by_outer(whole, norms)
    means, block_mean = block_class_means(whole, n_langs)
    return SimilarityResult(
        similarity=whole,
        langs=source.row_langs,
        sample_ids=source.row_sample_ids,
        languages=list(source.languages),
        norms=norms,
        block_mean=block_mean,
        block_mean_by_layer=block_mean_by_layer,
        metrics=[_metrics_row("all", means), *metrics],
        provenance=source.provenance,
    )


def _write_slabs(dataset: h5py.Dataset, index: tuple[int, ...], S: np.ndarray, crc: int = 0) -> int:
    """Write float64 ``S`` (``[N, N]``) as float32 into ``dataset[index]``, a chunk-sized slab of rows at a time.

    Returns the checksum continued from ``crc`` over what was written (:func:`linguafranca.io.checksummed.checksum`), so a
    dataset written slab by slab, in order, gets the checksum of its whole contents.
    """
    for start in range(0, len(S), _SLAB_ROWS):
        rows = slice(start, start + _SLAB_ROWS)
        slab = S[rows].astype(np.float32)
        dataset[(*index, rows)] = slab
        crc = checksum(slab, crc)
    return crc


def write_similarity(
    stores: Mapping[str, str | os.PathLike] | LanguageStores, h5_path: str | os.PathLike, per_layer_maps: bool = False
) -> SimilarityResult:
    """Compute the similarity maps (:func:`compute_similarity`) and write them to HDF5 as they are computed.

    The file appears at ``h5_path`` only when complete (it is written under a temporary name). Datasets:
    ``similarity`` float32 ``[N, N]``; ``block_mean`` float64 ``[n_langs, n_langs]``; ``block_mean_by_layer``
    float64 ``[n_layers, n_langs, n_langs]``; ``langs`` and ``sample_ids`` str ``[N]``; ``norms`` float64 ``[N]``
    (whole-model norms); with ``per_layer_maps`` also ``similarity_by_layer`` float32 ``[n_layers, N, N]``, each
    layer written as soon as it is computed. Attributes: ``languages`` (order), ``n_samples``, ``n_layers``,
    ``per_layer_maps``, the model/revision/dataset the activations came from, and ``definition_*`` strings for
    each quantity. Returns the result, for :func:`write_metrics`.
    """
    source = as_source(stores)
    n_rows = source.n_rows
    chunk = (min(_SLAB_ROWS, n_rows), n_rows)
    strings = h5py.string_dtype()
    with atomic_path(h5_path) as temporary, h5py.File(temporary, "w") as h5:
        on_layer: LayerSink | None = None
        if per_layer_maps:
            by_layer = h5.create_dataset(
                "similarity_by_layer", shape=(source.n_layers, n_rows, n_rows), dtype=np.float32, chunks=(1, *chunk)
            )
            crc = 0

            def on_layer(layer: int, S: np.ndarray) -> None:
                nonlocal crc
                crc = _write_slabs(by_layer, (layer,), S, crc)

        result = compute_similarity(source, on_layer)
        if per_layer_maps:
            record_checksum(by_layer, crc)
        similarity = h5.create_dataset("similarity", shape=(n_rows, n_rows), dtype=np.float32, chunks=chunk)
        record_checksum(similarity, _write_slabs(similarity, (), result.similarity))
        write_dataset(h5, "block_mean", result.block_mean)
        write_dataset(h5, "block_mean_by_layer", result.block_mean_by_layer)
        write_dataset(h5, "langs", np.array(result.langs, dtype=object), dtype=strings)
        write_dataset(h5, "sample_ids", np.array(result.sample_ids, dtype=object), dtype=strings)
        write_dataset(h5, "norms", result.norms)
        h5.attrs.create("languages", data=result.languages, dtype=strings)
        h5.attrs["n_samples"] = result.n_samples
        h5.attrs["n_layers"] = result.n_layers
        h5.attrs["per_layer_maps"] = bool(per_layer_maps)
        for key, value in result.provenance.items():
            h5.attrs[key] = str(value)
        for key, text in DEFINITIONS.items():
            h5.attrs[f"definition_{key}"] = text
    return result


# ---------------------------------------------------------------------------------------------------------------
# Scores table
# ---------------------------------------------------------------------------------------------------------------


def write_metrics(result: SimilarityResult, tsv_path: str | os.PathLike) -> None:
    """Write ``result.metrics`` (LRDS, SADS and the four pair-class means, whole model then each layer) as TSV
    (columns :data:`METRIC_COLUMNS`), atomically."""
    write_tsv(tsv_path, result.metrics, METRIC_COLUMNS)
