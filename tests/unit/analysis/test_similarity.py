"""Similarity maps and LRDS/SADS against brute-force loops over pairs, on real Zarr stores."""

from __future__ import annotations

import csv
import itertools
import math
import re

import h5py
import numpy as np
import pytest

from linguafranca.analysis import similarity as similarity_module
from linguafranca.analysis.similarity import (
    METRIC_COLUMNS,
    block_sums,
    class_means,
    compute_similarity,
    lrds,
    map_rows,
    pair_class_means,
    pair_classes,
    sads,
    write_metrics,
    write_similarity,
)
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.activations import open_stores
from tests.helpers.stores import write_stores

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


def map_block_sums(S, n_langs):
    """Block sums and block traces of a materialised ``[N, N]`` map: what :func:`block_sums` computes without it."""
    n = len(S) // n_langs
    blocks = S.reshape(n_langs, n, n_langs, n)
    return blocks.sum(axis=(1, 3)), np.einsum("asbs->ab", blocks)


def dense_reference(means):
    """The metrics table, block means and maps of ``[n_langs, n, L, K]`` means, computed densely the obvious way:
    every map materialised, explicit ``[N, N]`` masks from the row labels, ``S[mask].mean()``."""
    n_langs, n, n_layers, _ = means.shape
    rows = means.astype(np.float64).reshape(n_langs * n, n_layers, -1)
    langs = np.repeat(np.arange(n_langs), n)
    meanings = np.tile(np.arange(n), n_langs)
    same_lang, same_meaning = langs[:, None] == langs[None], meanings[:, None] == meanings[None]
    masks = {
        "same_lang_diff_meaning": same_lang & ~same_meaning,
        "diff_lang_same_meaning": ~same_lang & same_meaning,
        "diff_lang_diff_meaning": ~same_lang & ~same_meaning,
        "all_offdiag": ~np.eye(len(langs), dtype=bool),
    }
    maps = {}
    for layer, X in [("all", rows.reshape(len(rows), -1)), *((l, rows[:, l]) for l in range(n_layers))]:
        V = X / np.linalg.norm(X, axis=1, keepdims=True)
        maps[layer] = V @ V.T
    table, blocks = [], {}
    for layer, S in maps.items():
        means_ = {name: S[mask].mean() for name, mask in masks.items()}
        base = means_["diff_lang_diff_meaning"]
        table.append(
            {
                "layer": layer,
                "lrds": means_["same_lang_diff_meaning"] - base,
                "sads": means_["diff_lang_same_meaning"] - base,
                **means_,
            }
        )
        blocks[layer] = np.array(
            [
                [S[(langs == a)[:, None] & (langs == b)[None] & masks["all_offdiag"]].mean() for b in range(n_langs)]
                for a in range(n_langs)
            ]
        )
    return table, blocks, maps


@pytest.fixture
def small(tmp_path):
    """3 languages x 5 samples x 2 layers x 7 neurons, written to stores; also the flat float64 rows."""
    means = random_means((3, 5, 2, 7))
    stores = write_stores(tmp_path, means, LANGS)
    return stores, means.astype(np.float64)


def collect_layer_maps(stores):
    """compute_similarity's result and copies of the per-layer maps it hands to ``on_layer``, in order."""
    maps = []
    result = compute_similarity(stores, on_layer=lambda layer, S: maps.append((layer, S.copy())))
    assert [layer for layer, _ in maps] == list(range(result.n_layers))
    return result, np.stack([S for _, S in maps])


def test_similarity_matches_pairwise_loops(small):
    stores, means = small
    result, by_layer = collect_layer_maps(stores)
    n_langs, n, n_layers, _ = means.shape
    flat = means.reshape(n_langs * n, n_layers, -1)
    np.testing.assert_allclose(result.similarity, brute_force_similarity(flat.reshape(n_langs * n, -1)), atol=1e-10)
    for layer in range(n_layers):
        np.testing.assert_allclose(by_layer[layer], brute_force_similarity(flat[:, layer]), atol=1e-10)
    assert list(result.langs) == [lang for lang in LANGS for _ in range(n)]
    assert list(result.sample_ids) == [f"s{i}" for _ in LANGS for i in range(n)]
    np.testing.assert_allclose(result.norms, [np.linalg.norm(row) for row in flat.reshape(n_langs * n, -1)])


def test_streaming_equals_whole_array_in_memory(small):
    stores, means = small
    V = means.reshape(15, -1) / np.linalg.norm(means.reshape(15, -1), axis=1, keepdims=True)
    np.testing.assert_allclose(compute_similarity(stores).similarity, V @ V.T, rtol=1e-12, atol=1e-14)


def test_scores_match_pairwise_loops(small):
    """Every metrics row against loops over pairs of a similarity map computed one pair at a time."""
    stores, means = small
    result = compute_similarity(stores)
    flat = means.reshape(15, 2, 7)
    references = [brute_force_similarity(flat.reshape(15, -1)), *(brute_force_similarity(flat[:, l]) for l in range(2))]
    assert [row["layer"] for row in result.metrics] == ["all", 0, 1]
    for row, S in zip(result.metrics, references):
        ref = brute_force_class_means(S, result.langs, result.sample_ids)
        assert row["same_lang_diff_meaning"] == pytest.approx(ref["sl_dm"], abs=1e-10)
        assert row["diff_lang_same_meaning"] == pytest.approx(ref["dl_sm"], abs=1e-10)
        assert row["diff_lang_diff_meaning"] == pytest.approx(ref["dl_dm"], abs=1e-10)
        assert row["all_offdiag"] == pytest.approx(ref["all"], abs=1e-10)
        assert row["lrds"] == pytest.approx(ref["sl_dm"] - ref["dl_dm"], abs=1e-10)
        assert row["sads"] == pytest.approx(ref["dl_sm"] - ref["dl_dm"], abs=1e-10)
        assert lrds(S, result.langs, result.sample_ids) == pytest.approx(row["lrds"], abs=1e-12)
        assert sads(S, result.langs, result.sample_ids) == pytest.approx(row["sads"], abs=1e-12)


@pytest.mark.parametrize(
    "shape, block",
    [((2, 2, 1, 3), 1), ((3, 5, 2, 7), 2), ((4, 9, 3, 11), 4), ((9, 13, 5, 17), 5), ((2, 40, 2, 6), 16)],
)
def test_streamed_scores_and_block_means_equal_the_dense_computation(tmp_path, shape, block):
    """Metrics, block means and every map of the one-pass computation equal a dense computation with explicit
    masks to 1e-12, on stores of several shapes (1 to 9 languages' blocks, chunks that split the samples)."""
    means = random_means(shape, seed=sum(shape))
    stores = write_stores(tmp_path, means, [f"l{a}" for a in range(shape[0])], block=block)
    table, blocks, maps = dense_reference(means)
    result, by_layer = collect_layer_maps(stores)
    assert [row["layer"] for row in result.metrics] == [row["layer"] for row in table]
    for ours, ref in zip(result.metrics, table):
        for column in METRIC_COLUMNS[1:]:
            assert ours[column] == pytest.approx(ref[column], abs=1e-12), (ours["layer"], column)
    np.testing.assert_allclose(result.block_mean, blocks["all"], rtol=0, atol=1e-12)
    assert result.block_mean_by_layer.shape == (shape[2], shape[0], shape[0])
    for layer in range(shape[2]):
        np.testing.assert_allclose(result.block_mean_by_layer[layer], blocks[layer], rtol=0, atol=1e-12)
        np.testing.assert_allclose(by_layer[layer], maps[layer], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.similarity, maps["all"], rtol=0, atol=1e-12)


def test_block_means_of_a_planted_map():
    """2 languages x 3 samples; S = 10 a + b + 0.1 (same meaning) for a row of language a, column of b. The
    diagonal is 99 and must not enter a diagonal block's mean."""
    n_langs, n = 2, 3
    lang = np.repeat(np.arange(n_langs), n)
    meaning = np.tile(np.arange(n), n_langs)
    S = 10.0 * lang[:, None] + lang[None] + 0.1 * (meaning[:, None] == meaning[None])
    np.fill_diagonal(S, 99)
    means, block_mean = class_means(*map_block_sums(S, n_langs), n)
    np.testing.assert_allclose(block_mean, [[0, 1 + 0.1 / 3], [10 + 0.1 / 3, 11]], atol=1e-15)
    assert means["same_lang_diff_meaning"] == pytest.approx(5.5)  # blocks 0 and 11, equal sizes
    assert means["diff_lang_same_meaning"] == pytest.approx(5.6)  # 1.1 and 10.1
    assert means["diff_lang_diff_meaning"] == pytest.approx(5.5)
    assert means["all_offdiag"] == pytest.approx((12 * 5.5 + 6 * 5.6 + 12 * 5.5) / 30)  # 12, 6, 12 pairs


def test_class_means_equal_the_masked_means_of_any_map():
    """Not symmetric, not a similarity map: the block formulas hold for any [N, N] array in store row order."""
    S = np.random.default_rng(4).standard_normal((4 * 6, 4 * 6))
    langs, meanings = np.repeat(list("abcd"), 6), np.tile([f"m{i}" for i in range(6)], 4)
    means, _ = class_means(*map_block_sums(S, 4), 6)
    reference = pair_class_means(S, langs, meanings)
    assert means == pytest.approx(reference, abs=1e-14)


@pytest.mark.parametrize("n_langs, n, width", [(2, 2, 1), (3, 7, 5), (9, 12, 40)])
def test_block_sums_of_rows_equal_the_block_sums_of_their_map(n_langs, n, width):
    """Row sums' dot products and flattened blocks' dot products against the sums over the materialised V V^T."""
    V = np.random.default_rng(n_langs * n).standard_normal((n_langs * n, width))
    sums, traces = block_sums(V, n_langs)
    reference_sums, reference_traces = map_block_sums(V @ V.T, n_langs)
    np.testing.assert_allclose(sums, reference_sums, rtol=0, atol=1e-12)
    np.testing.assert_allclose(traces, reference_traces, rtol=0, atol=1e-12)


def test_scores_of_rows_with_norms_six_orders_of_magnitude_apart_equal_the_dense_computation(tmp_path):
    """Each row scaled by 10^u, u uniform in [-3, 3] and different per layer: the per-layer and whole-model
    normalisations must each divide by the right norm."""
    rng = np.random.default_rng(11)
    means = random_means((4, 6, 3, 8), seed=3) * 10.0 ** rng.uniform(-3, 3, size=(4, 6, 3, 1)).astype(np.float32)
    stores = write_stores(tmp_path, means, ["a", "b", "c", "d"], block=4)
    table, blocks, maps = dense_reference(means)
    result = compute_similarity(stores)
    for ours, ref in zip(result.metrics, table):
        for column in METRIC_COLUMNS[1:]:
            assert ours[column] == pytest.approx(ref[column], abs=1e-12), (ours["layer"], column)
    np.testing.assert_allclose(result.block_mean, blocks["all"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.block_mean_by_layer[2], blocks[2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.similarity, maps["all"], rtol=0, atol=1e-12)


def test_a_store_with_one_sample_more_is_refused(tmp_path):
    means = random_means((1, 4, 2, 3))
    stores = write_stores(tmp_path, means[:, :3], ["en"])
    stores |= write_stores(tmp_path, means, ["de"])
    with pytest.raises(LinguaFrancaError, match=r"language 'de'"):
        compute_similarity(stores)


def test_map_rows_take_the_same_seeded_samples_of_every_language_in_store_order():
    np.testing.assert_array_equal(map_rows(3, 5, None), np.arange(15))
    np.testing.assert_array_equal(map_rows(3, 5, 5), np.arange(15))
    np.testing.assert_array_equal(map_rows(3, 5, 9), np.arange(15))
    rows = map_rows(3, 10, 4, seed=7)
    samples = np.sort(np.random.default_rng(7).choice(10, 4, replace=False))
    np.testing.assert_array_equal(rows, np.concatenate([a * 10 + samples for a in range(3)]))
    assert not np.array_equal(map_rows(3, 10, 4, seed=8), rows)
    with pytest.raises(LinguaFrancaError, match="map_samples must be at least 2"):
        map_rows(3, 10, 1)


def test_a_subsampled_map_is_the_dense_map_of_its_rows_and_leaves_the_scores_alone(tmp_path):
    means = random_means((3, 10, 2, 6), seed=5)
    stores = write_stores(tmp_path, means, LANGS, block=3)
    table, blocks, maps = dense_reference(means)
    rows = map_rows(3, 10, 4, seed=1)
    result = compute_similarity(stores, rows=rows)
    np.testing.assert_array_equal(result.map_rows, rows)
    np.testing.assert_allclose(result.similarity, maps["all"][np.ix_(rows, rows)], rtol=0, atol=1e-12)
    full = compute_similarity(stores)
    assert result.metrics == full.metrics
    np.testing.assert_array_equal(result.block_mean, full.block_mean)


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


@pytest.mark.parametrize(
    ("key", "ours", "theirs"),
    [
        ("model", "tiny", "other"),
        ("weights", "sha256:aaaa", "sha256:bbbb"),  # another model's en.zarr under the same short name
        ("model_name", "org/tiny", "org/other"),
        ("compute", "float32", "bfloat16"),
        ("mean_over", "text_tokens", "all_tokens"),
        ("bos", None, "<s>"),
        ("max_length", 512, 256),
        ("capture_code", "c0de", "c0df"),
    ],
)
def test_stores_that_differ_in_any_provenance_are_refused_naming_both(tmp_path, key, ours, theirs):
    means = random_means((1, 3, 2, 4))
    stores = write_stores(tmp_path, means, ["en"], attrs={key: ours})
    stores |= write_stores(tmp_path, means, ["de"], attrs={key: theirs})
    message = (
        rf"^{re.escape(str(stores['de']))} \(language 'de'\) has {key} {re.escape(repr(theirs))} but "
        rf"{re.escape(str(stores['en']))} \(language 'en'\) has {re.escape(repr(ours))}: it was made from other "
        r"weights or settings, so the two cannot be combined; remove it and run the workflow again to remake it$"
    )
    with pytest.raises(LinguaFrancaError, match=message):
        compute_similarity(stores)


def test_a_key_that_only_one_store_records_is_a_difference(tmp_path):
    means = random_means((1, 3, 2, 4))
    stores = write_stores(tmp_path, means, ["en"])
    stores |= write_stores(tmp_path, means, ["de"], attrs={"weights": "sha256:bbbb"})
    with pytest.raises(LinguaFrancaError, match=r"\(language 'de'\) has weights 'sha256:bbbb' but .* has None"):
        compute_similarity(stores)


def test_stores_must_agree_with_the_jobs_manifest(tmp_path):
    means = random_means((2, 3, 2, 4))
    stores = write_stores(tmp_path, means, ["en", "de"], attrs={"weights": "sha256:aaaa"})
    expected = {"model": "tiny", "revision": "r0", "dataset": "toy"}
    assert open_stores(stores, {**expected, "weights": "sha256:aaaa"}).languages == ("en", "de")
    with pytest.raises(LinguaFrancaError, match=rf"^{re.escape(str(stores['en']))} \(language 'en'\) has weights "
                                                r"'sha256:aaaa' but the manifest has 'sha256:bbbb'"):
        open_stores(stores, {**expected, "weights": "sha256:bbbb"}, "the manifest")
    with pytest.raises(LinguaFrancaError, match=r"has dataset 'toy' but the job has 'ntrex'"):
        open_stores(stores, {**expected, "dataset": "ntrex"}, "the job")


def test_single_language_is_refused(small):
    stores, _ = small
    with pytest.raises(LinguaFrancaError, match="at least two languages"):
        compute_similarity({"en": stores["en"]})


@pytest.mark.parametrize("per_layer_maps", [False, True])
def test_h5_round_trip(small, tmp_path, monkeypatch, per_layer_maps):
    """Every dataset and attribute as the README documents it; slabs of 4 rows, so writes span several chunks."""
    monkeypatch.setattr(similarity_module, "_SLAB_ROWS", 4)
    stores, means = small
    table, blocks, maps = dense_reference(means)
    path = tmp_path / "out" / "similarity.h5"
    result = write_similarity(stores, path, per_layer_maps=per_layer_maps)
    assert [p.name for p in path.parent.iterdir()] == ["similarity.h5"]  # no temporary left behind
    with h5py.File(path, "r") as h5:
        expected = {"similarity", "block_mean", "block_mean_by_layer", "langs", "sample_ids", "norms", "map_rows"}
        assert set(h5) == expected | ({"similarity_by_layer"} if per_layer_maps else set())
        assert h5["similarity"].dtype == np.float32 and h5["similarity"].shape == (15, 15)
        np.testing.assert_allclose(h5["similarity"][...], maps["all"], rtol=0, atol=1e-7)
        if per_layer_maps:
            by_layer = h5["similarity_by_layer"]
            assert by_layer.dtype == np.float32 and by_layer.shape == (2, 15, 15) and by_layer.chunks == (1, 4, 15)
            for layer in range(2):
                np.testing.assert_allclose(by_layer[layer], maps[layer], rtol=0, atol=1e-7)
        assert h5["block_mean"].dtype == np.float64 and h5["block_mean"].shape == (3, 3)
        np.testing.assert_allclose(h5["block_mean"][...], blocks["all"], rtol=0, atol=1e-12)
        assert h5["block_mean_by_layer"].dtype == np.float64 and h5["block_mean_by_layer"].shape == (2, 3, 3)
        np.testing.assert_allclose(h5["block_mean_by_layer"][1], blocks[1], rtol=0, atol=1e-12)
        np.testing.assert_allclose(h5["norms"][...], np.linalg.norm(means.reshape(15, -1), axis=1), rtol=1e-12)
        assert h5["langs"].dtype.kind == "O" and list(h5["langs"].asstr()[...]) == list(result.langs)
        assert list(h5["sample_ids"].asstr()[...]) == list(result.sample_ids)
        assert list(h5.attrs["languages"]) == LANGS
        assert (h5.attrs["n_samples"], h5.attrs["n_layers"], h5.attrs["model"]) == (5, 2, "tiny")
        assert bool(h5.attrs["per_layer_maps"]) is per_layer_maps
        np.testing.assert_array_equal(h5["map_rows"][...], np.arange(15))
        assert (h5.attrs["map_samples"], h5.attrs["map_seed"]) == (5, 0)
        assert "different-language same-meaning" in h5.attrs["definition_sads"]
        assert "i == j are left out" in h5.attrs["definition_block_mean"]


def test_h5_of_a_subsampled_map(small, tmp_path):
    stores, means = small
    _, _, maps = dense_reference(means)
    write_similarity(stores, tmp_path / "similarity.h5", map_samples=3, map_seed=2)
    rows = map_rows(3, 5, 3, seed=2)
    with h5py.File(tmp_path / "similarity.h5", "r") as h5:
        assert h5["similarity"].shape == (9, 9) and h5["map_rows"].dtype == np.int64
        np.testing.assert_array_equal(h5["map_rows"][...], rows)
        np.testing.assert_allclose(h5["similarity"][...], maps["all"][np.ix_(rows, rows)], rtol=0, atol=1e-7)
        assert (h5.attrs["map_samples"], h5.attrs["map_seed"]) == (3, 2)
        assert h5["langs"].shape == (15,) and h5["norms"].shape == (15,)


def test_failure_in_a_late_layer_leaves_no_file(tmp_path):
    """Layer 0 is written before layer 1 fails: neither the file nor its temporary survives."""
    means = random_means((2, 3, 2, 4))
    means[1, 0, 1, 2] = np.nan
    stores = write_stores(tmp_path / "stores", means, ["en", "de"])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LinguaFrancaError, match="layer 1"):
        write_similarity(stores, out / "similarity.h5", per_layer_maps=True)
    assert list(out.iterdir()) == []


def test_metrics_tsv_round_trips_exactly(small, tmp_path):
    stores, _ = small
    result = compute_similarity(stores)
    path = tmp_path / "metrics.tsv"
    write_metrics(result, path)
    with path.open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert tuple(rows[0]) == METRIC_COLUMNS
    assert [row["layer"] for row in rows] == ["all", "0", "1"]
    for written, expected in zip(rows, result.metrics):
        for column in METRIC_COLUMNS[1:]:
            assert float(written[column]) == expected[column]


def test_non_finite_means_name_language_sample_and_layer(tmp_path):
    means = random_means((2, 3, 2, 4))
    means[1, 0, 1, 2] = np.nan
    with pytest.raises(LinguaFrancaError, match=r"language 'de', sample id 's0' has non-finite .* layer 1"):
        compute_similarity(write_stores(tmp_path, means, ["en", "de"]))
