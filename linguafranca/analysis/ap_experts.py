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

**Vectorised.** Per layer every column is sorted once: ``E`` is the same for every labelling, so a labelling's AP
costs one sort of small integers per group (``n_a`` values, SIMD-fast) instead of a float sort of ``N``: under a
label shuffle only the groups change. Each column gets tie-free ranks, a permutation of ``1 .. N`` (equal values
in any order), and the group sums are ``sum_j j / S_j`` over the group's sorted ranks ``S`` and ``sum_j (n_a + 1 -
j) / (N + 1 - S_j)`` for ``-X`` (``E(-X) = N + 1 - E``, the same sorted group reversed), exact division per term
(a perfect expert scores exactly 1). Ties do not change that dense path: a run of ``t`` equal values holding the
ranks ``p + 1 .. p + t``, with ``k`` rows of group ``a`` at ranks ``d_1 < .. < d_k`` and ``C`` rows of ``a`` ranked
above the run, adds

    k (C + k) / (p + t) - sum_j (C + j) / d_j                                  (top), and
    k (n_a - C) / (N - p) - sum_j (n_a - C - j + 1) / (N + 1 - d_j)            (bottom),

the exact terms (every row of the run counted at its end) less the tie-free ones, whatever order the run was
ranked in. The runs are found once per chunk (one entry per tied row, a few per column in float32 data);
per labelling only those entries are grouped by (run, group) and ``C`` is a binary search in the sorted group.
Data exactly representable in float32 (the activation stores hold float32) are sorted as packed ``uint64`` keys
(order-preserving float32 bits and the row index), much faster than ``argsort`` of float64; other data use
``argsort``. Columns go in chunks of :data:`CHUNK` that stay in cache across the labellings, in a thread pool
with ``threads`` (numpy releases the GIL in the sorts and ufuncs).

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

from linguafranca.analysis.permutation_null import group_labels, shuffles
from linguafranca.errors import LinguaFrancaError

#: Columns ranked together: a chunk's keys, ranks and sums are ``CHUNK x N`` (9 MB of float64 at N = 9,108), small
#: enough to stay in cache across a chunk's labellings (1,024 columns ran 1.5 times slower).
CHUNK = 128

#: Placeholder index of an empty slot of a running top: loses every tie.
_NO_INDEX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class ExpertsSettings:
    """``experts``: experts per language, an int count or a float share in (0, 1) of all ``n_layers *
    n_neurons`` neurons (rounded); ``bottom``: also the bottom experts (high AP of ``-X``)."""

    experts: int | float = 1000
    bottom: bool = True

    def count(self, n_total: int) -> int:
        """Experts per language among ``n_total`` neurons; a share rounds to at least one expert, so that a tiny
        model (a sandbox checkpoint) still gets a region."""
        experts = self.experts
        if isinstance(experts, float):
            if not 0 < experts < 1:
                raise LinguaFrancaError(f"experts as a share must be in (0, 1), got {experts}; a count is an int")
            experts = max(1, round(experts * n_total))
        experts = int(experts)
        if not 1 <= experts <= n_total:
            raise LinguaFrancaError(f"experts must be between 1 and the {n_total} neurons, got {experts}")
        return experts


# ---------------------------------------------------------------------------------------------------------------
# Pure functions on arrays
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Labelling:
    """One labelling's groups, in the layout the chunks use: ``labels`` int ``[N]``; ``rows`` intp ``[N]`` the
    rows group by group (ascending within a group; None when that is ``0 .. N - 1``, language-major);
    ``offsets`` ``[m + 1]`` where each group starts in ``rows``; ``top_weight``, ``bottom_weight`` float64
    ``[N]``: ``j`` and ``n_a + 1 - j`` at the ``j``-th place (1-based) of each group."""

    labels: np.ndarray
    rows: np.ndarray | None
    offsets: np.ndarray
    top_weight: np.ndarray
    bottom_weight: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)


def _labelling(labels: np.ndarray, n_groups: int) -> _Labelling:
    labels = np.asarray(labels).astype(np.intp)
    sizes = np.bincount(labels, minlength=n_groups)
    if len(sizes) > n_groups or (sizes == 0).any():
        raise LinguaFrancaError("average precision needs at least one sample in every group")
    rows = np.argsort(labels, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    within = np.arange(len(labels)) - np.repeat(offsets[:-1], sizes) + 1.0
    return _Labelling(labels, None if (np.diff(labels) >= 0).all() else rows, offsets, within,
                      np.repeat(sizes, sizes) + 1.0 - within)


@dataclass
class _Ranks:
    """One chunk of ``c`` columns: ``top`` ``[c, N]`` int16 (int32 from 2**15 rows) tie-free ranks ``E``, in each
    column a permutation of ``1 .. N`` (equal values in any order); ``n_rows``; the runs of equal values, one
    entry per row in a run, ordered by run and within it by ``E``: ``entry_run``, ``entry_rank`` (its ``E``),
    ``entry_row``; per run its column ``run_column``, ``run_above`` (rows of higher value, ``p``) and
    ``run_length`` (``t``): the run holds the ranks ``p + 1 .. p + t``."""

    top: np.ndarray
    n_rows: int
    entry_run: np.ndarray
    entry_rank: np.ndarray
    entry_row: np.ndarray
    run_column: np.ndarray
    run_above: np.ndarray
    run_length: np.ndarray


#: Rows transposed together when the chunk's keys are built (cache-sized blocks).
_BLOCK = 64


def _ranks(X: np.ndarray) -> _Ranks:
    """Ranks of every column of ``X`` float64 ``[N, c]`` and its runs of equal values (see :class:`_Ranks`)."""
    n_rows, n_columns = X.shape
    single = X.astype(np.float32)
    exact = np.array_equal(single, X)  # NaN is never equal: it takes the argsort path and is caught there
    rank_type = np.int16 if n_rows < 2**15 else np.int32
    descending = np.arange(n_rows, 0, -1, dtype=rank_type)[None]  # N - i at ascending place i
    if exact and n_rows <= 2**32:  # sort float32 bits, made order-preserving, packed with the row index
        single += np.float32(0)  # -0.0 becomes +0.0, equal to it as a float
        bits = np.empty((n_columns, n_rows), dtype=np.uint32)
        for start in range(0, n_rows, _BLOCK):
            bits[:, start : start + _BLOCK] = single[start : start + _BLOCK].view(np.uint32).T
        flip = (bits.view(np.int32) >> 31).view(np.uint32)  # all ones for negatives: invert them
        flip |= np.uint32(0x80000000)  # and set the sign bit of positives
        bits ^= flip
        del flip, single
        shift = max(1, (n_rows - 1).bit_length())
        keys = bits.astype(np.uint64)
        del bits
        keys <<= np.uint64(shift)
        keys |= np.arange(n_rows, dtype=np.uint64)
        keys.sort(axis=1)
        order = (keys & np.uint64((1 << shift) - 1)).astype(np.intp)
        diff = keys[:, 1:] ^ keys[:, :-1]
        del keys
        equal = diff < np.uint64(1 << shift)
        del diff
    else:
        values = np.ascontiguousarray(X.T)
        order = np.argsort(values, axis=1)
        values = np.take_along_axis(values, order, axis=1)
        if np.isnan(values[:, -1]).any():  # argsort puts NaN last
            raise LinguaFrancaError("responses hold NaN: average precision needs every sample's score")
        equal = values[:, 1:] == values[:, :-1]
        del values
    top = np.empty((n_columns, n_rows), dtype=rank_type)
    np.put_along_axis(top, order, descending, axis=1)
    # runs: ascending places i with X equal to the next place's
    tied = np.flatnonzero(equal)
    del equal
    column, place = np.divmod(tied, n_rows - 1)
    first = column * n_rows + place
    entries = np.union1d(first, first + 1)  # flat ascending places in a run
    starts = ~np.isin(entries - 1, first)  # not equal to the place before: a run starts
    run = np.cumsum(starts) - 1
    begin = entries[starts]
    end = np.append(entries[np.flatnonzero(starts)[1:] - 1], entries[-1:]) if len(entries) else entries
    run_column = begin // n_rows
    run_above = n_rows - 1 - (end - run_column * n_rows)
    run_length = end - begin + 1
    # within a run, ascending E is descending place: reverse each run's entries (runs stay in order)
    n_runs = len(begin)
    run_first = np.flatnonzero(starts)
    run_last = np.append(run_first[1:] - 1, len(entries) - 1)
    entries = entries[(run_first + run_last)[run] - np.arange(len(entries))]
    return _Ranks(top, n_rows, run, n_rows - entries % n_rows, order.ravel()[entries],
                  run_column, run_above, run_length) if n_runs else _Ranks(
        top, n_rows, *(np.empty(0, dtype=np.intp) for _ in range(6)))


def _tie_corrections(ranks: _Ranks, labelling: _Labelling, sorted_ranks: np.ndarray, bottom: bool):
    """What runs of equal values change in ``sum_{r in a} c_r / E_r`` (and that of ``-X``) against the tie-free
    sums: float64 ``[m, c]`` each (None without runs). ``sorted_ranks`` ``[c, N]``: each group's ``E`` sorted,
    in ``labelling``'s layout."""
    if not len(ranks.entry_run):
        return None, None
    n_rows, n_columns = ranks.n_rows, ranks.top.shape[0]
    sizes = labelling.sizes
    m = len(sizes)
    groups = labelling.labels[ranks.entry_row]
    key = ranks.entry_run * m + groups
    by_key = np.argsort(key, kind="stable")  # the entries of a (run, group), E ascending
    key, rank = key[by_key], ranks.entry_rank[by_key]
    first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    count = np.diff(np.append(first, len(key)))
    run, group = np.divmod(key[first], m)
    place = np.arange(len(key)) - np.repeat(first, count) + 1.0  # j: place within the (run, group)
    inverse = 1.0 / rank
    column, above, length = ranks.run_column[run], ranks.run_above[run], ranks.run_length[run]
    # C: rows of the group ranked above the run, by binary search in the group's sorted ranks
    n_group = sizes[group]
    base = column * n_rows + labelling.offsets[group]
    flat = sorted_ranks.ravel()
    target = rank[first]
    low, high = np.zeros(len(first), dtype=np.intp), n_group.astype(np.intp)
    for _ in range(int(sizes.max()).bit_length()):
        middle = (low + high) >> 1
        active = low < high
        below = active & (flat[base + np.minimum(middle, n_group - 1)] < target)
        low = np.where(below, middle + 1, low)
        high = np.where(active & ~below, middle, high)
    above_in_group = low.astype(np.float64)
    k = count.astype(np.float64)
    top = (k * (above_in_group + k) / (above + length) - above_in_group * np.add.reduceat(inverse, first)
           - np.add.reduceat(place * inverse, first))
    cell = group * n_columns + column
    top_change = np.bincount(cell, top, minlength=m * n_columns).reshape(m, n_columns)
    if not bottom:
        return top_change, None
    inverse = 1.0 / (n_rows + 1.0 - rank)
    below = n_group - above_in_group
    low_sum = (k * below / (n_rows - above) - (below + 1) * np.add.reduceat(inverse, first)
               + np.add.reduceat(place * inverse, first))
    return top_change, np.bincount(cell, low_sum, minlength=m * n_columns).reshape(m, n_columns)


def _group_ap(ranks: _Ranks, labelling: _Labelling, bottom: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """AP of every group ``[m, c]`` (and of ``-X`` with ``bottom``) from one chunk's ranks."""
    n_rows = ranks.n_rows
    offsets, sizes = labelling.offsets, labelling.sizes
    grouped = ranks.top.copy() if labelling.rows is None else ranks.top.take(labelling.rows, axis=1)
    equal = (sizes == sizes[0]).all()
    if equal:
        grouped.reshape(-1, sizes[0]).sort(axis=1)
    else:
        for a in range(len(sizes)):
            grouped[:, offsets[a] : offsets[a + 1]].sort(axis=1)
    work = np.empty(grouped.shape)  # float64; the int ranks are cast in the ufuncs' buffers

    def sums(values):
        if equal:
            return values.reshape(len(values), len(sizes), sizes[0]).sum(axis=2).T
        return np.add.reduceat(values, offsets[:-1], axis=1).T

    top = sums(np.divide(labelling.top_weight, grouped, out=work))  # [m, c]: sum_j j / E_j
    low = None
    if bottom:  # E(-X) = N + 1 - E, the group's order reversed
        mirrored = np.subtract(grouped.dtype.type(n_rows + 1), grouped)
        low = sums(np.divide(labelling.bottom_weight, mirrored, out=work))
    top_change, low_change = _tie_corrections(ranks, labelling, grouped, bottom)
    if top_change is not None:
        top += top_change
        if bottom:
            low += low_change
    top /= sizes[:, None]
    if bottom:
        low /= sizes[:, None]
    return top, low


def average_precision(
    X: np.ndarray, labels: np.ndarray, n_groups: int, bottom: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """AP of each column of ``X`` float64 ``[N, n_columns]`` for each group of ``labels`` int ``[N]`` (values
    ``0 .. n_groups - 1``, each present) against the rest: float64 ``[n_groups, n_columns]``, as
    ``sklearn.metrics.average_precision_score(labels == a, X[:, k])``; with ``bottom`` also of ``-X``."""
    X = np.asarray(X, dtype=np.float64)
    labelling = _labelling(labels, n_groups)
    parts = [_group_ap(_ranks(X[:, s : s + CHUNK]), labelling, bottom) for s in range(0, X.shape[1], CHUNK)]
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
        self.labellings = [_labelling(labels, n_langs) for labels in labellings]
        self.ap = np.zeros((n_langs, self.n_layers, self.n_neurons))
        self.ap_bottom = np.zeros_like(self.ap) if settings.bottom else None
        self.null_top = _RunningTop(self.null_permutations * n_langs, self.experts)
        self.null_bottom = _RunningTop(self.null_permutations * n_langs, self.experts) if settings.bottom else None
        self.done = np.zeros(self.n_layers, dtype=bool)

    def _chunk(self, X: np.ndarray, start: int) -> list[tuple[np.ndarray, np.ndarray | None]]:
        ranks = _ranks(X[:, start : start + CHUNK])
        return [_group_ap(ranks, labelling, self.settings.bottom) for labelling in self.labellings]

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
                                 for i in range(len(self.labellings))])  # [1 + B, m, n]
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
