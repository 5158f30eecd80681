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

Scale: a 70B model has 80 layers of 28,672 neurons, and FLORES has 9 x 1,012 rows, so neither the data
(``N x n_layers x n_neurons`` float32, 84 GB) nor any ``N x N`` map per layer fits the job. No score needs one:
every class mean is a sum over blocks of ``S``, and with unit vectors the sum over the block of languages ``a``
and ``b`` is a dot product of block sums, ``(sum_{i in a} v_i) . (sum_{j in b} v_j)``; the pairs a class leaves
out are the diagonal ``i == j`` and the translation pairs ``sum_s v_{a,s} . v_{b,s}`` (:func:`block_sums`). Both are
``O(N d)`` for ``d`` neurons, against ``O(N^2 d)`` for the map. Per layer this needs the layer's norms only; the
whole model needs every layer's norms first, since ``||x_i||^2 = sum_l ||x_i^l||^2``, so the stores are read twice,
one layer at a time (:func:`compute_similarity`): once for the norms, the per-layer scores and the map of Figure 2,
once for the whole-model block sums. The map of Figure 2 is the one ``N x N`` (or, for large ``N``, seeded
subsample) product left (:func:`map_rows`). Memory is one layer of data plus the map.

The stores hold the same sample ids in the same order in every language (:func:`linguafranca.io.activations.open_stores`),
so the pair classes follow from the block structure: the ``n_langs x n_langs`` blocks of ``n_samples x n_samples``,
whose diagonals are the same-meaning pairs (:func:`class_means`).
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
    "map_rows": "the rows of the similarity map: all rows, or map_samples samples per language (the same in every "
    "language, in store order) drawn with map_seed",
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
    the stores' block structure (e.g. shuffled meanings); :func:`class_means` is the streaming equivalent for
    the stores' rows. ``same_lang_diff_meaning``, ``diff_lang_same_meaning`` and ``diff_lang_diff_meaning``
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


def block_sums(V: np.ndarray, n_langs: int) -> tuple[np.ndarray, np.ndarray]:
    """Block sums and block traces of ``S = V V^T`` without forming it, float64 ``[n_langs, n_langs]`` each.

    ``V``: ``[N, d]`` rows language-major (``N = n_langs * n_samples``). ``sums[a, b]`` is the sum of ``S`` over
    the block of languages ``a`` and ``b``, the dot product of the two languages' row sums; ``traces[a, b]`` the
    sum over meanings ``s`` of ``S[(a, s), (b, s)]``, the dot product of the two blocks flattened. Sums over layers
    of these give the whole model's, for rows normalised over the whole model. Cost ``O(n_langs N d)``.
    """
    n_rows, width = V.shape
    flat = V.reshape(n_langs, (n_rows // n_langs) * width)
    totals = V.reshape(n_langs, n_rows // n_langs, width).sum(axis=1)
    return totals @ totals.T, flat @ flat.T


def class_means(sums: np.ndarray, traces: np.ndarray, n_samples: int) -> tuple[dict[str, float], np.ndarray]:
    """Pair-class means and the block-mean map from :func:`block_sums` (of one layer or summed over layers).

    Requires ``n_langs >= 2`` and ``n_samples >= 2``. Returns the four means of :data:`PAIR_CLASSES` (equal to
    :func:`pair_class_means` of the map with the rows' labels) and the float64 ``[n_langs, n_langs]`` block means
    (diagonal blocks without their diagonal, ``i == j``).
    """
    n_langs, n = len(sums), n_samples
    n_rows = n_langs * n
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

    ``similarity``: float64 ``[M, M]`` whole-model map of the rows ``map_rows`` (int ``[M]``, all ``N`` rows
    unless the map is subsampled, :func:`map_rows`); ``langs`` / ``sample_ids``: str ``[N]`` language and meaning
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
    map_rows: np.ndarray
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


def map_rows(n_langs: int, n_samples: int, map_samples: int | None, seed: int = 0) -> np.ndarray:
    """Rows of the whole-model map, int ``[n_langs * k]``, language-major: every row when ``map_samples`` is None
    or at least ``n_samples``, else the same ``k = map_samples`` samples of every language, drawn without
    replacement by ``default_rng(seed)`` and kept in store order, so that translations stay aligned."""
    if map_samples is not None and map_samples < 2:
        raise LinguaFrancaError(f"similarity.map_samples must be at least 2 samples per language, got {map_samples}")
    if map_samples is None or map_samples >= n_samples:
        samples = np.arange(n_samples)
    else:
        samples = np.sort(np.random.default_rng(seed).choice(n_samples, map_samples, replace=False))
    return (np.arange(n_langs)[:, None] * n_samples + samples[None, :]).reshape(-1)


def compute_similarity(
    stores: Mapping[str, str | os.PathLike] | LanguageStores,
    on_layer: LayerSink | None = None,
    rows: np.ndarray | None = None,
) -> SimilarityResult:
    """Scores, block means and the whole-model map of ``{language: activation store}``, two passes over the layers.

    First pass, per layer ``l``: the squared norms ``||x_i^l||^2``, the rows normalised by them, their
    :func:`block_sums` and hence the layer's scores and block means; the map's Gram matrix ``X_R X_R^T`` of the
    rows ``R`` (``rows``, default all; float64) summed over layers; with ``on_layer``, the full map ``S^l``, handed
    over before the next layer overwrites it. Second pass: each layer divided by the whole-model norms
    ``||x_i|| = sqrt(sum_l ||x_i^l||^2)``, whose block sums add up to the whole model's. Then
    ``S_ij = G_ij / (||x_i|| ||x_j||)`` on ``R``. Cost per layer ``O(n_langs N d)`` plus ``O(|R|^2 d)`` for the
    map (``O(N^2 d)`` more with ``on_layer``); memory one layer of data plus the ``|R| x |R|`` map.
    """
    source = as_source(stores)
    n_rows, n_langs, n = source.n_rows, len(source.languages), source.n_samples
    picked = np.arange(n_rows) if rows is None else np.asarray(rows)
    gram = np.zeros((len(picked), len(picked)), dtype=np.float64)
    layer_map = np.empty((n_rows, n_rows), dtype=np.float64) if on_layer is not None else None
    squares = np.zeros(n_rows, dtype=np.float64)
    block_mean_by_layer = np.empty((source.n_layers, n_langs, n_langs), dtype=np.float64)
    metrics = []
    for layer, X in source.layers():
        layer_squares = np.einsum("ik,ik->i", X, X)
        _check_layer(source, layer, layer_squares)
        squares += layer_squares
        part = X if rows is None else X[picked]
        gram += part @ part.T
        X /= np.sqrt(layer_squares)[:, None]
        means, block_mean_by_layer[layer] = class_means(*block_sums(X, n_langs), n)
        metrics.append(_metrics_row(layer, means))
        if layer_map is not None:
            np.matmul(X, X.T, out=layer_map)
            on_layer(layer, layer_map)
    del layer_map
    norms = np.sqrt(squares)
    sums, traces = np.zeros((n_langs, n_langs)), np.zeros((n_langs, n_langs))
    for _, X in source.layers():
        X /= norms[:, None]
        layer_sums, layer_traces = block_sums(X, n_langs)
        sums += layer_sums
        traces += layer_traces
    means, block_mean = class_means(sums, traces, n)
    _divide_by_outer(gram, norms[picked])
    return SimilarityResult(
        similarity=gram,
        langs=source.row_langs,
        sample_ids=source.row_sample_ids,
        languages=list(source.languages),
        norms=norms,
        block_mean=block_mean,
        block_mean_by_layer=block_mean_by_layer,
        metrics=[_metrics_row("all", means), *metrics],
        map_rows=picked,
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
    stores: Mapping[str, str | os.PathLike] | LanguageStores,
    h5_path: str | os.PathLike,
    per_layer_maps: bool = False,
    map_samples: int | None = None,
    map_seed: int = 0,
) -> SimilarityResult:
    """Compute the similarity maps (:func:`compute_similarity`) and write them to HDF5 as they are computed.

    The file appears at ``h5_path`` only when complete (it is written under a temporary name). Datasets:
    ``similarity`` float32 ``[M, M]``, the whole-model map of the rows ``map_rows`` int64 ``[M]`` (all ``N`` rows,
    or ``map_samples`` per language drawn with ``map_seed``, :func:`map_rows`); ``block_mean`` float64 ``[n_langs, n_langs]``; ``block_mean_by_layer``
    float64 ``[n_layers, n_langs, n_langs]``; ``langs`` and ``sample_ids`` str ``[N]``; ``norms`` float64 ``[N]``
    (whole-model norms); with ``per_layer_maps`` also ``similarity_by_layer`` float32 ``[n_layers, N, N]``, each
    layer written as soon as it is computed. Attributes: ``languages`` (order), ``n_samples``, ``n_layers``,
    ``per_layer_maps``, ``map_samples`` (samples per language in the map) and ``map_seed``, the
    model/revision/dataset the activations came from, and ``definition_*`` strings for
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

        rows = map_rows(len(source.languages), source.n_samples, map_samples, map_seed)
        result = compute_similarity(source, on_layer, None if len(rows) == n_rows else rows)
        if per_layer_maps:
            record_checksum(by_layer, crc)
        size = len(rows)
        map_chunk = (min(_SLAB_ROWS, size), size)
        similarity = h5.create_dataset("similarity", shape=(size, size), dtype=np.float32, chunks=map_chunk)
        record_checksum(similarity, _write_slabs(similarity, (), result.similarity))
        write_dataset(h5, "block_mean", result.block_mean)
        write_dataset(h5, "block_mean_by_layer", result.block_mean_by_layer)
        write_dataset(h5, "langs", np.array(result.langs, dtype=object), dtype=strings)
        write_dataset(h5, "sample_ids", np.array(result.sample_ids, dtype=object), dtype=strings)
        write_dataset(h5, "norms", result.norms)
        write_dataset(h5, "map_rows", result.map_rows.astype(np.int64))
        h5.attrs.create("languages", data=result.languages, dtype=strings)
        h5.attrs["n_samples"] = result.n_samples
        h5.attrs["n_layers"] = result.n_layers
        h5.attrs["per_layer_maps"] = bool(per_layer_maps)
        h5.attrs["map_samples"] = size // len(source.languages)
        h5.attrs["map_seed"] = int(map_seed)
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
