"""Key linguistic regions: the neurons that carry most of one language's within-language similarity.

With whole-model unit vectors ``v_i`` (all layers concatenated, see :mod:`linguafranca.similarity`), the average
within-language similarity of language ``a`` with ``n`` samples splits over neurons ``k`` (eq. 10-11):

    c[a, k] = 2 / (n (n - 1)) * sum_{i<j} v_ik v_jk = ((sum_i v_ik)^2 - sum_i v_ik^2) / (n (n - 1)),

so ``sum_k c[a, k]`` is language ``a``'s mean off-diagonal similarity. Contributions are z-scored across languages
per neuron, ``z[a, k] = (c[a, k] - mean_a c) / std_a c`` (population std; ``z = 0`` where all languages
contribute equally), and the key region of ``a`` is ``z[a, k] > threshold`` (strict). SKLR, the size of the key
linguistic regions, is the number of key neurons summed over languages.

With ``m`` languages ``sum_a z = 0`` and ``sum_a z^2 = m``, so two languages can both reach ``z = t`` only if
``t <= sqrt((m - 2) / 2)``: with up to 10 languages and threshold 2 the regions are disjoint.

As controls, a seeded random mask of ``random_fraction`` of all neurons, and one random mask per language with as
many neurons as that language's region (the size-matched control of :mod:`linguafranca.conditions`).

Contributions need whole-model norms, which need every layer, so the stores are read twice, one layer at a time:
once for the norms, once for the contributions. Memory is one layer of data plus the ``[n_langs, n_layers,
n_neurons]`` results.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zarr

from .atomic import atomic_path
from .errors import LinguaFrancaError
from .store import LanguageStores, as_source, write_array
from .tsv import write_tsv

DIMENSIONS = ("lang", "layer", "neuron")

# ---------------------------------------------------------------------------------------------------------------
# Pure functions on arrays
# ---------------------------------------------------------------------------------------------------------------


def contributions(V: np.ndarray) -> np.ndarray:
    """Each neuron's share of one language's mean within-language similarity, float64 ``[n_neurons]`` (eq. 10-11).

    ``V``: the language's whole-model unit vectors, ``[n_samples, n_neurons]`` (any subset of columns, e.g. one
    layer's, as long as rows were normalised over the whole model). The sum over pairs ``i < j`` is computed as
    ``((sum_i v_ik)^2 - sum_i v_ik^2) / (n (n - 1))``, linear in ``n``.
    """
    V = np.asarray(V, dtype=np.float64)
    n = V.shape[0]
    if n < 2:
        raise LinguaFrancaError(f"contributions need at least two samples of a language to form a pair, got {n}")
    total = V.sum(axis=0)
    squares = np.einsum("ik,ik->k", V, V)
    return (total * total - squares) / (n * (n - 1))


def zscores(C: np.ndarray) -> np.ndarray:
    """Z-scores of ``C`` across axis 0 (languages), float64, same shape as ``C`` (``[n_langs, ...]``).

    Population standard deviation (ddof=0). Where all languages have exactly the same value the z-score is 0:
    no language stands out. The check is on the values themselves, not on a computed std, which rounding can
    leave a hair above zero.
    """
    C = np.asarray(C, dtype=np.float64)
    centred = C - C.mean(axis=0)
    std = C.std(axis=0)
    constant = np.ptp(C, axis=0) == 0
    return np.divide(centred, std, out=np.zeros_like(centred), where=~constant)


def key_masks(Z: np.ndarray, threshold: float) -> np.ndarray:
    """Key-region masks, bool like ``Z``: ``z > threshold``, strictly."""
    return np.asarray(Z) > threshold


def _check_fraction(fraction: float) -> None:
    if not 0 <= fraction <= 1:
        raise LinguaFrancaError(f"random_fraction must be between 0 and 1 (a share of all neurons), got {fraction}")


def _mask_of(shape: tuple[int, ...], count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct positions of ``shape`` drawn uniformly, as a bool mask."""
    mask = np.zeros(math.prod(shape), dtype=bool)
    mask[rng.choice(mask.size, size=count, replace=False)] = True
    return mask.reshape(shape)


def random_mask(shape: tuple[int, ...], fraction: float, seed: int) -> np.ndarray:
    """Bool mask of ``shape`` (``[n_layers, n_neurons]``) with exactly ``round(fraction * size)`` neurons set.

    Drawn without replacement by ``numpy.random.default_rng(seed)``, so a seed gives the same mask everywhere.
    """
    _check_fraction(fraction)
    return _mask_of(tuple(shape), int(round(fraction * math.prod(shape))), np.random.default_rng(seed))


def matched_random_masks(mask: np.ndarray, seed: int) -> np.ndarray:
    """One random mask per language with as many neurons as its key region, bool like ``mask`` (``[n_langs, ...]``).

    Language ``a`` draws from the ``a``-th child of ``default_rng(seed)`` (``Generator.spawn``), so its mask does
    not depend on other languages' region sizes nor repeat the draw of :func:`random_mask` with the same seed.
    Positions are drawn from all neurons, including the language's own key neurons.
    """
    mask = np.asarray(mask, dtype=bool)
    rngs = np.random.default_rng(seed).spawn(len(mask))
    return np.stack([_mask_of(m.shape, int(m.sum()), rng) for m, rng in zip(mask, rngs)])


# ---------------------------------------------------------------------------------------------------------------
# Streaming over the stores
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class RegionsResult:
    """Key linguistic regions of ``langs`` (in order); arrays are ``[n_langs, n_layers, n_neurons]`` unless noted.

    ``contribution`` and ``zscore``: float64; ``mask``: bool key regions; ``random_mask``: bool
    ``[n_layers, n_neurons]``; ``random_masks_per_language``: bool, each language's size-matched random control.
    """

    langs: list[str]
    contribution: np.ndarray
    zscore: np.ndarray
    mask: np.ndarray
    random_mask: np.ndarray
    random_masks_per_language: np.ndarray
    threshold: float
    random_fraction: float
    seed: int
    n_samples: int
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def sklr(self) -> int:
        """Size of the key linguistic regions: key neurons summed over languages."""
        return int(self.mask.sum())

    @property
    def n_layers(self) -> int:
        return self.mask.shape[1]

    @property
    def n_neurons(self) -> int:
        return self.mask.shape[2]


def _whole_model_norms(source: LanguageStores) -> np.ndarray:
    """``||x_i||`` over all layers, float64 ``[N]``; raises on a zero or non-finite vector."""
    squares = np.zeros(source.n_rows, dtype=np.float64)
    for _, X in source.layers():
        squares += np.einsum("ik,ik->i", X, X)
    bad = np.flatnonzero(~np.isfinite(squares) | (squares == 0))
    if bad.size:
        row = int(bad[0])
        problem = "a zero" if squares[row] == 0 else "a non-finite"
        raise LinguaFrancaError(
            f"{source.describe_row(row)} has {problem} mean-activation vector: its contributions are undefined"
        )
    return np.sqrt(squares)


def _check_given_norms(source: LanguageStores, norms: np.ndarray) -> np.ndarray:
    """Norms handed in (from ``similarity.h5``) must be one positive, finite value per row."""
    norms = np.asarray(norms, dtype=np.float64)
    if norms.shape != (source.n_rows,) or not (np.isfinite(norms) & (norms > 0)).all():
        raise LinguaFrancaError(
            f"the given whole-model norms do not fit these stores: expected {source.n_rows} positive finite values "
            f"(languages {', '.join(source.languages)} x {source.n_samples} samples), got shape {norms.shape}"
        )
    return norms


def _stream_contributions(source: LanguageStores, norms: np.ndarray | None) -> np.ndarray:
    """Contributions of every neuron to every language, float64 ``[n_langs, n_layers, n_neurons]``.

    Each layer's rows are divided by the whole-model norms. Those need every layer, so without ``norms`` (the
    similarity stage computes them) this takes a first pass over the layers.
    """
    norms = _whole_model_norms(source) if norms is None else _check_given_norms(source, norms)
    result = np.empty((len(source.languages), source.n_layers, source.n_neurons), dtype=np.float64)
    for layer, X in source.layers():
        X /= norms[:, None]
        for index in range(len(source.languages)):
            result[index, layer] = contributions(X[source.rows_of(index)])
    return result


def compute_regions(
    stores: Mapping[str, str | os.PathLike] | LanguageStores,
    threshold: float = 2.0,
    random_fraction: float = 0.1,
    seed: int = 0,
    norms: np.ndarray | None = None,
) -> RegionsResult:
    """Key linguistic regions of ``{language: activation store}`` with their random controls.

    ``stores`` may also be an opened :class:`~linguafranca.store.LanguageStores`. ``norms`` (float64 ``[N]``, rows
    language-major as in ``similarity.h5``) are the whole-model norms when already known; they save a pass over
    the stores.

    ``threshold``: z-score a neuron must exceed (strictly) to be key; ``random_fraction``: share of all neurons
    in the shared random mask; ``seed``: seeds both random controls (the shared one and, per language, one
    matched to its region size).
    """
    if not math.isfinite(threshold):
        raise LinguaFrancaError(f"threshold must be a finite z-score, got {threshold}")
    _check_fraction(random_fraction)
    source = as_source(stores)
    contribution = _stream_contributions(source, norms)
    zscore = zscores(contribution)
    mask = key_masks(zscore, threshold)
    return RegionsResult(
        langs=list(source.languages),
        contribution=contribution,
        zscore=zscore,
        mask=mask,
        random_mask=random_mask((source.n_layers, source.n_neurons), random_fraction, seed),
        random_masks_per_language=matched_random_masks(mask, seed),
        threshold=float(threshold),
        random_fraction=float(random_fraction),
        seed=int(seed),
        n_samples=source.n_samples,
        provenance=source.provenance,
    )


# ---------------------------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------------------------


def _write_array(group: zarr.Group, name: str, data: np.ndarray, description: str) -> None:
    """One array chunked a language at a time (``[1, n_layers, n_neurons]``): later stages load one region.

    Every chunk is written with its checksum (:func:`linguafranca.store.write_array`), so readers can tell a
    damaged store from an empty region.
    """
    chunks = data.shape if data.ndim == 2 else (1, *data.shape[1:])
    array = write_array(group, name, data, chunks, DIMENSIONS[-data.ndim :])
    array.attrs["description"] = description


def write_regions(result: RegionsResult, zarr_path: str | os.PathLike) -> None:
    """Write the regions to a Zarr v3 group, atomically.

    Arrays (dimension names ``lang, layer, neuron``): ``contribution`` and ``zscore`` float32, ``mask`` bool,
    all ``[n_langs, n_layers, n_neurons]``; ``random_mask`` bool ``[n_layers, n_neurons]``; and
    ``random_mask_per_language`` bool ``[n_langs, n_layers, n_neurons]``. Attributes: ``langs``, ``threshold``,
    ``random_fraction``, ``seed``, ``sklr``, ``n_layers``, ``n_neurons``, ``n_samples`` and the
    model/revision/dataset of the activations.
    """
    arrays = {
        "contribution": (
            result.contribution.astype(np.float32),
            "share of the language's mean within-language cosine similarity carried by the neuron (eq. 10-11)",
        ),
        "zscore": (result.zscore.astype(np.float32), "z-score of the contribution across languages (ddof=0)"),
        "mask": (result.mask, f"key linguistic region: zscore > {result.threshold}"),
        "random_mask": (result.random_mask, f"random control: {result.random_fraction} of all neurons"),
        "random_mask_per_language": (
            result.random_masks_per_language,
            "size-matched random control per language: as many neurons as its key region, seeded",
        ),
    }
    with atomic_path(zarr_path, directory=True) as temporary:
        group = zarr.open_group(str(temporary), mode="w", zarr_format=3)
        for name, (data, description) in arrays.items():
            _write_array(group, name, data, description)
        group.attrs.update(
            {
                "langs": result.langs,
                "threshold": result.threshold,
                "random_fraction": result.random_fraction,
                "seed": result.seed,
                "sklr": result.sklr,
                "n_layers": result.n_layers,
                "n_neurons": result.n_neurons,
                "n_samples": result.n_samples,
                **result.provenance,
            }
        )


def sklr_table(result: RegionsResult) -> list[dict[str, Any]]:
    """Key neurons per layer and language, the layout of the paper's Table 1.

    Columns: ``layer``, one per language (in order), ``all`` (summed over languages: SKLR per layer). Rows: layers
    ``0..L-1`` (counts), then ``total`` (counts over all layers; ``all`` is SKLR), then ``percent`` (``total`` as
    a percentage of all ``n_layers * n_neurons`` neurons).
    """
    clash = {"layer", "all"} & set(result.langs)
    if clash:
        raise LinguaFrancaError(f"a language may not be called {sorted(clash)}: those names are SKLR table columns")
    per_layer = result.mask.sum(axis=2)  # [n_langs, n_layers]
    rows: list[dict[str, Any]] = []
    for layer in range(result.n_layers):
        counts = per_layer[:, layer]
        by_lang = {lang: int(count) for lang, count in zip(result.langs, counts)}
        rows.append({"layer": layer, **by_lang, "all": int(counts.sum())})
    totals = per_layer.sum(axis=1)
    rows.append({"layer": "total", **{lang: int(t) for lang, t in zip(result.langs, totals)}, "all": result.sklr})
    size = result.n_layers * result.n_neurons
    percent = {lang: 100.0 * int(t) / size for lang, t in zip(result.langs, totals)}
    rows.append({"layer": "percent", **percent, "all": 100.0 * result.sklr / size})
    return rows


def write_sklr(result: RegionsResult, tsv_path: str | os.PathLike) -> None:
    """Write :func:`sklr_table` as TSV, atomically."""
    write_tsv(tsv_path, sklr_table(result), ["layer", *result.langs, "all"])


def warn_empty_regions(result: RegionsResult) -> list[str]:
    """Log a warning naming every language whose key region is empty, and return those languages.

    An empty region deactivates nothing, so its perplexity column would read as "no effect"; the ablation tables
    write ``empty`` there instead.
    """
    empty = [lang for lang, mask in zip(result.langs, result.mask) if not mask.any()]
    if empty:
        logging.warning(
            "no neuron has a z-score above threshold %s for %s: %s empty; the ablation tables show 'empty' there",
            result.threshold, ", ".join(empty), "its region is" if len(empty) == 1 else "their regions are",
        )
    return empty
