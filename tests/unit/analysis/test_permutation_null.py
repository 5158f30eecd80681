"""The label-shuffled null and per-neuron significance against brute-force loops, planted neurons and pure noise."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from linguafranca.analysis.permutation_null import benjamini_hochberg, group_contributions, layer_null, permuted_labels
from linguafranca.analysis.regions import (
    NullSettings,
    compute_regions,
    contributions,
    sklr_table,
    write_regions,
    write_sklr,
    zscores,
)
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.regions_store import read_regions
from linguafranca.io.tsv import read_tsv
from tests.helpers.stores import write_stores

PLANTED_LANGS = ["en", "de", "zh", "fr", "ar", "hi"]


def unit_rows(rng, n_rows, n_neurons):
    X = np.abs(rng.standard_normal((n_rows, n_neurons)))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_shuffles_keep_group_sizes_and_repeat_from_their_seed():
    sizes = [5, 3, 4]
    labels = permuted_labels(sizes, 0, 30, seed=7)
    assert labels.shape == (30, 12)
    for row in labels:
        np.testing.assert_array_equal(np.bincount(row, minlength=3), sizes)
    np.testing.assert_array_equal(labels, permuted_labels(sizes, 0, 30, seed=7))
    np.testing.assert_array_equal(labels[10:20], permuted_labels(sizes, 10, 20, seed=7))  # b-th is always the same
    assert not np.array_equal(labels, permuted_labels(sizes, 0, 30, seed=8))
    assert len({tuple(row) for row in labels}) > 25  # shuffles, not one labelling repeated


def test_group_contributions_are_eq_10_11_of_each_group():
    rng = np.random.default_rng(1)
    X = unit_rows(rng, 12, 6)
    sizes = [5, 3, 4]
    labels = permuted_labels(sizes, 0, 4, seed=0)
    got = group_contributions(X, X * X, labels, sizes)
    for b, row in enumerate(labels):
        for g in range(3):
            np.testing.assert_allclose(got[b, g], contributions(X[row == g]), rtol=1e-12, atol=1e-15)


def brute_null(X, sizes, threshold, B, S, seed, statistic):
    """Null counts and full (unpruned) pooled p-values by loops over permutations, groups and languages."""
    m = len(sizes)
    observed = np.stack([contributions(X[np.repeat(np.arange(m), sizes) == a]) for a in range(m)])
    labels = permuted_labels(sizes, 0, max(B, S), seed)
    nulls = [np.stack([contributions(X[row == g]) for g in range(m)]) for row in labels]
    counts = np.array([(zscores(C) > threshold).sum(axis=1) for C in nulls[:B]]).reshape(B, m)
    stat = statistic(observed)
    p = np.zeros_like(stat)
    for a in range(m):
        for k in range(stat.shape[1]):
            values = [stat[g, k] for g in range(m)] + [statistic(C)[g, k] for C in nulls[:S] for g in range(m)]
            p[a, k] = sum(v >= stat[a, k] for v in values) / ((S + 1) * m)
    return observed, counts, p


@pytest.mark.parametrize("statistic", [zscores, lambda C: C])
def test_layer_null_matches_loops_and_prunes_only_what_cannot_be_significant(statistic):
    rng = np.random.default_rng(2)
    sizes, q, threshold = [6, 6, 6], 0.2, 1.0
    X = unit_rows(rng, 18, 40)
    X[:6, :5] *= 3  # a few neurons stand out for language 0
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    observed, counts, p = brute_null(X, sizes, threshold, B=25, S=60, seed=3, statistic=statistic)
    got = layer_null(X, observed, sizes, lambda C: zscores(C) > threshold, statistic, 25, 60, q, seed=3)
    np.testing.assert_array_equal(got.counts, counts)
    exact = p <= q
    assert exact.any() and (~exact).any()
    np.testing.assert_allclose(got.pvalue[exact], p[exact], rtol=1e-12)
    assert (got.pvalue[~exact] > q).all() and (got.pvalue[~exact] <= p[~exact] + 1e-12).all()


def brute_bh(p, q):
    order = sorted(range(len(p)), key=lambda i: p[i])
    k = max([rank for rank in range(1, len(p) + 1) if p[order[rank - 1]] <= q * rank / len(p)], default=0)
    rejected = np.zeros(len(p), dtype=bool)
    rejected[order[:k]] = True
    return rejected


def test_benjamini_hochberg_is_the_step_up_rule():
    rng = np.random.default_rng(4)
    for _ in range(20):
        p = np.concatenate([rng.uniform(0, 0.01, 10), rng.uniform(size=90)])
        np.testing.assert_array_equal(benjamini_hochberg(p, 0.05), brute_bh(p, 0.05))
    assert not benjamini_hochberg(np.full(5, 0.5), 0.05).any()
    with pytest.raises(LinguaFrancaError, match="between 0 and 1"):
        benjamini_hochberg(np.ones(3), 1.5)


def test_pure_noise_keeps_the_false_discovery_rate_at_or_below_q():
    """All nulls true, so the FDP of a (seed, language) is 1 if anything is found in that language's family (BH
    runs per language): its mean is the chance of any discovery."""
    sizes, q, n_neurons, seeds = [8, 8, 8], 0.1, 20, 200
    fdp, raw = [], []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        X = unit_rows(rng, 24, n_neurons)
        observed = np.stack([contributions(X[8 * a : 8 * (a + 1)]) for a in range(3)])
        p = layer_null(X, observed, sizes, lambda C: C > np.inf, zscores, 0, 150, q, seed=seed).pvalue
        found = np.stack([benjamini_hochberg(row, q) for row in p])
        fdp += found.any(axis=1).tolist()
        raw += (p <= q).any(axis=1).tolist()
    assert np.mean(fdp) <= q + 2 * np.sqrt(q * (1 - q) / seeds)
    assert np.mean(raw) > 0.5  # uncorrected p <= q finds something in most seeds: the test can fail


@pytest.fixture
def planted(tmp_path):
    """6 languages x 12 samples x 2 layers x 30 neurons of noise; neurons 0-3 of layer 1 fire for en only."""
    rng = np.random.default_rng(5)
    means = np.abs(rng.standard_normal((6, 12, 2, 30))).astype(np.float32) + 1
    means[0, :, 1, :4] += 3
    return write_stores(tmp_path, means, PLANTED_LANGS)


@pytest.mark.parametrize("statistic", ["zscore", "contribution"])
def test_planted_neurons_are_significant(planted, statistic):
    result = compute_regions(planted, threshold=1.0, null=NullSettings(10, 400, 0.05, statistic))
    assert result.significant[0, 1, :4].all()
    assert result.significant.sum() <= 6  # the planted ones, and very few others
    assert result.significant.shape == result.mask.shape
    assert (result.random_masks_significant.sum(axis=(1, 2)) == result.significant.sum(axis=(1, 2))).all()
    assert result.pvalue[0, 1, :4].max() <= 5 / (401 * 6)  # at most a few of 2,406 values reach a planted one


def test_without_permutations_the_regions_are_todays_and_the_null_leaves_them_alone(planted, tmp_path):
    today = compute_regions(planted, threshold=1.0)
    off = compute_regions(planted, threshold=1.0, null=NullSettings(0, 0))
    on = compute_regions(planted, threshold=1.0, null=NullSettings(20, 100))
    for result in (off, on):
        for name in ("contribution", "zscore", "mask", "random_mask", "random_masks_per_language"):
            np.testing.assert_array_equal(getattr(result, name), getattr(today, name))
    write_regions(today, tmp_path / "today.zarr")
    write_regions(off, tmp_path / "off.zarr")
    a, b = zarr.open_group(str(tmp_path / "today.zarr")), zarr.open_group(str(tmp_path / "off.zarr"))
    assert sorted(a.array_keys()) == sorted(b.array_keys()) and dict(a.attrs) == dict(b.attrs)
    for name in a.array_keys():
        np.testing.assert_array_equal(a[name][...], b[name][...])
    write_sklr(today, tmp_path / "today.tsv")
    write_sklr(off, tmp_path / "off.tsv")
    assert (tmp_path / "today.tsv").read_text() == (tmp_path / "off.tsv").read_text()


def test_null_counts_reach_the_store_and_the_sklr_table(planted, tmp_path):
    result = compute_regions(planted, threshold=1.0, null=NullSettings(20, 100))
    assert result.null_count.shape == (20, 6, 2)
    write_regions(result, tmp_path / "r.zarr")
    write_sklr(result, tmp_path / "r.tsv")
    group = zarr.open_group(str(tmp_path / "r.zarr"))
    np.testing.assert_array_equal(group["null_count"][...], result.null_count)
    sklr = result.null_count.sum(axis=(1, 2))
    assert group.attrs["null_sklr_mean"] == pytest.approx(sklr.mean())
    assert group.attrs["null_sklr_p95"] == pytest.approx(np.percentile(sklr, 95))
    assert group.attrs["significant_size"] == result.significant.sum(axis=(1, 2)).tolist()
    stored = read_regions(tmp_path / "r.zarr")
    np.testing.assert_array_equal(stored.significant, result.significant)
    rows = {row["layer"]: row for row in read_tsv(tmp_path / "r.tsv")}
    assert float(rows["total"]["null_mean"]) == pytest.approx(sklr.mean())
    assert float(rows["1"]["null_p95"]) == pytest.approx(np.percentile(result.null_count[:, :, 1].sum(axis=1), 95))
    assert float(rows["null_sd"]["en"]) == pytest.approx(result.null_count[:, 0].sum(axis=1).std())
    assert int(rows["significant"]["all"]) == int(result.significant.sum())
    assert int(rows["0"]["significant"]) == int(result.significant[:, 0].sum())
    assert rows["null_mean"]["null_mean"] == "n/a"
    assert [row["layer"] for row in sklr_table(result)][-4:] == ["null_mean", "null_sd", "null_p95", "significant"]


def test_bad_null_settings_are_one_line_errors(planted):
    with pytest.raises(LinguaFrancaError, match="0 or more"):
        compute_regions(planted, null=NullSettings(-1, 0))
    with pytest.raises(LinguaFrancaError, match="fdr_q"):
        compute_regions(planted, null=NullSettings(1, 0, fdr_q=0))
    with pytest.raises(LinguaFrancaError, match="unknown significance statistic"):
        compute_regions(planted, null=NullSettings(1, 0, statistic="t"))

