"""(Named to run after the files that read the plain finished run: probes_run adds the probe stores to it.) Reading the outputs as docs/outputs.md says: every Zarr store of a finished run opens in xarray with no warning,
holds only Zarr's own files, and labels its dimensions; similarity.h5's labels read back as str."""

import re
import warnings

import h5py
import pytest
import xarray as xr
import zarr

from tests.helpers.paths import REPO

#: The folders the workflow writes Zarr stores into: activations, regions, token samples, concept responses and APs.
STORE_FOLDERS = {"activations", "regions", "tokens", "responses", "concepts"}


def foreign_files(store):
    """Files in ``store`` that are not Zarr's: neither metadata (``zarr.json``) nor a chunk (under ``c/``)."""
    return [path.relative_to(store) for path in store.rglob("*")
            if path.is_file() and path.name != "zarr.json" and "c" not in path.relative_to(store).parts[:-1]]


def test_every_store_opens_in_xarray_with_no_warning_no_foreign_file_and_labelled_dims(probes_run):
    workdir = probes_run[0]
    stores = sorted((workdir / "results").rglob("*.zarr"))
    assert {store.parent.name for store in stores} == STORE_FOLDERS
    for store in stores:
        assert foreign_files(store) == [], store
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ds = xr.open_zarr(store)
        assert all(dim in ds.coords for dim in ds.dims if dim in ("sample", "lang", "layer", "neuron", "concept"))
        if "sample" in ds.coords:
            assert list(ds["sample"].values) == ds.attrs["sample_ids"], store
        if "lang" in ds.coords:
            assert list(ds["lang"].values) == ds.attrs["langs"], store
        assert "layer" in ds.coords and ds["layer"].values.tolist() == list(range(ds.sizes["layer"])), store


def docs_recipe() -> str:
    """The Python block of docs/outputs.md's "Reading the outputs"."""
    section = (REPO / "docs/outputs.md").read_text(encoding="utf-8").split("## Reading the outputs")[1]
    return section.split("```python\n")[1].split("```")[0]


def test_the_docs_recipe_runs_on_a_finished_run(finished_run, monkeypatch, capsys):
    workdir = finished_run[0]
    recipe = docs_recipe()
    recipe = re.sub(r'^base = .*$', 'base = "results/tiny/main/toy"', recipe, count=1, flags=re.M)
    recipe = re.sub(r"^threshold = .*$", "threshold = 1", recipe, count=1, flags=re.M)
    monkeypatch.chdir(workdir)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(recipe, "docs/outputs.md", "exec"), {})
    first, mean, *_ = capsys.readouterr().out.splitlines()
    group = zarr.open_group("results/tiny/main/toy/activations/fr.zarr", mode="r")
    assert first == group.attrs["sample_ids"][0]
    assert float(mean) == pytest.approx(float(group["mean"][0, 1].mean()), rel=1e-6)
    with h5py.File("results/tiny/main/toy/similarity.h5") as h5:
        langs = h5["langs"].asstr()[...]
        assert type(langs[0]) is str and list(dict.fromkeys(langs)) == list(h5.attrs["languages"])
