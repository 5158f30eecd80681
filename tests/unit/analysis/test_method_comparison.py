"""The methods side by side: sizes, nulls, layer thirds and Jaccard against brute-force loops; the per-neuron table;
the script control's overlaps; the mask exports."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from linguafranca.analysis.mask_export import lape_layout, write_lape_layout, write_safetensors
from linguafranca.analysis.method_comparison import (
    MethodRegions,
    method_rows,
    neuron_rows,
    ranks,
    script_rows,
)

LANGS = ["en", "hi", "hi-Latn"]


def _results(seed=0, shape=(3, 4, 5), permutations=6):
    rng = np.random.default_rng(seed)
    out = {}
    for name in ("zscore", "lape", "ap"):
        score = rng.normal(size=shape)
        out[name] = MethodRegions(score > 0.8, score, ranks(score),
                                  rng.integers(0, 5, (permutations, shape[0], shape[1])), name)
    return out


def _brute_jaccard(a, b):
    inter = sum(x and y for x, y in zip(a.ravel(), b.ravel()))
    union = sum(x or y for x, y in zip(a.ravel(), b.ravel()))
    return inter / union if union else float("nan")


def test_rows_match_loops():
    results = _results()
    rows = {(r["method"], r["lang"]): r for r in method_rows(results, LANGS)}
    for method, result in results.items():
        for index, lang in enumerate(LANGS):
            row = rows[method, lang]
            assert row["size"] == int(result.mask[index].sum())
            null = [int(result.null_count[b, index].sum()) for b in range(len(result.null_count))]
            assert row["null_mean"] == pytest.approx(np.mean(null)) and row["null_p95"] == pytest.approx(
                np.percentile(null, 95))
            per_layer = result.mask[index].sum(axis=1)  # 4 layers split 2, 1, 1
            total = per_layer.sum()
            expected = [per_layer[:2].sum() / total, per_layer[2] / total, per_layer[3] / total]
            assert [row["first_third"], row["middle_third"], row["last_third"]] == pytest.approx(expected)
            for other, theirs in results.items():
                assert row[f"jaccard_{other}"] == pytest.approx(_brute_jaccard(result.mask[index], theirs.mask[index]),
                                                                nan_ok=True)
        assert rows[method, "all"]["size"] == int(result.mask.sum())
        assert rows[method, "all"]["jaccard_lape"] == pytest.approx(_brute_jaccard(result.mask, results["lape"].mask))
    assert rows["ap", "en"]["jaccard_ap"] == 1.0


def test_ranks_are_positions_in_a_descending_sort():
    score = np.array([[[0.1, 0.9, 0.5], [0.9, np.nan, -1.0]]])
    assert ranks(score).tolist() == [[[4, 1, 3], [2, 6, 5]]]
    assert ranks(score, descending=False).tolist() == [[[2, 4, 3], [5, 6, 1]]]


def test_neuron_rows_cover_every_selected_cell_once_per_method():
    results = _results(1)
    rows = neuron_rows(results, LANGS)
    union = np.stack([r.mask for r in results.values()]).any(axis=0)
    cells = {(r["lang"], r["layer"], r["neuron"]) for r in rows}
    assert cells == {(LANGS[a], int(l), int(k)) for a, l, k in zip(*np.nonzero(union))}
    assert len(rows) == 3 * int(union.sum())
    for row in rows:
        result, cell = results[row["method"]], (LANGS.index(row["lang"]), row["layer"], row["neuron"])
        assert row["selected"] == bool(result.mask[cell]) and row["score"] == result.score[cell]
        assert (row["method"] in row["selected_by"].split("+")) == row["selected"]


def test_script_rows_read_language_or_script():
    mask = np.zeros((3, 1, 10), dtype=bool)
    mask[1, 0, :4] = True          # hi
    mask[2, 0, 2:6] = True         # hi-Latn overlaps hi on 2 of 6
    mask[0, 0, 5:9] = True         # en overlaps hi-Latn on 1 of 7
    result = MethodRegions(mask, mask.astype(float), ranks(mask.astype(float)), np.zeros((0, 3, 1)), "zscore")
    row = script_rows({"zscore": result}, LANGS, {"hi-Latn": "hi"}, ["en"])[0]
    assert row["jaccard_base"] == pytest.approx(2 / 6) and row["jaccard_latin_mean"] == pytest.approx(1 / 7)
    assert row["base_jaccard_latin_mean"] == 0.0 and row["reads_as"] == "language"
    assert row["jaccard_base_chance"] == pytest.approx((4 * 4 / 10) / (8 - 4 * 4 / 10))
    mask[0, 0, :] = False
    mask[0, 0, 2:6] = True         # en now equals hi-Latn
    assert script_rows({"zscore": result}, LANGS, {"hi-Latn": "hi"}, ["en"])[0]["reads_as"] == "script"
    big = np.zeros((3, 1, 1000), dtype=bool)
    big[1, 0, :100], big[2, 0, 99:199], big[0, 0, 198:298] = True, True, True  # one shared neuron each: below chance
    result = MethodRegions(big, big.astype(float), ranks(big.astype(float)), np.zeros((0, 3, 1)), "zscore")
    assert script_rows({"zscore": result}, LANGS, {"hi-Latn": "hi"}, ["en"])[0]["reads_as"] == "neither"


def test_safetensors_and_lape_layout_round_trip(tmp_path):
    results = _results(2)
    masks = {name: r.mask for name, r in results.items()}
    write_safetensors(tmp_path / "m.safetensors", masks, LANGS, {"model": "tiny"})
    loaded = load_file(tmp_path / "m.safetensors")
    assert set(loaded) == {f"{m}/{lang}" for m, lang in itertools.product(masks, LANGS)}
    for (method, lang), tensor in ((k.split("/"), v) for k, v in loaded.items()):
        np.testing.assert_array_equal(tensor, masks[method][LANGS.index(lang)])
    layout = lape_layout(masks["lape"])
    assert len(layout) == 3 and all(len(per_lang) == 4 for per_lang in layout)
    for a, l in itertools.product(range(3), range(4)):
        assert layout[a][l].dtype == torch.int64
        assert layout[a][l].tolist() == np.flatnonzero(masks["lape"][a, l]).tolist()
    write_lape_layout(tmp_path / "layout", masks)
    assert sorted(p.name for p in (tmp_path / "layout").iterdir()) == ["ap.pt", "lape.pt", "zscore.pt"]
