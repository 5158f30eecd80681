"""Capture reads exactly the down projection's input, averaged over real tokens only, whatever the batching."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tiny import CONFIGS, tiny_model

from linguafranca.adapters import adapter_for, down_projections
from linguafranca.capture import capture_means
from linguafranca.tokens import encode_ids
from linguafranca.errors import LinguaFrancaError


def _gated(act):
    def neurons(mlp, h):
        return act(F.linear(h, mlp.gate_proj.weight)) * F.linear(h, mlp.up_proj.weight)

    return neurons


# The neuron vector recomputed from each architecture's own weights, given the MLP's input hidden states.
REFERENCE = {
    "llama": ("mlp", _gated(F.silu)),
    "mistral": ("mlp", _gated(F.silu)),
    "qwen2": ("mlp", _gated(F.silu)),
    "gemma3_text": ("mlp", _gated(lambda x: F.gelu(x, approximate="tanh"))),
    "bloom": ("mlp", lambda mlp, h: F.gelu(F.linear(h, mlp.dense_h_to_4h.weight, mlp.dense_h_to_4h.bias),
                                           approximate="tanh")),
    "gpt2": ("mlp", lambda mlp, h: F.gelu(h @ mlp.c_fc.weight + mlp.c_fc.bias, approximate="tanh")),
    "gpt_neox": ("mlp", lambda mlp, h: F.gelu(F.linear(h, mlp.dense_h_to_4h.weight, mlp.dense_h_to_4h.bias))),
    "opt": ("fc1", lambda fc1, h: F.relu(F.linear(h, fc1.weight, fc1.bias))),
}

TOKENS = [[5, 17, 33, 9, 41, 2], [7, 8], [90, 91, 92, 93, 94, 95, 96, 97, 98], [11, 12, 13], [250]]


def manual_means(model, token_ids):
    """One sample at a time, no padding: the MLP input by hook, the neurons by hand, averaged over tokens."""
    site, neurons = REFERENCE[model.config.model_type]
    layers = model.get_submodule(adapter_for(model.config.model_type).layers)
    modules = [layer.get_submodule(site) for layer in layers]
    means = []
    for ids in token_ids:
        seen = {}
        handles = [m.register_forward_pre_hook(lambda m, a, i=i: seen.__setitem__(i, a[0])) for i, m in enumerate(modules)]
        with torch.no_grad():
            model(torch.tensor([ids]))
            for handle in handles:
                handle.remove()
            means.append(torch.stack([
                neurons(modules[i], seen[i]).reshape(len(ids), -1).double().mean(0) for i in range(len(modules))
            ]))
    return torch.stack(means).numpy()


def captured(model, token_ids, batch_size, padding_side="right"):
    out, counts = None, np.zeros(len(token_ids), dtype=int)
    for indices, mean, n_tokens in capture_means(model, token_ids, batch_size, 0, padding_side, progress=False):
        if out is None:
            out = np.zeros((len(token_ids), *mean.shape[1:]))
        out[indices], counts[indices] = mean, n_tokens
    return out, counts


@pytest.mark.parametrize("arch", sorted(CONFIGS))
def test_capture_equals_manual_recomputation(arch):
    model = tiny_model(arch)
    means, counts = captured(model, TOKENS, batch_size=1)
    np.testing.assert_allclose(means, manual_means(model, TOKENS), atol=1e-5, rtol=0)
    assert counts.tolist() == [len(t) for t in TOKENS]
    assert means.shape == (len(TOKENS), model.config.num_hidden_layers, down_projections(model)[0].weight.shape[-1]
                           if arch != "gpt2" else down_projections(model)[0].weight.shape[0])


@pytest.mark.parametrize("arch", sorted(CONFIGS))
@pytest.mark.parametrize("padding_side", ["left", "right"])
def test_batch_size_and_padding_side_do_not_change_means(arch, padding_side):
    model = tiny_model(arch)
    token_ids = TOKENS * 4  # 20 samples of mixed lengths: real padding inside batches of 16
    one, _ = captured(model, token_ids, batch_size=1)
    sixteen, counts = captured(model, token_ids, batch_size=16, padding_side=padding_side)
    np.testing.assert_allclose(sixteen, one, atol=1e-4, rtol=0)
    assert counts.tolist() == [len(t) for t in token_ids]


def test_no_logits_are_computed():
    model = tiny_model("llama")
    calls = []
    model.lm_head.register_forward_hook(lambda *args: calls.append(1))
    captured(model, TOKENS, batch_size=2)
    assert calls == []


def test_hooks_are_removed_after_capture():
    model = tiny_model("gpt2")
    captured(model, TOKENS, batch_size=2)
    assert all(not m._forward_pre_hooks for m in model.modules())


def test_unsupported_architecture_lists_supported():
    with pytest.raises(LinguaFrancaError, match="unsupported architecture 'mamba'.*bloom.*llama.*opt"):
        adapter_for("mamba")


class _Tok:
    bos_token_id = 1

    def __call__(self, texts, add_special_tokens):
        return {"input_ids": [([1] if add_special_tokens else []) + [ord(c) for c in t] for t in texts]}


def test_tokenize_bos_and_truncation():
    assert encode_ids(_Tok(), ["ab"], None, 8) == [[1, 97, 98]]
    assert encode_ids(_Tok(), ["ab"], False, 8) == [[97, 98]]
    assert encode_ids(_Tok(), ["ab"], True, 8) == [[1, 97, 98]]
    assert encode_ids(_Tok(), ["abcdef"], True, 3) == [[1, 97, 98]]
    assert encode_ids(_Tok(), ["abcdef"], False, None) == [[97, 98, 99, 100, 101, 102]]
