"""Other methods' regions as deactivation conditions: names, the languages each is evaluated on, masks from the
methods store, and the script control's deactivation table."""

from __future__ import annotations

import numpy as np
import pytest

from linguafranca.ablation.conditions import METHODS, condition_list, condition_mask, is_method_condition
from linguafranca.ablation.deactivation import IncreaseTable
from linguafranca.ablation.script_control import script_deactivation_rows
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.methods_store import read_methods
from tests.helpers.stores import write_tiny_methods_store

LANGS = ["en", "zh", "fr"]


def test_method_regions_on_own_and_next_language_controls_on_own():
    conditions = condition_list(LANGS, methods=["lape", "ap"])
    names = [c.name for c in conditions]
    assert names[8:] == ["lape_en", "lape_zh", "lape_fr", "random_lape_en", "random_lape_zh", "random_lape_fr",
                         "ap_en", "ap_zh", "ap_fr", "random_ap_en", "random_ap_zh", "random_ap_fr"]
    evaluated = {c.name: c.evaluated for c in conditions}
    assert evaluated["lape_en"] == ("en", "zh") and evaluated["lape_fr"] == ("en", "fr")
    assert evaluated["random_ap_zh"] == ("zh",)
    assert [c.name for c in conditions if is_method_condition(c)] == names[8:]
    full = {c.name: c.evaluated for c in condition_list(LANGS, methods=["ap"], methods_full_matrix=True)}
    assert full["ap_zh"] == tuple(LANGS) and full["random_ap_zh"] == ("zh",)


def test_a_romanised_language_and_its_base_evaluate_each_other():
    langs = ["en", "hi", "zh", "hi-Latn"]
    evaluated = {c.name: c.evaluated for c in condition_list(langs, methods=["lape"])}
    assert evaluated["lape_hi"] == ("hi", "hi-Latn") and evaluated["lape_hi-Latn"] == ("hi", "hi-Latn")
    assert evaluated["lape_zh"] == ("zh", "hi-Latn") and evaluated["lape_en"] == ("en", "hi")


def test_unknown_method_and_clashing_language_are_refused():
    with pytest.raises(LinguaFrancaError, match="unknown selection method"):
        condition_list(LANGS, methods=["lapse"])
    with pytest.raises(LinguaFrancaError, match="may not be called ap_x"):
        condition_list(["en", "ap_x"])


def test_masks_come_from_the_methods_store(tmp_path):
    path, arrays = write_tiny_methods_store(tmp_path / "methods.zarr", LANGS)
    methods = read_methods(path)
    for m, method in enumerate(METHODS):
        for index, lang in enumerate(LANGS):
            np.testing.assert_array_equal(condition_mask(None, f"{method}_{lang}", methods), arrays["mask"][m, index])
            np.testing.assert_array_equal(condition_mask(None, f"random_{method}_{lang}", methods),
                                          arrays["random_mask_per_language"][m, index])
    with pytest.raises(LinguaFrancaError, match="read no regions store"):
        condition_mask(None, "lape_en", None)
    with pytest.raises(LinguaFrancaError, match="needs the regions store"):
        condition_mask(None, "en", methods)


def test_script_deactivation_reads_table_1():
    langs, regions = ["en", "hi", "hi-Latn"], ["hi", "lape_hi", "random_hi"]
    increase = np.array([[1.0, np.nan, np.nan], [50.0, 40.0, 5.0], [10.0, 30.0, np.nan]])
    table = IncreaseTable(langs, regions, increase, np.ones(3, dtype=np.int64), np.ones(3))
    rows = script_deactivation_rows(table, {"zscore": "", "lape": "lape_"}, {"hi-Latn": "hi"}, ["en"])
    assert rows[0]["base_region_on_base"] == 50.0 and rows[0]["base_region_on_romanised"] == 10.0
    assert rows[0]["share_on_romanised"] == pytest.approx(0.2) and rows[0]["base_region_on_latin_mean"] == 1.0
    assert rows[0]["romanised_region_on_romanised"] == "n/a"
    assert rows[1]["share_on_romanised"] == pytest.approx(30.0 / 40.0) and rows[1]["base_region_on_latin_mean"] == "n/a"
