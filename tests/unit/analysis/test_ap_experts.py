"""AP experts against sklearn's average precision per neuron and language (ties and constant columns included),
brute-force sorts for the experts, each shuffle run directly for the null, and np.median for the medians."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from linguafranca.analysis import ap_experts as module
from linguafranca.analysis.ap_experts import (
    ExpertsAccumulator,
    ExpertsSettings,
    ap_experts,
    average_precision,
    language_medians,
)
from linguafranca.analysis.permutation_null import permuted_labels
from linguafranca.errors import LinguaFrancaError

SIZES = [7, 7, 7]
N_LAYERS, N_NEURONS = 3, 40
#: (language, layer, neuron): planted high for that language, and planted low
HIGH = [(0, 0, 5), (1, 2, 9), (2, 1, 30)]
LOW = [(0, 1, 12), (2, 2, 3)]


def planted(seed=0, dtype=np.float32):
    """Responses ``[layers, N, neurons]``: noise, planted neurons, a constant column, a column of few values (ties
    across and within languages), a column of zeros and negative zeros; float32 values unless ``dtype``."""
    rng = np.random.default_rng(seed)
    n_rows = sum(SIZES)
    X = rng.standard_normal((N_LAYERS, n_rows, N_NEURONS)).astype(dtype).astype(np.float64)
    starts = np.cumsum([0, *SIZES])
    for lang, layer, neuron in HIGH:
        X[layer, starts[lang] : starts[lang + 1], neuron] += 5
    for lang, layer, neuron in LOW:
        X[layer, starts[lang] : starts[lang + 1], neuron] -= 5
    X[0, :, 0] = 1.5  # constant
    X[1, :, 1] = rng.integers(0, 3, n_rows)  # three values: ties everywhere
    X[2, :, 2] = np.where(rng.random(n_rows) < 0.5, 0.0, -0.0)  # +0 and -0 are equal scores
    X[2, :4, 2] = 1.0
    return X


def sklearn_ap(X, labels, n_groups):
    return np.array([[average_precision_score(labels == a, column) for column in X.T] for a in range(n_groups)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])  # packed float32 keys, and argsort of float64
def test_average_precision_is_sklearn_s_including_ties_and_constant_columns(dtype):
    X = planted(dtype=dtype)
    labels = np.repeat(np.arange(3), SIZES)
    for layer in range(N_LAYERS):
        top, bottom = average_precision(X[layer], labels, 3, bottom=True)
        np.testing.assert_allclose(top, sklearn_ap(X[layer], labels, 3), rtol=1e-12, atol=0)
        np.testing.assert_allclose(bottom, sklearn_ap(-X[layer], labels, 3), rtol=1e-12, atol=0)
    np.testing.assert_allclose(average_precision(X[0], labels, 3)[0][:, 0], 7 / 21)  # constant: prevalence


def test_unequal_groups_shuffled_labels_and_chunks(monkeypatch):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 50)).round(1)  # ties; not float32-exact
    labels = rng.permutation(np.repeat(np.arange(4), [3, 12, 5, 10]))
    monkeypatch.setattr(module, "CHUNK", 7)
    top, bottom = average_precision(X, labels, 4, bottom=True)
    np.testing.assert_allclose(top, sklearn_ap(X, labels, 4), rtol=1e-12)
    np.testing.assert_allclose(bottom, sklearn_ap(-X, labels, 4), rtol=1e-12)


def brute_experts(ap, k):
    """Sort each language's flat APs by (AP descending, flat index ascending) and take the first k."""
    flat = ap.reshape(len(ap), -1)
    mask = np.zeros(flat.shape, dtype=bool)
    for a, values in enumerate(flat):
        order = sorted(range(values.size), key=lambda i: (-values[i], i))[:k]
        mask[a, order] = True
    return mask.reshape(ap.shape)


def test_experts_are_the_best_aps_and_find_the_planted_neurons():
    X = planted()
    got = ap_experts(X, SIZES, ExpertsSettings(experts=2, bottom=True))
    labels = np.repeat(np.arange(3), SIZES)
    for layer in range(N_LAYERS):
        np.testing.assert_allclose(got.ap[:, layer], sklearn_ap(X[layer], labels, 3), rtol=1e-12)
        np.testing.assert_allclose(got.ap_bottom[:, layer], sklearn_ap(-X[layer], labels, 3), rtol=1e-12)
    np.testing.assert_array_equal(got.mask_top, brute_experts(got.ap, 2))
    np.testing.assert_array_equal(got.mask_bottom, brute_experts(got.ap_bottom, 2))
    np.testing.assert_array_equal(got.mask, got.mask_top | got.mask_bottom)
    for lang, layer, neuron in HIGH:
        assert got.mask_top[lang, layer, neuron] and got.ap[lang, layer, neuron] == 1
    for lang, layer, neuron in LOW:
        assert got.mask_bottom[lang, layer, neuron] and got.ap_bottom[lang, layer, neuron] == 1
    assert got.mask_top.sum(axis=(1, 2)).tolist() == [2, 2, 2]
    np.testing.assert_array_equal(got.cutoff_ap, [np.sort(a.ravel())[-2] for a in got.ap])
    share = ap_experts(X, SIZES, ExpertsSettings(experts=0.05, bottom=False))
    assert share.experts == round(0.05 * N_LAYERS * N_NEURONS) and share.ap_bottom is None
    np.testing.assert_array_equal(share.mask, brute_experts(share.ap, share.experts))


def test_ties_at_the_cutoff_go_to_the_lower_flat_index():
    X = np.zeros((2, 6, 4))
    X[0, :3, 1] = X[1, :3, 0] = X[1, :3, 3] = 1.0  # three perfect experts of language 0: (0, 1), (1, 0), (1, 3)
    got = ap_experts(X, [3, 3], ExpertsSettings(experts=2, bottom=False))
    assert {tuple(int(i) for i in x) for x in zip(*np.nonzero(got.mask_top[0]))} == {(0, 1), (1, 0)}


def test_null_is_each_shuffle_run_directly_and_its_first_shuffles_do_not_depend_on_b():
    X = planted(seed=4)
    settings = ExpertsSettings(experts=5, bottom=True)
    got = ap_experts(X, SIZES, settings, null_permutations=6, seed=9)
    labels = permuted_labels(SIZES, 0, 6, seed=9)
    for b in range(6):
        for bottom, counts, cutoffs in ((0, got.null_count, got.null_cutoff_ap),
                                        (1, got.null_count_bottom, got.null_cutoff_ap_bottom)):
            ap = np.stack([average_precision(X[layer], labels[b], 3, bottom=True)[bottom] for layer in range(3)], 1)
            np.testing.assert_allclose(ap[:, 0], sklearn_ap((-1) ** bottom * X[0], labels[b], 3), rtol=1e-12)
            mask = brute_experts(ap, 5)
            np.testing.assert_array_equal(counts[b], mask.sum(axis=2))
            np.testing.assert_array_equal(cutoffs[b], [np.sort(a.ravel())[-5] for a in ap])
    assert got.null_count.shape == (6, 3, 3) and (got.null_count.sum(axis=2) == 5).all()
    best = ap_experts(X, SIZES, ExpertsSettings(experts=1), null_permutations=6, seed=9)
    assert (best.cutoff_ap == 1).all() and (best.null_cutoff_ap < 1).all()  # planted experts beat chance
    fewer = ap_experts(X, SIZES, settings, null_permutations=2, seed=9)
    np.testing.assert_array_equal(fewer.null_count, got.null_count[:2])
    np.testing.assert_array_equal(fewer.null_cutoff_ap_bottom, got.null_cutoff_ap_bottom[:2])


def test_threads_and_layer_order_do_not_change_the_result(monkeypatch):
    monkeypatch.setattr(module, "CHUNK", 16)
    X = planted(seed=2)
    reference = ap_experts(X, SIZES, ExpertsSettings(experts=4), null_permutations=3, seed=1)
    accumulator = ExpertsAccumulator(SIZES, N_LAYERS, N_NEURONS, ExpertsSettings(experts=4), 3, 1, threads=2)
    for layer in (2, 0, 1):
        accumulator.add_layer(layer, X[layer])
    got = accumulator.result()
    np.testing.assert_array_equal(got.ap, reference.ap)
    np.testing.assert_array_equal(got.mask, reference.mask)
    np.testing.assert_array_equal(got.null_count, reference.null_count)
    np.testing.assert_array_equal(got.null_cutoff_ap, reference.null_cutoff_ap)
    with pytest.raises(LinguaFrancaError, match="twice"):
        accumulator.add_layer(0, X[0])
    with pytest.raises(LinguaFrancaError, match="share"):
        ExpertsSettings(experts=1.5).count(10)
    with pytest.raises(LinguaFrancaError, match="between 1"):
        ExpertsSettings(experts=11).count(10)


def test_language_medians_are_np_median_per_language():
    rng = np.random.default_rng(5)
    sizes = [4, 7, 5]
    X = rng.standard_normal((16, 9))
    got = language_medians(X, sizes)
    starts = np.cumsum([0, *sizes])
    for a in range(3):
        np.testing.assert_array_equal(got[a], np.median(X[starts[a] : starts[a + 1]], axis=0))
    assert got.shape == (3, 9) and got.dtype == np.float64
    with pytest.raises(LinguaFrancaError, match="rows"):
        language_medians(X, [4, 4])


def direct_ap(X, labels, n_groups):
    """The definition, term by term: ``AP_a = mean over r in a of #{s in a: X_s >= X_r} / #{s: X_s >= X_r}``."""
    above = X[:, None, :] >= X[None, :, :]  # [s, r, column]: X_s >= X_r
    return np.stack([(above[labels == a].sum(0) / above.sum(0))[labels == a].mean(0) for a in range(n_groups)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_many_ties_match_the_definition_and_sklearn(monkeypatch, dtype):
    """Runs of every length, within and across groups, as the tie corrections of the fast path see them."""
    rng = np.random.default_rng(11)
    n_rows = 150
    columns = [rng.integers(0, k, n_rows) for k in (2, 3, 5, 20, 60, 140)]  # few values: long runs
    columns += [np.where(rng.random(n_rows) < 0.3, 0.0, rng.standard_normal(n_rows)) for _ in range(3)]
    columns += [np.full(n_rows, -2.0), np.where(rng.random(n_rows) < 0.5, 0.0, -0.0), rng.standard_normal(n_rows)]
    X = np.stack(columns, axis=1).astype(dtype).astype(np.float64)
    if dtype == np.float64:
        X[:, 3] += 1e-9 * (X[:, 3] > 5)  # not float32-exact: the argsort path
    labels = rng.permutation(np.repeat(np.arange(4), [20, 70, 45, 15]))
    monkeypatch.setattr(module, "CHUNK", 5)
    top, bottom = average_precision(X, labels, 4, bottom=True)
    np.testing.assert_allclose(top, direct_ap(X, labels, 4), rtol=1e-12, atol=0)
    np.testing.assert_allclose(bottom, direct_ap(-X, labels, 4), rtol=1e-12, atol=0)
    np.testing.assert_allclose(top, sklearn_ap(X, labels, 4), rtol=1e-12, atol=0)
    np.testing.assert_allclose(bottom, sklearn_ap(-X, labels, 4), rtol=1e-12, atol=0)
