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

Scale: a 70B model has 80 layers of 28,672 neurons, so the data (``N x n_layers x n_neurons`` float32) do not fit
in memory comfortably. The stores are read one layer at a time. Because
``||x_i||^2 = sum_l ||x_i^l||^2`` and ``x_i . x_j = sum_l x_i^l . x_j^l``, one pass over the layers accumulating the
per-layer Gram matrices ``G_l = X_l X_l^T`` (float64) gives both ``S^l`` and ``S``. Memory is one layer of data
plus ``n_layers + 1`` matrices of ``N x N`` float64.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from .atomic import atomic_path
from .errors import LinguaFrancaError
from .store import LanguageStores, open_stores, write_dataset
from .tsv import write_tsv

#: The pair classes of :func:`pair_classes`, in the order of the metrics table.
PAIR_CLASSES = ("same_lang_diff_meaning", "diff_lang_same_meaning", "diff_lang_diff_meaning", "all_offdiag")

#: Columns of the metrics table (:func:`metrics_table`, :func:`write_metrics`).
METRIC_COLUMNS = ("layer", "lrds", "sads", *PAIR_CLASSES)

DEFINITIONS = {
    "similarity": "cosine similarity of whole-model mean-activation vectors (all layers' neurons concatenated)",
    "similarity_by_layer": "cosine similarity of each layer's mean-activation vectors, [layer, row, row]",
    "rows": "language-major: row a * n_samples + s is sample s (store order) of language a (languages order)",
    "lrds": "mean S over same-language different-meaning pairs minus mean S over different-language "
    "different-meaning pairs",
    "sads": "mean S over different-language same-meaning pairs minus mean S over different-language "
    "different-meaning pairs",
    "meaning": "the sample id: a sample and its translations share it",
}


# ---------------------------------------------------------------------------------------------------------------
# Pure functions on arrays
# ---------------------------------------------------------------------------------------------------------------


def normalise_rows(X: np.ndarray) -> np.ndarray:
    """Rows of ``X`` (``[N, D]``) scaled to unit Euclidean length, float64 ``[N, D]``.

    Cosine similarity is the dot product of unit rows. A zero row has no direction, so it is an error rather
    than a silent row of NaNs.
    """
    X = np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(X, axis=1)
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        raise LinguaFrancaError(
            f"row {int(zero[0])} is a zero vector: its cosine similarity is undefined. Every sample needs at "
            "least one non-zero mean activation."
        )
    return X / norms[:, None]


def pair_classes(langs: Sequence[str], meanings: Sequence[str]) -> dict[str, np.ndarray]:
    """Boolean ``[N, N]`` masks of the pair classes of :data:`PAIR_CLASSES`; the diagonal is in none of them.

    ``langs`` and ``meanings`` (length ``N``) label each row. ``same_lang_diff_meaning``,
    ``diff_lang_same_meaning`` and ``diff_lang_diff_meaning`` are the three classes the scores use;
    ``all_offdiag`` is every pair ``i != j``, the baseline similarity level that the three are relative to
    (mean-activation vectors are far from isotropic, so raw similarities are all high).
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


def _class_means(S: np.ndarray, masks: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Mean of ``S`` (``[N, N]``) over each mask; NaN for an empty class (e.g. one language has no pairs)."""
    return {name: float(S[mask].mean()) if mask.any() else math.nan for name, mask in masks.items()}


def pair_class_means(S: np.ndarray, langs: Sequence[str], meanings: Sequence[str]) -> dict[str, float]:
    """The four pair-class means of :func:`pair_classes` for a similarity map ``S`` (``[N, N]``)."""
    return _class_means(np.asarray(S), pair_classes(langs, meanings))


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


# ---------------------------------------------------------------------------------------------------------------
# Similarity maps
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class SimilarityResult:
    """Similarity maps of all rows (see the module docstring for the row order).

    ``similarity``: float64 ``[N, N]`` whole model; ``similarity_by_layer``: float64 ``[n_layers, N, N]``;
    ``langs`` / ``sample_ids``: str ``[N]`` language and meaning of each row; ``languages``: the language order;
    ``norms``: float64 ``[N]`` whole-model ``||x_i||``; ``layer_norms``: float64 ``[n_layers, N]``.
    """

    similarity: np.ndarray
    similarity_by_layer: np.ndarray
    langs: np.ndarray
    sample_ids: np.ndarray
    languages: list[str]
    norms: np.ndarray
    layer_norms: np.ndarray
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        return self.similarity_by_layer.shape[0]

    @property
    def n_samples(self) -> int:
        return len(self.langs) // len(self.languages)


def _check_norms(source: LanguageStores, layer_sq: np.ndarray) -> None:
    """Raise on a non-finite or zero vector, whole model first, then per layer (``layer_sq``: ``[L, N]``)."""
    bad = ~np.isfinite(layer_sq)
    if bad.any():
        layer, row = (int(i[0]) for i in np.nonzero(bad))
        raise LinguaFrancaError(
            f"{source.describe_row(row)} has non-finite mean activations in layer {layer}: re-run the capture"
        )
    whole = layer_sq.sum(axis=0)
    for sq, where in ((whole, ""), *((layer_sq[l], f" in layer {l}") for l in range(len(layer_sq)))):
        zero = np.flatnonzero(sq == 0)
        if zero.size:
            raise LinguaFrancaError(
                f"{source.describe_row(int(zero[0]))} has a zero mean-activation vector{where}: its cosine "
                "similarity is undefined"
            )


def compute_similarity(stores: Mapping[str, str | os.PathLike]) -> SimilarityResult:
    """Whole-model and per-layer similarity maps of ``{language: activation store}``, streamed layer by layer.

    One pass over the layers computes each ``G_l = X_l X_l^T`` (``X_l``: float64 ``[N, n_neurons]``);
    then ``S^l_ij = G_l[i, j] / (||x_i^l|| ||x_j^l||)`` and ``S_ij = sum_l G_l[i, j] / (||x_i|| ||x_j||)`` with
    ``||x_i^l||^2 = G_l[i, i]`` and ``||x_i||^2 = sum_l G_l[i, i]``. Peak memory is one layer of data plus
    ``(n_layers + 1) N^2`` float64.
    """
    source = open_stores(stores)
    n_rows = source.n_rows
    grams = np.empty((source.n_layers, n_rows, n_rows), dtype=np.float64)
    for layer, X in source.layers():
        np.matmul(X, X.T, out=grams[layer])  # X @ X.T of one buffer: numpy uses the symmetric BLAS kernel
    layer_sq = np.diagonal(grams, axis1=1, axis2=2).copy()
    _check_norms(source, layer_sq)
    norms = np.sqrt(layer_sq.sum(axis=0))
    layer_norms = np.sqrt(layer_sq)
    similarity = grams.sum(axis=0)
    similarity /= np.outer(norms, norms)
    for layer in range(source.n_layers):
        grams[layer] /= np.outer(layer_norms[layer], layer_norms[layer])
    return SimilarityResult(
        similarity=similarity,
        similarity_by_layer=grams,
        langs=source.row_langs,
        sample_ids=source.row_sample_ids,
        languages=list(source.languages),
        norms=norms,
        layer_norms=layer_norms,
        provenance=source.provenance,
    )


def write_similarity(result: SimilarityResult, h5_path: str | os.PathLike) -> None:
    """Write the similarity maps to HDF5, atomically.

    Datasets: ``similarity`` float32 ``[N, N]``, ``similarity_by_layer`` float32 ``[n_layers, N, N]`` (chunked one
    layer per chunk), ``langs`` and ``sample_ids`` str ``[N]``, ``norms`` float64 ``[N]`` (whole-model norms).
    Attributes: ``languages`` (order), ``n_samples``, ``n_layers``, the model/revision/dataset the activations
    came from, and ``definition_*`` strings for each quantity. Every dataset records a ``crc32`` attribute
    (:func:`linguafranca.store.write_dataset`) that readers verify.
    """
    n_rows = len(result.langs)
    strings = h5py.string_dtype()
    with atomic_path(h5_path) as temporary, h5py.File(temporary, "w") as h5:
        write_dataset(h5, "similarity", result.similarity.astype(np.float32))
        write_dataset(
            h5,
            "similarity_by_layer",
            result.similarity_by_layer.astype(np.float32),
            chunks=(1, n_rows, n_rows),
        )
        write_dataset(h5, "langs", np.array(result.langs, dtype=object), dtype=strings)
        write_dataset(h5, "sample_ids", np.array(result.sample_ids, dtype=object), dtype=strings)
        write_dataset(h5, "norms", result.norms)
        h5.attrs.create("languages", data=result.languages, dtype=strings)
        h5.attrs["n_samples"] = result.n_samples
        h5.attrs["n_layers"] = result.n_layers
        for key, value in result.provenance.items():
            h5.attrs[key] = str(value)
        for key, text in DEFINITIONS.items():
            h5.attrs[f"definition_{key}"] = text


# ---------------------------------------------------------------------------------------------------------------
# Scores table
# ---------------------------------------------------------------------------------------------------------------


def metrics_table(result: SimilarityResult) -> list[dict[str, Any]]:
    """LRDS, SADS and the four pair-class means: the whole model (``layer='all'``), then layers ``0..L-1``.

    Each row is a dict keyed by :data:`METRIC_COLUMNS`.
    """
    masks = pair_classes(result.langs, result.sample_ids)
    maps = [("all", result.similarity), *enumerate(result.similarity_by_layer)]
    rows = []
    for layer, S in maps:
        means = _class_means(S, masks)
        lrds_value, sads_value = _scores(means)
        rows.append({"layer": layer, "lrds": lrds_value, "sads": sads_value, **means})
    return rows


def write_metrics(result: SimilarityResult, tsv_path: str | os.PathLike) -> None:
    """Write :func:`metrics_table` as TSV (columns :data:`METRIC_COLUMNS`), atomically."""
    write_tsv(tsv_path, metrics_table(result), METRIC_COLUMNS)
