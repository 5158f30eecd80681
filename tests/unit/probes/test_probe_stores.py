"""The probe stage's token and response stores open in xarray with no warning, their dimensions labelled."""

import warnings

import numpy as np
import xarray as xr

from linguafranca.data.samples import Sample
from linguafranca.io.checksummed import read_group
from linguafranca.io.probe_stores import RESPONSE_STORE
from linguafranca.probes.capture import capture_probe_stores
from tests.helpers.tiny import word_model, word_tokenizer

IDS = ["GEN.1.1", "GEN.1.2", "ß.1"]
TEXTS = {"en": ["w5 w6 w7", "w8 w9", "w10 w11 w12 w13"], "fr": ["w20 w21", "w22 w23 w24", "w25"]}
SETTINGS = {"max_length": 16, "bos": None, "batch_size": 2, "max_samples": None, "seed": 0, "tokens_per_language": 4,
            "neurons": True, "words": {"land": ["w5"], "sea": ["w8"]}, "response": "mean"}


def test_token_and_response_stores_have_coordinates(tmp_path):
    samples = {lang: [Sample(i, text) for i, text in zip(IDS, texts)] for lang, texts in TEXTS.items()}
    tokens = [str(tmp_path / f"tokens/{lang}.zarr") for lang in TEXTS]
    responses = [str(tmp_path / f"responses/{lang}.zarr") for lang in TEXTS]
    model = word_model("llama", n_layers=2)
    capture_probe_stores(model, word_tokenizer(), samples, tokens, responses, SETTINGS, {"model": "tiny"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        token_store, response_store = xr.open_zarr(tokens[1]), xr.open_zarr(responses[1])
    n_neurons = token_store.sizes["neuron"]
    assert token_store["hidden"].dims == ("token", "layer", "dim") and token_store["layer"].values.tolist() == [0, 1]
    assert token_store["neuron"].values.tolist() == list(range(n_neurons))
    chosen = response_store.attrs["sample_ids"]
    assert sorted(chosen) == sorted(IDS) and list(response_store["sample"].values) == chosen
    assert all(type(i) is str for i in response_store["sample"].values)
    values, _ = read_group(RESPONSE_STORE, responses[1], ["response"])
    np.testing.assert_array_equal(response_store["response"].sel(sample=chosen[0]).values, values["response"][0])
