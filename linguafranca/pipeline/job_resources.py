"""Resources of the jobs that load a model: GPUs, memory and time from its parameter count and dtype.

A scheduler kills a job that exceeds its memory or time and leaves a job waiting that asks for more than any node
has, so a fixed request per rule is wrong for every model but one. The workflow asks :func:`model_job_resources`
instead, once the model is resolved (:mod:`linguafranca.model.parameters` counts its parameters). Retries
(``--retries``) get more memory and time with each attempt.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from linguafranca.model.parameters import manifest_parameters

#: Bytes per parameter of each compute dtype. ``auto`` is bfloat16 on a GPU and, as on most CPUs, float32 without.
BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2}


#: Memory a loaded model needs beyond its weights, as a fraction of them: activations of a batch, the CUDA context,
#: the tokenizer and the text (measured ~1.1 for capture at batch 16; 1.25 leaves room).
OVERHEAD = 1.25


#: Host memory of a job beyond the model: Python, torch, transformers, the data, in MB.
BASE_MEM_MB = 4000


#: Minutes per job: a start-up allowance plus minutes per billion parameters, on a GPU and on CPUs only.
RUNTIME = {"gpu": (60, 20), "cpu": (120, 120)}


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


def machine_memory_mb() -> int:
    """Physical memory of this machine, in MB."""
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20


#: The resources a job that loads a model asks for; CPU-only jobs never ask for a GPU.
MODEL_JOB_RESOURCES = ("gpu", "gpu_model", "mem_mb", "runtime")


def _model_resource(wildcards, input, attempt, config: dict[str, Any], name: str):
    parameters = manifest_parameters(input.manifest)
    return model_job_resources(parameters, config["models"][wildcards.model], config["cluster"], attempt)[name]


def model_resource_functions(config: dict[str, Any]) -> dict[str, Callable]:
    """Each of :data:`MODEL_JOB_RESOURCES` as a Snakemake resource function of (wildcards, input, attempt), for
    ``resources: **MODEL_RESOURCES``: what :func:`model_job_resources` derives from the resolved model's parameter
    count and compute dtype, doubled per retry. Until resolve_model has written the manifest, Snakemake shows the
    value as <TBD> and computes it before the job starts."""
    return {name: partial(_model_resource, config=config, name=name) for name in MODEL_JOB_RESOURCES}
