"""Median forcing: the conditions it builds and the output-language shares it reports."""

from __future__ import annotations

import numpy as np
import pytest

from linguafranca.ablation.forcing import forcing_conditions, language_shares
from linguafranca.ablation.generation import Generation


def test_conditions_fix_each_region_to_its_language_median():
    langs = ["en", "fr", "hi-Latn"]
    mask = np.zeros((3, 2, 4), dtype=bool)
    mask[0, 0, 1] = mask[2, 1, 3] = True  # fr's region is empty
    median = np.arange(24, dtype=float).reshape(3, 2, 4)
    masks, values, conditions = forcing_conditions({"zscore": mask, "ap": mask[::-1].copy()}, median, langs)
    assert [c.name for c in conditions] == ["median_en", "median_hi-Latn", "median_ap_en", "median_ap_hi-Latn"]
    assert not masks["none"].any() and "none" not in values
    np.testing.assert_array_equal(masks["median_en"], mask[0])
    np.testing.assert_array_equal(values["median_ap_en"], median[0])
    np.testing.assert_array_equal(masks["median_ap_en"], mask[2])


def test_shares_count_other_languages_prompts_only():
    prompts = [("en", "p1"), ("en", "p2"), ("fr", "p1")]
    outputs = {"none": ["en", "en", "fr"], "median_fr": ["fr", "en", "fr"], "median_en": ["en", "en", "en"]}
    records, identified = [], []
    for condition, langs in outputs.items():
        for (lang, pid), out in zip(prompts, langs):
            records.append(Generation(lang, pid, "", condition, ""))
            identified.append(out)
    from linguafranca.ablation.forcing import Forced

    conditions = [Forced("median_en", "zscore", "en"), Forced("median_fr", "zscore", "fr")]
    sizes = {("zscore", "en"): 3, ("zscore", "fr"): 2, ("zscore", "hi-Latn"): 0}
    rows = {r["forced_lang"]: r for r in language_shares(records, identified, conditions, sizes, ["en", "fr"])}
    assert rows["fr"]["n_continuations"] == 2 and rows["fr"]["share_forced"] == pytest.approx(0.5)
    assert rows["fr"]["share_unforced"] == 0.0 and rows["fr"]["share_prompt_language"] == pytest.approx(0.5)
    assert rows["en"]["n_continuations"] == 1 and rows["en"]["share_forced"] == 1.0
    assert rows["en"]["share_unforced"] == 0.0
    assert rows["hi-Latn"]["share_forced"] == "n/a"
