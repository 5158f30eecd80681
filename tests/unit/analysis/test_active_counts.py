"""LAPE counts: per sample and neuron, the averaged tokens where act(gate(x)) (gated MLPs) or the neuron itself
(two-layer MLPs) is above zero, counted in capture's batched pass exactly as a loop over one sample's tokens does."""

from functools import cache

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import transformers
import zarr

from linguafranca.analysis.capture import capture_means, capture_store
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.activations import ACTIVE, activation_writer, count_dtype, open_activations, open_stores
from linguafranca.model.architectures import ADAPTERS, active_sites, adapter_for
from linguafranca.model.hooks import NeuronActiveCounts
from linguafranca.model.tokens import Encoded, encode
from tests.helpers.tiny import CONFIGS, tiny_model, word_model, word_tokenizer
from tests.unit.analysis.test_capture import REFERENCE, SAMPLES, SETTINGS, TOKENS


def _gate(act):
    return lambda mlp, h: act(F.linear(h, mlp.gate_proj.weight))


# LAPE's activation recomputed from each architecture's own weights, given the MLP's input hidden states: for gated
# MLPs act(gate_proj(x)) alone, for two-layer MLPs the neuron itself (test_capture's reference).
ACTIVATION = {
    **REFERENCE,
    "llama": ("mlp", _gate(F.silu)),
    "mistral": ("mlp", _gate(F.silu)),
    "qwen2": ("mlp", _gate(F.silu)),
    "gemma3_text": ("mlp", _gate(lambda x: F.gelu(x, approximate="tanh"))),
    "gemma3": ("mlp", _gate(lambda x: F.gelu(x, approximate="tanh"))),
}


def tiny_gemma3() -> torch.nn.Module:
    """Gemma 3 with its vision tower (``model_type`` gemma3), whose decoder layers sit under ``language_model``."""
    torch.manual_seed(0)
    vision = transformers.SiglipVisionConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                                             num_attention_heads=2, image_size=28, patch_size=14)
    config = transformers.Gemma3Config(text_config=CONFIGS["gemma3_text"]().to_dict(), vision_config=vision.to_dict(),
                                       mm_tokens_per_image=4)
    return transformers.Gemma3ForConditionalGeneration(config).eval()


MODELS = {**{arch: (lambda arch=arch: tiny_model(arch)) for arch in CONFIGS}, "gemma3": tiny_gemma3}


@cache
def model_of(arch: str) -> torch.nn.Module:
    return MODELS[arch]()


def with_specials(token_ids) -> list[Encoded]:
    """BOS (1) before every sample and EOS (2) after every other one, both marked as added special tokens."""
    encoded = []
    for row, ids in enumerate(token_ids):
        eos = [2] if row % 2 else []
        encoded.append(Encoded([1, *ids, *eos], [True] + [False] * len(ids) + [True] * len(eos)))
    return encoded


def brute_force(model, encoded, mean_over) -> np.ndarray:
    """Each sample alone, no padding: the MLP input by a plain hook, LAPE's activation by hand, then a loop over the
    sample's tokens adding 1 to every neuron above zero at each averaged token. int ``[n, n_layers, n_neurons]``."""
    site, activation = ACTIVATION[model.config.model_type]
    layers = model.get_submodule(adapter_for(model.config.model_type).layers)
    modules = [layer.get_submodule(site) for layer in layers]
    seen = {}
    handles = [m.register_forward_pre_hook(lambda m, a, i=i: seen.__setitem__(i, a[0])) for i, m in enumerate(modules)]
    counts = []
    with torch.no_grad():
        for item in encoded:
            model.base_model(torch.tensor([item.ids]))
            per_layer = []
            for layer, module in enumerate(modules):
                values = activation(module, seen[layer]).reshape(len(item.ids), -1)
                count = np.zeros(values.shape[1], dtype=np.int64)
                for position, special in enumerate(item.special):
                    if mean_over == "all_tokens" or not special:
                        count += (values[position] > 0).numpy()
                per_layer.append(count)
            counts.append(np.stack(per_layer))
    for handle in handles:
        handle.remove()
    return np.stack(counts)


def captured_counts(model, encoded, batch_size, padding_side, mean_over):
    counts, n_tokens = None, np.zeros(len(encoded), dtype=int)
    for indices, _, batch_n_tokens, batch_counts in capture_means(model, encoded, batch_size, 0, padding_side,
                                                                 mean_over, progress=False):
        if counts is None:
            counts = np.zeros((len(encoded), *batch_counts.shape[1:]), dtype=np.int64)
        counts[indices], n_tokens[indices] = batch_counts, batch_n_tokens
        assert batch_counts.dtype == np.int32
    return counts, n_tokens


ENCODED = with_specials(TOKENS * 4)  # 20 samples of mixed lengths: real padding inside batches of 16


@pytest.mark.parametrize("mean_over", ["text_tokens", "all_tokens"])
@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize("arch", sorted(MODELS))
def test_counts_equal_a_loop_over_each_samples_tokens(arch, padding_side, mean_over):
    model = model_of(arch)
    expected = brute_force(model, ENCODED, mean_over)
    counts, n_tokens = captured_counts(model, ENCODED, 16, padding_side, mean_over)
    np.testing.assert_array_equal(counts, expected)
    assert (counts <= n_tokens[:, None, None]).all()
    assert ((counts > 0) & (counts < n_tokens[:, None, None])).any()  # neither all off nor all on: the test can fail


@pytest.mark.parametrize("arch", sorted(MODELS))
def test_the_added_bos_and_eos_are_left_out_of_text_token_counts(arch):
    model = model_of(arch)
    text, _ = captured_counts(model, ENCODED, 16, "right", "text_tokens")
    every, _ = captured_counts(model, ENCODED, 16, "right", "all_tokens")
    assert (every >= text).all() and (every > text).any()


def test_every_adapter_names_its_lape_site():
    for model_type, adapter in ADAPTERS.items():
        gated = "up_proj" in adapter.neurons
        assert (adapter.active is not None) == gated, model_type
        assert adapter.active_site.endswith(":output" if gated else ":input")
    gemma = adapter_for("gemma3")
    assert gemma.active_site == "model.language_model.layers.{i}.mlp.act_fn:output"
    assert gemma.active_definition == "act(gate_proj(x)) > 0"
    assert adapter_for("opt").active_definition == "relu(fc1(x)) > 0"


def test_a_site_that_runs_twice_or_never_stops_the_count():
    model = tiny_model("llama")
    ids = torch.tensor([[5, 6, 7]])
    never = NeuronActiveCounts([active_sites(model)[0], (model.lm_head, True)])  # the base model runs no head
    with never.installed(), torch.no_grad():
        never.keep = torch.ones(1, 3, dtype=torch.bool)
        model.base_model(ids)
        with pytest.raises(LinguaFrancaError, match=r"layer\(s\) \[1\] did not run"):
            never.counts()
    model.model.layers[1].mlp.act_fn = model.model.layers[0].mlp.act_fn  # one module shared by both layers
    twice = NeuronActiveCounts(active_sites(model))
    with twice.installed(), torch.no_grad(), pytest.raises(LinguaFrancaError, match="layer 0 ran twice"):
        twice.keep = torch.ones(1, 3, dtype=torch.bool)
        model.base_model(ids)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


# --- the store: active_count beside mean, checksummed; older stores without it -------------------------------


def capture_two(tmp_path, settings=SETTINGS):
    model, tokenizer = word_model("llama"), word_tokenizer()
    stores = {}
    for lang in ("en", "fr"):
        stores[lang] = tmp_path / f"{lang}.zarr"
        capture_store(model, tokenizer, SAMPLES, stores[lang], settings, {"model": "w", "lang": lang}, progress=False)
    return model, stores


def test_store_holds_the_captured_counts_and_reads_them_row_aligned(tmp_path):
    model, stores = capture_two(tmp_path)
    group = open_activations(stores["en"])
    counts, mean = group[ACTIVE], group["mean"]
    assert counts.dtype == np.uint16 and counts.shape == mean.shape and counts.chunks == mean.chunks
    assert counts.metadata.dimension_names == mean.metadata.dimension_names == ("sample", "layer", "neuron")
    assert group.attrs["active_site"] == "model.layers.{i}.mlp.act_fn:output"
    assert group.attrs["active_definition"] == "act(gate_proj(x)) > 0"
    encoded = encode(word_tokenizer(), [s.text for s in SAMPLES], SETTINGS["bos"])
    expected, n_tokens = captured_counts(model, encoded, 3, "right", "text_tokens")
    opened = open_stores(stores)
    assert opened.n_tokens.dtype == np.int64 and opened.n_tokens.tolist() == n_tokens.tolist() * 2
    for layer in range(opened.n_layers):
        values = opened.read_active_layer(layer)
        assert values.dtype == np.float64
        np.testing.assert_array_equal(values, np.concatenate([expected[:, layer]] * 2))
        assert (values <= opened.n_tokens[:, None]).all()


def test_a_changed_or_missing_count_chunk_stops_the_reader(tmp_path):
    _, stores = capture_two(tmp_path)
    chunk = stores["fr"] / ACTIVE / "c" / "0" / "1" / "0"
    array = zarr.open_array(str(stores["fr"] / ACTIVE), mode="r+")
    array[0, 1, 0] = array[0, 1, 0] + 1  # a valid chunk with other values: only the checksum can tell
    opened = open_stores(stores)
    opened.read_active_layer(0)  # layer 0 is untouched
    with pytest.raises(LinguaFrancaError, match=r"chunk 'active_count/c/0/1/0' \(sample 0-6, layer 1, neuron 0-63\) "
                                                r"does not match the checksum"):
        opened.read_active_layer(1)
    chunk.unlink()
    with pytest.raises(LinguaFrancaError, match=r"chunk 'active_count/c/0/1/0' .* is missing"):
        open_stores(stores)


def test_an_older_store_without_counts_reads_means_and_names_itself_for_counts(tmp_path):
    _, stores = capture_two(tmp_path)
    for part in sorted((stores["fr"] / ACTIVE).rglob("*"), reverse=True):
        part.unlink() if part.is_file() else part.rmdir()
    (stores["fr"] / ACTIVE).rmdir()
    opened = open_stores(stores)
    opened.read_layer(0)
    with pytest.raises(LinguaFrancaError) as error:
        opened.read_active_layer(0)
    message = str(error.value)
    assert "\n" not in message and f"'{stores['fr']}'" in message and "has no 'active_count' array" in message
    assert f"rm -r '{stores['fr']}'" in message


def test_count_dtype_follows_max_length_and_writes_refuse_impossible_counts(tmp_path):
    assert count_dtype(65_535) == np.uint16 and count_dtype(65_536) == np.uint32
    with activation_writer(tmp_path / "long.zarr", 2, 1, 3, 2, max_tokens=70_000) as writer:
        writer.write(0, np.zeros((2, 1, 3)), np.array([70_000, 1]), np.array([[[70_000, 0, 1]], [[1, 1, 0]]]))
        writer.finish({"lang": "en", "sample_ids": ["a", "b"]})
    assert open_activations(tmp_path / "long.zarr")[ACTIVE][0, 0, 0] == 70_000
    with pytest.raises(ValueError, match="an active count exceeds its n_tokens"):
        with activation_writer(tmp_path / "bad.zarr", 2, 1, 3, 2, max_tokens=8) as writer:
            writer.write(0, np.zeros((2, 1, 3)), np.array([2, 1]), np.array([[[2, 0, 1]], [[1, 2, 0]]]))
    assert not (tmp_path / "bad.zarr").exists()
