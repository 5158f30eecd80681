"""Regions against chance: contributions under shuffled language labels, and per-neuron permutation p-values.

With nine languages, ``z > 2`` picks many neurons by chance alone. Permuting which language each sample belongs to
(group sizes kept) and recomputing contributions, z-scores and masks gives the chance level of every region result.

Permutation ``b`` relabels the samples with ``default_rng([seed, PERMUTATION_STREAM, b]).permutation(labels)``:
a stream apart from the random control masks (``default_rng(seed)`` and its children), and the same ``b``-th
permutation whatever the number of permutations asked for, so the null and the p-values share their first ones.

Contributions of every group of a permutation come from two matrix products, ``P @ X`` and ``P @ X**2`` with the
one-hot ``P [groups, samples]`` of a batch of permutations: ``c = ((sum v)^2 - sum v^2) / (n (n - 1))`` as in
:func:`linguafranca.analysis.regions.contributions`.

**P-values.** Under exchangeable labels, every group of every permutation with ``n_a`` samples has the same
distribution as language ``a``'s observed group, and the observed partition and the ``S`` permuted ones are
independent uniform partitions. The positions (partition, group) of equal size are then permuted transitively by
the symmetries of the joint law, so the rank of ``c[a, k]`` among all ``(S + 1) m_a`` values of its size is
uniform and

    p[a, k] = #{values >= c[a, k] among the observed groups and the S x m_a permuted groups of a's size}
              / ((S + 1) m_a)

is a valid p-value (``m_a``: groups with ``a``'s size, all languages when sizes are equal). Pooling the groups
makes the smallest p-value ``1 / ((S + 1) m_a)`` instead of ``1 / (S + 1)``, at no extra cost.

**Pruning.** Benjamini–Hochberg at ``q`` rejects no p-value above ``q``, and the ranks of those below ``q`` do not
depend on the values above it. A count of exceedances only grows, so once ``(count + 1) / ((S + 1) m_a) > q`` the
pair (language, neuron) can never be significant: it leaves the computation, and its stored p-value is that lower
bound (above ``q``). A neuron leaves the matrix products when all its languages have left. Every p-value at or
below ``q`` is the exact ``S``-permutation value, and the significant sets are exactly those of the full test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from linguafranca.errors import LinguaFrancaError

#: Second entropy word of every permutation's generator, so permutations never repeat the control masks' draws.
PERMUTATION_STREAM = 1

#: Permutations computed together: one matrix product of ``BATCH * n_langs`` one-hot rows.
BATCH = 20


def group_labels(sizes: list[int]) -> np.ndarray:
    """The observed labels of language-major rows, int ``[N]``: ``0`` repeated ``sizes[0]`` times, then ``1`` ..."""
    return np.repeat(np.arange(len(sizes)), sizes)


def permuted_labels(sizes: list[int], start: int, stop: int, seed: int) -> np.ndarray:
    """Labels of permutations ``start .. stop - 1``, int ``[stop - start, N]``; each keeps the group sizes."""
    labels = group_labels(sizes)
    return np.stack(
        [np.random.default_rng([seed, PERMUTATION_STREAM, b]).permutation(labels) for b in range(start, stop)]
    ).reshape(stop - start, labels.size)


def shuffles(sizes: list[int], null_permutations: int, seed: int) -> np.ndarray:
    """Labels of the null's permutations ``0 .. B - 1``, int ``[B, N]`` (``[0, N]`` without a null): the same
    shuffles for every method's null."""
    if null_permutations == 0:
        return np.empty((0, sum(sizes)), dtype=np.int64)
    return permuted_labels(sizes, 0, null_permutations, seed)


def group_contributions(X: np.ndarray, squares: np.ndarray, labels: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Contributions of every group of every labelling, float64 ``[n_labellings, n_groups, n_columns]``.

    ``X``: float64 ``[N, n_columns]`` whole-model unit vectors; ``squares``: ``X * X``; ``labels``: int
    ``[n_labellings, N]``.
    """
    n_groups = len(sizes)
    one_hot = (labels[:, None, :] == np.arange(n_groups)[None, :, None]).reshape(-1, labels.shape[1])
    one_hot = one_hot.astype(np.float64)
    total = (one_hot @ X).reshape(len(labels), n_groups, -1)
    square_sum = (one_hot @ squares).reshape(len(labels), n_groups, -1)
    n = np.asarray(sizes, dtype=np.float64)[None, :, None]
    return (total * total - square_sum) / (n * (n - 1))


@dataclass
class LayerNull:
    """One layer's chance results: ``counts`` int ``[B, n_langs]`` key neurons per permutation and language,
    ``pvalue`` float64 ``[n_langs, n_neurons]`` (empty ``[n_langs, 0]`` without significance permutations)."""

    counts: np.ndarray
    pvalue: np.ndarray


def layer_null(
    X: np.ndarray,
    observed: np.ndarray,
    sizes: list[int],
    is_key: Callable[[np.ndarray], np.ndarray],
    statistic: Callable[[np.ndarray], np.ndarray],
    null_permutations: int,
    significance_permutations: int,
    fdr_q: float,
    seed: int,
) -> LayerNull:
    """Null key-neuron counts and p-values of one layer (see the module docstring for the p-value and pruning).

    ``X``: float64 ``[N, n_neurons]`` whole-model unit vectors, rows language-major with ``sizes`` rows per
    language; ``observed``: the true contributions ``[n_langs, n_neurons]``. The first ``null_permutations`` are
    computed on every neuron (their key masks, ``is_key`` of ``[n_langs, n_neurons]`` contributions, are
    counted); p-values use the first ``significance_permutations``, pruned as they go, and compare ``statistic``
    of the contributions (the contributions themselves, or their z-scores across languages): a function of
    ``[n_langs, ...]`` arrays along axis 0.
    """
    m, n_neurons = observed.shape
    observed = statistic(observed)
    same = np.equal.outer(sizes, sizes)  # [m, m]: groups pooled with language a
    pooled = same.sum(axis=1)[:, None]
    exceed = np.zeros((m, n_neurons), dtype=np.int64)
    for a in range(m):
        exceed[a] = (observed[same[a]] >= observed[a]).sum(axis=0)  # observed groups, a itself included
    denominator = (significance_permutations + 1) * pooled
    active = np.ones((m, n_neurons), dtype=bool)
    counts = np.zeros((null_permutations, m), dtype=np.int64)
    columns = np.arange(n_neurons)
    data, squares = X, X * X
    total = max(null_permutations, significance_permutations)
    for start in range(0, total, BATCH):
        stop = min(start + BATCH, total)
        if start >= null_permutations:  # the null needs every neuron; p-values only the undecided ones
            still = np.flatnonzero(active.any(axis=0))
            if still.size == 0:
                break
            if still.size < columns.size:  # copy the columns only when some have left
                data, squares, columns = X[:, still], X[:, still] ** 2, still
        null = group_contributions(data, squares, permuted_labels(sizes, start, stop, seed), sizes)
        for b in range(start, min(stop, null_permutations)):
            counts[b] = is_key(null[b - start]).sum(axis=1)
        used = null[: max(0, min(stop, significance_permutations) - start)]
        if used.size:
            used = statistic(used.swapaxes(0, 1)).swapaxes(0, 1)  # across languages, per permutation
            for a in range(m):
                exceed[a, columns] += (used[:, same[a]] >= observed[a, columns]).sum(axis=(0, 1))
            active &= exceed / denominator <= fdr_q
    pvalue = exceed / denominator if significance_permutations else np.empty((m, 0))
    return LayerNull(counts=counts, pvalue=pvalue)


def benjamini_hochberg(pvalues: np.ndarray, q: float) -> np.ndarray:
    """Rejections of the Benjamini–Hochberg step-up procedure at FDR ``q``, bool like ``pvalues`` (all tested
    together): reject the ``k`` smallest, ``k`` the largest rank with ``p_(k) <= q k / M``."""
    if not 0 < q < 1:
        raise LinguaFrancaError(f"the false discovery rate q must be between 0 and 1, got {q}")
    flat = np.asarray(pvalues, dtype=np.float64).ravel()
    order = np.argsort(flat, kind="stable")
    passing = np.flatnonzero(flat[order] <= q * np.arange(1, flat.size + 1) / flat.size)
    rejected = np.zeros(flat.size, dtype=bool)
    if passing.size:
        rejected[order[: passing[-1] + 1]] = True
    return rejected.reshape(np.shape(pvalues))
