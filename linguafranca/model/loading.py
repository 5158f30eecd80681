"""Loading a resolved model for a job: from its manifest, in the compute dtype, with its context checked.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import torch

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.manifest import read_manifest
from linguafranca.model.compute import dtype_name, pick_device, resolve_compute


def load_job_model(manifest_path: str | os.PathLike, loading: dict[str, Any], spec: dict[str, Any]):
    """(model, tokenizer, manifest) for a workflow job: the weights its manifest pins, loaded with the job's
    ``loading`` params (every loading setting that changes a number) on the device of the model's config entry
    ``spec``. The device changes floating-point rounding only, so it comes from the config, not from params, and
    changing it reruns nothing."""
    manifest = read_manifest(manifest_path)
    model, tokenizer = load_model(manifest, {**loading, "device": spec["device"]})
    return model, tokenizer, manifest


def check_context(model: torch.nn.Module, key: str, tokens: int) -> None:
    """Refuse a token length (config ``key``) beyond the positions the model was built for.

    Models with learned position embeddings (GPT-2, OPT) fail with an ``IndexError`` past
    ``max_position_embeddings``; rotary models run but were never trained there. Models that declare no limit
    (BLOOM's ALiBi) pass.
    """
    limit = getattr(model.config, "max_position_embeddings", None)
    if isinstance(limit, int) and tokens > limit:
        raise LinguaFrancaError(
            f"config error at {key}: {tokens} tokens is beyond the model's context, max_position_embeddings = {limit} "
            f"({getattr(model.config, '_name_or_path', '') or model.config.model_type}); set {key} to {limit} or less"
        )


def load_model(manifest: dict[str, Any], spec: dict[str, Any]):
    """Load (model, tokenizer) in eval mode from a resolved manifest, on the spec's device in its compute dtype.

    The compute dtype (:func:`resolve_compute`) is logged; read it back from the model's parameters
    (:func:`compute_of`). ``trust_remote_code`` stays off unless the model's config entry turns it on.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = manifest["path"]
    trust = bool(spec.get("trust_remote_code", False))
    device = pick_device(spec.get("device", "cpu"))
    dtype, why = resolve_compute(spec.get("compute", "float32"), device)
    logging.info("model %s runs in %s on %s (%s)", manifest.get("name", folder), dtype_name(dtype), device, why)
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust)
    # device auto with GPUs: accelerate spreads the layers over every GPU of the node and offloads what does not fit
    # to host memory (correct but slow: the offloaded weights cross the bus on every forward pass).
    spread = spec.get("device") == "auto" and device.type == "cuda"
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, trust_remote_code=trust, use_safetensors=None,
                                                 device_map="auto" if spread else None)
    if spread:
        placed = sorted({str(where) for where in model.hf_device_map.values()})
        logging.info("device_map auto placed the layers on %s", ", ".join(placed))
        if any(where in ("cpu", "disk") for where in placed):
            logging.warning("the model does not fit on the GPUs: accelerate offloads layers to %s, which is slow",
                            " and ".join(where for where in placed if where in ("cpu", "disk")))
    else:
        model.to(device)
    model.eval()
    return model, tokenizer


def final_softcap(model: torch.nn.Module) -> float | None:
    """Gemma 2/3's final logit soft-capping (``cap * tanh(logits / cap)``), ``None`` for other models: every stage
    that applies the output head itself (perplexity, reasoning) must apply it too.

    Read from the top-level config: that is where the ``*ForCausalLM`` forward reads it.
    """
    return getattr(model.config, "final_logit_softcapping", None)
