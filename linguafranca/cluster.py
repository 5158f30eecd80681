"""Resources of the jobs that load a model: GPUs, memory and time from its parameter count and dtype, and threads.

A scheduler kills a job that exceeds its memory or time and leaves a job waiting that asks for more than any node
has, so a fixed request per rule is wrong for every model but one. The workflow asks :func:`model_job_resources`
instead, once the model is resolved (the parameter count is read from the weights' safetensors headers, which name
every tensor's shape, or estimated from ``config.json`` where there are none). Retries (``--retries``) get more
memory and time with each attempt.
"""

from __future__ import annotations

import json
import math
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any

#: Bytes per parameter of each compute dtype. ``auto`` is bfloat16 on a GPU and, as on most CPUs, float32 without.
BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2}
#: Memory a loaded model needs beyond its weights, as a fraction of them: activations of a batch, the CUDA context,
#: the tokenizer and the text (measured ~1.1 for capture at batch 16; 1.25 leaves room).
OVERHEAD = 1.25
#: Host memory of a job beyond the model: Python, torch, transformers, the data, in MB.
BASE_MEM_MB = 4000
#: Minutes per job: a start-up allowance plus minutes per billion parameters, on a GPU and on CPUs only.
RUNTIME = {"gpu": (60, 20), "cpu": (120, 120)}
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
    linguafranca.models, so that the workflow's own process never imports torch for it; a missing manifest raises
    FileNotFoundError naming it, which Snakemake takes for "not yet computed"."""
    with open(manifest, encoding="utf-8") as handle:
        return parameter_count(json.load(handle)["path"])


def model_job_resources(
    parameters: int, spec: dict[str, Any], cluster: dict[str, Any], attempt: int = 1
) -> dict[str, int | str | None]:
    """The resources of one job that loads a model with ``parameters`` parameters: the plugin's ``gpu`` (how many)
    and ``gpu_model``, ``mem_mb`` (host memory) and ``runtime`` (minutes).

    ``spec`` is the model's config entry: ``gpus`` (auto, or a number; 0 runs on CPUs), ``device`` (cpu means no
    GPU under auto) and ``compute``. ``cluster`` is the config's cluster section: the memory of one GPU decides how
    many GPUs auto asks for, enough to hold the weights in the compute dtype with :data:`OVERHEAD`, at most the GPUs
    of one node (``device_map="auto"`` spreads a model over one node's GPUs and offloads the rest). Host memory holds
    the weights once more (loading, or offloading where the GPUs are too small); each retry doubles memory and time.
    """
    gpus = spec.get("gpus", "auto")
    on_gpu = gpus != 0 and not (gpus == "auto" and spec.get("device") == "cpu")
    dtype_bytes = BYTES.get(spec.get("compute", "auto"), 2 if on_gpu else 4)
    weights_mb = parameters * dtype_bytes / 2**20
    if gpus == "auto" and on_gpu:
        needed = math.ceil(OVERHEAD * weights_mb / 1024 / cluster["gpu_memory_gb"])
        gpus = min(max(1, needed), cluster["gpus_per_node"])
    elif gpus == "auto":
        gpus = 0
    mem_mb = BASE_MEM_MB + OVERHEAD * weights_mb
    start, per_billion = RUNTIME["gpu" if gpus else "cpu"]
    runtime = start + per_billion * parameters / 1e9
    scale = 2 ** (attempt - 1)
    return {
        "gpu": gpus,
        "gpu_model": cluster.get("gpu_model") if gpus else None,
        "mem_mb": 1000 * math.ceil(scale * mem_mb / 1000),
        "runtime": math.ceil(scale * runtime),
    }


#: Threads of a job that loads a model on a cluster node (its cpus_per_task).
CLUSTER_MODEL_THREADS = 8


def machine_memory_mb() -> int:
    """Physical memory of this machine, in MB."""
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20


def local_model_threads(cores: int) -> int:
    """Threads of a job that loads a model when Snakemake runs the jobs on this machine: half of ``cores``, so that
    two run side by side (the workflow caps the jobs' summed ``mem_mb`` at the machine's memory, so two run
    together only where they fit).

    Why: each job spends about 10 s starting on one core (Python, torch and transformers, the tokenizer, the
    weights). Side by side, one job's start-up overlaps the other's work; and two one-thread jobs do as much
    perplexity as one two-thread job (on the 2-core reference machine, 9.8 s for one language at one thread against
    5.3 s at two).
    """
    return max(1, cores // 2)
