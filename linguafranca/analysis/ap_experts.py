"""Language experts by average precision (Kojima et al., NAACL 2024, "On the Multilingual Ability of Decoder-based
Pre-trained Language Models: Finding and Controlling Language-Specific Neurons", after Suau et al., "Finding
experts in transformer models"), with a label-shuffled null, and each language's median responses.

Each neuron's per-sample mean response ``X[:, k]`` scores, for language ``a``, the average precision (AP) of
telling ``a``'s samples (positives) from all others, as ``sklearn.metrics.average_precision_score``: one step per
distinct score, ``AP = sum_t (R_t - R_{t-1}) P_t`` over thresholds ``t`` from the highest score down. With
``E_r = #{s : X_s >= X_r}`` (the rank of ``r``'s threshold) and ``c_r = #{s in a : X_s >= X_r}``,

    AP_a = (1 / n_a) * sum_{r in a} c_r / E_r,

so ties count at the last index of their run. The top experts of ``a`` are the ``experts`` neurons of highest AP
over all layers; the bottom experts (``bottom=True``) those of highest AP of ``-X``, whose low response marks
``a``. At the cutoff, equal APs are taken in flat order, lower ``layer * n_neurons + neuron`` first.

**Vectorised.** Per layer every column is sorted once: ``E`` is the same for every labelling. ``c_r`` is then the
rank of ``E_r`` among the ``E`` of ``r``'s group, so each labelling's AP costs one sort of small integers per
group (``n_a`` values, radix-fast) instead of a float sort of ``N``: under a label shuffle only the groups
change. Without ties in a column ``E`` is a permutation of ``1..N``, ``c`` the position in the sorted group, and
the bottom AP comes from the same sorted group reversed (``E(-X) = N + 1 - E``); columns with ties take a slower
path with run ends. Data exactly representable in float32 (the activation stores hold float32) are sorted as
packed ``uint64`` float32 keys and row indices, much faster than ``argsort`` of float64 and exact; other data
use ``argsort``.

**Null.** Permutation ``b`` uses :func:`linguafranca.analysis.permutation_null.permuted_labels` (the same
shuffles as every method's null). With a fixed count the null's experts per language are ``experts`` by
construction; the informative parts are ``null_count[b, a, l]``, the experts of group ``a`` in layer ``l``, and
``null_cutoff_ap[b, a]``, the ``experts``-th best AP under the shuffle, to compare with the observed cutoff.
Across layers only a running top-``experts`` per (permutation, language) is kept (values and flat indices).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from linguafranca.analysis.lape import shuffles
from linguafranca.analysis.permutation_null import group_labels
from linguafranca.errors import LinguaFrancaError

#: Columns sorted together: a chunk's sort keys and ranks are ``CHUNK x N`` (about 100 MB at N = 9,108).
CHUNK = 1024

#: Placeholder index of an empty slot of a running top: loses every tie.
_NO_INDEX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class ExpertsSettings:
    """``experts``: experts per language, an int count or a float share in (0, 1) of all ``n_layers *
    n_neurons`` neurons (rounded); ``bottom``: also the bottom experts (high AP of ``-X``)."""

    experts: int | float = 1000
    bottom: bool = True

    def count(self, n_total: int) -> int:
        """Experts per language among ``n_total`` neurons."""
        experts = self.experts
        if isinstance(experts, float):
            if not 0 < experts < 1:
                raise LinguaFrancaError(f"experts as a share must be in (0, 1), got {experts}; a count is an int")
            experts = round(experts * n_total)
        experts = int(experts)
        if not 1 <= experts <= n_total:
            raise LinguaFrancaError(f"experts must be between 1 and the {n_total} neurons, got {experts}")
        return experts


# ---------------------------------------------------------------------------------------------------------------
# Pure functions on arrays
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Ranks:
    """One chunk's ranks: ``top`` ``[c, N]`` ``E = #{s: X_s >= X_r}``; ``tied`` ``[c]`` bool columns with equal
    values; ``bottom`` ``[n_tied, N]`` ``#{s: X_s <= X_r}`` of the tied columns (elsewhere ``N + 1 - top``)."""

    top: np.ndarray
    tied: np.ndarray
    bottom: np.ndarray


def _ranks(X: np.ndarray) -> _Ranks:
    """Ranks of every column of ``X`` float64 ``[N, c]`` (see :class:`_Ranks`)."""
    n_rows, n_columns = X.shape
    if np.isnan(X).any():
        raise LinguaFrancaError("responses hold NaN: average precision needs every sample's score")
    single = X.astype(np.float32)
    if np.array_equal(single, X):  # exact in float32: sort the keys packed with the row index
        single += np.float32(0)  # -0.0 becomes +0.0, equal to it as a float
        bits = np.ascontiguousarray(single.T).view(np.uint32)
        keys = np.where(bits >> 31 == 1, ~bits, bits | np.uint32(0x80000000)).astype(np.uint64)
        shift = np.uint64(max(1, (n_rows - 1).bit_length()))
        keys <<= shift
        keys |= np.arange(n_rows, dtype=np.uint64)
        keys.sort(axis=1)
        order = (keys & ((np.uint64(1) << shift) - np.uint64(1))).astype(np.intp)
        keys >>= shift
    else:
        keys = np.ascontiguousarray(X.T)
        order = np.argsort(keys, axis=1)
        keys = np.take_along_axis(keys, order, axis=1)
    new_run = keys[:, 1:] != keys[:, :-1]  # ascending order
    del keys
    tied = ~new_run.all(axis=1)
    dtype = np.int16 if n_rows < 2**15 else np.int32
    ranked = np.broadcast_to(np.arange(n_rows, 0, -1, dtype=dtype), (n_columns, n_rows)).copy()  # N - i
    bottom_sorted = np.empty((int(tied.sum()), n_rows), dtype=dtype)
    if tied.any():
        positions = np.arange(n_rows)
        runs = new_run[tied]
        first = np.ones((len(runs), 1), dtype=bool)
        starts = np.maximum.accumulate(np.where(np.hstack([first, runs]), positions, 0), axis=1)
        ends = np.where(np.hstack([runs, first]), positions, n_rows - 1)
        ends = np.minimum.accumulate(ends[:, ::-1], axis=1)[:, ::-1]
        ranked[tied] = n_rows - starts
        bottom_sorted[:] = ends + 1
    top = np.empty_like(ranked)
    np.put_along_axis(top, order, ranked, axis=1)
    bottom = np.empty_like(bottom_sorted)
    np.put_along_axis(bottom, order[tied], bottom_sorted, axis=1)
    return _Ranks(top, tied, bottom)


def _tied_sum(E: np.ndarray, rows: np.ndarray, reciprocal: np.ndarray) -> np.ndarray:
    """``sum_{r in rows} c_r / E_r`` of columns with ties, ``c_r`` counted at the end of each run of equal E."""
    ranks = np.sort(np.take(E, rows, axis=1), axis=1)
    n_a = ranks.shape[1]
    ends = np.where(np.hstack([ranks[:, 1:] != ranks[:, :-1], np.ones((len(ranks), 1), dtype=bool)]),
                    np.arange(n_a), n_a - 1)
    counts = np.minimum.accumulate(ends[:, ::-1], axis=1)[:, ::-1] + 1
    return (counts * np.take(reciprocal, ranks)).sum(axis=1)


def _group_ap(ranks: _Ranks, groups: list[np.ndarray], bottom: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """AP of every group ``[m, c]`` (and of ``-X`` with ``bottom``) from one chunk's ranks; ``groups``: the row
    indices of each group."""
    n_columns, n_rows = ranks.top.shape
    reciprocal = 1.0 / np.maximum(np.arange(n_rows + 1), 1)  # 1 / E, E in 1..N
    mirrored = np.zeros(n_rows + 1)
    mirrored[1:] = reciprocal[n_rows:0:-1]  # 1 / (N + 1 - E)
    top_ap = np.empty((len(groups), n_columns))
    bottom_ap = np.empty((len(groups), n_columns)) if bottom else None
    for a, rows in enumerate(groups):
        n_a = len(rows)
        ranked = np.sort(np.take(ranks.top, rows, axis=1), axis=1)  # [c, n_a]
        weights = np.arange(1, n_a + 1, dtype=np.float64)
        top_ap[a] = (np.take(reciprocal, ranked) * weights).sum(axis=1)
        if bottom:
            bottom_ap[a] = (np.take(mirrored, ranked) * weights[::-1]).sum(axis=1)
        if ranks.tied.any():
            top_ap[a, ranks.tied] = _tied_sum(ranks.top[ranks.tied], rows, reciprocal)
            if bottom:
                bottom_ap[a, ranks.tied] = _tied_sum(ranks.bottom, rows, reciprocal)
        top_ap[a] /= n_a
        if bottom:
            bottom_ap[a] /= n_a
    return top_ap, bottom_ap


def _groups(labels: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """Row indices of each group of one labelling ``[N]``."""
    return [np.flatnonzero(labels == a) for a in range(n_groups)]


def average_precision(
    X: np.ndarray, labels: np.ndarray, n_groups: int, bottom: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """AP of each column of ``X`` float64 ``[N, n_columns]`` for each group of ``labels`` int ``[N]`` (values
    ``0 .. n_groups - 1``, each present) against the rest: float64 ``[n_groups, n_columns]``, as
    ``sklearn.metrics.average_precision_score(labels == a, X[:, k])``; with ``bottom`` also of ``-X``."""
    X = np.asarray(X, dtype=np.float64)
    groups = _groups(np.asarray(labels), n_groups)
    if any(len(rows) == 0 for rows in groups):
        raise LinguaFrancaError("average precision needs at least one sample in every group")
    parts = [_group_ap(_ranks(X[:, s : s + CHUNK]), groups, bottom) for s in range(0, X.shape[1], CHUNK)]
    top = np.concatenate([p[0] for p in parts], axis=1)
    return top, np.concatenate([p[1] for p in parts], axis=1) if bottom else None


def largest_k(values: np.ndarray, index: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest ``values`` ``[M]``, ties taken lower ``index`` first, in that order
    (value descending, then index ascending)."""
    cutoff = np.partition(values, values.size - k)[values.size - k]
    candidates = np.flatnonzero(values >= cutoff)
    return candidates[np.lexsort((index[candidates], -values[candidates]))[:k]]


def top_experts(ap: np.ndarray, experts: int) -> tuple[np.ndarray, np.ndarray]:
    """Each language's ``experts`` highest APs over all its neurons: bool mask like ``ap`` ``[n_langs, ...]``,
    and the cutoff (the ``experts``-th best AP) float64 ``[n_langs]``."""
    flat = ap.reshape(len(ap), -1)
    mask = np.zeros(flat.shape, dtype=bool)
    cutoff = np.empty(len(ap))
    index = np.arange(flat.shape[1])
    for a, values in enumerate(flat):
        chosen = largest_k(values, index, experts)
        mask[a, chosen] = True
        cutoff[a] = values[chosen[-1]]
    return mask.reshape(ap.shape), cutoff


class _RunningTop:
    """The ``k`` best (value, flat index) of each of ``n`` rows, merged layer by layer, best first."""

    def __init__(self, n: int, k: int):
        self.values = np.full((n, k), -np.inf)
        self.index = np.full((n, k), _NO_INDEX, dtype=np.int64)

    def merge(self, values: np.ndarray, offset: int) -> None:
        """Merge ``values`` ``[n, n_columns]`` whose flat indices are ``offset + column``."""
        k = self.values.shape[1]
        new_index = offset + np.arange(values.shape[1], dtype=np.int64)
        for row in range(len(values)):
            both = np.concatenate([self.values[row], values[row]])
            index = np.concatenate([self.index[row], new_index])
            keep = largest_k(both, index, k)
            self.values[row], self.index[row] = both[keep], index[keep]


def language_medians(X: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Each language's median response of every neuron, float64 ``[n_langs, n_neurons]``: ``np.median`` over
    its rows of ``X`` ``[N, n_neurons]`` (language-major, ``sizes`` rows each). Kojima et al.'s intervention
    fixes a language's experts to these values."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] != sum(sizes):
        raise LinguaFrancaError(f"X has {X.shape[0]} rows but the languages have {sum(sizes)} samples")
    starts = np.cumsum([0, *sizes])
    return np.stack([np.median(X[starts[a] : starts[a + 1]], axis=0) for a in range(len(sizes))])


# ---------------------------------------------------------------------------------------------------------------
# Streaming, layer by layer
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class ExpertsResult:
    """AP experts of ``n_langs`` languages (the order of ``sizes``); arrays ``[n_langs, n_layers, n_neurons]``
    unless noted; ``*_bottom`` are None without ``bottom``.

    ``ap``, ``ap_bottom`` float64 AP of ``X`` and of ``-X``; ``mask_top``, ``mask_bottom`` bool, the
    ``experts`` best of each language; ``mask`` their union; ``cutoff_ap``, ``cutoff_ap_bottom`` float64
    ``[n_langs]``, the ``experts``-th best AP.

    Null (None without permutations): ``null_count`` (``null_count_bottom``) int64 ``[B, n_langs, n_layers]``
    experts of each permuted group per layer, summing to ``experts`` per (permutation, language);
    ``null_cutoff_ap`` (``null_cutoff_ap_bottom``) float64 ``[B, n_langs]``, the ``experts``-th best AP.
    """

    ap: np.ndarray
    mask_top: np.ndarray
    mask: np.ndarray
    cutoff_ap: np.ndarray
    experts: int
    settings: ExpertsSettings
    ap_bottom: np.ndarray | None = None
    mask_bottom: np.ndarray | None = None
    cutoff_ap_bottom: np.ndarray | None = None
    null_permutations: int = 0
    seed: int = 0
    null_count: np.ndarray | None = None
    null_cutoff_ap: np.ndarray | None = None
    null_count_bottom: np.ndarray | None = None
    null_cutoff_ap_bottom: np.ndarray | None = None


class ExpertsAccumulator:
    """AP experts layer by layer: :meth:`add_layer` for every layer (any order, each once), then :meth:`result`.

    ``sizes``: samples per language, rows language-major; ``null_permutations``: label shuffles ``B`` (0:
    none), seeded by ``seed``; ``threads``: column chunks sorted in parallel (numpy releases the GIL in sorts).
    Memory: ``ap`` (and ``ap_bottom``) float64 ``[n_langs, n_layers, n_neurons]``, one layer's APs of every
    labelling ``[1 + B, n_langs, n_neurons]``, chunks' ranks, and the running tops ``[B, n_langs, experts]``.
    """

    name = "ap_experts"

    def __init__(
        self,
        sizes: list[int],
        n_layers: int,
        n_neurons: int,
        settings: ExpertsSettings = ExpertsSettings(),
        null_permutations: int = 0,
        seed: int = 0,
        threads: int = 1,
    ):
        if null_permutations < 0:
            raise LinguaFrancaError(f"null_permutations must be 0 or more, got {null_permutations}")
        self.sizes, self.n_layers, self.n_neurons = [int(s) for s in sizes], int(n_layers), int(n_neurons)
        self.settings, self.null_permutations, self.seed = settings, int(null_permutations), int(seed)
        self.experts = settings.count(self.n_layers * self.n_neurons)
        self.threads = max(1, int(threads))
        n_langs = len(self.sizes)
        if min(self.sizes) < 1:
            raise LinguaFrancaError(f"every language needs a sample, got sizes {self.sizes}")
        labellings = np.vstack([group_labels(self.sizes)[None], shuffles(self.sizes, null_permutations, seed)])
        self.groups = [_groups(labels, n_langs) for labels in labellings]
        self.ap = np.zeros((n_langs, self.n_layers, self.n_neurons))
        self.ap_bottom = np.zeros_like(self.ap) if settings.bottom else None
        self.null_top = _RunningTop(self.null_permutations * n_langs, self.experts)
        self.null_bottom = _RunningTop(self.null_permutations * n_langs, self.experts) if settings.bottom else None
        self.done = np.zeros(self.n_layers, dtype=bool)

    def _chunk(self, X: np.ndarray, start: int) -> list[tuple[np.ndarray, np.ndarray | None]]:
        ranks = _ranks(X[:, start : start + CHUNK])
        return [_group_ap(ranks, groups, self.settings.bottom) for groups in self.groups]

    def add_layer(self, layer: int, X: np.ndarray, A: np.ndarray | None = None, n_tokens=None) -> None:
        """Take one layer: ``X`` float64 ``[N, n_neurons]`` per-sample mean responses (``A``, ``n_tokens`` unused)."""
        X = np.asarray(X, dtype=np.float64)
        if X.shape != (sum(self.sizes), self.n_neurons):
            raise LinguaFrancaError(f"layer {layer}: X must be [{sum(self.sizes)}, {self.n_neurons}], got {X.shape}")
        if self.done[layer]:
            raise LinguaFrancaError(f"layer {layer} was added twice")
        starts = range(0, self.n_neurons, CHUNK)
        if self.threads > 1:
            with ThreadPoolExecutor(self.threads) as pool:
                parts = list(pool.map(lambda start: self._chunk(X, start), starts))
        else:
            parts = [self._chunk(X, start) for start in starts]
        n_langs, offset = len(self.sizes), layer * self.n_neurons
        for kind in (0, 1) if self.settings.bottom else (0,):
            layer_ap = np.stack([np.concatenate([part[i][kind] for part in parts], axis=1)
                                 for i in range(len(self.groups))])  # [1 + B, m, n]
            (self.ap if kind == 0 else self.ap_bottom)[:, layer] = layer_ap[0]
            if self.null_permutations:
                (self.null_top if kind == 0 else self.null_bottom).merge(
                    layer_ap[1:].reshape(-1, self.n_neurons), offset)
        self.done[layer] = True

    def _null(self, running: _RunningTop) -> tuple[np.ndarray, np.ndarray]:
        B, m = self.null_permutations, len(self.sizes)
        layers = running.index // self.n_neurons
        counts = np.stack([np.bincount(row, minlength=self.n_layers) for row in layers]).reshape(B, m, -1)
        return counts.astype(np.int64), running.values[:, -1].reshape(B, m)

    def result(self) -> ExpertsResult:
        """The experts over all layers, and the null's counts and cutoffs when asked for."""
        if not self.done.all():
            raise LinguaFrancaError(f"AP experts need every layer; missing {np.flatnonzero(~self.done).tolist()}")
        mask_top, cutoff = top_experts(self.ap, self.experts)
        result = ExpertsResult(self.ap, mask_top, mask_top.copy(), cutoff, self.experts, self.settings,
                               null_permutations=self.null_permutations, seed=self.seed)
        if self.settings.bottom:
            result.ap_bottom = self.ap_bottom
            result.mask_bottom, result.cutoff_ap_bottom = top_experts(self.ap_bottom, self.experts)
            result.mask |= result.mask_bottom
        if self.null_permutations:
            result.null_count, result.null_cutoff_ap = self._null(self.null_top)
            if self.settings.bottom:
                result.null_count_bottom, result.null_cutoff_ap_bottom = self._null(self.null_bottom)
        return result


def ap_experts(
    X: np.ndarray,
    sizes: list[int],
    settings: ExpertsSettings = ExpertsSettings(),
    null_permutations: int = 0,
    seed: int = 0,
) -> ExpertsResult:
    """AP experts in one call on all layers at once: ``X`` float64 ``[n_layers, N, n_neurons]``; the same as
    :class:`ExpertsAccumulator` fed layer by layer."""
    X = np.asarray(X)
    accumulator = ExpertsAccumulator(sizes, X.shape[0], X.shape[2], settings, null_permutations, seed)
    for layer in range(X.shape[0]):
        accumulator.add_layer(layer, X[layer])
    return accumulator.result()
