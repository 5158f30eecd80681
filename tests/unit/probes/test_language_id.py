"""Language-ID probes: the split by sample id, planted signals, chance rows, and the token capture they read."""

import numpy as np
import pytest
import torch

from linguafranca.model.architectures import down_projections
from linguafranca.model.tokens import Encoded
from linguafranca.probes.capture import capture_probe_inputs, sample_tokens, text_positions
from linguafranca.probes.language_id import mean_accuracy, probe_rows, split_by_sample
from linguafranca.probes.summary import summary_rows
from tests.helpers.tiny import word_model


def planted(n_ids=40, tokens_per_id=5, langs=("en", "fr", "zh"), n_layers=3, signal_layer=1, seed=0):
    """Token vectors of ``langs``: noise everywhere, a language signal only in ``signal_layer``."""
    rng = np.random.default_rng(seed)
    n = n_ids * tokens_per_id
    token_langs = np.repeat(np.array(langs), n)
    ids = np.tile(np.repeat([f"s{i}" for i in range(n_ids)], tokens_per_id), len(langs))
    layers = [rng.normal(size=(len(token_langs), 8)) for _ in range(n_layers)]
    centres = rng.normal(scale=3, size=(len(langs), 8))
    layers[signal_layer] += centres[np.searchsorted(np.array(langs), token_langs, sorter=np.argsort(langs))]
    return layers, token_langs, ids


def test_train_and_test_share_no_sample_id_and_hold_the_same_ids_in_every_language():
    _, langs, ids = planted()
    for seed in range(3):
        train, test = split_by_sample(ids, 0.25, seed)
        assert not set(ids[train]) & set(ids[test])
        assert (train ^ test).all()
        held = [set(ids[test & (langs == lang)]) for lang in ("en", "fr", "zh")]
        assert held[0] == held[1] == held[2] and len(held[0]) == 10


def test_probe_finds_the_planted_layer_and_shuffled_labels_give_chance():
    layers, langs, ids = planted()
    rows = probe_rows(layers, langs, ids, seeds=range(3), test_fraction=0.25, max_iter=200)
    accuracy = mean_accuracy(rows)
    assert accuracy[1] > 0.95
    assert accuracy[0] < 0.6 and accuracy[2] < 0.6  # chance is 1/3
    shuffled = mean_accuracy(rows, "shuffled")
    assert all(abs(value - 1 / 3) < 0.15 for value in shuffled.values()), shuffled
    majority = [row for row in rows if row["probe"] == "majority"]
    assert len(majority) == 3 and all(abs(row["accuracy"] - 1 / 3) < 1e-9 for row in majority)
    assert {row["n_test"] for row in rows} == {150}


def test_summary_means_over_seeds_and_pairs():
    rows = [{"probe": "language_id", "layer": layer, "seed": seed, "accuracy": 0.5 + 0.1 * seed + layer}
            for layer in (0, 1) for seed in (0, 1)] + [{"probe": "majority", "layer": "all", "accuracy": 0.25}]
    overlap = [{"layer": "0", "jaccard": 0.2}, {"layer": "0", "jaccard": 0.4}, {"layer": "1", "jaccard": 1.0},
               {"layer": "all", "jaccard": 0.5}]
    shared = [{"layer": "0", "share": 0.1}, {"layer": "1", "share": 0.3}, {"layer": "all", "share": 0.2}]
    summary = {(r["metric"], str(r["layer"])): r["value"] for r in summary_rows(rows, overlap, shared)}
    assert summary["probe_accuracy", "0"] == pytest.approx(0.55)
    assert summary["probe_accuracy", "1"] == pytest.approx(1.55)
    assert summary["jaccard", "0"] == pytest.approx(0.3)
    assert summary["jaccard", "all"] == 0.5 and summary["shared_share", "1"] == 0.3
    assert summary["majority_accuracy", "all"] == 0.25


def encoded(rows):
    """Encodings with a BOS (special) first."""
    return [Encoded([1, *ids], [True, *[False] * len(ids)]) for ids in rows]


ROWS = [[5, 9, 12, 7], [20, 21], [30, 31, 32, 33, 34, 35], [8]]


def test_token_sample_leaves_out_special_tokens_and_is_seeded():
    samples, positions = text_positions(encoded(ROWS))
    assert 0 not in positions and len(samples) == sum(map(len, ROWS))
    a, b = sample_tokens(encoded(ROWS), 5, seed=3), sample_tokens(encoded(ROWS), 5, seed=3)
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all() and len(a[0]) == 5 and (a[1] > 0).all()


@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize("response", ["mean", "max"])
def test_probe_capture_equals_one_sample_at_a_time(padding_side, response):
    model = word_model("llama", n_layers=2)
    got = capture_probe_inputs(model, encoded(ROWS), batch_size=3, pad_id=0, padding_side=padding_side,
                               n_tokens=7, seed=1, response=response, neurons=True)
    seen = {}
    hook = down_projections(model)
    for index, ids in enumerate(ROWS):
        inputs = []
        handles = [module.register_forward_pre_hook(lambda m, a: inputs.append(a[0][0])) for module in hook]
        with torch.inference_mode():
            states = model.base_model(torch.tensor([[1, *ids]]), output_hidden_states=True).hidden_states
        for handle in handles:
            handle.remove()
        seen[index] = (torch.stack([s[0] for s in states[1:]], 1).numpy(), torch.stack(inputs, 1).numpy())
    for token, (sample, position) in enumerate(zip(got.token_sample, got.token_position)):
        hidden, neurons = seen[sample]
        np.testing.assert_allclose(got.hidden[token], hidden[position], atol=1e-5)
        np.testing.assert_allclose(got.neurons[token], neurons[position], atol=1e-5)
    for sample in range(len(ROWS)):
        text = seen[sample][1][1:]  # without the BOS
        expected = text.mean(0) if response == "mean" else text.max(0)
        np.testing.assert_allclose(got.response[sample], expected, atol=1e-5)
