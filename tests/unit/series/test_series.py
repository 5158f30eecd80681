"""Series aggregation: evolution.tsv from hand-made per-point files, against values worked out here by hand or by
brute force over the masks; identical checkpoints; figures."""

import json
import logging

import numpy as np
import pytest

from linguafranca.analysis.regions import RegionsResult, write_regions, write_sklr
from linguafranca.figures.series import draw_series
from linguafranca.io.tsv import read_tsv
from linguafranca.series.evolution import (
    evolution_columns,
    evolution_rows,
    figure_names,
    identical_points,
    point_files,
    relative_thirds,
    write_evolution,
)

LANGS = ["en", "fr"]


def _regions(mask: np.ndarray) -> RegionsResult:
    """A regions result around a hand-made mask (the other arrays only need the right shape)."""
    zeros = np.zeros(mask.shape)
    return RegionsResult(
        langs=LANGS, contribution=zeros, zscore=zeros, mask=mask, random_mask=np.zeros(mask.shape[1:], bool),
        random_masks_per_language=np.zeros_like(mask), threshold=2.0, random_fraction=0.1, seed=0, n_samples=4,
    )


def _point(tmp_path, name, mask, lrds, sads, increase, accuracy, weights, probes=(0.9, 0.6, 0.8)):
    """Write one point's files: manifest, metrics, SKLR table, regions store, Table 1 ratios, reasoning accuracy,
    probes summary (``probes``: probe accuracy of layers 0-2)."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"name": name, "path": str(folder), "weights_sha256": weights}))
    (folder / "metrics.tsv").write_text(f"layer\tlrds\tsads\nall\t{lrds}\t{sads}\n0\t9\t9\n")
    result = _regions(mask)
    write_regions(result, folder / "regions.zarr")
    write_sklr(result, folder / "sklr.tsv")
    (folder / "increase.tsv").write_text(
        "lang\trandom\ten\tfr\trandom_en\trandom_fr\n"
        + "".join(f"{lang}\t{row[0]}\t{row[1]}\t{row[2]}\tn/a\tn/a\n" for lang, row in zip(LANGS, increase))
        + "region_size\t1\t1\t1\t1\t1\n"
    )
    (folder / "accuracy.tsv").write_text(
        "task\tlanguage\tavailable\tn\tacc_none\n"
        + "".join(f"bible\t{lang}\tyes\t10\t{a}\n" for lang, a in zip(LANGS, accuracy))
        + "bible\tid\tnot available\t0\t\nother\ten\tyes\t10\t0.99\n"
    )
    (folder / "summary.tsv").write_text(
        "metric\tlayer\trelative_depth\tvalue\n"
        + "".join(f"probe_accuracy\t{layer}\t{(layer + 1) / 3}\t{a}\n" for layer, a in enumerate(probes))
        + "".join(f"shuffled_accuracy\t{layer}\t{(layer + 1) / 3}\t0.5\n" for layer in range(3))
        + "majority_accuracy\tall\t\t0.5\njaccard\t0\t0.33\t0.2\njaccard\tall\t\t0.1\n"
        + "shared_share\tall\t\t0.05\n"
    )
    return {
        "manifest": str(folder / "manifest.json"), "metrics": str(folder / "metrics.tsv"),
        "sklr": str(folder / "sklr.tsv"), "regions": str(folder / "regions.zarr"),
        "increase": str(folder / "increase.tsv"), "accuracy": str(folder / "accuracy.tsv"),
        "probes": str(folder / "summary.tsv"),
    }


@pytest.fixture
def two_points(tmp_path):
    """Two checkpoints of a 3-layer, 4-neuron model; the second has the same weights as the first."""
    first = np.zeros((2, 3, 4), bool)
    first[0, 0, :2] = first[0, 2, 0] = first[1, 1, 1] = True  # en: 3 neurons (layers 0, 0, 2); fr: 1 (layer 1)
    second = first.copy()
    second[0, 0, 1] = False
    second[0, 0, 3] = second[1, 1, 2] = second[1, 2, 3] = True  # en {00,03,20}, fr {11,12,23}
    files = [
        _point(tmp_path, "a", first, 0.5, 0.1, [[2.0, 10.0, 4.0], [3.0, 6.0, 20.0]], [0.25, 0.75], {"w": "1"}),
        _point(tmp_path, "b", second, 0.25, 0.2, [[1.0, 2.0, 2.0], [1.0, 2.0, 2.0]], [0.5, 0.5], {"w": "1"}),
    ]
    info = [{"step": 0, "tokens": 0, "parameters": 100}, {"step": 8, "tokens": 512, "parameters": 100}]
    return files, info


def test_evolution_table_from_hand_made_files(two_points, caplog):
    files, info = two_points
    with caplog.at_level(logging.WARNING):
        rows = evolution_rows([("m", "step-0000"), ("m", "step-0008")], files, info, LANGS)
    first, second = rows
    assert (first["step"], second["tokens"], second["parameters"]) == (0, 512, 100)
    assert (first["lrds"], first["sads"], second["lrds"]) == (0.5, 0.1, 0.25)
    # SKLR: key neurons (with multiplicity over languages) as a percentage of 3 x 4 neurons.
    assert first["sklr"] == pytest.approx(100 * 4 / 12) and second["sklr"] == pytest.approx(100 * 6 / 12)
    assert (first["size_en"], first["size_fr"], second["size_en"], second["size_fr"]) == (3, 1, 3, 3)
    # Three layers: one per third. First point: layer 0 holds 2 of 4, layer 1 one, layer 2 one.
    assert (first["layers_first"], first["layers_middle"], first["layers_last"]) == (0.5, 0.25, 0.25)
    assert (second["layers_first"], second["layers_middle"], second["layers_last"]) == (2 / 6, 2 / 6, 2 / 6)
    # Table 1 ratios: own = diagonal (10, 20), other = off-diagonal (4, 6), random = the random column (2, 3).
    assert (first["ppl_own"], first["ppl_other"], first["ppl_random"]) == (15.0, 5.0, 2.5)
    # Accuracy: the bible task's available languages only.
    assert first["accuracy"] == 0.5 and second["accuracy"] == 0.5
    # Probes: accuracy over layers (0.9, 0.6, 0.8): mean and lowest layer; chance; whole-model expert overlap.
    assert (first["probe_accuracy_mean"], first["probe_accuracy_min"]) == (pytest.approx(2.3 / 3), 0.6)
    assert (first["probe_shuffled_mean"], first["expert_jaccard"], first["expert_shared"]) == (0.5, 0.1, 0.05)
    # Jaccard with the previous point: en {00,01,20} vs {00,03,20} = 2/4; fr {11} vs {11,12,23} = 1/3.
    assert first["jaccard_en"] is None
    assert second["jaccard_en"] == 0.5 and second["jaccard_fr"] == pytest.approx(1 / 3)
    # Same weights: flagged on the later point, with a warning.
    assert (first["identical_to"], second["identical_to"]) == ("", "m @ step-0000")
    assert first["weights_sha256"] == second["weights_sha256"]
    assert "same weights" in caplog.text
    # No null or significance in these stores: those cells stay empty.
    assert first["sklr_null_mean"] is None and first["significant_en"] is None


def test_written_table_has_every_column_and_empty_cells_for_missing_stages(two_points, tmp_path):
    files, info = two_points
    without = [{k: v for k, v in f.items() if k not in ("increase", "accuracy", "probes")} for f in files]
    rows = evolution_rows([("m", "a"), ("m", "b")], without, info, LANGS)
    write_evolution(rows, LANGS, tmp_path / "evolution.tsv")
    table = read_tsv(tmp_path / "evolution.tsv", evolution_columns(LANGS))
    assert [row["revision"] for row in table] == ["a", "b"]
    assert all(row["accuracy"] == "" and row["ppl_own"] == "" and row["expert_jaccard"] == "" for row in table)
    assert float(table[1]["jaccard_en"]) == 0.5


def test_series_figures_are_written(two_points, tmp_path):
    files, info = two_points
    rows = evolution_rows([("m", "a"), ("m", "b")], files, info, LANGS)
    for vary in ("step", "size"):
        names = figure_names(vary, probes=True)
        assert names[-2:] == ["probes", "overlap"] and names[0] == {"step": "figure4", "size": "figure7"}[vary]
        outputs = {name: (tmp_path / f"{vary}_{name}.png", tmp_path / f"{vary}_{name}.pdf") for name in names}
        draw_series(rows, [f["sklr"] for f in files], LANGS, vary, outputs, [f["probes"] for f in files])
        assert all(png.stat().st_size > 1000 and pdf.stat().st_size > 1000 for png, pdf in outputs.values())


def test_empty_regions_are_left_out_of_the_mean_increases(tmp_path):
    from linguafranca.series.evolution import read_increase

    path = tmp_path / "increase.tsv"
    path.write_text("lang\trandom\ten\tfr\nen\t1.0\tempty\t4.0\nfr\t3.0\tempty\t8.0\nregion_size\t5\t0\t2\n")
    assert read_increase(str(path), LANGS) == {"ppl_own": 8.0, "ppl_other": 4.0, "ppl_random": 2.0}


def test_identical_points_names_the_first_match_only():
    flags = identical_points(["x", "y", "x", "y", "x"], ["p0", "p1", "p2", "p3", "p4"])
    assert flags == ["", "", "p0", "p1", "p0"]


@pytest.mark.parametrize("layers, expected", [(1, [1]), (3, [0, 1, 2]), (4, [0, 1, 1, 2]), (6, [0, 0, 1, 1, 2, 2])])
def test_relative_thirds(layers, expected):
    assert relative_thirds(layers).tolist() == expected


def test_point_files_leave_out_stages_that_are_off():
    patterns = {"manifest": "r/{model}/{revision}/m.json", "accuracy": None}
    assert point_files(patterns, "x", "step-0001") == {"manifest": "r/x/step-0001/m.json"}
