"""Where a named language set puts its outputs: beside the default set's, sharing the captures."""

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
