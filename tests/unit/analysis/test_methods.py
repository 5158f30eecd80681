"""The methods stage end to end on tiny stores: one pass over the layers gives what each method gives on the whole
arrays, the medians and controls are right, and the store round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from linguafranca.analysis.ap_experts import ExpertsSettings, ap_experts
from linguafranca.analysis.lape import LapeSettings, lape
from linguafranca.analysis.methods import ApSettings, compute_methods, write_methods
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.activations import open_stores
from linguafranca.io.methods_store import read_method_arrays, read_methods
from tests.helpers.stores import write_stores

LANGS = ["en", "fr", "zh"]


def _stores(tmp_path, n=8, layers=3, neurons=40, seed=0):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(len(LANGS), n, layers, neurons)).astype(np.float32)
    n_tokens = rng.integers(5, 30, (len(LANGS), n))
    counts = (rng.random(means.shape) * n_tokens[:, :, None, None]).astype(np.uint16)
    counts[0, :, 1, 3] = n_tokens[0]  # a neuron that fires on every English token only
    counts[1:, :, 1, 3] = 0
    return write_stores(tmp_path, means, LANGS, counts=counts, n_tokens=n_tokens), means, counts, n_tokens


def test_one_pass_equals_each_method_on_the_whole_arrays(tmp_path):
    paths, means, counts, n_tokens = _stores(tmp_path)
    sizes = [means.shape[1]] * len(LANGS)
    settings = LapeSettings(top_rate=0.05)
    result = compute_methods(open_stores(paths), ["lape", "ap"], settings, ApSettings(experts=4, bottom=True),
                             null_permutations=5, seed=3)
    rows_major = lambda a: np.moveaxis(a.reshape(-1, *a.shape[2:]), 1, 0).astype(np.float64)  # [L, N, n]
    expected = lape(rows_major(counts), n_tokens.reshape(-1), sizes, settings, 5, 3)
    np.testing.assert_array_equal(result.outputs["lape"].mask, expected.mask)
    np.testing.assert_array_equal(result.outputs["lape"].null_count, expected.null_count)
    assert result.outputs["lape"].mask[0, 1, 3] and not result.outputs["lape"].mask[1:, 1, 3].any()
    experts = ap_experts(rows_major(means), sizes, ExpertsSettings(4, True), 5, 3)
    np.testing.assert_array_equal(result.outputs["ap"].mask, experts.mask)
    np.testing.assert_array_equal(result.outputs["ap"].null_count, experts.null_count + experts.null_count_bottom)
    np.testing.assert_allclose(result.median, np.median(means, axis=1).transpose(0, 1, 2), rtol=0, atol=1e-6)


def test_store_round_trip_controls_and_provenance(tmp_path):
    paths, *_ = _stores(tmp_path)
    result = compute_methods(open_stores(paths), ["lape", "ap"], LapeSettings(top_rate=0.05), ApSettings(experts=3),
                             null_permutations=4, seed=0)
    write_methods(result, tmp_path / "methods.zarr")
    stored = read_methods(tmp_path / "methods.zarr", {"model": "tiny", "dataset": "toy"})
    assert stored.methods == ["lape", "ap"] and stored.langs == LANGS
    for index, method in enumerate(stored.methods):
        np.testing.assert_array_equal(stored.mask[index], result.outputs[method].mask)
        np.testing.assert_array_equal(stored.random_mask_per_language[index].sum(axis=(1, 2)),
                                      result.outputs[method].mask.sum(axis=(1, 2)))
    assert not np.array_equal(stored.random_mask_per_language[0], stored.random_mask_per_language[1])
    arrays, attrs = read_method_arrays(tmp_path / "methods.zarr", ("null_count", "rank", "lape_entropy"))
    assert arrays["null_count"].shape == (2, 4, 3, 3) and attrs["null_permutations"] == 4
    assert arrays["rank"][1].min() == 1 and attrs["sizes"]["ap"] == [6, 6, 6]
    with pytest.raises(LinguaFrancaError, match="model"):
        read_methods(tmp_path / "methods.zarr", {"model": "other"})


def test_top_and_bottom_off_is_refused(tmp_path):
    paths, *_ = _stores(tmp_path)
    with pytest.raises(LinguaFrancaError, match="selects no expert"):
        compute_methods(open_stores(paths), ["ap"], ap=ApSettings(top=False, bottom=False))
    with pytest.raises(LinguaFrancaError, match="whole number"):
        compute_methods(open_stores(paths), ["ap"], ap=ApSettings(experts=2.5))
