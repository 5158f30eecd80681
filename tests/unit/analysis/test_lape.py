"""LAPE against a torch transcription of the released identify.py, on planted language neurons, and its null
against the selection run on each permutation's labels directly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from linguafranca.analysis.lape import LapeAccumulator, LapeSettings, lape, lape_select, smallest_k
from linguafranca.analysis.permutation_null import permuted_labels
from linguafranca.errors import LinguaFrancaError

SIZES = [6, 6, 6, 6]
N_LAYERS, N_NEURONS = 3, 50
#: (language, layer, neuron) planted to fire only for that language
PLANTED = [(0, 0, 3), (1, 1, 7), (2, 2, 11), (3, 0, 20), (0, 2, 41)]


def released_identify(over_zero: torch.Tensor, n: torch.Tensor, top_rate=0.01, filter_rate=0.95, bar=0.95):
    """identify.py's ``activation()``, its arithmetic line by line (float64 tensors instead of its float32):
    ``over_zero`` ``[layers, neurons, langs]``, ``n`` ``[langs]``. Returns the probabilities, entropy, mask
    ``[langs, layers, neurons]`` and the two thresholds."""
    activation_probs = over_zero / n  # layer x inter x lang_num
    normed_activation_probs = activation_probs / activation_probs.sum(dim=-1, keepdim=True)
    normed_activation_probs[torch.isnan(normed_activation_probs)] = 0
    log_probs = torch.where(normed_activation_probs > 0, normed_activation_probs.log(), 0)
    entropy = -torch.sum(normed_activation_probs * log_probs, dim=-1)
    flattened_probs = activation_probs.flatten()
    top_prob_value = flattened_probs.kthvalue(round(len(flattened_probs) * filter_rate)).values.item()
    top_position = (activation_probs > top_prob_value).sum(dim=-1)
    entropy[top_position == 0] = torch.inf
    flattened_entropy = entropy.flatten()
    top_entropy_value = round(len(flattened_entropy) * top_rate)
    _, index = flattened_entropy.topk(top_entropy_value, largest=False)
    row_index = index // entropy.size(1)
    col_index = index % entropy.size(1)
    selected_probs = activation_probs[row_index, col_index].transpose(0, 1)
    activation_bar = flattened_probs.kthvalue(round(len(flattened_probs) * bar)).values.item()
    lang, indice = torch.where(selected_probs > activation_bar)
    mask = torch.zeros(activation_probs.shape[::-1][:1] + activation_probs.shape[:2], dtype=torch.bool)
    mask[lang, row_index[indice], col_index[indice]] = True
    return activation_probs, entropy, mask, top_prob_value, activation_bar


def planted(seed=0, sizes=SIZES, leak=True):
    """Active counts ``[layers, N, neurons]`` and tokens ``[N]``: every neuron fires on a random share of tokens
    common to all languages, the planted ones on 90% of their language's tokens and, with ``leak``, on a few
    other tokens (distinct entropies, so no tie leaves torch.topk's order unspecified); never without."""
    rng = np.random.default_rng(seed)
    n_rows = sum(sizes)
    n_tokens = rng.integers(20, 60, n_rows)
    rate = rng.uniform(0.05, 0.5, (N_LAYERS, 1, N_NEURONS))
    A = rng.binomial(n_tokens[None, :, None], rate * np.ones((1, n_rows, 1))).astype(np.float64)
    starts = np.cumsum([0, *sizes])
    for lang, layer, neuron in PLANTED:
        A[layer, :, neuron] = rng.binomial(n_tokens, 0.02) if leak else 0
        rows = slice(starts[lang], starts[lang + 1])
        A[layer, rows, neuron] = rng.binomial(n_tokens[rows], 0.9)
    return A, n_tokens


def group_sums(A, n_tokens, labels, n_langs):
    """Brute force: ``over_zero`` ``[layers, neurons, langs]`` and ``n`` ``[langs]`` of one labelling."""
    over_zero = np.stack([A[:, labels == a].sum(axis=1) for a in range(n_langs)], axis=-1)
    n = np.array([n_tokens[labels == a].sum() for a in range(n_langs)], dtype=np.float64)
    return torch.from_numpy(over_zero), torch.from_numpy(n)


@pytest.mark.parametrize("settings", [LapeSettings(), LapeSettings(0.05, 0.9, 0.95), LapeSettings(0.1, 0.5, 0.8)])
def test_lape_matches_the_released_code_and_finds_the_planted_neurons(settings):
    A, n_tokens = planted()
    labels = np.repeat(np.arange(len(SIZES)), SIZES)
    probs, entropy, mask, top_value, bar = released_identify(
        *group_sums(A, n_tokens, labels, len(SIZES)), settings.top_rate, settings.filter_rate,
        settings.activation_bar_ratio,
    )
    got = lape(A, n_tokens, SIZES, settings)
    np.testing.assert_allclose(got.probability, probs.permute(2, 0, 1).numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(got.entropy, entropy.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got.mask, mask.numpy())
    assert (got.top_prob_value, got.activation_bar) == (top_value, bar)
    assert got.selected.sum() == round(N_LAYERS * N_NEURONS * settings.top_rate)
    found = {tuple(int(i) for i in x) for x in zip(*np.nonzero(got.mask))}
    if settings.top_rate < 0.05:  # round(1.5) = 2 of 150 neurons: two planted ones, each for its language
        assert len(found) == 2 and found <= set(PLANTED)
    else:  # 7 or 15 selected: every planted neuron, for its language alone
        assert set(PLANTED) <= found
        for lang, layer, neuron in PLANTED:
            np.testing.assert_array_equal(got.mask[:, layer, neuron], np.arange(len(SIZES)) == lang)


def test_the_released_top_rate_selects_two_planted_neurons_by_flat_order():
    """Five planted neurons tie at entropy 0 for round(150 * 0.01) = 2 places: the two first in flat order."""
    A, n_tokens = planted(leak=False)
    got = lape(A, n_tokens, SIZES)
    assert all(got.entropy[layer, neuron] == 0 for _, layer, neuron in PLANTED)
    flat_order = sorted(PLANTED, key=lambda p: (p[1], p[2]))[:2]
    assert {tuple(int(i) for i in x) for x in zip(*np.nonzero(got.mask))} == set(flat_order)


def test_dismissed_neurons_fill_the_top_k_like_torch_topk():
    """Fewer candidates than k: dismissed neurons (entropy inf) are selected, lowest flat index first, and join
    no language when the bar is at least the filter."""
    probability = np.zeros((2, 1, 10))
    probability[0, 0, 4] = 0.9  # the only value above the 95% filter: the only candidate
    probability[:, 0, 6] = 0.5
    got = lape_select(probability, LapeSettings(top_rate=0.3))
    np.testing.assert_array_equal(np.flatnonzero(got.selected[0]), [0, 1, 4])
    assert np.isinf(got.entropy[0, [0, 1, 6]]).all() and got.entropy[0, 4] == 0
    np.testing.assert_array_equal(got.mask.sum(axis=(1, 2)), [1, 0])
    _, index = torch.from_numpy(got.entropy.ravel()).topk(3, largest=False)
    assert 4 in index.tolist() and len(index) == 3  # torch also fills with inf


def test_smallest_k_takes_ties_lower_index_first():
    values = np.array([3.0, 1.0, 2.0, 1.0, 2.0, 2.0, np.inf])
    np.testing.assert_array_equal(np.flatnonzero(smallest_k(values, 3)), [1, 2, 3])
    np.testing.assert_array_equal(np.flatnonzero(smallest_k(values, 4)), [1, 2, 3, 4])
    assert not smallest_k(values, 0).any()


def test_null_is_the_selection_on_each_shuffle_and_its_first_shuffles_do_not_depend_on_b():
    A, n_tokens = planted(seed=1)
    settings = LapeSettings(0.1, 0.9, 0.9)
    got = lape(A, n_tokens, SIZES, settings, null_permutations=23, seed=5)  # two batches of BATCH = 20
    labels = permuted_labels(SIZES, 0, 23, seed=5)
    for b in range(23):
        _, _, mask, top_value, bar = released_identify(
            *group_sums(A, n_tokens, labels[b], len(SIZES)), settings.top_rate, settings.filter_rate,
            settings.activation_bar_ratio,
        )
        np.testing.assert_array_equal(got.null_count[b], mask.numpy().sum(axis=2))
        assert (got.null_top_prob_value[b], got.null_activation_bar[b]) == (top_value, bar)
    assert got.null_count.shape == (23, 4, 3) and got.null_count.dtype == np.int64
    fewer = lape(A, n_tokens, SIZES, settings, null_permutations=4, seed=5)
    np.testing.assert_array_equal(fewer.null_count, got.null_count[:4])
    np.testing.assert_array_equal(fewer.mask, got.mask)
    # planted neurons are language-specific; shuffled groups share them, so the null finds fewer pure ones
    assert got.null_count.sum(axis=(1, 2)).mean() != got.mask.sum()


def test_layers_in_any_order_and_checks():
    A, n_tokens = planted()
    accumulator = LapeAccumulator(SIZES, N_LAYERS, N_NEURONS, null_permutations=2)
    for layer in (2, 0, 1):
        accumulator.add_layer(layer, None, A[layer], n_tokens)
    np.testing.assert_array_equal(accumulator.result().mask, lape(A, n_tokens, SIZES).mask)
    with pytest.raises(LinguaFrancaError, match="twice"):
        accumulator.add_layer(0, None, A[0], n_tokens)
    partial = LapeAccumulator(SIZES, N_LAYERS, N_NEURONS)
    partial.add_layer(0, None, A[0], n_tokens)
    with pytest.raises(LinguaFrancaError, match="missing"):
        partial.result()
    with pytest.raises(LinguaFrancaError, match="between 0"):
        partial.add_layer(1, None, A[1] + 100, n_tokens)
    with pytest.raises(LinguaFrancaError, match="n_tokens differ"):
        partial.add_layer(1, None, A[1], n_tokens + 1)
