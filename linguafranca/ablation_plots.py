"""The deactivation heatmap: the paper's Table 1 as a picture, rows evaluated languages, columns regions off."""

from __future__ import annotations

import os

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402

from .ablation import IncreaseTable  # noqa: E402
from .atomic import atomic_path  # noqa: E402


def _log_ratio(table: IncreaseTable) -> np.ndarray:
    """log10(ppl / ppl_none) per cell: increases span orders of magnitude, so colours follow the log ratio."""
    return np.log10(np.maximum(1.0 + table.increase / 100.0, 1e-12))


def _colour_scale(values: np.ndarray) -> dict:
    """Diverging colours centred on no change (log ratio 0): red for a perplexity rise, blue for a fall."""
    finite = values[np.isfinite(values)]  # an empty region's column is NaN
    low, high = min(float(finite.min(initial=0.0)), -1e-3), max(float(finite.max(initial=0.0)), 1e-3)
    return {"cmap": "RdBu_r", "norm": TwoSlopeNorm(vmin=low, vcenter=0.0, vmax=high)}


def plot_increase(
    table: IncreaseTable, png_path: str | os.PathLike, pdf_path: str | os.PathLike, title: str | None = None
) -> None:
    """Write the increase heatmap as PNG and PDF, each cell annotated with its % increase.

    Cells are coloured by the log10 perplexity ratio, so a 20% and a 900,000% increase are both visible.

    Column labels carry each region's size (% of all neurons) so that a large effect of a large region is
    not mistaken for specificity.
    """
    n_langs, n_regions = table.increase.shape
    figure, axes = plt.subplots(figsize=(1.0 + 0.9 * n_regions, 1.0 + 0.6 * n_langs), layout="constrained")
    try:
        _draw(figure, axes, table, title)
        for path, kind in ((png_path, "png"), (pdf_path, "pdf")):
            with atomic_path(path) as temporary:
                figure.savefig(temporary, format=kind, dpi=150)
    finally:
        plt.close(figure)


def _draw(figure, axes, table: IncreaseTable, title: str | None) -> None:
    """The annotated matrix, its labels and colour bar."""
    n_langs, n_regions = table.increase.shape
    values = _log_ratio(table)
    scale = _colour_scale(values)
    image = axes.imshow(values, aspect="auto", **scale)
    for row in range(n_langs):
        for column in range(n_regions):
            increase = table.increase[row, column]
            dark = np.isfinite(increase) and abs(scale["norm"](values[row, column]) - 0.5) > 0.35
            label = f"{increase:,.0f}" if np.isfinite(increase) else "empty"
            axes.text(column, row, label, ha="center", va="center", fontsize=8,
                      color="white" if dark else "black")
    axes.set_xticks(range(n_regions), [f"{r}\n({p:.2f}%)" for r, p in zip(table.regions, table.region_percent)])
    axes.set_yticks(range(n_langs), table.langs)
    axes.set_xlabel("deactivated region (size, % of neurons)")
    axes.set_ylabel("evaluated language")
    axes.set_title(title or "perplexity increase (%) over no deactivation")
    figure.colorbar(image, ax=axes, label="log10(perplexity / perplexity with nothing off)")
