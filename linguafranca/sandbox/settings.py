"""The settings that change a sandbox checkpoint's weights; torch-free, so the workflow reads them while it parses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainSettings:
    """What changes a checkpoint's weights (every field reaches the job through rule params)."""

    architecture: str
    hidden: int
    layers: int
    heads: int
    seq_len: int
    batch_size: int
    steps: int
    learning_rate: float
    warmup: int
    weight_decay: float
    seed: int
    autocast: str

    @classmethod
    def of(cls, sandbox: dict[str, Any], shape: dict[str, int]) -> "TrainSettings":
        keys = ("architecture", "seq_len", "batch_size", "steps", "learning_rate", "warmup", "weight_decay", "seed",
                "autocast")
        return cls(**{key: sandbox[key] for key in keys}, **shape)
