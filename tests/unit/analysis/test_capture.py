"""Capture reads exactly the down projection's input, averaged over real tokens only, whatever the batching."""

from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from linguafranca.analysis import capture
from linguafranca.analysis.capture import capture_means, capture_store
from linguafranca.data.samples import Sample
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.activations import block_size, open_activations
from linguafranca.model.architectures import adapter_for, down_projections
from linguafranca.model.tokens import Encoded, encode, encode_ids, pad
from tests.helpers.tiny import CONFIGS, tiny_model, word_model, word_tokenizer


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


def plain(token_ids):
    """Token ids as encodings without special tokens: every position enters the mean."""
    return [Encoded(list(ids), [False] * len(ids)) for ids in token_ids]


def captured(model, token_ids, batch_size, padding_side="right"):
    out, counts = None, np.zeros(len(token_ids), dtype=int)
    for indices, mean, n_tokens, _ in capture_means(model, plain(token_ids), batch_size, 0, padding_side,
                                                    progress=False):
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
    """Stand-in tokenizer: characters as ids; ``add_special_tokens`` prepends BOS (1) and appends EOS (2)."""

    bos_token_id = 1

    def __call__(self, texts, add_special_tokens, return_special_tokens_mask):
        ids = [[1, *map(ord, t), 2] if add_special_tokens else list(map(ord, t)) for t in texts]
        return {"input_ids": ids, "special_tokens_mask": [[int(i in (1, 2)) for i in row] for row in ids]}


def test_tokenize_bos_and_truncation():
    assert encode_ids(_Tok(), ["ab"], None, 8) == [[1, 97, 98, 2]]
    assert encode_ids(_Tok(), ["ab"], False, 8) == [[97, 98]]
    assert encode_ids(_Tok(), ["ab"], True, 8) == [[1, 97, 98]]
    assert encode_ids(_Tok(), ["abcdef"], True, 3) == [[1, 97, 98]]
    assert encode_ids(_Tok(), ["abcdef"], False, None) == [[97, 98, 99, 100, 101, 102]]


def test_encode_marks_only_added_special_tokens():
    none, true, false = (encode(_Tok(), ["ab"], bos)[0] for bos in (None, True, False))
    assert (none.ids, none.special) == ([1, 97, 98, 2], [True, False, False, True])
    assert (true.ids, true.special) == ([1, 97, 98], [True, False, False])
    assert (false.ids, false.special) == ([97, 98], [False, False])
    # A real (fast) tokenizer: a special token written in the text is text, the BOS it adds is not.
    written = encode(word_tokenizer(), ["w1 <s> w2"], None)[0]
    assert (written.ids, written.special) == ([1, 5, 1, 6], [True, False, False, False])


# --- mean_over, exact sums, NaN safety and write blocks, on word-level models (ids chosen directly) -----------

SAMPLES = [Sample(f"s{i}", " ".join(f"w{(7 * i + j) % 90}" for j in range(n)))
           for i, n in enumerate([5, 2, 9, 1, 6, 3, 4])]
SETTINGS = {"batch_size": 3, "max_length": 64, "bos": None}


def record_inputs(model):
    """Pre-hooks that keep every down projection's raw input of the latest forward pass (``seen[layer]``)."""
    seen = {}
    handles = [m.register_forward_pre_hook(lambda m, a, i=i: seen.__setitem__(i, a[0].detach().clone()))
               for i, m in enumerate(down_projections(model))]
    return seen, handles


def hooked_one_by_one(model, token_ids):
    """Each sample alone (no padding): its hooked down-projection inputs, float64 ``[n_layers, t, n_neurons]``."""
    seen, handles = record_inputs(model)
    out = []
    with torch.no_grad():
        for ids in token_ids:
            model.base_model(torch.tensor([ids]))
            out.append(torch.stack([seen[i][0] for i in range(len(seen))]).double())
    for handle in handles:
        handle.remove()
    return out


def test_text_tokens_and_all_tokens_differ_exactly_by_the_bos_vector(tmp_path):
    model, tokenizer = word_model("llama"), word_tokenizer()
    stores = {}
    for mean_over in ("text_tokens", "all_tokens"):
        capture_store(model, tokenizer, SAMPLES, tmp_path / f"{mean_over}.zarr", {**SETTINGS, "mean_over": mean_over},
                      {"model": "w", "lang": "en"}, progress=False)
        stores[mean_over] = open_activations(tmp_path / f"{mean_over}.zarr")
    text, every = stores["text_tokens"], stores["all_tokens"]
    assert text.attrs["mean_over"] == "text_tokens" and every.attrs["mean_over"] == "all_tokens"
    lengths = [len(s.text.split()) for s in SAMPLES]
    assert text["n_tokens"][:].tolist() == lengths and every["n_tokens"][:].tolist() == [n + 1 for n in lengths]
    hooked = hooked_one_by_one(model, [[1, *tokenizer.convert_tokens_to_ids(s.text.split())] for s in SAMPLES])
    for row, h in enumerate(hooked):  # h: [n_layers, 1 + n, n_neurons], position 0 is BOS
        n = lengths[row]
        np.testing.assert_allclose(text["mean"][row], h[:, 1:].mean(1), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(every["mean"][row], h.mean(1), rtol=1e-5, atol=1e-6)
        bos = every["mean"][row].astype(np.float64) * (n + 1) - text["mean"][row].astype(np.float64) * n
        np.testing.assert_allclose(bos, h[:, 0], rtol=1e-5, atol=1e-5)
    assert np.abs(hooked[0][:, 0]).max() > 1e-2  # the BOS vector is far from zero, so the check above can fail


def test_bos_false_feeds_no_bos_and_mean_over_then_does_not_matter(tmp_path):
    model, tokenizer = word_model("llama"), word_tokenizer()
    means = []
    for mean_over in ("text_tokens", "all_tokens"):
        out = tmp_path / f"{mean_over}.zarr"
        capture_store(model, tokenizer, SAMPLES, out, {**SETTINGS, "bos": False, "mean_over": mean_over},
                      {"model": "w", "lang": "en"}, progress=False)
        means.append(open_activations(out)["mean"][:])
        assert open_activations(out)["n_tokens"][:].tolist() == [len(s.text.split()) for s in SAMPLES]
    np.testing.assert_array_equal(means[0], means[1])


def loud_gpt2(dtype):
    """A word-level GPT-2 whose MLP inputs are scaled up so its neurons reach thousands: summed over 60 tokens
    in float16 they pass 65,504, and in bfloat16 they keep only about three digits."""
    model = word_model("gpt2")
    with torch.no_grad():
        for block in model.transformer.h:
            block.ln_2.weight.mul_(1e4)
    return model.to(dtype)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_capture_equals_float64_mean_of_the_hooked_inputs(dtype):
    model = loud_gpt2(dtype)
    generator = torch.Generator().manual_seed(0)
    encoded = [Encoded([1, *torch.randint(4, 100, (n,), generator=generator).tolist()], [True] + [False] * n)
               for n in (60, 45, 12)]
    seen, handles = record_inputs(model)  # installed before capture's hooks: sees the very same tensors
    (indices, mean, n_tokens, _), = capture_means(model, encoded, 3, 0, "right", "text_tokens", progress=False)
    for handle in handles:
        handle.remove()
    for row, i in enumerate(indices):
        length = len(encoded[i].ids)
        reference = torch.stack([seen[layer][row, 1:length].double().mean(0) for layer in range(len(seen))])
        np.testing.assert_allclose(mean[row], reference.numpy(), rtol=0, atol=1e-6 * float(reference.abs().max()))
        assert n_tokens[row] == length - 1
    longest = torch.stack([seen[layer][0, 1:].double().sum(0) for layer in range(len(seen))])
    assert float(longest.abs().max()) > 65504  # a float16 sum of this sample would overflow


def nan_planter(model, positions):
    """A pre-hook on the last down projection that writes NaN at ``positions(attention_mask)`` (bool [b, t])."""
    state = {}
    model.base_model.register_forward_pre_hook(
        lambda m, args, kwargs: state.__setitem__("mask", kwargs["attention_mask"]), with_kwargs=True)

    def plant(module, args):
        x = args[0].clone()
        x[positions(state["mask"])] = float("nan")
        return (x, *args[1:])

    return down_projections(model)[-1].register_forward_pre_hook(plant)


def test_nan_at_padding_or_bos_never_reaches_a_mean():
    """NaN only in the last layer: earlier, attention would carry it from padded keys into real tokens."""
    model = word_model("llama")
    encoded = encode(word_tokenizer(), [s.text for s in SAMPLES], None)

    def means(mean_over):
        (indices, mean, _, _), = capture_means(model, encoded, len(encoded), 0, "right", mean_over, progress=False)
        return mean[np.argsort(indices)]

    clean = means("text_tokens")
    handle = nan_planter(model, lambda mask: (mask == 0) | (torch.arange(mask.shape[1]) == 0))  # padding and BOS
    planted, with_bos = means("text_tokens"), means("all_tokens")
    handle.remove()
    assert np.isfinite(clean).all() and (np.abs(clean[:, -1]) > 0).any()
    np.testing.assert_array_equal(planted, clean)
    assert np.isnan(with_bos[:, -1]).all() and np.isfinite(with_bos[:, 0]).all()  # the NaN was there to be missed


def test_capture_over_several_write_blocks_equals_one_block(tmp_path, monkeypatch):
    model, tokenizer = word_model("llama"), word_tokenizer()
    attrs = {"model": "w", "lang": "en"}
    capture_store(model, tokenizer, SAMPLES, tmp_path / "one.zarr", SETTINGS, attrs, progress=False)
    per_sample = model.config.num_hidden_layers * model.config.intermediate_size * (4 + 2)  # float32 + uint16 bytes
    monkeypatch.setattr(capture, "block_size", partial(block_size, budget_bytes=2 * per_sample))
    capture_store(model, tokenizer, SAMPLES, tmp_path / "blocks.zarr", SETTINGS, attrs, progress=False)
    one, blocks = open_activations(tmp_path / "one.zarr"), open_activations(tmp_path / "blocks.zarr")
    assert one["mean"].chunks[0] == len(SAMPLES) and blocks["mean"].chunks[0] == 2  # 4 blocks of 2, 2, 2, 1
    np.testing.assert_allclose(blocks["mean"][:], one["mean"][:], rtol=0, atol=1e-6)
    assert blocks["n_tokens"][:].tolist() == one["n_tokens"][:].tolist() == [len(s.text.split()) for s in SAMPLES]
    assert blocks.attrs["sample_ids"] == [s.id for s in SAMPLES]


@pytest.mark.parametrize("mean_over", ["text_tokens", "all_tokens"])
def test_sample_without_a_text_token_is_named(tmp_path, mean_over):
    samples = [Sample("ok", "w1 w2"), Sample("blank", ""), Sample("fine", "w3")]
    with pytest.raises(LinguaFrancaError, match=r"model w language en: sample id\(s\) blank yield no text token"):
        capture_store(word_model("llama"), word_tokenizer(), samples, tmp_path / "en.zarr",
                      {**SETTINGS, "mean_over": mean_over}, {"model": "w", "lang": "en"}, progress=False)
    assert not (tmp_path / "en.zarr").exists()


def test_unknown_mean_over_is_an_error(tmp_path):
    with pytest.raises(LinguaFrancaError, match="mean_over is 'bos'; allowed values: text_tokens, all_tokens"):
        capture_store(word_model("llama"), word_tokenizer(), SAMPLES, tmp_path / "en.zarr",
                      {**SETTINGS, "mean_over": "bos"}, {"model": "w", "lang": "en"}, progress=False)


def fails_above(model, limit: int, sizes: list[int]):
    """Make the base model run out of memory on batches larger than ``limit``, recording every batch size tried."""
    def hook(module, args, kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        if sizes[-1] > limit:
            raise torch.OutOfMemoryError(f"CUDA out of memory (a test's limit of {limit} samples)")

    return model.base_model.register_forward_pre_hook(hook, with_kwargs=True)


def test_batch_size_auto_halves_on_out_of_memory_and_equals_the_size_that_fits(caplog):
    model = tiny_model("llama")
    token_ids = TOKENS * 20  # 100 samples: 64 first, then 32, 16, 8, 4
    sizes = []
    fails_above(model, 5, sizes)
    auto, counts = captured(model, token_ids, batch_size="auto")
    assert sizes[:5] == [64, 32, 16, 8, 4] and set(sizes[4:]) == {4}
    assert sum(sizes[4:]) == len(token_ids)  # every sample once, after the halving
    sizes.clear()
    four, _ = captured(model, token_ids, batch_size=4)
    np.testing.assert_array_equal(auto, four)  # the same batches: the same numbers, bit for bit
    assert counts.tolist() == [len(t) for t in token_ids]
    assert "out of memory at batch size 8; trying 4" in caplog.text


def test_a_fixed_batch_size_does_not_hide_out_of_memory():
    model = tiny_model("llama")
    fails_above(model, 1, [])
    with pytest.raises(torch.OutOfMemoryError):
        captured(model, TOKENS, batch_size=2)


@pytest.mark.parametrize("side", ["left", "right"])
def test_pad_puts_each_row_on_its_side_and_marks_it(side):
    rows = [[5, 6, 7], [8], []]
    values, mask = pad(rows, side, value=-1)
    assert values.dtype == mask.dtype == torch.long
    for row, got, real in zip(rows, values.tolist(), mask.tolist()):
        filler = [-1] * (3 - len(row))
        assert got == (filler + row if side == "left" else row + filler)
        assert real == ([0] * len(filler) + [1] * len(row) if side == "left" else [1] * len(row) + [0] * len(filler))
    with pytest.raises(ValueError, match="left or right"):
        pad(rows, "middle")
