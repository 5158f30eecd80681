"""Similarity maps and LRDS/SADS against brute-force loops over pairs, on real Zarr stores."""

from __future__ import annotations

import csv
import itertools
import math

import h5py
import numpy as np
import pytest
from stores import write_stores

from linguafranca.errors import LinguaFrancaError
from linguafranca.similarity import (
    METRIC_COLUMNS,
    compute_similarity,
    lrds,
    metrics_table,
    normalise_rows,
    pair_class_means,
    pair_classes,
    sads,
    write_metrics,
    write_similarity,
)

LANGS = ["en", "de", "zh"]


def random_means(shape, seed=0):
    """float32 means as a store holds them, then float64 for the references."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def cosine(x, y):
    return float(np.dot(x, y) / (math.sqrt(np.dot(x, x)) * math.sqrt(np.dot(y, y))))


def brute_force_similarity(rows):
    """``[N, D]`` rows -> ``[N, N]`` cosine similarities, one pair at a time."""
    n = len(rows)
    S = np.empty((n, n))
    for i, j in itertools.product(range(n), repeat=2):
        S[i, j] = cosine(rows[i], rows[j])
    return S


def brute_force_class_means(S, langs, meanings):
    sums = {"sl_dm": [], "dl_sm": [], "dl_dm": [], "all": []}
    for i, j in itertools.product(range(len(S)), repeat=2):
        if i == j:
            continue
        sums["all"].append(S[i, j])
        same_lang, same_meaning = langs[i] == langs[j], meanings[i] == meanings[j]
        if same_lang and not same_meaning:
            sums["sl_dm"].append(S[i, j])
        elif not same_lang and same_meaning:
            sums["dl_sm"].append(S[i, j])
        elif not same_lang and not same_meaning:
            sums["dl_dm"].append(S[i, j])
    return {key: sum(values) / len(values) for key, values in sums.items()}


@pytest.fixture
def small(tmp_path):
    """3 languages x 5 samples x 2 layers x 7 neurons, written to stores; also the flat float64 rows."""
    means = random_means((3, 5, 2, 7))
    stores = write_stores(tmp_path, means, LANGS)
    return stores, means.astype(np.float64)


def test_similarity_matches_pairwise_loops(small):
    stores, means = small
    result = compute_similarity(stores)
    n_langs, n, n_layers, _ = means.shape
    flat = means.reshape(n_langs * n, n_layers, -1)
    np.testing.assert_allclose(result.similarity, brute_force_similarity(flat.reshape(n_langs * n, -1)), atol=1e-10)
    for layer in range(n_layers):
        np.testing.assert_allclose(
            result.similarity_by_layer[layer], brute_force_similarity(flat[:, layer]), atol=1e-10
        )
    assert list(result.langs) == [lang for lang in LANGS for _ in range(n)]
    assert list(result.sample_ids) == [f"s{i}" for _ in LANGS for i in range(n)]
    np.testing.assert_allclose(result.norms, [np.linalg.norm(row) for row in flat.reshape(n_langs * n, -1)])


def test_streaming_equals_whole_array_in_memory(small):
    stores, means = small
    V = normalise_rows(means.reshape(15, -1))
    np.testing.assert_allclose(compute_similarity(stores).similarity, V @ V.T, rtol=1e-12, atol=1e-14)


def test_scores_match_pairwise_loops(small):
    stores, _ = small
    result = compute_similarity(stores)
    rows = metrics_table(result)
    assert [row["layer"] for row in rows] == ["all", 0, 1]
    for row, S in zip(rows, [result.similarity, *result.similarity_by_layer]):
        ref = brute_force_class_means(S, result.langs, result.sample_ids)
        assert row["same_lang_diff_meaning"] == pytest.approx(ref["sl_dm"], abs=1e-10)
        assert row["diff_lang_same_meaning"] == pytest.approx(ref["dl_sm"], abs=1e-10)
        assert row["diff_lang_diff_meaning"] == pytest.approx(ref["dl_dm"], abs=1e-10)
        assert row["all_offdiag"] == pytest.approx(ref["all"], abs=1e-10)
        assert row["lrds"] == pytest.approx(ref["sl_dm"] - ref["dl_dm"], abs=1e-10)
        assert row["sads"] == pytest.approx(ref["dl_sm"] - ref["dl_dm"], abs=1e-10)
        assert lrds(S, result.langs, result.sample_ids) == row["lrds"]
        assert sads(S, result.langs, result.sample_ids) == row["sads"]


def test_pair_classes_partition_the_offdiagonal_pairs():
    langs = np.repeat(["a", "b", "c"], 4)
    meanings = np.tile(["w", "x", "y", "z"], 3)
    masks = pair_classes(langs, meanings)
    three = (
        masks["same_lang_diff_meaning"].astype(int) + masks["diff_lang_same_meaning"] + masks["diff_lang_diff_meaning"]
    )
    np.testing.assert_array_equal(three, 1 - np.eye(12, dtype=int))
    np.testing.assert_array_equal(masks["all_offdiag"], ~np.eye(12, dtype=bool))
    assert masks["diff_lang_same_meaning"].sum() == 12 * 2  # each row: its translation in 2 other languages
    assert masks["same_lang_diff_meaning"].sum() == 12 * 3


def test_empty_pair_class_gives_nan():
    means = pair_class_means(np.ones((3, 3)), ["a", "a", "a"], ["x", "y", "z"])
    assert means["same_lang_diff_meaning"] == 1.0
    assert math.isnan(means["diff_lang_diff_meaning"])


def planted_translations(tmp_path, n_langs=4, n=30, seed=1):
    """Each sample's vector is its meaning's random vector plus a small language offset: translations align."""
    rng = np.random.default_rng(seed)
    meaning = rng.standard_normal((n, 2, 64))
    offset = 0.3 * rng.standard_normal((n_langs, 1, 2, 64))
    means = (meaning[None] + offset).astype(np.float32)
    langs = [f"l{a}" for a in range(n_langs)]
    return compute_similarity(write_stores(tmp_path, means, langs)), n


def test_sads_detects_translations_and_not_shuffled_meanings(tmp_path):
    result, n = planted_translations(tmp_path)
    assert sads(result.similarity, result.langs, result.sample_ids) > 0.8
    rng = np.random.default_rng(7)
    shuffled = np.concatenate([rng.permutation(result.sample_ids[:n]) for _ in result.languages])
    assert abs(sads(result.similarity, result.langs, shuffled)) < 0.05


def test_stride_n_plus_one_pairing_of_the_paper_code_misses_translations(tmp_path):
    """The released ``rearrange_by_meaning`` takes rows ``j, j + (n + 1), j + 2 (n + 1), ...`` as one meaning,
    i.e. sample ``j + a`` of language ``a``: neighbours, not translations. Our labels (sample ids) pair correctly."""
    result, n = planted_translations(tmp_path)
    n_rows = len(result.langs)
    buggy = np.empty(n_rows, dtype=object)
    for j in range(n):
        for a in range(len(result.languages)):
            row = a * n + (j + a) % n  # flat index j + a * (n + 1), kept inside language a
            buggy[row] = f"meaning{j}"
    assert abs(sads(result.similarity, result.langs, buggy)) < 0.05
    assert sads(result.similarity, result.langs, result.sample_ids) > 0.8


def test_zero_vector_names_language_and_sample(tmp_path):
    means = random_means((2, 3, 2, 4))
    means[1, 2] = 0
    with pytest.raises(LinguaFrancaError, match=r"language 'de', sample id 's2'.*zero"):
        compute_similarity(write_stores(tmp_path, means, ["en", "de"]))


def test_zero_layer_vector_names_the_layer(tmp_path):
    means = random_means((2, 3, 2, 4))
    means[0, 1, 1] = 0
    with pytest.raises(LinguaFrancaError, match=r"language 'en', sample id 's1'.*in layer 1"):
        compute_similarity(write_stores(tmp_path, means, ["en", "de"]))


def test_different_sample_ids_name_language_and_first_differing_id(tmp_path):
    means = random_means((1, 3, 2, 4))
    stores = write_stores(tmp_path, means, ["en"], ["a", "b", "c"])
    stores |= write_stores(tmp_path, means, ["de"], ["a", "x", "c"])
    with pytest.raises(LinguaFrancaError, match=r"language 'de' has sample id 'x' at position 1"):
        compute_similarity(stores)


def test_stores_of_different_models_are_refused(tmp_path):
    means = random_means((1, 3, 2, 4))
    stores = write_stores(tmp_path, means, ["en"])
    stores |= write_stores(tmp_path, means, ["de"], attrs={"model": "other"})
    with pytest.raises(LinguaFrancaError, match="model 'other'"):
        compute_similarity(stores)


def test_single_language_is_refused(small):
    stores, _ = small
    with pytest.raises(LinguaFrancaError, match="at least two languages"):
        compute_similarity({"en": stores["en"]})


def test_h5_round_trip(small, tmp_path):
    stores, _ = small
    result = compute_similarity(stores)
    path = tmp_path / "out" / "similarity.h5"
    write_similarity(result, path)
    assert [p.name for p in path.parent.iterdir()] == ["similarity.h5"]  # no temporary left behind
    with h5py.File(path, "r") as h5:
        assert h5["similarity"].dtype == np.float32 and h5["similarity"].shape == (15, 15)
        assert h5["similarity_by_layer"].dtype == np.float32 and h5["similarity_by_layer"].shape == (2, 15, 15)
        np.testing.assert_allclose(h5["similarity"][...], result.similarity, rtol=1e-6)
        np.testing.assert_allclose(h5["similarity_by_layer"][...], result.similarity_by_layer, rtol=1e-6)
        assert h5["langs"].dtype.kind == "O" and list(h5["langs"].asstr()[...]) == list(result.langs)
        assert list(h5["sample_ids"].asstr()[...]) == list(result.sample_ids)
        assert list(h5.attrs["languages"]) == LANGS
        assert (h5.attrs["n_samples"], h5.attrs["n_layers"], h5.attrs["model"]) == (5, 2, "tiny")
        assert "different-language same-meaning" in h5.attrs["definition_sads"]


def test_metrics_tsv_round_trips_exactly(small, tmp_path):
    stores, _ = small
    result = compute_similarity(stores)
    path = tmp_path / "metrics.tsv"
    write_metrics(result, path)
    with path.open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert tuple(rows[0]) == METRIC_COLUMNS
    assert [row["layer"] for row in rows] == ["all", "0", "1"]
    for written, expected in zip(rows, metrics_table(result)):
        for column in METRIC_COLUMNS[1:]:
            assert float(written[column]) == expected[column]


def test_non_finite_means_name_language_sample_and_layer(tmp_path):
    means = random_means((2, 3, 2, 4))
    means[1, 0, 1, 2] = np.nan
    with pytest.raises(LinguaFrancaError, match=r"language 'de', sample id 's0' has non-finite .* layer 1"):
        compute_similarity(write_stores(tmp_path, means, ["en", "de"]))
