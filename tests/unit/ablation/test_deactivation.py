"""Deactivation hooks against models with the same neurons removed from the weights; the Table 1 gathering."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from linguafranca.ablation.conditions import condition_list
from linguafranca.ablation.deactivation import (
    IncreaseTable,
    diagonal_dominance,
    evaluate_condition,
    gather,
    job_mask,
    matched_random_ratio,
    ratio_flags,
    read_increase,
    text_windows,
    write_condition,
    write_dominance,
)
from linguafranca.ablation.perplexity import PerplexityResult, perplexity
from linguafranca.analysis.regions import RegionsResult, compute_regions
from linguafranca.analysis.regions import write_regions as write_regions_store
from linguafranca.errors import LinguaFrancaError
from linguafranca.figures.ablation import plot_increase
from linguafranca.io.tsv import read_tsv
from linguafranca.model.architectures import down_projections
from linguafranca.model.hooks import deactivate
from tests.helpers.stores import write_stores
from tests.helpers.tiny import WORD_VOCAB as VOCAB
from tests.helpers.tiny import word_model, word_tokenizer


def tiny_model(kind: str) -> torch.nn.Module:
    """Three layers of 64 neurons, the shape of the masks below."""
    return word_model(kind, n_layers=3)


def without_neurons(model: torch.nn.Module, mask: np.ndarray) -> torch.nn.Module:
    """A hook-free copy whose down projections ignore the masked neurons, built from the weights alone.

    A neuron is an input of the down projection, so zeroing it equals zeroing its weights: columns of an
    ``nn.Linear`` weight ``[out, in]``, rows of GPT-2's ``Conv1D`` weight ``[in, out]``. The bias is an output
    term and stays.
    """
    reference = copy.deepcopy(model)
    with torch.no_grad():
        for layer, down in enumerate(down_projections(reference)):
            keep = torch.as_tensor(1.0 - mask[layer].astype(np.float64), dtype=down.weight.dtype)
            if type(down).__name__ == "Conv1D":
                down.weight.mul_(keep[:, None])
            else:
                down.weight.mul_(keep[None, :])
    return reference


def hooks_left(model: torch.nn.Module) -> int:
    return sum(len(module._forward_pre_hooks) for module in model.modules())


def a_mask(n_layers: int = 3, n_neurons: int = 64) -> np.ndarray:
    """All of layer 1 off, a scattered tenth of layer 2; layer 0 untouched."""
    mask = np.zeros((n_layers, n_neurons), dtype=bool)
    mask[1] = True
    mask[2, np.random.default_rng(0).choice(n_neurons, n_neurons // 10, replace=False)] = True
    return mask


@pytest.mark.parametrize("kind", ["llama", "gpt2"])
def test_hooks_equal_removing_the_neurons_from_the_weights(kind):
    model = tiny_model(kind)
    mask = a_mask()
    torch.manual_seed(1)
    batch = torch.randint(0, VOCAB, (2, 8))
    with torch.no_grad():
        baseline = model(batch).logits
        with deactivate(model, mask):
            hooked = model(batch).logits
        expected = without_neurons(model, mask)(batch).logits
    torch.testing.assert_close(hooked, expected, rtol=1e-5, atol=1e-6)
    assert (hooked - baseline).abs().max() > 1e-3  # the mask does change the model


def test_the_random_condition_is_drawn_from_the_model_as_the_regions_stage_draws_it(tmp_path):
    """The random control's jobs read no regions store: they draw round(fraction * size) of the model's neurons with
    default_rng(seed), the very mask the regions stage stores for the same fraction and seed."""
    model = tiny_model("llama")  # 3 layers of 64 neurons
    drawn = job_mask(model, "random", None, {"fraction": 0.25, "seed": 7})
    reference = np.zeros(3 * 64, dtype=bool)
    reference[np.random.default_rng(7).choice(3 * 64, size=48, replace=False)] = True
    np.testing.assert_array_equal(drawn, reference.reshape(3, 64))
    means = np.random.default_rng(0).normal(size=(2, 4, 3, 64))
    stores = write_stores(tmp_path, means, ["en", "zh"])
    stored = compute_regions(stores, threshold=1.0, random_fraction=0.25, seed=7)
    np.testing.assert_array_equal(drawn, stored.random_mask)
    assert job_mask(model, "none", None, None) is None
    assert not np.array_equal(drawn, job_mask(model, "random", None, {"fraction": 0.25, "seed": 8}))


def test_fractional_mask_scales_neurons():
    model = tiny_model("llama")
    mask = np.zeros((3, 64))
    mask[0, :10] = 0.5
    batch = torch.arange(8)[None] + 4
    with torch.no_grad():
        with deactivate(model, mask):
            hooked = model(batch).logits
        expected = without_neurons(model, mask)(batch).logits
    torch.testing.assert_close(hooked, expected, rtol=1e-5, atol=1e-6)


def test_empty_mask_gives_the_baseline_bit_for_bit():
    model = tiny_model("llama")
    wins = torch.randint(0, VOCAB, (3, 8), generator=torch.Generator().manual_seed(3))
    baseline = perplexity(model, wins, batch_size=2, progress=False)
    with deactivate(model, np.zeros((3, 64), dtype=bool)):
        assert hooks_left(model) == 0
        empty = perplexity(model, wins, batch_size=2, progress=False)
    assert empty == baseline


def test_hooks_are_removed_on_exit_and_on_error():
    model = tiny_model("gpt2")
    mask = a_mask()
    with deactivate(model, mask):
        assert [len(d._forward_pre_hooks) for d in down_projections(model)] == [0, 1, 1]
    assert hooks_left(model) == 0
    with pytest.raises(RuntimeError, match="boom"), deactivate(model, mask):
        assert hooks_left(model) == 2
        raise RuntimeError("boom")
    assert hooks_left(model) == 0


def test_mask_is_validated_against_the_model():
    model = tiny_model("llama")
    with pytest.raises(LinguaFrancaError, match=r"shape \(3, 32\).*\[3, 64\]"), deactivate(model, np.zeros((3, 32))):
        pass
    with pytest.raises(LinguaFrancaError, match=r"\[0, 1\]"), deactivate(model, np.full((3, 64), 2.0)):
        pass
    assert hooks_left(model) == 0


def write_regions(path, langs=("en", "zh", "fr"), n_layers=3, n_neurons=64, empty=()) -> tuple[np.ndarray, np.ndarray]:
    """A regions store as the regions stage writes it, the regions of ``empty`` languages empty; returns
    (mask, random_mask)."""
    rng = np.random.default_rng(4)
    mask = rng.random((len(langs), n_layers, n_neurons)) < np.array([0.05, 0.1, 0.02])[: len(langs), None, None]
    for lang in empty:
        mask[langs.index(lang)] = False
    random_mask = rng.random((n_layers, n_neurons)) < 0.1
    zeros = np.zeros(mask.shape)
    matched = np.stack([np.roll(region, 1) for region in mask])  # any masks of the regions' sizes
    result = RegionsResult(list(langs), zeros, zeros, mask, random_mask, matched, 2.0, 0.1, 0, 5)
    write_regions_store(result, path)
    return mask, random_mask


LANGS = ["en", "zh", "fr"]
PPL = {  # condition -> evaluated lang -> perplexity; the size-matched controls on their own language only
    "none": {"en": 10.0, "zh": 20.0, "fr": 8.0},
    "random": {"en": 11.0, "zh": 21.0, "fr": 8.4},
    "en": {"en": 40.0, "zh": 22.0, "fr": 10.0},
    "zh": {"en": 12.0, "zh": 100.0, "fr": 8.8},
    "fr": {"en": 10.5, "zh": 20.0, "fr": 16.0},
    "random_en": {"en": 15.0},
    "random_zh": {"zh": 25.0},
    "random_fr": {"fr": 10.0},
}
EVERYWHERE = {  # the same controls evaluated on every language (ablation.matched_random_on_all_languages)
    "random_en": {"en": 15.0, "zh": 24.0, "fr": 9.6},
    "random_zh": {"en": 12.5, "zh": 25.0, "fr": 8.0},
    "random_fr": {"en": 11.0, "zh": 22.0, "fr": 10.0},
}


def condition_files(tmp_path, ppl=PPL, folder="conditions") -> dict[str, str]:
    (tmp_path / folder).mkdir(exist_ok=True)
    files = {}
    for condition in reversed(list(ppl)):  # deliberately not in table order
        results = {lang: PerplexityResult(p, np.log(p) * 70, 70, 10) for lang, p in ppl[condition].items()}
        files[condition] = str(tmp_path / folder / f"{condition}.tsv")
        write_condition(files[condition], condition, results)
    return files


def cells(path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()]


def test_gather_writes_both_tables_with_n_a_where_not_evaluated(tmp_path):
    regions = tmp_path / "regions.zarr"
    mask, random_mask = write_regions(regions)
    table = gather(condition_files(tmp_path), condition_list(LANGS), regions, tmp_path / "ppl.tsv",
                   tmp_path / "increase.tsv")

    assert (tmp_path / "ppl.tsv").read_text().splitlines() == [
        "lang\tnone\trandom\ten\tzh\tfr\trandom_en\trandom_zh\trandom_fr",
        "en\t10.0\t11.0\t40.0\t12.0\t10.5\t15.0\tn/a\tn/a",
        "zh\t20.0\t21.0\t22.0\t100.0\t20.0\tn/a\t25.0\tn/a",
        "fr\t8.0\t8.4\t10.0\t8.8\t16.0\tn/a\tn/a\t10.0",
    ]
    assert table.langs == LANGS and table.regions == ["random", "en", "zh", "fr", "random_en", "random_zh", "random_fr"]
    nan = np.nan
    expected = [[10.0, 300.0, 20.0, 5.0, 50.0, nan, nan],
                [5.0, 10.0, 400.0, 0.0, nan, 25.0, nan],
                [5.0, 25.0, 10.0, 100.0, nan, nan, 25.0]]
    np.testing.assert_allclose(table.increase, expected, rtol=1e-12)  # NaN only where expected
    sizes = [random_mask.sum(), *mask.sum(axis=(1, 2)), *mask.sum(axis=(1, 2))]
    np.testing.assert_array_equal(table.region_size, sizes)
    np.testing.assert_allclose(table.region_percent, 100 * np.array(sizes) / (3 * 64))

    rows = cells(tmp_path / "increase.tsv")
    assert rows[0] == ["lang", *table.regions]
    assert [row[0] for row in rows[1:]] == [*LANGS, "region_size", "region_percent"]
    assert [[cell == "n/a" for cell in row[1:]] for row in rows[1:4]] == np.isnan(expected).tolist()
    np.testing.assert_allclose([[float(c) for c in row[1:5]] for row in rows[1:4]], np.array(expected)[:, :4])
    assert rows[4] == ["region_size", *(str(s) for s in sizes)]
    again = read_increase(tmp_path / "increase.tsv")
    assert again.langs == table.langs and again.regions == table.regions
    np.testing.assert_array_equal(again.increase, table.increase)
    np.testing.assert_array_equal(again.region_size, table.region_size)
    np.testing.assert_array_equal(again.region_percent, table.region_percent)


def test_an_empty_region_reads_empty_in_both_tables(tmp_path):
    regions = tmp_path / "regions.zarr"
    mask, random_mask = write_regions(regions, empty=["zh"])
    table = gather(condition_files(tmp_path), condition_list(LANGS), regions, tmp_path / "ppl.tsv",
                   tmp_path / "increase.tsv")
    sizes = [random_mask.sum(), mask[0].sum(), 0, mask[2].sum(), mask[0].sum(), 0, mask[2].sum()]
    assert table.region_size.tolist() == sizes  # zh's size-matched control is empty too
    lines = cells(tmp_path / "increase.tsv")
    zh, random_zh = lines[0].index("zh"), lines[0].index("random_zh")
    assert [row[zh] for row in lines[1:4]] == ["empty"] * 3  # no 0.0 or NaN in zh's column
    assert [row[random_zh] for row in lines[1:4]] == ["empty"] * 3
    assert [float(v) for v in lines[1][1:3]] == pytest.approx([10.0, 300.0]) and lines[4][zh] == "0"
    assert float(lines[5][zh]) == 0.0
    again = read_increase(tmp_path / "increase.tsv")
    assert np.isnan(again.increase[:, zh - 1]).all() and again.increase[0, 1] == 300.0
    write_dominance(tmp_path / "dominance.tsv", table)
    _, en, zh_row, _ = cells(tmp_path / "dominance.tsv")
    assert en[0] == "en" and [float(v) for v in en[1:4]] == pytest.approx([300.0, 17.5, 300.0 / 17.5], rel=1e-12)
    assert zh_row == ["zh"] + ["empty"] * 6
    plot_increase(table, tmp_path / "h.png", tmp_path / "h.pdf")  # a NaN column does not break the colour scale
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_gather_with_controls_on_every_language(tmp_path):
    regions = tmp_path / "regions.zarr"
    write_regions(regions)
    conditions = condition_list(LANGS, matched_random_on_all_languages=True)
    files = condition_files(tmp_path, {**PPL, **EVERYWHERE}, folder="everywhere")
    table = gather(files, conditions, regions, tmp_path / "ppl.tsv", tmp_path / "increase.tsv")
    assert "n/a" not in (tmp_path / "ppl.tsv").read_text() + (tmp_path / "increase.tsv").read_text()
    np.testing.assert_allclose(table.increase[:, 4:], [[50.0, 25.0, 10.0], [20.0, 25.0, 10.0], [20.0, 0.0, 25.0]],
                               rtol=1e-12)
    # Own-language-only results do not pass for the all-languages setting, nor the other way round.
    with pytest.raises(LinguaFrancaError, match=r"'random_en' was evaluated on \['en'\].*re-run"):
        gather(condition_files(tmp_path), conditions, regions, tmp_path / "a", tmp_path / "b")
    with pytest.raises(LinguaFrancaError, match=r"'random_en' was evaluated on \['en', 'fr', 'zh'\]"):
        gather(files, condition_list(LANGS), regions, tmp_path / "a", tmp_path / "b")
    assert not (tmp_path / "a").exists()


def test_dominance_table_with_the_matched_random_ratio(tmp_path):
    regions = tmp_path / "regions.zarr"
    write_regions(regions)
    table = gather(condition_files(tmp_path), condition_list(LANGS), regions, tmp_path / "ppl.tsv",
                   tmp_path / "increase.tsv")
    write_dominance(tmp_path / "dominance.tsv", table)
    rows = cells(tmp_path / "dominance.tsv")
    assert rows[0] == ["lang", "own_increase", "mean_other_increase", "ratio", "matched_random_increase",
                       "ratio_to_matched_random", "unstable"]
    # en: 300 / mean(10, 25), and 300 / 50; zh: 400 / mean(20, 10), 400 / 25; fr: 100 / mean(5, 0), 100 / 25.
    expected = [[300.0, 17.5, 300 / 17.5, 50.0, 6.0], [400.0, 15.0, 400 / 15, 25.0, 16.0],
                [100.0, 2.5, 40.0, 25.0, 4.0]]
    assert [row[0] for row in rows[1:]] == LANGS
    np.testing.assert_allclose([[float(c) for c in row[1:6]] for row in rows[1:]], expected, rtol=1e-12)
    assert [row[6] for row in rows[1:]] == ["", "", ""]
    assert matched_random_ratio(table) == pytest.approx({"en": 6.0, "zh": 16.0, "fr": 4.0}, rel=1e-12)

    # Without the controls gathered, their two columns are n/a and the paper's columns are unchanged.
    paper = {name: path for name, path in condition_files(tmp_path).items() if not name.startswith("random_")}
    write_dominance(tmp_path / "paper.tsv", gather(paper, condition_list(LANGS), regions, tmp_path / "p.tsv",
                                                   tmp_path / "i.tsv"))
    paper_rows = cells(tmp_path / "paper.tsv")
    assert [row[4:6] for row in paper_rows[1:]] == [["n/a", "n/a"]] * 3
    assert [row[:4] for row in paper_rows] == [row[:4] for row in rows]


@pytest.mark.parametrize(
    ("own", "others", "control", "flags"),
    [
        (300.0, 17.5, 50.0, ""),
        (-2.0, 3.0, 4.0, "own_increase <= 0"),
        (10.0, 0.01, float("nan"), "mean_other_increase < 1"),
        (10.0, -0.5, 0.0, "mean_other_increase <= 0; matched_random_increase <= 0"),
        (0.0, 0.5, 0.99, "own_increase <= 0; mean_other_increase < 1; matched_random_increase < 1"),
        (5.0, 1.0, 1.0, ""),
    ],
)
def test_dominance_ratios_over_falls_or_near_zero_increases_are_flagged(own, others, control, flags):
    assert ratio_flags(own, others, control) == flags


def test_gather_rejects_inconsistent_inputs(tmp_path):
    regions = tmp_path / "regions.zarr"
    write_regions(regions)
    files = condition_files(tmp_path)
    conditions = condition_list(LANGS)
    with pytest.raises(LinguaFrancaError, match="baseline 'none' is required"):
        gather({k: v for k, v in files.items() if k != "none"}, conditions, regions, tmp_path / "a", tmp_path / "b")
    with pytest.raises(LinguaFrancaError, match=r"unknown: \['de'\]"):
        gather({**files, "de": files["en"]}, conditions, regions, tmp_path / "a", tmp_path / "b")
    with pytest.raises(LinguaFrancaError, match="holds condition"):
        gather({**files, "zh": files["en"]}, conditions, regions, tmp_path / "a", tmp_path / "b")
    write_condition(files["en"], "en", {"en": PerplexityResult(1.0, 0.0, 1, 1)})
    with pytest.raises(LinguaFrancaError, match="condition 'en' was evaluated on"):
        gather(files, conditions, regions, tmp_path / "a", tmp_path / "b")
    assert not (tmp_path / "a").exists()


def test_diagonal_dominance_by_hand():
    table = IncreaseTable(
        langs=["en", "zh", "fr"],
        regions=["random", "en", "zh"],
        increase=np.array([[10.0, 300.0, 20.0], [5.0, 10.0, 400.0], [5.0, 30.0, 10.0]]),
        region_size=np.array([10, 5, 7]),
        region_percent=np.array([1.0, 0.5, 0.7]),
    )
    # en: 300 / mean(10, 30) = 15; zh: 400 / mean(20, 10) = 400 / 15; fr has no region.
    assert diagonal_dominance(table) == pytest.approx({"en": 15.0, "zh": 400.0 / 15.0}, rel=1e-12)


def test_evaluate_condition_matches_the_weight_reference():
    model, tokenizer = tiny_model("llama"), word_tokenizer()
    rng = np.random.default_rng(5)
    texts = {lang: " ".join(f"w{i}" for i in rng.integers(0, 96, 50)) for lang in ["en", "zh"]}
    mask = a_mask()
    wins = text_windows(tokenizer, texts, seqlen=8, max_tokens=40, bos=None)
    hooked = evaluate_condition(model, wins, mask, batch_size=2, progress=False)
    expected = evaluate_condition(without_neurons(model, mask), wins, None, batch_size=2, progress=False)
    assert list(hooked) == ["en", "zh"]
    for lang in texts:
        assert hooked[lang].n_windows == 5 and hooked[lang].n_predicted == 35
        assert hooked[lang].ppl == pytest.approx(expected[lang].ppl, rel=1e-5)


def test_evaluate_condition_with_bos_per_window():
    model, tokenizer = tiny_model("llama"), word_tokenizer()
    words = np.random.default_rng(6).integers(0, 96, 30)
    args = dict(seqlen=8, max_tokens=None, bos=None, bos_per_window=True)
    wins = text_windows(tokenizer, {"en": " ".join(f"w{i}" for i in words)}, **args)
    result = evaluate_condition(model, wins, a_mask(), batch_size=2, progress=False)
    # 30 words in windows of BOS + 7 words: 4 windows, each predicting all 7 of its words; 2 words dropped.
    expected = torch.tensor([[1, *(words[7 * k : 7 * k + 7] + 4)] for k in range(4)])
    with deactivate(model, a_mask()):
        assert result["en"] == perplexity(model, expected, batch_size=2, progress=False)
    assert (result["en"].n_windows, result["en"].n_predicted) == (4, 28)
    with pytest.raises(LinguaFrancaError, match="bos_per_window"):
        text_windows(tokenizer, {"en": "w1"}, **{**args, "bos": False})


@pytest.mark.parametrize("low", [0.0, -3.0])
def test_heatmap_files_are_written(tmp_path, low):
    table = IncreaseTable(
        ["en", "zh"], ["random", "en", "random_en"], np.array([[low, 50.0, 9.0], [2.0, 4.0, np.nan]]),
        np.array([3, 4, 4]), np.array([0.1, 0.2, 0.2])
    )
    plot_increase(table, tmp_path / "h.png", tmp_path / "h.pdf")
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "h.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.pdf", "h.png"]


def test_heatmap_leaves_cells_not_evaluated_blank():
    from matplotlib.figure import Figure

    from linguafranca.figures.ablation import _colour_scale, _draw, _log_ratio

    table = IncreaseTable(
        ["en", "zh"], ["random", "en", "random_en"], np.array([[1.0, 50.0, 9.0], [2.0, 4.0, np.nan]]),
        np.array([3, 4, 4]), np.array([0.1, 0.2, 0.2])
    )
    figure = Figure()
    axes = figure.add_subplot()
    _draw(figure, axes, table, None, _colour_scale(_log_ratio(table)))
    assert sorted(text.get_text() for text in axes.texts) == ["1", "2", "4", "50", "9"]
    drawn = np.ma.masked_invalid(axes.images[0].get_array())
    assert drawn.mask.tolist() == [[False, False, False], [False, False, True]]
    assert axes.images[0].cmap.get_bad()[3] == 0  # masked cells are drawn transparent: blank


def test_tables_refuse_conditions_of_different_computes(tmp_path):
    """compute auto resolves per machine: Table 1 must not mix a float32 baseline with bfloat16 regions."""
    regions = tmp_path / "regions.zarr"
    write_regions(regions)
    conditions = condition_list(LANGS)
    files = {}
    for condition in conditions:
        compute = "bfloat16" if condition.name == "fr" else "float32"
        files[condition.name] = tmp_path / f"{condition.name}.tsv"
        write_condition(files[condition.name], condition.name,
                        {lang: PerplexityResult(2.0, 1.0, 2, 1, compute) for lang in condition.evaluated})
    with pytest.raises(LinguaFrancaError, match=r"different dtypes \(none: float32, random: float32, en: float32, "
                                                r"zh: float32, fr: bfloat16, "):
        gather(files, conditions, regions, tmp_path / "ppl.tsv", tmp_path / "inc.tsv")


SIGNIFICANT_PPL = {  # significant regions (subsets of the regions) on every language, their controls on their own
    "sig_en": {"en": 30.0, "zh": 21.0, "fr": 9.0},
    "sig_zh": {"en": 11.0, "zh": 60.0, "fr": 8.4},
    "sig_fr": {"en": 10.0, "zh": 20.0, "fr": 8.0},
    "random_sig_en": {"en": 12.0},
    "random_sig_zh": {"zh": 22.0},
    "random_sig_fr": {"fr": 8.0},
}


def test_significant_regions_get_table_1_columns_and_dominance_rows(tmp_path):
    regions = tmp_path / "regions.zarr"
    mask, random_mask = write_regions(regions)
    significant = mask & (np.arange(64) % 2 == 0)
    significant[2] = False  # fr: nothing significant, so its columns read empty
    result = RegionsResult(LANGS, np.zeros(mask.shape), np.zeros(mask.shape), mask, random_mask,
                           np.stack([np.roll(m, 1) for m in mask]), 2.0, 0.1, 0, 5,
                           significance_permutations=10, pvalue=np.ones(mask.shape), significant=significant,
                           random_masks_significant=np.stack([np.roll(m, 2) for m in significant]))
    write_regions_store(result, tmp_path / "sig.zarr")
    conditions = condition_list(LANGS, significant_regions=True)
    table = gather(condition_files(tmp_path, {**PPL, **SIGNIFICANT_PPL}), conditions, tmp_path / "sig.zarr",
                   tmp_path / "ppl.tsv", tmp_path / "increase.tsv")
    assert table.regions[-6:] == list(SIGNIFICANT_PPL)
    np.testing.assert_array_equal(table.region_size[-6:], [*significant.sum(axis=(1, 2))] * 2)
    write_dominance(tmp_path / "dominance.tsv", table)
    rows = {row["lang"]: row for row in read_tsv(tmp_path / "dominance.tsv")}
    assert list(rows) == ["en", "zh", "fr", "sig_en", "sig_zh", "sig_fr"]
    assert float(rows["sig_en"]["own_increase"]) == pytest.approx(200.0)
    assert float(rows["sig_en"]["mean_other_increase"]) == pytest.approx((5.0 + 12.5) / 2)
    assert float(rows["sig_zh"]["matched_random_increase"]) == pytest.approx(10.0)
    assert float(rows["sig_zh"]["ratio_to_matched_random"]) == pytest.approx(200.0 / 10.0)
    assert rows["sig_fr"]["ratio"] == "empty"
    assert float(rows["en"]["own_increase"]) == pytest.approx(300.0)  # the paper's rows unchanged


def test_heatmap_draws_one_panel_per_method_on_one_scale(monkeypatch):
    import linguafranca.figures.ablation as ablation

    captured = []
    monkeypatch.setattr(ablation, "save_figure", lambda fig, png, pdf: captured.append(fig))
    regions = ["random", "en", "random_en", "lape_en", "random_lape_en", "ap_en", "random_ap_en"]
    table = IncreaseTable(["en"], regions, np.arange(1.0, 8.0)[None], np.ones(7, dtype=np.int64), np.ones(7))
    ablation.plot_increase(table, "unused.png", "unused.pdf", title="T")
    panels = [ax for ax in captured[0].axes if ax.images]
    assert [[t.get_text().split("\n")[0] for t in ax.get_xticklabels()] for ax in panels] == [
        ["random", "en", "random_en"], ["lape_en", "random_lape_en"], ["ap_en", "random_ap_en"]]
    assert panels[0].get_title() == "T" and panels[1].get_title().startswith("lape:")
    assert len({(ax.images[0].norm.vmin, ax.images[0].norm.vmax) for ax in panels}) == 1
