"""The device and the compute dtype a job runs in: ``compute: auto`` picks bfloat16 where the CPU has AVX512-BF16 or
on a GPU, float32 elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from linguafranca.errors import LinguaFrancaError

#: CPU flags of native bfloat16 matrix products; without them torch emulates bfloat16, slower than float32.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}


def pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise LinguaFrancaError("device: cuda was asked for, but torch sees no GPU; use cpu or auto")
    return torch.device(device)


def cpu_bf16_flags(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> list[str]:
    """The native-bfloat16 flags (:data:`BF16_CPU_FLAGS`) this CPU reports; empty where it has none or where
    ``cpuinfo`` cannot be read (not Linux), so ``auto`` falls back to float32 rather than guess."""
    try:
        words = set(Path(cpuinfo).read_text(encoding="utf-8", errors="replace").split())
    except OSError:
        return []
    return [flag for flag in BF16_CPU_FLAGS if flag in words]


def resolve_compute(compute: str, device: torch.device) -> tuple[torch.dtype, str]:
    """The dtype weights and matrix products run in, and why, for a model's ``compute`` setting on ``device``.

    ``auto`` picks bfloat16 only where the hardware multiplies it natively (a CUDA GPU with bfloat16, a CPU with
    :data:`BF16_CPU_FLAGS`), where it is 2 to 3.5 times faster than float32; elsewhere bfloat16 is emulated and
    slower, so ``auto`` is float32. Sums that decide a result accumulate in float32 or wider whatever this is.
    """
    if compute != "auto":
        if compute not in DTYPES:
            raise LinguaFrancaError(f"unknown compute {compute!r}: use auto, {', '.join(DTYPES)}")
        return DTYPES[compute], "set in the config"
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return torch.bfloat16, "auto: the GPU runs bfloat16 natively"
        return torch.float32, "auto: the GPU has no native bfloat16"
    if device.type == "cpu":
        flags = cpu_bf16_flags()
        if flags:
            return torch.bfloat16, f"auto: the CPU has {' and '.join(flags)}"
    return torch.float32, f"auto: no native bfloat16 on {device.type} ({' or '.join(BF16_CPU_FLAGS)} missing)"


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.bfloat16`` → ``bfloat16``: the name stores and tables record."""
    return str(dtype).removeprefix("torch.")


def compute_of(model: torch.nn.Module) -> str:
    """The dtype a loaded model computes in, by name, as stores and tables record it."""
    return dtype_name(next(model.parameters()).dtype)
