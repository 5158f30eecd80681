"""A model's parameter count, read from its safetensors headers (which name every tensor's shape), or estimated from
``config.json`` where there are none; torch-free, so the workflow can ask while it plans jobs.
"""

from __future__ import annotations

import json
import math
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any

#: Model architectures whose MLP has three matrices (gate, up, down) rather than two, for the estimate.
GATED_MLP = ("llama", "mistral", "mixtral", "qwen", "gemma", "phi3", "olmo", "cohere")


def safetensors_parameters(folder: Path) -> int | None:
    """Parameters in a folder's ``*.safetensors`` files, from their headers (a few kB each), None without any."""
    total, files = 0, sorted(folder.glob("*.safetensors"))
    for path in files:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(length))
        total += sum(math.prod(entry["shape"]) for name, entry in header.items() if name != "__metadata__")
    return total if files else None


def estimated_parameters(config: dict[str, Any]) -> int:
    """Parameters of a decoder-only transformer from the shapes in its ``config.json``: embeddings (twice when the
    output layer is not tied to them), attention with grouped key/value heads, and a two- or three-matrix MLP. Within
    1% for LLaMA, Mistral, BLOOM and GPT-2; biases and norms are left out."""
    def first(*keys: str, default: Any = None) -> Any:
        return next((config[key] for key in keys if config.get(key) is not None), default)

    hidden = first("hidden_size", "n_embd", "n_embed", "d_model")
    layers = first("num_hidden_layers", "n_layer", "num_layers")
    heads = first("num_attention_heads", "n_head")
    kv_heads = first("num_key_value_heads", default=heads)
    head_dim = first("head_dim", default=hidden // heads)
    ffn = first("intermediate_size", "ffn_dim", "n_inner", default=4 * hidden)
    mlp_matrices = 3 if str(config.get("model_type", "")).startswith(GATED_MLP) else 2
    attention = 2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim
    embeddings = config["vocab_size"] * hidden * (1 if config.get("tie_word_embeddings", True) else 2)
    return embeddings + layers * (attention + mlp_matrices * hidden * ffn)


@lru_cache(maxsize=None)
def parameter_count(folder: str) -> int:
    """Parameters of the model in a resolved folder: exact from safetensors headers, else estimated from its
    ``config.json`` (pickled weights). Cached: every job of the model asks."""
    exact = safetensors_parameters(Path(folder))
    if exact is not None:
        return exact
    return estimated_parameters(json.loads((Path(folder) / "config.json").read_text(encoding="utf-8")))


def manifest_parameters(manifest: str) -> int:
    """Parameters of the model a resolve_model manifest points at. The manifest is read here, not through
    linguafranca.model.loading, so that the workflow's own process never imports torch for it; a missing manifest raises
    FileNotFoundError naming it, which Snakemake takes for "not yet computed"."""
    with open(manifest, encoding="utf-8") as handle:
        return parameter_count(json.load(handle)["path"])
