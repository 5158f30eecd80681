"""The deactivation heatmap (Table 1 as a figure): perplexity increase per language and condition."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from linguafranca.ablation.conditions import METHODS
from linguafranca.figures.style import save_figure

if TYPE_CHECKING:
    from linguafranca.ablation.deactivation import IncreaseTable


def _log_ratio(table: "IncreaseTable") -> np.ndarray:
    """log10(ppl / ppl_none) per cell: increases span orders of magnitude, so colours follow the log ratio.

    Cells not evaluated stay NaN, which ``imshow`` leaves blank."""
    return np.log10(np.maximum(1.0 + table.increase / 100.0, 1e-12))


def _colour_scale(values: np.ndarray) -> dict:
    """Diverging colours centred on no change (log ratio 0): red for a perplexity rise, blue for a fall."""
    measured = values[~np.isnan(values)]
    low = min(float(measured.min(initial=0.0)), -1e-3)
    high = max(float(measured.max(initial=0.0)), 1e-3)
    return {"cmap": "RdBu_r", "norm": TwoSlopeNorm(vmin=low, vcenter=0.0, vmax=high)}


def _groups(table: "IncreaseTable") -> list[tuple[str, list[int]]]:
    """Column indices of the z-score's conditions (``random``, the regions, their controls, the significant ones),
    then of each other method's (``{method}_{lang}``, ``random_{method}_{lang}``): one panel each."""
    groups: dict[str, list[int]] = {"": []}
    for index, region in enumerate(table.regions):
        method = next((m for m in METHODS if region.startswith((f"{m}_", f"random_{m}_"))), "")
        groups.setdefault(method, []).append(index)
    return [(method, columns) for method, columns in groups.items() if columns]


def _columns(table: "IncreaseTable", columns: list[int]) -> "IncreaseTable":
    return replace(table, regions=[table.regions[c] for c in columns], increase=table.increase[:, columns],
                   region_size=table.region_size[columns], region_percent=table.region_percent[columns])


def plot_increase(
    table: "IncreaseTable", png_path: str | os.PathLike, pdf_path: str | os.PathLike, title: str | None = None
) -> None:
    """Write the increase heatmap as PNG and PDF, each cell annotated with its % increase; one panel for the
    z-score's conditions and one per other method (LAPE, AP), on one colour scale.

    Cells are coloured by the log10 perplexity ratio, so a 20% and a 900,000% increase are both visible.

    Column labels carry each region's size (% of all neurons) so that a large effect of a large region is
    not mistaken for specificity. Cells whose condition was not evaluated on the language are left blank.
    """
    n_langs = table.increase.shape[0]
    groups = _groups(table)
    widest = max(len(columns) for _, columns in groups)
    figure = Figure(figsize=(1.0 + 0.9 * widest, (1.6 + 0.6 * n_langs) * len(groups)), layout="constrained")
    scale = _colour_scale(_log_ratio(table))
    for index, (method, columns) in enumerate(groups):
        axes = figure.add_subplot(len(groups), 1, index + 1)
        heading = title if index == 0 else f"{method}: its regions and their size-matched controls"
        _draw(figure, axes, _columns(table, columns), heading, scale)
    save_figure(figure, png_path, pdf_path)


def cell_text(increase: float) -> str:
    """A cell's % increase, readable at every size: whole percent from 10 up (``1,215,564``), two significant
    digits below (``3.4``, ``0.052``, ``-0.0071``), so a small effect never reads as ``0`` or ``-0``."""
    if not np.isfinite(increase):
        return ""
    if increase == 0:
        return "0"
    if abs(increase) >= 10:
        return f"{increase:,.0f}"
    return f"{increase:.2g}"


def _draw(figure: Figure, axes, table: "IncreaseTable", title: str | None, scale: dict) -> None:
    """The annotated matrix, its labels and colour bar, in the colours of ``scale``."""
    n_langs, n_regions = table.increase.shape
    values = _log_ratio(table)
    image = axes.imshow(values, aspect="auto", **scale)
    for row, column in zip(*np.nonzero(table.evaluated)):
        dark = abs(scale["norm"](values[row, column]) - 0.5) > 0.35
        axes.text(column, row, cell_text(table.increase[row, column]), ha="center", va="center", fontsize=8,
                  color="white" if dark else "black")
    for column in np.flatnonzero(table.empty):
        for row in range(n_langs):
            axes.text(column, row, "empty", ha="center", va="center", fontsize=7, color="grey")
    axes.set_xticks(range(n_regions), [f"{r}\n({p:.2f}%)" for r, p in zip(table.regions, table.region_percent)],
                    rotation=45, ha="right", rotation_mode="anchor", fontsize=8)
    axes.set_yticks(range(n_langs), table.langs)
    axes.set_xlabel("deactivated region or control (size, % of neurons); blank: not evaluated; empty: no neurons")
    axes.set_ylabel("evaluated language")
    axes.set_title(title or "perplexity increase (%) over no deactivation")
    figure.colorbar(image, ax=axes, label="log10(perplexity / perplexity with nothing off)")
