"""Contributions, z-scores and key regions against brute-force loops, planted regions, controls and outputs."""

from __future__ import annotations

import csv
import itertools
import math

import numpy as np
import pytest
import zarr
from stores import write_stores

from linguafranca.errors import LinguaFrancaError
from linguafranca.regions import (
    compute_regions,
    contributions,
    key_masks,
    matched_random_masks,
    random_mask,
    sklr_table,
    write_regions,
    write_sklr,
    zscores,
)
from linguafranca.similarity import compute_similarity, normalise_rows, write_similarity
from linguafranca.store import read_norms, read_regions

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


def test_norms_from_the_similarity_file_give_the_same_regions(small, tmp_path):
    stores, _ = small
    write_similarity(compute_similarity(stores), tmp_path / "similarity.h5")
    given = compute_regions(stores, threshold=1.0, norms=read_norms(tmp_path / "similarity.h5", list(stores)))
    computed = compute_regions(stores, threshold=1.0)
    np.testing.assert_allclose(given.contribution, computed.contribution, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(given.mask, computed.mask)
    with pytest.raises(LinguaFrancaError, match="holds languages"):
        read_norms(tmp_path / "similarity.h5", list(reversed(list(stores))))
    with pytest.raises(LinguaFrancaError, match="do not fit these stores"):
        compute_regions(stores, norms=np.ones(3))


def test_contributions_sum_to_mean_within_language_similarity(small):
    stores, _ = small
    regions = compute_regions(stores)
    S = compute_similarity(stores).similarity
    for a in range(len(LANGS)):
        block = S[a * 5 : (a + 1) * 5, a * 5 : (a + 1) * 5]
        within = (block.sum() - np.trace(block)) / (5 * 4)
        assert regions.contribution[a].sum() == pytest.approx(within, rel=1e-12)


def test_streaming_equals_whole_array_in_memory(small):
    stores, means = small
    V = normalise_rows(means.reshape(15, -1))
    in_memory = np.stack([contributions(V[a * 5 : (a + 1) * 5]) for a in range(3)]).reshape(3, 2, 7)
    result = compute_regions(stores)
    np.testing.assert_allclose(result.contribution, in_memory, rtol=1e-12, atol=1e-16)
    np.testing.assert_array_equal(result.mask, key_masks(zscores(in_memory), 2.0))


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
    assert mask.shape == (3, 101) and mask.sum() == round(0.1 * 303) == 30
    np.testing.assert_array_equal(mask, random_mask((3, 101), 0.1, seed=5))
    assert not np.array_equal(mask, random_mask((3, 101), 0.1, seed=6))
    assert random_mask((2, 5), 1.0, seed=0).all() and not random_mask((2, 5), 0.0, seed=0).any()
    with pytest.raises(LinguaFrancaError, match="random_fraction"):
        random_mask((2, 5), 1.5, seed=0)


def test_matched_random_masks_have_each_region_size():
    regions = np.zeros((3, 4, 50), dtype=bool)
    regions[0, 0, :7] = True
    regions[2, 1:3, :20] = True
    masks = matched_random_masks(regions, seed=1)
    assert masks.shape == regions.shape and list(masks.sum(axis=(1, 2))) == [7, 0, 40]
    np.testing.assert_array_equal(masks, matched_random_masks(regions, seed=1))
    assert not np.array_equal(masks[2], regions[2])


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


def test_sklr_table_layout(small, tmp_path):
    stores, _ = small
    result = compute_regions(stores, threshold=1.0)
    rows = sklr_table(result)
    assert [row["layer"] for row in rows] == [0, 1, "total", "percent"]
    for layer in range(2):
        assert [rows[layer][lang] for lang in LANGS] == list(result.mask[:, layer].sum(axis=1))
        assert rows[layer]["all"] == result.mask[:, layer].sum()
    assert rows[2]["all"] == result.sklr
    assert rows[3]["all"] == pytest.approx(100 * result.sklr / 14)
    assert rows[3]["en"] == pytest.approx(100 * result.mask[0].sum() / 14)
    path = tmp_path / "sklr.tsv"
    write_sklr(result, path)
    with path.open() as handle:
        written = list(csv.DictReader(handle, delimiter="\t"))
    assert list(written[0]) == ["layer", *LANGS, "all"]
    assert [row["layer"] for row in written] == ["0", "1", "total", "percent"]
    assert int(written[2]["all"]) == result.sklr and float(written[3]["zh"]) == rows[3]["zh"]


def test_zero_vector_is_refused(tmp_path):
    means = np.ones((2, 3, 2, 4), dtype=np.float32)
    means[0, 2] = 0
    with pytest.raises(LinguaFrancaError, match=r"language 'en', sample id 's2' has a zero"):
        compute_regions(write_stores(tmp_path, means, ["en", "de"]))
