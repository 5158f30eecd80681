"""The compute setting: which dtype ``auto`` picks, that float32 is the plain float32 model, and how far bfloat16
capture and perplexity may drift from float32 (the tolerances the README states)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

from linguafranca.ablation.perplexity import perplexity, windows
from linguafranca.analysis.capture import capture_store
from linguafranca.data.samples import Sample
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.activations import open_activations
from linguafranca.model import compute
from linguafranca.model.compute import cpu_bf16_flags, resolve_compute
from linguafranca.model.loading import load_model
from linguafranca.model.tokens import text_tensor
from tests.helpers.tiny import CORPUS, save_tiny

#: Stated tolerances of bfloat16 against float32 on a tiny random model (README, "Precision"): capture means
#: within 2% of the largest mean of their layer (seen: 0.4-0.8%), perplexity within 0.05% (seen: 0.001-0.005%;
#: a random model's near-uniform predictions move little; the README gives Gemma's figures).
CAPTURE_TOLERANCE = 0.02
PERPLEXITY_TOLERANCE = 5e-4


def test_cpu_flags_come_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu sse avx512f avx512_bf16 avx512_vnni\n")
    assert cpu_bf16_flags(cpuinfo) == ["avx512_bf16"]
    cpuinfo.write_text("flags : fpu sse avx2 avx512f\n")
    assert cpu_bf16_flags(cpuinfo) == []
    assert cpu_bf16_flags(tmp_path / "absent") == []


@pytest.mark.parametrize(
    ("flags", "expected"), [(["avx512_bf16"], torch.bfloat16), (["amx_bf16"], torch.bfloat16), ([], torch.float32)]
)
def test_auto_is_bfloat16_only_where_the_cpu_multiplies_it_natively(monkeypatch, flags, expected):
    monkeypatch.setattr(compute, "cpu_bf16_flags", lambda: flags)
    dtype, why = resolve_compute("auto", torch.device("cpu"))
    assert dtype == expected and why.startswith("auto: ")
    assert all(flag in why for flag in flags)


def test_an_explicit_compute_is_taken_as_it_is(monkeypatch):
    monkeypatch.setattr(compute, "cpu_bf16_flags", lambda: [])
    assert resolve_compute("bfloat16", torch.device("cpu")) == (torch.bfloat16, "set in the config")
    assert resolve_compute("float64", torch.device("cpu"))[0] == torch.float64
    with pytest.raises(LinguaFrancaError, match="unknown compute 'int8'"):
        resolve_compute("int8", torch.device("cpu"))


def capture(folder, compute, out):
    model, tokenizer = load_model({"path": str(folder)}, {"compute": compute, "device": "cpu"})
    samples = [Sample(f"s{i}", text) for i, text in enumerate(CORPUS)]
    capture_store(model, tokenizer, samples, out, {"batch_size": 4, "max_length": 64, "bos": True},
                  {"model": "tiny", "lang": "xx"}, progress=False)
    return open_activations(out)


def ppl(folder, compute):
    model, tokenizer = load_model({"path": str(folder)}, {"compute": compute, "device": "cpu"})
    ids = text_tensor(tokenizer, " ".join(CORPUS), True)
    return perplexity(model, windows(ids, 16, None), batch_size=2, progress=False)


@pytest.mark.parametrize("arch", ["llama", "gemma3_text", "bloom"])
def test_bfloat16_capture_and_perplexity_stay_within_the_stated_tolerances(tmp_path, arch):
    folder = save_tiny(arch, tmp_path / arch)
    f32, bf16 = capture(folder, "float32", tmp_path / "f32.zarr"), capture(folder, "bfloat16", tmp_path / "bf16.zarr")
    assert (f32.attrs["compute"], bf16.attrs["compute"]) == ("float32", "bfloat16")
    assert f32.attrs["accumulation"] == bf16.attrs["accumulation"] == "float32"
    a, b = f32["mean"][:].astype(np.float64), bf16["mean"][:].astype(np.float64)
    scale = np.abs(a).max(axis=(0, 2), keepdims=True)  # per layer
    drift = float((np.abs(a - b) / scale).max())
    assert 0 < drift < CAPTURE_TOLERANCE  # bfloat16 did change the numbers, within the tolerance
    reference, low = ppl(folder, "float32"), ppl(folder, "bfloat16")
    assert (reference.compute, low.compute) == ("float32", "bfloat16")
    assert low.ppl != reference.ppl and abs(low.ppl / reference.ppl - 1) < PERPLEXITY_TOLERANCE


def test_float32_is_the_plain_float32_model_bit_for_bit(tmp_path):
    """compute float32 changes nothing: the same perplexity, to the last bit, as a model loaded the former way."""
    folder = save_tiny("gemma3_text", tmp_path / "m")
    plain = transformers.AutoModelForCausalLM.from_pretrained(folder).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    wins = windows(text_tensor(tokenizer, " ".join(CORPUS), True), 16, None)
    assert ppl(folder, "float32").nll_sum == perplexity(plain, wins, batch_size=2, progress=False).nll_sum

