"""The one list of deactivation conditions: names, order, evaluated languages, and masks from a regions store."""

from __future__ import annotations

import numpy as np
import pytest

from linguafranca.ablation.conditions import (
    by_name,
    condition_list,
    condition_mask,
    matched_random_name,
    paper_conditions,
)
from linguafranca.analysis.regions import RegionsResult, write_regions
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.regions_store import read_regions
from linguafranca.model.random_masks import matched_random_masks, random_mask

LANGS = ["en", "zh", "fr"]
ORDER = ["none", "random", "en", "zh", "fr", "random_en", "random_zh", "random_fr"]


def test_names_order_and_own_language_controls_by_default():
    conditions = condition_list(LANGS)
    assert [c.name for c in conditions] == ORDER
    assert [c.kind for c in conditions] == ["baseline", "random", *["region"] * 3, *["matched_random"] * 3]
    assert [c.lang for c in conditions] == [None, None, *LANGS, *LANGS]
    everywhere = ("en", "zh", "fr")
    assert [c.evaluated for c in conditions] == [everywhere] * 5 + [("en",), ("zh",), ("fr",)]
    assert matched_random_name("zh") == "random_zh"


def test_switch_evaluates_the_controls_on_every_language():
    conditions = condition_list(LANGS, matched_random_on_all_languages=True)
    assert [c.name for c in conditions] == ORDER
    assert all(c.evaluated == ("en", "zh", "fr") for c in conditions)


def test_regions_on_their_own_language_only():
    """The reasoning stage's default: each language with its own region and its own control."""
    conditions = condition_list(LANGS, regions_on_all_languages=False)
    assert {c.name: c.evaluated for c in conditions if c.lang == "zh"} == {"zh": ("zh",), "random_zh": ("zh",)}
    assert [c.name for c in conditions if "fr" in c.evaluated] == ["none", "random", "fr", "random_fr"]


def test_paper_conditions_and_lookup():
    assert [c.name for c in paper_conditions(LANGS)] == ["none", "random", *LANGS]
    assert by_name(condition_list(LANGS), "random_fr").evaluated == ("fr",)
    with pytest.raises(LinguaFrancaError, match="unknown deactivation condition 'de'.*none, random, en, zh, fr, random_en"):
        by_name(condition_list(LANGS), "de")


@pytest.mark.parametrize("langs, match", [(["en", "none"], "none"), (["random_x", "en"], "random_x"),
                                          (["en", "en"], "repeat")])
def test_language_names_that_clash_with_conditions_are_refused(langs, match):
    with pytest.raises(LinguaFrancaError, match=match):
        condition_list(langs)


def stored_regions(path, seed=7, n_layers=3, n_neurons=40):
    """The regions stage's writer on planted masks: en and zh the same size, fr smaller, all seeded controls."""
    mask = np.zeros((3, n_layers, n_neurons), dtype=bool)
    mask[0, 0, :12] = True
    mask[1, 2, 10:22] = True
    mask[2, 1, :5] = True
    result = RegionsResult(
        langs=LANGS, contribution=np.zeros(mask.shape), zscore=np.zeros(mask.shape), mask=mask,
        random_mask=random_mask((n_layers, n_neurons), 0.1, seed),
        random_masks_per_language=matched_random_masks(mask, seed),
        threshold=2.0, random_fraction=0.1, seed=seed, n_samples=4,
    )
    write_regions(result, path)
    return mask


def reference_matched(mask: np.ndarray, seed: int) -> np.ndarray:
    """Brute-force draw: language a takes region-size positions from the a-th spawned child of default_rng(seed)."""
    children = np.random.default_rng(seed).spawn(len(mask))
    out = np.zeros_like(mask)
    for a, (region, rng) in enumerate(zip(mask, children)):
        flat = np.zeros(region.size, dtype=bool)
        flat[rng.choice(region.size, size=int(region.sum()), replace=False)] = True
        out[a] = flat.reshape(region.shape)
    return out


def test_masks_of_every_condition(tmp_path):
    path = tmp_path / "regions.zarr"
    mask = stored_regions(path, seed=7)
    stored = read_regions(path)
    none = condition_mask(path, "none")
    assert none.shape == (3, 40) and none.dtype == bool and not none.any()
    np.testing.assert_array_equal(condition_mask(path, "random"), random_mask((3, 40), 0.1, 7))
    for a, lang in enumerate(LANGS):
        np.testing.assert_array_equal(condition_mask(stored, lang), mask[a])
        matched = condition_mask(stored, f"random_{lang}")
        assert matched.dtype == bool and matched.sum() == mask[a].sum() == stored.mask[a].sum()
        np.testing.assert_array_equal(matched, reference_matched(mask, 7)[a])
    # en and zh have regions of the same size, yet their controls are different draws.
    assert condition_mask(stored, "random_en").sum() == condition_mask(stored, "random_zh").sum() == 12
    assert not np.array_equal(condition_mask(stored, "random_en"), condition_mask(stored, "random_zh"))
    with pytest.raises(LinguaFrancaError, match="unknown deactivation condition 'random_de'"):
        condition_mask(stored, "random_de")


def test_matched_controls_are_reproducible_from_the_seed(tmp_path):
    first, again, other = (tmp_path / name for name in ("a.zarr", "b.zarr", "c.zarr"))
    stored_regions(first, seed=7), stored_regions(again, seed=7), stored_regions(other, seed=8)
    for lang in LANGS:
        name = f"random_{lang}"
        np.testing.assert_array_equal(condition_mask(first, name), condition_mask(again, name))
        assert not np.array_equal(condition_mask(first, name), condition_mask(other, name))


def test_significant_regions_are_a_family_after_the_paper_conditions():
    conditions = condition_list(LANGS, significant_regions=True)
    sig = ["sig_en", "sig_zh", "sig_fr", "random_sig_en", "random_sig_zh", "random_sig_fr"]
    assert [c.name for c in conditions] == ORDER + sig
    assert [c.kind for c in conditions[-6:]] == ["significant"] * 3 + ["matched_random_significant"] * 3
    assert [c.evaluated for c in conditions[-6:]] == [("en", "zh", "fr")] * 3 + [("en",), ("zh",), ("fr",)]
    assert matched_random_name("sig_zh") == "random_sig_zh"
    assert [c.name for c in condition_list(LANGS)] == ORDER  # off by default
    with pytest.raises(LinguaFrancaError, match="sig_x"):
        condition_list(["sig_x", "en"])


def test_significant_masks_and_their_controls_come_from_the_store(tmp_path):
    mask = np.zeros((3, 2, 30), dtype=bool)
    mask[0, 1, :6] = mask[1, 0, :3] = True
    significant = mask.copy()
    significant[0, 1, 4:] = False
    result = RegionsResult(
        langs=LANGS, contribution=np.zeros(mask.shape), zscore=np.zeros(mask.shape), mask=mask,
        random_mask=random_mask((2, 30), 0.1, 1), random_masks_per_language=matched_random_masks(mask, 1),
        threshold=2.0, random_fraction=0.1, seed=1, n_samples=4, significance_permutations=10,
        pvalue=np.ones(mask.shape), significant=significant,
        random_masks_significant=matched_random_masks(significant, [1, 2]),
    )
    write_regions(result, tmp_path / "sig.zarr")
    stored = read_regions(tmp_path / "sig.zarr")
    for a, lang in enumerate(LANGS):
        np.testing.assert_array_equal(condition_mask(stored, f"sig_{lang}"), significant[a])
        control = condition_mask(stored, f"random_sig_{lang}")
        assert control.sum() == significant[a].sum()
        np.testing.assert_array_equal(control, result.random_masks_significant[a])
    assert not np.array_equal(condition_mask(stored, "random_sig_en"), condition_mask(stored, "random_en")[:, :])
    stored_regions(tmp_path / "paper.zarr")
    with pytest.raises(LinguaFrancaError, match="significance_permutations above 0"):
        condition_mask(tmp_path / "paper.zarr", "sig_en")
