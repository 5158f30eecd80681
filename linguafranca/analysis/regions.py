"""Key linguistic regions: the neurons that carry most of one language's within-language similarity.

With whole-model unit vectors ``v_i`` (all layers concatenated, see :mod:`linguafranca.analysis.similarity`), the average
within-language similarity of language ``a`` with ``n`` samples splits over neurons ``k`` (eq. 10-11):

    c[a, k] = 2 / (n (n - 1)) * sum_{i<j} v_ik v_jk = ((sum_i v_ik)^2 - sum_i v_ik^2) / (n (n - 1)),

so ``sum_k c[a, k]`` is language ``a``'s mean off-diagonal similarity. Contributions are z-scored across languages
per neuron, ``z[a, k] = (c[a, k] - mean_a c) / std_a c`` (population std; ``z = 0`` where all languages
contribute equally), and the key region of ``a`` is ``z[a, k] > threshold`` (strict). SKLR, the size of the key
linguistic regions, is the number of key neurons summed over languages.

With ``m`` languages ``sum_a z = 0`` and ``sum_a z^2 = m``, so two languages can both reach ``z = t`` only if
``t <= sqrt((m - 2) / 2)``: with up to 10 languages and threshold 2 the regions are disjoint.

As controls, a seeded random mask of ``random_fraction`` of all neurons, and one random mask per language with as
many neurons as that language's region (the size-matched control of :mod:`linguafranca.ablation.conditions`).

Against chance (:mod:`linguafranca.analysis.permutation_null`): ``null_permutations`` label shuffles (group sizes kept) give the null
key-neuron count of every (permutation, language, layer), hence null SKLR and region sizes; with
``significance_permutations``, every (language, neuron) gets a permutation p-value and the neurons significant under
Benjamini–Hochberg at ``fdr_q`` (per language, across all its neurons) form the ``significant`` masks, with their
own size-matched random controls. Both are computed layer by layer while the layer's data is in memory.

Contributions need whole-model norms, which need every layer, so the stores are read twice, one layer at a time:
once for the norms, once for the contributions. Memory is one layer of data (twice, with the null: its squares)
plus the ``[n_langs, n_layers, n_neurons]`` results.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from linguafranca.analysis.permutation_null import benjamini_hochberg, layer_null
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.activations import LanguageStores, as_source
from linguafranca.io.regions_store import write_regions_store
from linguafranca.io.tsv import write_tsv
from linguafranca.model.random_masks import check_fraction, matched_random_masks, random_mask

#: Second entropy word of the significant regions' size-matched controls, apart from the paper regions' controls.
SIGNIFICANT_CONTROL_STREAM = 2

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


# ---------------------------------------------------------------------------------------------------------------
# Streaming over the stores
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class RegionsResult:
    """Key linguistic regions of ``langs`` (in order); arrays are ``[n_langs, n_layers, n_neurons]`` unless noted.

    ``contribution`` and ``zscore``: float64; ``mask``: bool key regions; ``random_mask``: bool
    ``[n_layers, n_neurons]``; ``random_masks_per_language``: bool, each language's size-matched random control.

    Against chance (None when not computed): ``null_count`` int ``[null_permutations, n_langs, n_layers]``, key
    neurons under each label shuffle; ``pvalue`` float64 permutation p-values (above ``fdr_q`` a lower bound, see
    :mod:`linguafranca.analysis.permutation_null`); ``significant`` bool, Benjamini–Hochberg at ``fdr_q`` per language;
    ``random_masks_significant`` bool, size-matched random controls of the significant regions.
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
    null_permutations: int = 0
    significance_permutations: int = 0
    fdr_q: float = 0.05
    significance_statistic: str = "zscore"
    null_count: np.ndarray | None = None
    pvalue: np.ndarray | None = None
    significant: np.ndarray | None = None
    random_masks_significant: np.ndarray | None = None

    @property
    def sklr(self) -> int:
        """Size of the key linguistic regions: key neurons summed over languages."""
        return int(self.mask.sum())

    def null_summary(self) -> dict[str, Any]:
        """Chance levels over the permutations (sd with ddof=0, 95th percentile interpolated linearly): of SKLR
        (``null_sklr_*``) and of each language's region size (``null_size_*``, lists in language order)."""
        if self.null_count is None:
            return {}
        sklr = self.null_count.sum(axis=(1, 2))
        sizes = self.null_count.sum(axis=2)
        return {
            "null_sklr_mean": float(sklr.mean()),
            "null_sklr_sd": float(sklr.std()),
            "null_sklr_p95": float(_p95(sklr)),
            "null_size_mean": sizes.mean(axis=0).tolist(),
            "null_size_sd": sizes.std(axis=0).tolist(),
            "null_size_p95": _p95(sizes, axis=0).tolist(),
        }

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


#: What the per-neuron test compares with its permutation null: ``contribution`` asks whether the neuron carries
#: more of language a's similarity than a random group of samples; ``zscore`` whether it stands out from the other
#: languages more than under shuffled labels (the paper's key-region criterion, tested).
STATISTICS = {"contribution": lambda C: C, "zscore": zscores}


@dataclass(frozen=True)
class NullSettings:
    """How regions are tested against chance: ``null_permutations`` label shuffles for the null counts,
    ``significance_permutations`` for the p-values (the same first ones), Benjamini–Hochberg at ``fdr_q``."""

    null_permutations: int = 0
    significance_permutations: int = 0
    fdr_q: float = 0.05
    statistic: str = "zscore"

    def check(self) -> None:
        if self.statistic not in STATISTICS:
            raise LinguaFrancaError(
                f"unknown significance statistic {self.statistic!r}: choose one of {', '.join(STATISTICS)}"
            )
        if self.null_permutations < 0 or self.significance_permutations < 0:
            raise LinguaFrancaError(
                f"permutation counts must be 0 or more, got null_permutations={self.null_permutations}, "
                f"significance_permutations={self.significance_permutations}"
            )
        if not 0 < self.fdr_q < 1:
            raise LinguaFrancaError(f"fdr_q must be a false discovery rate between 0 and 1, got {self.fdr_q}")

    @property
    def active(self) -> bool:
        return self.null_permutations > 0 or self.significance_permutations > 0


@dataclass
class _Streamed:
    """What one pass over the layers yields: contributions, and with a null its counts ``[B, n_langs, n_layers]``
    and p-values ``[n_langs, n_layers, n_neurons]``."""

    contribution: np.ndarray
    null_count: np.ndarray | None = None
    pvalue: np.ndarray | None = None


def _stream_contributions(
    source: LanguageStores,
    norms: np.ndarray | None,
    threshold: float,
    null: NullSettings,
    seed: int,
) -> _Streamed:
    """Contributions of every neuron to every language, float64 ``[n_langs, n_layers, n_neurons]``, and the null.

    Each layer's rows are divided by the whole-model norms. Those need every layer, so without ``norms`` (the
    similarity stage computes them) this takes a first pass over the layers.
    """
    norms = _whole_model_norms(source) if norms is None else _check_given_norms(source, norms)
    n_langs = len(source.languages)
    result = _Streamed(np.empty((n_langs, source.n_layers, source.n_neurons), dtype=np.float64))
    if null.active:
        result.null_count = np.zeros((null.null_permutations, n_langs, source.n_layers), dtype=np.int64)
        result.pvalue = np.empty_like(result.contribution) if null.significance_permutations else None
    for layer, X in source.layers():
        X /= norms[:, None]
        for index in range(n_langs):
            result.contribution[index, layer] = contributions(X[source.rows_of(index)])
        if null.active:
            chance = layer_null(
                X.astype(np.float64, copy=False),
                result.contribution[:, layer],
                [source.n_samples] * n_langs,
                lambda C: key_masks(zscores(C), threshold),
                STATISTICS[null.statistic],
                null.null_permutations,
                null.significance_permutations,
                null.fdr_q,
                seed,
            )
            result.null_count[:, :, layer] = chance.counts
            if result.pvalue is not None:
                result.pvalue[:, layer] = chance.pvalue
    return result


def _significant(pvalue: np.ndarray, q: float) -> np.ndarray:
    """Benjamini–Hochberg per language across all its neurons (every layer), bool like ``pvalue``."""
    return np.stack([benjamini_hochberg(p, q) for p in pvalue])


def compute_regions(
    stores: Mapping[str, str | os.PathLike] | LanguageStores,
    threshold: float = 2.0,
    random_fraction: float = 0.1,
    seed: int = 0,
    norms: np.ndarray | None = None,
    null: NullSettings = NullSettings(),
) -> RegionsResult:
    """Key linguistic regions of ``{language: activation store}`` with their random controls.

    ``stores`` may also be an opened :class:`~linguafranca.io.activations.LanguageStores`. ``norms`` (float64 ``[N]``, rows
    language-major as in ``similarity.h5``) are the whole-model norms when already known; they save a pass over
    the stores.

    ``threshold``: z-score a neuron must exceed (strictly) to be key; ``random_fraction``: share of all neurons
    in the shared random mask; ``seed``: seeds both random controls (the shared one and, per language, one
    matched to its region size) and the label shuffles of ``null``. With the default ``null`` (no permutations)
    the result is the paper's and nothing else.
    """
    if not math.isfinite(threshold):
        raise LinguaFrancaError(f"threshold must be a finite z-score, got {threshold}")
    check_fraction(random_fraction)
    null.check()
    source = as_source(stores)
    streamed = _stream_contributions(source, norms, threshold, null, seed)
    contribution = streamed.contribution
    zscore = zscores(contribution)
    mask = key_masks(zscore, threshold)
    significant = None if streamed.pvalue is None else _significant(streamed.pvalue, null.fdr_q)
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
        null_permutations=null.null_permutations,
        significance_permutations=null.significance_permutations,
        fdr_q=float(null.fdr_q),
        significance_statistic=null.statistic,
        null_count=streamed.null_count if null.null_permutations else None,
        pvalue=streamed.pvalue,
        significant=significant,
        random_masks_significant=(
            None if significant is None else matched_random_masks(significant, [seed, SIGNIFICANT_CONTROL_STREAM])
        ),
    )


# ---------------------------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------------------------


def _chance_arrays(result: RegionsResult) -> dict[str, tuple[np.ndarray, str, tuple[str, ...] | None]]:
    """The arrays of the null and of significance, those that were computed."""
    arrays: dict[str, tuple[np.ndarray, str, tuple[str, ...] | None]] = {}
    if result.null_count is not None:
        arrays["null_count"] = (
            result.null_count.astype(np.int32),
            f"key neurons (zscore > {result.threshold}) per label shuffle, language and layer",
            ("permutation", "lang", "layer"),
        )
    if result.significant is not None:
        arrays["pvalue"] = (
            result.pvalue.astype(np.float32),
            f"permutation p-value of the {result.significance_statistic} against {result.significance_permutations} "
            "label shuffles (pooled over same-size groups); above fdr_q a lower bound",
            None,
        )
        arrays["significant"] = (
            result.significant,
            f"significant neurons: Benjamini-Hochberg at q = {result.fdr_q} per language",
            None,
        )
        arrays["random_mask_significant"] = (
            result.random_masks_significant,
            "size-matched random control per language: as many neurons as its significant region, seeded",
            None,
        )
    return arrays


def _chance_attrs(result: RegionsResult) -> dict[str, Any]:
    """Attributes of the null and of significance, none when neither was computed (the paper's store)."""
    attrs: dict[str, Any] = {}
    if result.null_count is not None:
        attrs.update({"null_permutations": result.null_permutations, **result.null_summary()})
    if result.significant is not None:
        sizes = result.significant.sum(axis=(1, 2))
        attrs.update(
            {
                "significance_permutations": result.significance_permutations,
                "significance_statistic": result.significance_statistic,
                "fdr_q": result.fdr_q,
                "significant_size": [int(size) for size in sizes],
                "n_significant": int(sizes.sum()),
            }
        )
    return attrs


def write_regions(result: RegionsResult, zarr_path: str | os.PathLike) -> None:
    """Write the regions to a Zarr v3 group, atomically.

    Arrays (dimension names ``lang, layer, neuron``): ``contribution`` and ``zscore`` float32, ``mask`` bool,
    all ``[n_langs, n_layers, n_neurons]``; ``random_mask`` bool ``[n_layers, n_neurons]``; and
    ``random_mask_per_language`` bool ``[n_langs, n_layers, n_neurons]``. Attributes: ``langs``, ``threshold``,
    ``random_fraction``, ``seed``, ``sklr``, ``n_layers``, ``n_neurons``, ``n_samples`` and the
    model/revision/dataset of the activations. With a null: ``null_count`` int32 ``[B, n_langs, n_layers]`` and
    the :meth:`RegionsResult.null_summary` attributes; with significance: ``pvalue`` float32, ``significant`` and
    ``random_mask_significant`` bool ``[n_langs, n_layers, n_neurons]`` and attributes
    ``significance_permutations``, ``significance_statistic``, ``fdr_q``, ``significant_size``, ``n_significant``.
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
    attrs = {
        "langs": result.langs,
        "threshold": result.threshold,
        "random_fraction": result.random_fraction,
        "seed": result.seed,
        "sklr": result.sklr,
        "n_layers": result.n_layers,
        "n_neurons": result.n_neurons,
        "n_samples": result.n_samples,
        **result.provenance,
        **_chance_attrs(result),
    }
    described = {name: (data, description, None) for name, (data, description) in arrays.items()}
    write_regions_store(zarr_path, {**described, **_chance_arrays(result)}, attrs)


def sklr_table(result: RegionsResult) -> list[dict[str, Any]]:
    """Key neurons per layer and language, the layout of the paper's Table 1.

    Columns: ``layer``, one per language (in order), ``all`` (summed over languages: SKLR per layer). Rows: layers
    ``0..L-1`` (counts), then ``total`` (counts over all layers; ``all`` is SKLR), then ``percent`` (``total`` as
    a percentage of all ``n_layers * n_neurons`` neurons).

    With a null, columns ``null_mean`` and ``null_p95`` (key neurons of all languages under label shuffles: mean and
    95th percentile over the permutations) and rows ``null_mean``, ``null_sd``, ``null_p95`` (each language's null
    region size; ``all``: null SKLR). With significance, a column and a row ``significant`` (Benjamini–Hochberg
    significant neurons). Cells that do not apply (a null column in a null row) read ``n/a``.
    """
    clash = {"layer", "all"} & set(result.langs)
    if clash:
        raise LinguaFrancaError(f"a language may not be called {sorted(clash)}: those names are SKLR table columns")
    size = result.n_layers * result.n_neurons
    columns = _sklr_columns(result)[1 + len(result.langs) + 1 :]
    rows = _count_rows(result.langs, result.mask.sum(axis=2), size)
    null = None if result.null_count is None else result.null_count.sum(axis=1)  # [B, n_layers]
    significant = None if result.significant is None else result.significant.sum(axis=(0, 2))  # [n_layers]
    for row in rows:  # a layer's row (layer an int), then total and percent (over all layers)
        layer, percent = row["layer"], row["layer"] == "percent"
        if null is not None:
            counts = null[:, layer] if isinstance(layer, int) else null.sum(axis=1)
            row["null_mean"] = float(counts.mean()) * (100.0 / size if percent else 1)
            row["null_p95"] = float(_p95(counts)) * (100.0 / size if percent else 1)
        if significant is not None:
            count = int(significant[layer] if isinstance(layer, int) else significant.sum())
            row["significant"] = 100.0 * count / size if percent else count
    if null is not None:
        sizes = result.null_count.sum(axis=2)  # [B, n_langs]
        sklr = sizes.sum(axis=1)
        statistics = {"null_mean": np.mean, "null_sd": np.std, "null_p95": _p95}
        for name, statistic in statistics.items():
            values = {lang: float(v) for lang, v in zip(result.langs, statistic(sizes, axis=0))}
            rows.append({"layer": name, **values, "all": float(statistic(sklr)), **dict.fromkeys(columns, "n/a")})
    if significant is not None:
        per_lang = result.significant.sum(axis=(1, 2))
        by_lang = {lang: int(v) for lang, v in zip(result.langs, per_lang)}
        rows.append({"layer": "significant", **by_lang, "all": int(per_lang.sum()), **dict.fromkeys(columns, "n/a")})
    return rows


def _p95(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """The 95th percentile over permutations, linearly interpolated (numpy's default)."""
    return np.percentile(values, 95, axis=axis)


def _count_rows(langs: list[str], per_layer: np.ndarray, size: int) -> list[dict[str, Any]]:
    """Rows ``0..L-1``, ``total`` and ``percent`` of key-neuron counts ``per_layer`` ``[n_langs, n_layers]``."""
    rows: list[dict[str, Any]] = []
    for layer in range(per_layer.shape[1]):
        counts = per_layer[:, layer]
        rows.append({"layer": layer, **{lang: int(c) for lang, c in zip(langs, counts)}, "all": int(counts.sum())})
    totals = per_layer.sum(axis=1)
    rows.append({"layer": "total", **{lang: int(t) for lang, t in zip(langs, totals)}, "all": int(totals.sum())})
    percent = {lang: 100.0 * int(t) / size for lang, t in zip(langs, totals)}
    rows.append({"layer": "percent", **percent, "all": 100.0 * int(totals.sum()) / size})
    return rows


def _sklr_columns(result: RegionsResult) -> list[str]:
    """The SKLR table's columns: the paper's, then the chance columns that were computed."""
    columns = ["layer", *result.langs, "all"]
    if result.null_count is not None:
        columns += ["null_mean", "null_p95"]
    if result.significant is not None:
        columns.append("significant")
    return columns


def write_sklr(result: RegionsResult, tsv_path: str | os.PathLike) -> None:
    """Write :func:`sklr_table` as TSV, atomically."""
    write_tsv(tsv_path, sklr_table(result), _sklr_columns(result))


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
    if result.significant is not None:
        insignificant = [lang for lang, mask in zip(result.langs, result.significant) if not mask.any()]
        if insignificant:
            logging.warning(
                "no key neuron of %s is significant at FDR q = %s after %d permutations: %s empty; more "
                "regions.significance_permutations give smaller p-values",
                ", ".join(insignificant), result.fdr_q, result.significance_permutations,
                "its significant region is" if len(insignificant) == 1 else "their significant regions are",
            )
    return empty
