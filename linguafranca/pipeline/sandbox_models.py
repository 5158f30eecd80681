"""What the sandbox section of the config turns into: checkpoint steps and names, and one model entry per size.

Torch-free: the workflow calls it while it parses the config.
"""

from __future__ import annotations

from typing import Any

MODEL_PREFIX = "sandbox-"
"""A sandbox size ``s`` is analysed as model ``sandbox-s``."""


def checkpoint_steps(sandbox: dict[str, Any]) -> list[int]:
    """The configured checkpoint steps, sorted; by default 0 and four steps a factor 4 apart ending at ``steps``.

    Step 0 (the initial weights) is the baseline every trend needs: an untrained model already shows regions.
    """
    steps = sandbox["steps"]
    chosen = sandbox["checkpoints"]
    if chosen is None:
        chosen = [0, *(max(1, round(steps / 4**k)) for k in (3, 2, 1, 0))]
    return sorted(set(chosen))


def checkpoint_name(step: int) -> str:
    """The revision name of the checkpoint at ``step``: ``step-0064`` (hub-branch-like, sorts by step)."""
    return f"step-{step:04d}"


def sandbox_models(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One model entry per sandbox size: source sandbox, one revision per checkpoint with its step and tokens.

    float32 and cpu unless the sandbox trains elsewhere: the models are tiny, and jobs: combined captures every
    language and runs every deactivation condition in one job each, so start-up stays a small share.
    """
    sandbox = config["sandbox"]
    tokens_per_step = sandbox["batch_size"] * sandbox["seq_len"]
    revisions = [
        {"name": checkpoint_name(step), "step": step, "tokens": step * tokens_per_step}
        for step in checkpoint_steps(sandbox)
    ]
    return {
        f"{MODEL_PREFIX}{size}": {
            "source": "sandbox",
            "name": size,
            "revisions": revisions,
            "compute": "float32",
            "device": sandbox["device"],
            "batch_size": 16,
            "max_length": 512,
            "jobs": "combined",
        }
        for size in sandbox["sizes"]
    }


def check_steps(sandbox: dict[str, Any]) -> str | None:
    """A problem with the checkpoint steps, or None: each must be within the training run."""
    late = [step for step in checkpoint_steps(sandbox) if step > sandbox["steps"]]
    if late:
        return f"checkpoints {late} are after the last step ({sandbox['steps']}); raise steps or drop them"
    return None
