"""The sandbox's training loss curve, from ``loss.tsv``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from linguafranca.figures.style import save_figure
from linguafranca.io.tsv import read_tsv

if TYPE_CHECKING:
    pass


def plot_loss(loss_tsv: str | os.PathLike, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """The sandbox's training loss curve (log step axis), its mean throughput in the title."""
    rows = read_tsv(loss_tsv)
    fig = Figure(figsize=(5, 3.2))
    ax = fig.add_subplot()
    ax.plot([int(row["step"]) for row in rows], [float(row["loss"]) for row in rows], linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (nats per token)")
    speed = np.mean([float(row["tokens_per_s"]) for row in rows]) if rows else float("nan")
    ax.set_title(f"Sandbox training: {speed:,.0f} tokens/s on average", fontsize=9)
    ax.grid(alpha=0.3)
    save_figure(fig, png, pdf)
