"""Cross-lingual reasoning accuracy per condition and language, with Wilson intervals."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from linguafranca.figures.style import save_figure
from linguafranca.io.tsv import read_tsv

if TYPE_CHECKING:
    pass


def plot_reasoning(accuracy_tsv: str | os.PathLike, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Reasoning accuracy per language, one panel per task: unablated (``none``) against the language's own region
    switched off and its size-matched random control, with Wilson 95% intervals; chance (0.5) dashed. Languages
    the task is not available in are left out of their panel."""
    rows = [row for row in read_tsv(accuracy_tsv) if row["available"] == "yes"]
    tasks = list(dict.fromkeys(row["task"] for row in rows))
    fig = Figure(figsize=(7.5, 3.2 * max(1, len(tasks))))
    series = (("none", "unablated", "tab:blue"), ("{lang}", "own region off", "tab:red"),
              ("random_{lang}", "size-matched random off", "tab:grey"))
    for index, task in enumerate(tasks or [""]):
        ax = fig.add_subplot(max(1, len(tasks)), 1, index + 1)
        chosen = [row for row in rows if row["task"] == task]
        x = np.arange(len(chosen))
        for offset, (pattern, label, colour) in zip((-0.25, 0.0, 0.25), series):
            names = [pattern.format(lang=row["language"]) for row in chosen]
            acc = np.array([float(row.get(f"acc_{n}") or "nan") for row, n in zip(chosen, names)])
            low = np.array([float(row.get(f"low_{n}") or "nan") for row, n in zip(chosen, names)])
            high = np.array([float(row.get(f"high_{n}") or "nan") for row, n in zip(chosen, names)])
            ax.errorbar(x + offset, acc, yerr=[acc - low, high - acc], fmt="o", color=colour, label=label,
                        markersize=4, capsize=2)
        ax.axhline(0.5, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xticks(x, [row["language"] for row in chosen])
        ax.set_ylim(0, 1)
        ax.set_ylabel("accuracy")
        ax.set_title(f"{task}: the right English continuation (Wilson 95%)")
        ax.grid(alpha=0.3, axis="y")
        if index == 0:
            ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    save_figure(fig, png, pdf)
