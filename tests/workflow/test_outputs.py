"""What a finished run of the tiny workflow writes: every output as documented."""

import json

import numpy as np
import pytest
import zarr

from tests.helpers.workflow import (
    LANGS,
    TEXTS,
    copy_of_run,
    snakemake,
    with_threshold,
)


def test_activation_stores_have_documented_layout(finished_run):
    workdir, *_ = finished_run
    for lang in LANGS:
        group = zarr.open_group(str(workdir / f"results/tiny/main/toy/activations/{lang}.zarr"), mode="r")
        mean = group["mean"]
        assert mean.shape == (4, 2, 24) and mean.dtype == np.float32
        assert group["n_tokens"].dtype == np.int32 and (group["n_tokens"][:] > 0).all()
        assert np.isfinite(mean[:]).all()
        attrs = dict(group.attrs)
        assert attrs["sample_ids"] == ["v0", "v1", "v2", "v3"]
        assert (attrs["model"], attrs["revision"], attrs["dataset"], attrs["lang"]) == ("tiny", "main", "toy", lang)
        assert attrs["n_layers"] == 2 and attrs["n_neurons"] == 24 and attrs["compute"] == "float32" and attrs["accumulation"] == "float32"
        assert attrs["neuron_site"] == "model.layers.{i}.mlp.down_proj:input"
        assert attrs["weights"].startswith("sha256:") and "linguafranca_version" in attrs and "bos" in attrs
        assert list(mean.metadata.dimension_names) == ["sample", "layer", "neuron"]


def test_prepared_text_is_parallel(finished_run):
    workdir, *_ = finished_run
    for lang in LANGS:
        rows = [json.loads(line) for line in (workdir / f"resources/data/toy/{lang}.jsonl").read_text().splitlines()]
        assert [r["id"] for r in rows] == ["v0", "v1", "v2", "v3"]
        assert [r["text"] for r in rows] == TEXTS[lang][:4]
        # every id the loader gave, the fifth too, which samples: 4 left out
        assert json.loads((workdir / f"resources/data/toy/{lang}.ids.json").read_text()) == [f"v{i}" for i in range(5)]
    assert json.loads((workdir / "resources/data/toy/languages.json").read_text()) == {
        "dataset": "toy", "languages": LANGS, "aligned": True, "samples": dict.fromkeys(LANGS, 4)}


def test_similarity_metrics_and_regions(finished_run):
    import h5py

    workdir, *_ = finished_run
    base = workdir / "results/tiny/main/toy"
    with h5py.File(base / "similarity.h5") as h5:
        assert h5["similarity"].shape == (12, 12) and h5["similarity"].dtype == np.float32
        assert h5["similarity_by_layer"].shape == (2, 12, 12) and h5.attrs["per_layer_maps"]  # the config's param
        assert h5["block_mean"].shape == (3, 3) and h5["block_mean_by_layer"].shape == (2, 3, 3)
        assert [x.decode() for x in h5["langs"][:]] == [lang for lang in LANGS for _ in range(4)]
        np.testing.assert_allclose(np.diag(h5["similarity"][:]), 1, atol=1e-6)
    metrics = (base / "metrics.tsv").read_text().splitlines()
    assert metrics[0].split("\t")[:3] == ["layer", "lrds", "sads"]
    assert [row.split("\t")[0] for row in metrics[1:]] == ["all", "0", "1"]
    regions = zarr.open_group(str(base / "regions/z1.zarr"), mode="r")
    assert regions["mask"].shape == (3, 2, 24) and regions["random_mask"][:].sum() == 12
    assert regions.attrs["langs"] == LANGS and regions.attrs["threshold"] == 1
    assert regions["null_count"].shape == (20, 3, 2) and regions.attrs["null_permutations"] == 20  # the defaults
    assert regions["significant"].shape == regions["pvalue"].shape == (3, 2, 24)
    assert regions.attrs["significance_permutations"] == 1000 and regions.attrs["fdr_q"] == 0.05
    sklr = (base / "regions/z1_sklr.tsv").read_text().splitlines()
    assert sklr[0].split("\t") == ["layer", *LANGS, "all", "null_mean", "null_p95", "significant"]
    assert [row.split("\t")[0] for row in sklr[3:]] == ["total", "percent", "null_mean", "null_sd", "null_p95",
                                                        "significant"]
    for figure in ("similarity", "lrds_sads", "regions_z1_layers", "regions_z1_sizes"):
        assert (base / f"figures/{figure}.png").read_bytes()[:4] == b"\x89PNG"
        assert (base / f"figures/{figure}.pdf").read_bytes()[:4] == b"%PDF"


def test_ablation_tables_have_the_right_labels(finished_run):
    workdir, *_ = finished_run
    folder = workdir / "results/tiny/main/held_out/ablation/regions-toy/z1"
    controls = [f"random_{lang}" for lang in LANGS]
    methods = [f"{prefix}{method}_{lang}" for method in ("lape", "ap") for prefix in ("", "random_") for lang in LANGS]
    rows = [line.split("\t") for line in (folder / "perplexity.tsv").read_text().splitlines()]
    assert rows[0] == ["lang", "none", "random", *LANGS, *controls, *methods] and [r[0] for r in rows[1:]] == LANGS
    rows = [row[: 3 + 2 * len(LANGS)] for row in rows]  # the z-score's conditions; the methods' are tested below
    assert all(float(v) > 1 for r in rows[1:] for v in r[1:6])
    # Each size-matched control is evaluated on its own language only: a diagonal, n/a elsewhere.
    assert [[v != "n/a" for v in r[6:]] for r in rows[1:]] == [[a == b for b in LANGS] for a in LANGS]
    assert all(float(r[6 + i]) > 1 for i, r in enumerate(rows[1:]))
    for lang, control in zip(LANGS, controls):
        evaluated = [line.split("\t")[1] for line in (folder / f"conditions/{control}.tsv").read_text().splitlines()]
        assert evaluated == ["lang", lang]
    increase = [line.split("\t") for line in (folder / "perplexity_increase.tsv").read_text().splitlines()]
    assert increase[0] == ["lang", "random", *LANGS, *controls, *methods]
    increase = [row[: 2 + 2 * len(LANGS)] for row in increase]
    assert [r[0] for r in increase[1:]] == [*LANGS, "region_size", "region_percent"]
    assert increase[-2][1] == "12"  # the random control: 25% of 2 x 24 neurons
    assert increase[-2][5:] == increase[-2][2:5]  # each control has its region's size
    assert [[v == "n/a" for v in r[5:]] for r in increase[1:4]] == [[a != b for b in LANGS] for a in LANGS]
    dominance = [line.split("\t") for line in (folder / "diagonal_dominance.tsv").read_text().splitlines()]
    assert dominance[0] == ["lang", "own_increase", "mean_other_increase", "ratio", "matched_random_increase",
                            "ratio_to_matched_random", "unstable"]
    assert [row[0] for row in dominance[1:]] == [*LANGS, *(f"{m}_{lang}" for m in ("lape", "ap") for lang in LANGS)]
    for i, row in enumerate(dominance[1 : 1 + len(LANGS)]):
        own, control = float(increase[1 + i][2 + i]), float(increase[1 + i][5 + i])
        assert float(row[1]) == own and float(row[4]) == control
        assert float(row[5]) == pytest.approx(own / control, rel=1e-12, nan_ok=True)
    assert (folder / "perplexity_increase.png").read_bytes()[:4] == b"\x89PNG"
    # The baseline is computed once per (model, text), outside the regions and threshold folders, in float32.
    baseline = [line.split("\t") for line in (folder.parents[1] / "none.tsv").read_text().splitlines()]
    assert baseline[0] == ["condition", "lang", "ppl", "nll_sum", "n_predicted", "n_windows", "compute"]
    assert [(r[1], r[2], r[6]) for r in baseline[1:]] == [(r[0], r[1], "float32") for r in rows[1:]]
    generations = [json.loads(line) for line in
                   (workdir / "results/tiny/main/toy/generations/z1.jsonl").read_text().splitlines()]
    assert {(g["lang"], g["condition"]) for g in generations} == {
        (lang, c) for lang in ("en", "zh") for c in ("none", "random", *LANGS)}


@pytest.mark.parametrize(("threshold", "tag"), [(0.69559666, "0.69559666"), (-1, "-1"), (1e-05, "1e-05")])
def test_threshold_reaches_the_regions_store_exactly(finished_run, tmp_path, threshold, tag):
    """The path tag is lossless: no rounding to %g, and negative or exponent forms are no MissingInputException."""
    _, config, code = finished_run
    workdir = copy_of_run(finished_run, tmp_path)
    target = f"results/tiny/main/toy/regions/z{tag}.zarr"
    run = snakemake(workdir, code, "--configfile", str(with_threshold(config, threshold)), "--cores", "1",
                    f"{target}/zarr.json")
    assert run.returncode == 0, run.stderr[-3000:]
    regions = zarr.open_group(str(workdir / target), mode="r")
    assert regions.attrs["threshold"] == threshold
    np.testing.assert_array_equal(regions["mask"][:], regions["zscore"][:] > np.float32(threshold))


def test_methods_side_by_side_and_their_deactivation(finished_run):
    """LAPE and AP experts on the same capture: the comparison table, the per-neuron table and the masks agree with
    the stores; each method's regions are Table 1 columns on their own and the next language; median forcing
    reports output-language shares."""
    from safetensors.numpy import load_file

    workdir, *_ = finished_run
    regions = workdir / "results/tiny/main/toy/regions"  # threshold 1: files z1_*
    methods = zarr.open_group(str(regions / "methods.zarr"), mode="r")
    zscore = zarr.open_group(str(regions / "z1.zarr"), mode="r")
    assert list(methods["method"][:]) == ["lape", "ap"] and methods["mask"].shape == (2, len(LANGS), 2, 24)
    masks = {"zscore": zscore["mask"][:], "lape": methods["mask"][0], "ap": methods["mask"][1]}
    table = [line.split("\t") for line in (regions / "z1_methods.tsv").read_text().splitlines()]
    header, rows = table[0], {(r[0], r[1]): dict(zip(table[0], r)) for r in table[1:]}
    assert header[:3] == ["method", "lang", "size"] and header[-3:] == ["jaccard_zscore", "jaccard_lape", "jaccard_ap"]
    for method, mask in masks.items():
        for index, lang in enumerate(LANGS):
            assert int(rows[method, lang]["size"]) == int(mask[index].sum())
        assert rows[method, "all"]["null_mean"] != "n/a"
    assert int(rows["ap", LANGS[0]]["size"]) >= 1  # a share of 48 neurons still gives an expert
    stored = load_file(regions / "z1_masks.safetensors")
    for method, mask in masks.items():
        for index, lang in enumerate(LANGS):
            np.testing.assert_array_equal(stored[f"{method}/{lang}"], mask[index])
    neurons = [line.split("\t") for line in (regions / "z1_methods_neurons.tsv").read_text().splitlines()]
    union = sum(int(np.logical_or.reduce([m[i] for m in masks.values()]).sum()) for i in range(len(LANGS)))
    assert len(neurons) - 1 == 3 * union
    folder = workdir / "results/tiny/main/held_out/ablation/regions-toy"
    lape_en = [line.split("\t")[1] for line in (folder / "methods/lape/en.tsv").read_text().splitlines()]
    assert lape_en == ["lang", LANGS[0], LANGS[1]]
    assert (folder / "methods/ap/random_zh.tsv").exists()
    shares = [line.split("\t") for line in
              (workdir / "results/tiny/main/toy/generations/z1_forced_language.tsv").read_text().splitlines()]
    assert shares[0][:2] == ["method", "forced_lang"] and len(shares) == 1 + 3 * len(LANGS)
    forced = [json.loads(line) for line in
              (workdir / "results/tiny/main/toy/generations/z1_forced.jsonl").read_text().splitlines()]
    names = {"zscore": "median_{}", "lape": "median_lape_{}", "ap": "median_ap_{}"}
    expected = {names[m].format(lang) for m, mask in masks.items() for i, lang in enumerate(LANGS) if mask[i].any()}
    assert {g["condition"] for g in forced} == {"none", *expected} and "median_ap_zh" in expected
    assert all("identified" in g for g in forced)
