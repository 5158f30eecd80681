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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import zarr

from .atomic import atomic_path, write_text
from .errors import LinguaFrancaError
from .store import open_activations

#: The pair classes of :func:`pair_classes`, in the order of the metrics table.
PAIR_CLASSES = ("same_lang_diff_meaning", "diff_lang_same_meaning", "diff_lang_diff_meaning", "all_offdiag")

#: Columns of the metrics table (:func:`metrics_table`, :func:`write_metrics`).
METRIC_COLUMNS = ("layer", "lrds", "sads", *PAIR_CLASSES)

#: Store attributes that say where the activations came from; they must agree across languages.
PROVENANCE = ("model", "revision", "dataset")

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
# Reading the activation stores of all languages, one layer at a time
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageStores:
    """The activation stores of several languages opened together and checked to describe the same samples.

    Use :func:`open_stores`. ``read_layer`` returns one layer of every row, float64 ``[N, n_neurons]``.
    """

    languages: tuple[str, ...]
    arrays: tuple[zarr.Array, ...]
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
        """Layer ``layer`` of every row, float64 ``[N, n_neurons]``; reads only that layer's chunks.

        ``out`` (float64 ``[N, n_neurons]``) is reused when given, so a pass over the layers allocates once.
        """
        if out is None:
            out = np.empty((self.n_rows, self.n_neurons), dtype=np.float64)
        for index, array in enumerate(self.arrays):
            out[self.rows_of(index)] = array[:, layer, :]
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
    group = open_activations(path)
    if "mean" not in group or "sample_ids" not in group.attrs:
        raise LinguaFrancaError(
            f"{str(path)!r} (language {lang!r}) is not a complete activation store: it needs a 'mean' array "
            "and a 'sample_ids' attribute (see linguafranca/store.py)"
        )
    stored = group.attrs.get("lang", lang)
    if stored != lang:
        raise LinguaFrancaError(f"{str(path)!r} was given as language {lang!r} but holds language {stored!r}")
    return group


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
        arrays=tuple(group["mean"] for group in groups),
        sample_ids=tuple(reference),
        n_layers=int(shape[1]),
        n_neurons=int(shape[2]),
        provenance=provenance,
    )


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
    came from, and ``definition_*`` strings for each quantity.
    """
    n_rows = len(result.langs)
    strings = h5py.string_dtype()
    with atomic_path(h5_path) as temporary, h5py.File(temporary, "w") as h5:
        h5.create_dataset("similarity", data=result.similarity.astype(np.float32))
        h5.create_dataset(
            "similarity_by_layer",
            data=result.similarity_by_layer.astype(np.float32),
            chunks=(1, n_rows, n_rows),
        )
        h5.create_dataset("langs", data=np.array(result.langs, dtype=object), dtype=strings)
        h5.create_dataset("sample_ids", data=np.array(result.sample_ids, dtype=object), dtype=strings)
        h5.create_dataset("norms", data=result.norms)
        h5.attrs.create("languages", data=result.languages, dtype=strings)
        h5.attrs["n_samples"] = result.n_samples
        h5.attrs["n_layers"] = result.n_layers
        for key, value in result.provenance.items():
            h5.attrs[key] = str(value)
        for key, text in DEFINITIONS.items():
            h5.attrs[f"definition_{key}"] = text


def read_norms(h5_path: str | os.PathLike, languages: Sequence[str]) -> np.ndarray:
    """Whole-model norms float64 ``[N]`` from ``similarity.h5``, checked to be in the given language order."""
    with h5py.File(h5_path, "r") as h5:
        stored = [str(lang) for lang in h5.attrs["languages"]]
        if stored != list(languages):
            raise LinguaFrancaError(
                f"{h5_path} holds languages {', '.join(stored)}, not {', '.join(languages)}: re-run the similarity stage"
            )
        return np.asarray(h5["norms"][:], dtype=np.float64)


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


def _tsv_cell(value: Any) -> str:
    """Floats at full precision (``repr`` round-trips exactly), everything else as ``str``."""
    return repr(float(value)) if isinstance(value, float | np.floating) else str(value)


def tsv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Tab-separated text with a header line; floats written with ``repr`` so they read back exactly."""
    lines = ["\t".join(columns)]
    lines += ["\t".join(_tsv_cell(row[column]) for column in columns) for row in rows]
    return "\n".join(lines) + "\n"


def write_metrics(result: SimilarityResult, tsv_path: str | os.PathLike) -> None:
    """Write :func:`metrics_table` as TSV (columns :data:`METRIC_COLUMNS`), atomically."""
    write_text(tsv_path, tsv_text(metrics_table(result), METRIC_COLUMNS))
