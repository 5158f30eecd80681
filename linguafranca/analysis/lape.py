"""LAPE: language activation probability entropy (Tang et al., ACL 2024, "Language-Specific Neurons: The Key to
Multilingual Capabilities in LLMs"), transcribed from the released ``identify.py``, with a label-shuffled null.

For language ``a``, layer ``l`` and neuron ``k`` the activation probability is

    p[a, l, k] = (tokens of a's samples where the neuron's gate activation is > 0) / (tokens of a's samples),

from the per-sample active counts ``A`` and token counts ``n_tokens``. As in ``identify.py`` (the arithmetic,
not the code): ``normed = p / sum_a p`` (NaN, where no language fires, set to 0); ``entropy = -sum_a normed
log normed`` (``0 log 0 = 0``); over ``flat``, every value of ``p`` (all languages, layers and neurons),
``top_prob_value = kthvalue(flat, round(len(flat) * filter_rate))`` (k-th smallest, 1-indexed, as
``torch.kthvalue``); neurons where no language has ``p > top_prob_value`` get entropy ``+inf`` (dismissed); the
``round(n_layers * n_neurons * top_rate)`` lowest entropies are selected (``torch.topk(largest=False)`` on the
layer-major flattened entropy); ``activation_bar = kthvalue(flat, round(len(flat) * activation_bar_ratio))``; a
selected neuron belongs to every language with ``p > activation_bar`` (none, one or several). ``round`` is
Python's (ties to even), as in the released code.

Deviations, none of which changes a result on real data:

- **Precision.** ``identify.py`` divides an int32 tensor by an int64 one, so it works in float32; this module
  works in float64.
- **Ties in the top-k.** ``torch.topk``'s order among equal entropies is unspecified; here equal entropies at the
  cutoff are taken in flat order, lower ``layer * n_neurons + neuron`` first. Like ``torch.topk``, exactly ``k``
  neurons are selected: when fewer than ``k`` are candidates, dismissed ones (entropy ``inf``) fill the rest
  (lowest flat index first). With ``activation_bar_ratio >= filter_rate`` (the released settings: both 0.95) a
  dismissed neuron has no ``p`` above the bar, so it joins no language.

**Null.** Permutation ``b`` relabels the samples with
:func:`linguafranca.analysis.permutation_null.permuted_labels` (group sizes kept; the same shuffles as every
other method's null) and runs the same selection on the permuted groups, thresholds included: ``null_count[b,
a, l]`` selected neurons of group ``a`` in layer ``l``. The thresholds are global over all layers, so each
permutation's per-group count sums ``[B, n_langs, n_layers, n_neurons]`` are kept until :meth:`result`. They
are sums of integer counts, held in float32 (exact: every partial sum is an integer at most the total number of
tokens, checked to be below ``2**24``; float64 otherwise) and summed by a float32 one-hot matrix product per
batch of :data:`~linguafranca.analysis.permutation_null.BATCH` permutations. At LLaMA-2-70B's shape (9
languages, 80 x 28,672 neurons) and ``B = 20`` they take 1.65 GB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linguafranca.analysis.permutation_null import BATCH, group_labels, shuffles
from linguafranca.errors import LinguaFrancaError

#: float32 holds every integer up to this exactly: below it, count sums in float32 are exact.
FLOAT32_EXACT = 2**24


@dataclass(frozen=True)
class LapeSettings:
    """The released ``identify.py`` settings: ``top_rate`` share of all neurons selected by lowest entropy,
    ``filter_rate`` and ``activation_bar_ratio`` quantiles (as k-th smallest values) of all probabilities."""

    top_rate: float = 0.01
    filter_rate: float = 0.95
    activation_bar_ratio: float = 0.95

    def check(self) -> None:
        for name in ("top_rate", "filter_rate", "activation_bar_ratio"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise LinguaFrancaError(f"LAPE {name} must be in (0, 1], got {value}")


@dataclass
class LapeSelection:
    """One LAPE selection: ``entropy`` float64 ``[n_layers, n_neurons]`` (``inf`` where dismissed),
    ``selected`` bool ``[n_layers, n_neurons]`` (the top-k), ``mask`` bool ``[n_langs, n_layers, n_neurons]``,
    and the thresholds ``top_prob_value`` and ``activation_bar``."""

    entropy: np.ndarray
    selected: np.ndarray
    mask: np.ndarray
    top_prob_value: float
    activation_bar: float


# ---------------------------------------------------------------------------------------------------------------
# Pure functions on arrays
# ---------------------------------------------------------------------------------------------------------------


def kth_rank(n_values: int, rate: float) -> int:
    """``round(n_values * rate)``, the 1-indexed rank ``identify.py`` asks ``kthvalue`` for; at least 1."""
    k = round(n_values * rate)
    if not 1 <= k <= n_values:
        raise LinguaFrancaError(f"the k-th smallest of {n_values} values at rate {rate} is k = {k}: out of range")
    return k


def kthvalue(values: np.ndarray, k: int) -> float:
    """The ``k``-th smallest of ``values`` (1-indexed), as ``torch.kthvalue(values.flatten(), k)``."""
    return float(np.partition(np.ravel(values), k - 1)[k - 1])


def smallest_k(values: np.ndarray, k: int) -> np.ndarray:
    """Bool mask like ``values`` of its ``k`` smallest, ties at the cutoff taken lower flat index first.

    The set ``torch.topk(values.flatten(), k, largest=False)`` returns when no tie straddles the cutoff
    (``inf`` included: like torch, exactly ``k`` are taken).
    """
    flat = np.ravel(values)
    chosen = np.zeros(flat.size, dtype=bool)
    if k > 0:
        cutoff = np.partition(flat, k - 1)[k - 1]
        chosen = flat < cutoff
        ties = np.flatnonzero(flat == cutoff)
        chosen[ties[: k - int(chosen.sum())]] = True
    return chosen.reshape(np.shape(values))


def activation_probability(counts: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """``p = counts / tokens``, float64 ``[n_langs, n_layers, n_neurons]``: ``counts`` the active-token sums
    ``[n_langs, n_layers, n_neurons]``, ``tokens`` each language's token total ``[n_langs]``."""
    tokens = np.asarray(tokens, dtype=np.float64)
    if np.any(tokens <= 0):
        raise LinguaFrancaError(f"every language needs tokens for an activation probability, got totals {tokens}")
    return np.asarray(counts, dtype=np.float64) / tokens[:, None, None]


def lape_entropy(probability: np.ndarray) -> np.ndarray:
    """Entropy across languages of the normalised activation probabilities, float64 ``[n_layers, n_neurons]``
    (``identify.py``: ``normed = p / p.sum``, NaN set to 0, ``-sum normed log normed`` with ``0 log 0 = 0``).

    ``probability``: float64 ``[n_langs, n_layers, n_neurons]``.
    """
    total = probability.sum(axis=0)
    normed = np.divide(probability, total, out=np.zeros_like(probability), where=total > 0)
    logs = np.log(normed, out=np.zeros_like(normed), where=normed > 0)
    normed *= logs
    return -normed.sum(axis=0)


def lape_select(probability: np.ndarray, settings: LapeSettings = LapeSettings()) -> LapeSelection:
    """The LAPE selection of ``identify.py`` on activation probabilities ``[n_langs, n_layers, n_neurons]``."""
    settings.check()
    probability = np.asarray(probability, dtype=np.float64)
    if probability.ndim != 3:
        raise LinguaFrancaError(f"probability must be [n_langs, n_layers, n_neurons], got shape {probability.shape}")
    if np.isnan(probability).any():
        raise LinguaFrancaError("activation probabilities hold NaN: a language without tokens?")
    n_values = probability.size
    k_filter = kth_rank(n_values, settings.filter_rate)
    k_bar = kth_rank(n_values, settings.activation_bar_ratio)
    flat = np.partition(probability.ravel(), sorted({k_filter - 1, k_bar - 1}))
    top_prob_value, activation_bar = float(flat[k_filter - 1]), float(flat[k_bar - 1])
    del flat
    entropy = lape_entropy(probability)
    entropy[~(probability > top_prob_value).any(axis=0)] = np.inf
    n_layers, n_neurons = entropy.shape
    selected = smallest_k(entropy, round(n_layers * n_neurons * settings.top_rate))
    mask = selected[None] & (probability > activation_bar)
    return LapeSelection(entropy, selected, mask, top_prob_value, activation_bar)


# ---------------------------------------------------------------------------------------------------------------
# Streaming, layer by layer
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class LapeResult:
    """LAPE of ``n_langs`` languages (the order of ``sizes``); arrays ``[n_langs, n_layers, n_neurons]`` unless
    noted.

    ``probability`` float64 activation probabilities; ``entropy`` float64 ``[n_layers, n_neurons]`` (``inf``:
    dismissed); ``selected`` bool ``[n_layers, n_neurons]`` the lowest-entropy top-k; ``mask`` bool, the
    language-specific neurons; ``top_prob_value`` and ``activation_bar`` the two thresholds.

    Null (None without permutations): ``null_count`` int64 ``[B, n_langs, n_layers]`` neurons of each permuted
    group per layer; ``null_top_prob_value`` and ``null_activation_bar`` float64 ``[B]`` each shuffle's
    thresholds.
    """

    probability: np.ndarray
    entropy: np.ndarray
    selected: np.ndarray
    mask: np.ndarray
    top_prob_value: float
    activation_bar: float
    settings: LapeSettings
    null_permutations: int = 0
    seed: int = 0
    null_count: np.ndarray | None = None
    null_top_prob_value: np.ndarray | None = None
    null_activation_bar: np.ndarray | None = None


def _one_hot(labels: np.ndarray, n_groups: int, dtype: type) -> np.ndarray:
    """One-hot rows of labellings ``[n_labellings, N]``: ``[n_labellings * n_groups, N]`` of ``dtype``."""
    return (labels[:, None, :] == np.arange(n_groups)[None, :, None]).reshape(-1, labels.shape[1]).astype(dtype)


class LapeAccumulator:
    """LAPE layer by layer: :meth:`add_layer` for every layer (any order, each once), then :meth:`result`.

    ``sizes``: samples per language, rows language-major; ``null_permutations``: label shuffles ``B`` of the
    null (0: none); ``seed``: seeds them (see :func:`~linguafranca.analysis.permutation_null.permuted_labels`).
    Memory: the count sums, float64 ``[n_langs, n_layers, n_neurons]``, and with a null float32 ``[B, n_langs,
    n_layers, n_neurons]``.
    """

    name = "lape"

    def __init__(
        self,
        sizes: list[int],
        n_layers: int,
        n_neurons: int,
        settings: LapeSettings = LapeSettings(),
        null_permutations: int = 0,
        seed: int = 0,
    ):
        settings.check()
        if null_permutations < 0:
            raise LinguaFrancaError(f"null_permutations must be 0 or more, got {null_permutations}")
        self.sizes, self.n_layers, self.n_neurons = [int(s) for s in sizes], int(n_layers), int(n_neurons)
        self.settings, self.null_permutations, self.seed = settings, int(null_permutations), int(seed)
        n_langs = len(self.sizes)
        self.counts = np.zeros((n_langs, self.n_layers, self.n_neurons), dtype=np.float64)
        self.observed = _one_hot(group_labels(self.sizes)[None], n_langs, np.float64)
        self.labels = shuffles(self.sizes, self.null_permutations, self.seed)
        self.null_counts: np.ndarray | None = None
        self.n_tokens: np.ndarray | None = None
        self.done = np.zeros(self.n_layers, dtype=bool)

    def _start(self, n_tokens: np.ndarray) -> None:
        """On the first layer: the token counts fix the null's storage precision."""
        self.n_tokens = n_tokens
        if self.null_permutations:
            dtype = np.float32 if n_tokens.sum() < FLOAT32_EXACT else np.float64
            shape = (self.null_permutations, len(self.sizes), self.n_layers, self.n_neurons)
            self.null_counts = np.zeros(shape, dtype=dtype)
            self.batches = [
                _one_hot(self.labels[start : start + BATCH], len(self.sizes), dtype)
                for start in range(0, self.null_permutations, BATCH)
            ]

    def add_layer(self, layer: int, X: np.ndarray | None, A: np.ndarray, n_tokens: np.ndarray) -> None:
        """Take one layer: ``A`` float64 ``[N, n_neurons]`` active-token counts per sample (integers, at most
        ``n_tokens``), ``n_tokens`` int ``[N]`` tokens per sample (the same for every layer). ``X`` is unused."""
        n_tokens = np.asarray(n_tokens, dtype=np.int64)
        A = np.asarray(A, dtype=np.float64)
        if A.shape != (sum(self.sizes), self.n_neurons):
            raise LinguaFrancaError(f"layer {layer}: A must be [{sum(self.sizes)}, {self.n_neurons}], got {A.shape}")
        if np.any(A < 0) or np.any(A > n_tokens[:, None]):
            raise LinguaFrancaError(f"layer {layer}: active counts must lie between 0 and the sample's n_tokens")
        if self.n_tokens is None:
            self._start(n_tokens)
        elif not np.array_equal(n_tokens, self.n_tokens):
            raise LinguaFrancaError(f"layer {layer}: n_tokens differ from the first layer's; they are per sample")
        if self.done[layer]:
            raise LinguaFrancaError(f"layer {layer} was added twice")
        self.counts[:, layer] = self.observed @ A
        if self.null_counts is not None:
            data = A.astype(self.null_counts.dtype)
            for start, one_hot in zip(range(0, self.null_permutations, BATCH), self.batches):
                sums = (one_hot @ data).reshape(-1, len(self.sizes), self.n_neurons)
                self.null_counts[start : start + len(sums), :, layer] = sums
        self.done[layer] = True

    def _tokens(self, labels: np.ndarray) -> np.ndarray:
        """Token totals of every group of one labelling ``[N]``: int64 ``[n_langs]``."""
        return np.bincount(labels, weights=self.n_tokens, minlength=len(self.sizes)).round().astype(np.int64)

    def result(self) -> LapeResult:
        """The selection over all layers, and the null's counts when asked for."""
        if not self.done.all():
            raise LinguaFrancaError(f"LAPE needs every layer; missing {np.flatnonzero(~self.done).tolist()}")
        probability = activation_probability(self.counts, self._tokens(group_labels(self.sizes)))
        chosen = lape_select(probability, self.settings)
        result = LapeResult(
            probability, chosen.entropy, chosen.selected, chosen.mask, chosen.top_prob_value,
            chosen.activation_bar, self.settings, self.null_permutations, self.seed,
        )
        if self.null_counts is not None:
            B = self.null_permutations
            result.null_count = np.zeros((B, len(self.sizes), self.n_layers), dtype=np.int64)
            result.null_top_prob_value = np.empty(B)
            result.null_activation_bar = np.empty(B)
            for b in range(B):
                null = lape_select(activation_probability(self.null_counts[b], self._tokens(self.labels[b])),
                                   self.settings)
                result.null_count[b] = null.mask.sum(axis=2)
                result.null_top_prob_value[b], result.null_activation_bar[b] = null.top_prob_value, null.activation_bar
        return result


def lape(
    A: np.ndarray,
    n_tokens: np.ndarray,
    sizes: list[int],
    settings: LapeSettings = LapeSettings(),
    null_permutations: int = 0,
    seed: int = 0,
) -> LapeResult:
    """LAPE in one call on all layers at once: ``A`` float64 ``[n_layers, N, n_neurons]`` active counts,
    ``n_tokens`` int ``[N]``; the same as :class:`LapeAccumulator` fed layer by layer."""
    A = np.asarray(A)
    accumulator = LapeAccumulator(sizes, A.shape[0], A.shape[2], settings, null_permutations, seed)
    for layer in range(A.shape[0]):
        accumulator.add_layer(layer, None, A[layer], n_tokens)
    return accumulator.result()

