"""Every store opens in xarray with no warning, its dimensions labelled by coordinate arrays (sample ids,
languages, layer and neuron indices, concepts) that read back as str; similarity.h5's labels read back as str."""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest
import xarray as xr
import zarr

from linguafranca.analysis.regions import NullSettings, compute_regions, write_regions
from linguafranca.analysis.similarity import write_similarity
from linguafranca.io.checksummed import Stored, read_group, write_group
from linguafranca.io.regions_store import read_regions
from linguafranca.io.similarity_file import read_h5
from tests.helpers.stores import write_stores

LANGS = ["en", "de", "ja"]
IDS = ["GEN.1.1", "GEN.1.2", "GEN.1.3", "ß-ü", "s4"]
N_LAYERS, N_NEURONS = 3, 4


def open_strictly(path) -> xr.Dataset:
    """``xarray.open_zarr(path)`` with every warning an error (a foreign file, missing consolidated metadata)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return xr.open_zarr(path).load()


@pytest.fixture
def stores(tmp_path):
    means = np.random.default_rng(1).random((len(LANGS), len(IDS), N_LAYERS, N_NEURONS), dtype=np.float32)
    return write_stores(tmp_path / "activations", means, LANGS, sample_ids=IDS), means


def test_activation_store_has_sample_layer_and_neuron_coordinates(stores):
    paths, means = stores
    ds = open_strictly(paths["de"])
    assert ds["mean"].dims == ("sample", "layer", "neuron")
    assert list(ds["sample"].values) == IDS and all(type(i) is str for i in ds["sample"].values)
    assert ds["layer"].values.tolist() == [0, 1, 2] and ds["neuron"].values.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(ds["mean"].sel(sample="ß-ü", layer=2).values, means[1, 3, 2])
    assert ds.attrs["sample_ids"] == IDS and ds.attrs["lang"] == "de"  # the attributes readers check stay
    assert zarr.open_group(str(paths["de"]), mode="r").metadata.consolidated_metadata is not None


def test_regions_store_has_language_coordinates_and_permutations(stores, tmp_path):
    paths, _ = stores
    null = NullSettings(null_permutations=3, significance_permutations=0, fdr_q=0.05, statistic="zscore")
    path = tmp_path / "z1.zarr"
    write_regions(compute_regions(paths, threshold=1.0, null=null), path)
    ds = open_strictly(path)
    assert list(ds["lang"].values) == LANGS and all(type(lang) is str for lang in ds["lang"].values)
    assert ds["mask"].dims == ("lang", "layer", "neuron") and ds["null_count"].dims == ("permutation", "lang", "layer")
    assert ds["permutation"].values.tolist() == [0, 1, 2] and ds["neuron"].values.tolist() == list(range(N_NEURONS))
    regions = read_regions(path)  # the package's reader is unchanged by the coordinates
    np.testing.assert_array_equal(ds["mask"].sel(lang="ja").values, regions.mask[2])
    assert regions.langs == LANGS


def test_write_group_stores_the_given_coordinates_as_str(tmp_path):
    """The probe stage's stores (token samples, responses, concept APs) are written by write_group."""
    ap = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)
    path = tmp_path / "ap.zarr"
    write_group(path, {"ap": Stored(ap, ap.shape, ("concept", "lang", "layer"))}, {"concepts": ["land", "ägypten"]},
                {"concept": ["land", "ägypten"], "lang": LANGS, "layer": np.arange(2, dtype=np.int32)})
    ds = open_strictly(path)
    assert list(ds["concept"].values) == ["land", "ägypten"] and list(ds["lang"].values) == LANGS
    assert ds["ap"].sel(concept="ägypten", lang="de").values.tolist() == [8.0, 9.0]
    values, attrs = read_group("concept store", path, ["concept", "ap"])  # checksummed like every array
    assert values["concept"].tolist() == ["land", "ägypten"] and attrs["concepts"] == ["land", "ägypten"]


def test_similarity_labels_read_back_as_str(stores, tmp_path):
    paths, _ = stores
    path = tmp_path / "similarity.h5"
    write_similarity(paths, path)
    rows = [lang for lang in LANGS for _ in IDS]
    values, _ = read_h5(path, ["langs", "sample_ids"])
    assert values["langs"].tolist() == rows and values["sample_ids"].tolist() == IDS * len(LANGS)
    with h5py.File(path) as h5:  # the recipe of docs/outputs.md
        assert h5["langs"].asstr()[...].tolist() == rows
        assert h5["sample_ids"].asstr()[...].tolist() == IDS * len(LANGS)
        assert list(h5.attrs["languages"]) == LANGS and all(type(lang) is str for lang in h5.attrs["languages"])
