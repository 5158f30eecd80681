"""Where outputs go: a named language set beside the default set's, sharing the captures; a Zarr store declared by its
zarr.json."""

import pytest

from linguafranca.pipeline import paths


def test_a_named_set_moves_every_set_dependent_pattern_and_nothing_else():
    moved = paths.language_set_paths("four")
    assert set(moved) == set(paths.__all__) - set(paths.SET_FREE)
    assert moved["SIMILARITY"] == "results/sets/four/{model}/{revision}/{dataset}/similarity.h5"
    assert moved["EVOLUTION"] == "results/sets/four/series/{series}/evolution.tsv"
    assert moved["LANGUAGE_SET"] == "resources/data/{dataset}/sets/four/languages.json"
    assert all(pattern.startswith("results/sets/four/") for name, pattern in moved.items() if name != "LANGUAGE_SET")
    assert paths.language_set_paths(None) == {name: getattr(paths, name) for name in moved}


def test_what_stays_put_is_per_language_or_per_model():
    assert paths.SET_FREE == ("SANDBOX_TOKENIZER", "SANDBOX_CHECKPOINT", "SANDBOX_LOSS", "SANDBOX_LOSS_FIGURE",
                              "MANIFEST", "DATA", "DATA_IDS", "ACTIVATIONS")
    assert all(name in paths.__all__ for name in paths.SET_FREE)


def test_a_zarr_store_is_declared_by_its_root_metadata_file():
    """Rules declare a store's zarr.json, not the folder: Snakemake writes nothing foreign into the store."""
    stores = [paths.ACTIVATIONS, paths.REGIONS, paths.TOKENS, paths.RESPONSES, paths.CONCEPT_AP]
    assert all(pattern.endswith(".zarr/zarr.json") for pattern in stores)
    assert paths.store_of("results/m/r/d/regions/z2.zarr/zarr.json") == "results/m/r/d/regions/z2.zarr"
    with pytest.raises(ValueError, match="is not a Zarr store's zarr.json"):
        paths.store_of("results/m/r/d/regions/z2.zarr")
