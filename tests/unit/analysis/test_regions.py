"""Contributions, z-scores and key regions against brute-force loops, planted regions, controls and outputs."""

from __future__ import annotations

import csv
import itertools
import math

import numpy as np
import pytest
import zarr

from linguafranca.analysis.regions import (
    RegionsResult,
    compute_regions,
    contributions,
    key_masks,
    sklr_table,
    warn_empty_regions,
    write_regions,
    write_sklr,
    zscores,
)
from linguafranca.analysis.similarity import write_similarity
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.regions_store import read_regions
from linguafranca.io.similarity_file import read_norms
from linguafranca.model.random_masks import matched_random_masks, random_mask
from tests.helpers.stores import write_stores

LANGS = ["en", "de", "zh"]


@pytest.fixture
def small(tmp_path):
    """3 languages x 5 samples x 2 layers x 7 neurons, positive like post-activation means, and the float64 data."""
    means = np.abs(np.random.default_rng(0).standard_normal((3, 5, 2, 7))).astype(np.float32)
    return write_stores(tmp_path, means, LANGS), means.astype(np.float64)


def brute_force_contributions(means):
    """``[n_langs, n, L, K]`` -> ``[n_langs, L, K]``: eq. 10-11 as a sum over pairs i < j of whole-model unit vectors."""
    n_langs, n, n_layers, n_neurons = means.shape
    out = np.zeros((n_langs, n_layers, n_neurons))
    for a in range(n_langs):
        v = [means[a, i] / math.sqrt(float(np.sum(means[a, i] ** 2))) for i in range(n)]
        for i, j in itertools.combinations(range(n), 2):
            out[a] += v[i] * v[j]
        out[a] *= 2 / (n * (n - 1))
    return out


def brute_force_zscores(C):
    Z = np.zeros_like(C)
    for index in np.ndindex(C.shape[1:]):
        values = [C[(a, *index)] for a in range(len(C))]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        for a, v in enumerate(values):
            Z[(a, *index)] = (v - mean) / std
    return Z


def test_contributions_and_zscores_match_pairwise_loops(small):
    stores, means = small
    result = compute_regions(stores, threshold=1.0)
    reference = brute_force_contributions(means)
    np.testing.assert_allclose(result.contribution, reference, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(result.zscore, brute_force_zscores(reference), atol=1e-10)
    np.testing.assert_array_equal(result.mask, brute_force_zscores(reference) > 1.0)
    assert 0 < result.sklr == int(result.mask.sum())


def test_norms_from_the_similarity_file_give_the_brute_force_regions(small, tmp_path):
    """The workflow's path: norms read back from similarity.h5 (float64, one per row) give eq. 10-11 exactly."""
    stores, means = small
    write_similarity(stores, tmp_path / "similarity.h5")
    norms = read_norms(tmp_path / "similarity.h5", list(stores))
    expected_norms = [math.sqrt(float(np.sum(row**2))) for row in means.reshape(15, -1)]
    np.testing.assert_allclose(norms, expected_norms, rtol=1e-13)
    given = compute_regions(stores, threshold=1.0, norms=norms)
    reference = brute_force_contributions(means)
    np.testing.assert_allclose(given.contribution, reference, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(given.mask, brute_force_zscores(reference) > 1.0)
    with pytest.raises(LinguaFrancaError, match="holds languages"):
        read_norms(tmp_path / "similarity.h5", list(reversed(list(stores))))
    with pytest.raises(LinguaFrancaError, match="do not fit these stores"):
        compute_regions(stores, norms=np.ones(3))
    with pytest.raises(LinguaFrancaError, match="do not fit these stores"):
        compute_regions(stores, norms=np.zeros(15))


def test_contributions_sum_to_mean_within_language_similarity(small):
    """Eq. 11's purpose: a language's contributions add up to its mean cosine similarity over pairs i != j,
    computed here one pair at a time from the raw means."""
    stores, means = small
    regions = compute_regions(stores)
    for a in range(len(LANGS)):
        rows = [means[a, i].reshape(-1) for i in range(5)]
        pairs = [
            float(np.dot(rows[i], rows[j]))
            / math.sqrt(float(np.dot(rows[i], rows[i])) * float(np.dot(rows[j], rows[j])))
            for i, j in itertools.permutations(range(5), 2)
        ]
        assert regions.contribution[a].sum() == pytest.approx(sum(pairs) / len(pairs), rel=1e-12)


def test_streaming_equals_the_dense_pairwise_products(tmp_path):
    """4 languages x 9 samples written in chunks of 4 samples (chunks split languages' samples unevenly): every
    neuron's contribution equals the mean over pairs i < j of the products v_ik v_jk, taken from the dense
    [n, n, neurons] array of all products, and the masks follow from its z-scores."""
    means = np.abs(np.random.default_rng(5).standard_normal((4, 9, 3, 11))) + 0.05
    stores = write_stores(tmp_path, means.astype(np.float32), ["en", "de", "zh", "ar"], block=4)
    flat = means.astype(np.float32).astype(np.float64).reshape(4, 9, -1)
    V = flat / np.linalg.norm(flat, axis=2, keepdims=True)
    upper = np.triu_indices(9, k=1)
    dense = np.stack([(V[a][:, None, :] * V[a][None, :, :])[upper].mean(axis=0) for a in range(4)]).reshape(4, 3, 11)
    result = compute_regions(stores, threshold=1.0)
    np.testing.assert_allclose(result.contribution, dense, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(result.zscore, brute_force_zscores(dense), atol=1e-9)
    np.testing.assert_array_equal(result.mask, brute_force_zscores(dense) > 1.0)


def test_planted_regions_are_recovered_exactly(tmp_path):
    """9 languages; language a's key neurons are 3 (others 1) in layer 0 neuron a and layer 1 neuron 11 - a.

    Integer data make every norm exact and equal, so non-key neurons contribute identically everywhere (z = 0)
    and a key neuron stands out in one language: z = sqrt(8) there, -1/sqrt(8) elsewhere."""
    n_langs, n, n_layers, n_neurons = 9, 4, 2, 12
    means = np.ones((n_langs, n, n_layers, n_neurons), dtype=np.float32)
    planted = np.zeros((n_langs, n_layers, n_neurons), dtype=bool)
    for a in range(n_langs):
        planted[a, 0, a] = planted[a, 1, n_neurons - 1 - a] = True
    means[planted[:, None].repeat(n, axis=1)] = 3
    result = compute_regions(write_stores(tmp_path, means, [f"l{a}" for a in range(n_langs)]))
    np.testing.assert_array_equal(result.mask, planted)
    np.testing.assert_allclose(result.zscore[planted], math.sqrt(8))
    untouched = ~planted.any(axis=0)
    assert (result.zscore[:, untouched] == 0).all()
    assert result.sklr == 2 * n_langs


def test_two_languages_cannot_both_exceed_two_with_nine_languages():
    """sum z = 0 and sum z^2 = 9: two z-scores of t force the other seven to total -2t, so
    9 >= 2 t^2 + (2t)^2 / 7, i.e. t <= sqrt(3.5) < 2. The bound is reached, and fails with 11 languages."""
    Z = zscores(np.random.default_rng(3).standard_normal((9, 200_000)) ** 3)
    np.testing.assert_allclose(Z.sum(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose((Z**2).sum(axis=0), 9)
    assert Z.max() > 2 and (key_masks(Z, 2.0).sum(axis=0) <= 1).all()
    for m, both_key in ((9, False), (11, True)):
        extremal = np.array([1.0, 1.0] + [-2.0 / (m - 2)] * (m - 2))[:, None]
        z = zscores(extremal)[:2, 0]
        assert z == pytest.approx([math.sqrt((m - 2) / 2)] * 2)
        assert key_masks(z, 2.0).all() == both_key


def test_equal_contributions_give_zero_z_even_where_rounding_leaves_a_tiny_std():
    values = np.random.default_rng(0).random(10_000)
    C = np.tile(values, (9, 1))
    assert (C.std(axis=0) > 0).any()  # the naive check would divide rounding noise by rounding noise
    assert (zscores(C) == 0).all()


def test_threshold_is_strict():
    Z = np.array([[2.0, 2.0000001, 1.0], [-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(key_masks(Z, 2.0), [[False, True, False], [False, False, True]])


def test_random_mask_has_exact_size_and_is_reproducible():
    mask = random_mask((3, 101), 0.1, seed=5)
    assert mask.shape == (3, 101) and mask.sum() == 30  # round(0.1 * 303)
    np.testing.assert_array_equal(mask, random_mask((3, 101), 0.1, seed=5))
    assert not np.array_equal(mask, random_mask((3, 101), 0.1, seed=6))
    assert random_mask((2, 5), 1.0, seed=0).all() and not random_mask((2, 5), 0.0, seed=0).any()
    with pytest.raises(LinguaFrancaError, match="random_fraction"):
        random_mask((2, 5), 1.5, seed=0)


def test_random_mask_is_uniform_over_positions():
    """Over 2,000 seeds every one of 2 x 10 positions is drawn 25% of the time (binomial sd 1%), in both layers:
    a mask biased to the first neurons or to one layer fails."""
    frequency = np.mean([random_mask((2, 10), 0.25, seed) for seed in range(2000)], axis=0)
    assert np.abs(frequency - 0.25).max() < 0.05


def test_matched_random_masks_have_each_region_size():
    regions = np.zeros((3, 4, 50), dtype=bool)
    regions[0, 0, :7] = True
    regions[2, 1:3, :20] = True
    masks = matched_random_masks(regions, seed=1)
    assert masks.shape == regions.shape and list(masks.sum(axis=(1, 2))) == [7, 0, 40]
    np.testing.assert_array_equal(masks, matched_random_masks(regions, seed=1))
    assert not np.array_equal(masks, matched_random_masks(regions, seed=2))
    assert not np.array_equal(masks[2], regions[2])


def test_a_languages_matched_mask_does_not_depend_on_the_others():
    """Growing language 0's region leaves language 2's draw unchanged (one child generator per language)."""
    regions = np.zeros((3, 4, 50), dtype=bool)
    regions[0, 0, :7] = True
    regions[2, 1:3, :20] = True
    grown = regions.copy()
    grown[0, 1:, :30] = True
    np.testing.assert_array_equal(matched_random_masks(regions, 1)[2], matched_random_masks(grown, 1)[2])


def test_controls_in_result(small):
    stores, _ = small
    result = compute_regions(stores, random_fraction=0.25, seed=3)
    np.testing.assert_array_equal(result.random_mask, random_mask((2, 7), 0.25, 3))
    np.testing.assert_array_equal(result.random_masks_per_language, matched_random_masks(result.mask, 3))
    np.testing.assert_array_equal(result.random_masks_per_language.sum(axis=(1, 2)), result.mask.sum(axis=(1, 2)))


def test_bad_parameters_are_refused(small):
    stores, _ = small
    with pytest.raises(LinguaFrancaError, match="threshold"):
        compute_regions(stores, threshold=math.nan)
    with pytest.raises(LinguaFrancaError, match="random_fraction"):
        compute_regions(stores, random_fraction=-0.1)


def test_regions_zarr_round_trip(small, tmp_path):
    stores, _ = small
    result = compute_regions(stores, threshold=1.0)
    path = tmp_path / "regions.zarr"
    write_regions(result, path)
    group = zarr.open_group(str(path), mode="r", zarr_format=3)
    for name, dtype in (
        ("contribution", np.float32),
        ("zscore", np.float32),
        ("mask", np.bool_),
        ("random_mask_per_language", np.bool_),
    ):
        assert group[name].dtype == dtype and group[name].shape == (3, 2, 7)
        assert group[name].metadata.dimension_names == ("lang", "layer", "neuron")
    assert group["random_mask"].shape == (2, 7) and group["random_mask"].metadata.dimension_names == ("layer", "neuron")
    np.testing.assert_allclose(group["contribution"][...], result.contribution, rtol=1e-6)
    stored = read_regions(path)
    assert stored.langs == LANGS
    np.testing.assert_array_equal(stored.mask, result.mask)
    np.testing.assert_array_equal(stored.random_mask, result.random_mask)
    np.testing.assert_array_equal(stored.random_mask_per_language, result.random_masks_per_language)
    expected = dict(
        threshold=1.0,
        random_fraction=0.1,
        seed=0,
        sklr=result.sklr,
        n_layers=2,
        n_neurons=7,
        n_samples=5,
        model="tiny",
    )
    assert {key: stored.attrs[key] for key in expected} == expected
    assert "per_language_random" not in stored.attrs
    other = compute_regions(stores, threshold=1.0, seed=1)
    write_regions(other, path)  # overwriting replaces the whole store
    np.testing.assert_array_equal(read_regions(path).random_mask_per_language, other.random_masks_per_language)


def planted_result(mask):
    """A RegionsResult around a given mask ``[n_langs, n_layers, n_neurons]`` of LANGS."""
    zeros = np.zeros(mask.shape)
    return RegionsResult(
        langs=LANGS,
        contribution=zeros,
        zscore=zeros,
        mask=mask,
        random_mask=np.zeros(mask.shape[1:], dtype=bool),
        random_masks_per_language=None,
        threshold=2.0,
        random_fraction=0.1,
        seed=0,
        n_samples=5,
    )


def test_sklr_table_layout(tmp_path):
    """Planted counts: en has 3 key neurons in layer 0 and 1 in layer 1, de none, zh 2 in layer 1; 2 x 10 neurons."""
    mask = np.zeros((3, 2, 10), dtype=bool)
    mask[0, 0, [1, 4, 9]] = mask[0, 1, 0] = True
    mask[2, 1, [2, 3]] = True
    result = planted_result(mask)
    rows = sklr_table(result)
    assert rows[:3] == [
        {"layer": 0, "en": 3, "de": 0, "zh": 0, "all": 3},
        {"layer": 1, "en": 1, "de": 0, "zh": 2, "all": 3},
        {"layer": "total", "en": 4, "de": 0, "zh": 2, "all": 6},
    ]
    assert rows[3] == pytest.approx({"layer": "percent", "en": 20.0, "de": 0.0, "zh": 10.0, "all": 30.0})
    assert result.sklr == 6
    path = tmp_path / "sklr.tsv"
    write_sklr(result, path)
    with path.open() as handle:
        written = list(csv.DictReader(handle, delimiter="\t"))
    assert list(written[0]) == ["layer", *LANGS, "all"]
    assert [row["layer"] for row in written] == ["0", "1", "total", "percent"]
    assert [written[1][lang] for lang in LANGS] == ["1", "0", "2"]
    assert int(written[2]["all"]) == 6 and float(written[3]["zh"]) == 10.0


def test_language_named_like_a_column_is_refused():
    result = planted_result(np.zeros((3, 1, 2), dtype=bool))
    result.langs = ["en", "all", "zh"]
    with pytest.raises(LinguaFrancaError, match="may not be called"):
        sklr_table(result)


def test_zero_vector_is_refused(tmp_path):
    means = np.ones((2, 3, 2, 4), dtype=np.float32)
    means[0, 2] = 0
    with pytest.raises(LinguaFrancaError, match=r"language 'en', sample id 's2' has a zero"):
        compute_regions(write_stores(tmp_path, means, ["en", "de"]))


def test_empty_regions_are_named_in_a_warning(small, caplog):
    stores, _ = small
    result = compute_regions(stores, threshold=1.0)
    assert warn_empty_regions(result) == [] and not caplog.records
    result.mask[[0, 2]] = False  # en and zh: nothing above the threshold
    with caplog.at_level("WARNING"):
        assert warn_empty_regions(result) == ["en", "zh"]
    assert [r.getMessage() for r in caplog.records] == [
        "no neuron has a z-score above threshold 1.0 for en, zh: their regions are empty; the ablation tables show "
        "'empty' there"]


def test_empty_significant_regions_are_named_in_a_warning(small, caplog):
    import dataclasses

    stores, _ = small
    result = compute_regions(stores, threshold=1.0)
    significant = result.mask.copy()
    significant[1] = False  # the second language: no key neuron survives the FDR
    result = dataclasses.replace(result, significance_permutations=50, fdr_q=0.1, significant=significant)
    with caplog.at_level("WARNING"):
        assert warn_empty_regions(result) == []
    assert [r.getMessage() for r in caplog.records] == [
        f"no key neuron of {result.langs[1]} is significant at FDR q = 0.1 after 50 permutations: its significant "
        "region is empty; more regions.significance_permutations give smaller p-values"]


def test_contributions_need_a_pair():
    np.testing.assert_allclose(contributions(np.array([[0.6, 0.8], [1.0, 0.0]])), [0.6, 0.0])  # the one pair: v_1k v_2k
    with pytest.raises(LinguaFrancaError, match="at least two samples"):
        contributions(np.ones((1, 3)))
