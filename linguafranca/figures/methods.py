"""The methods figure: region sizes beside their null, the overlap between methods, and where in depth each
method's neurons lie, from ``regions/methods.tsv`` (:mod:`linguafranca.analysis.method_comparison`)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from linguafranca.figures.style import save_figure

THIRDS = ("first_third", "middle_third", "last_third")


def _number(value: Any) -> float:
    """A table cell as a float, NaN for ``n/a`` or an empty cell."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _grouped_bars(axes, groups: Sequence[str], series: dict[str, np.ndarray], marks: dict[str, np.ndarray] | None):
    """One bar per series in each group, with a black tick at ``marks`` (the null's 95th percentile) where given."""
    width = 0.8 / max(1, len(series))
    for offset, (name, values) in enumerate(series.items()):
        x = np.arange(len(groups)) + (offset - (len(series) - 1) / 2) * width
        axes.bar(x, values, width, label=name)
        if marks is not None and np.isfinite(marks[name]).any():
            axes.scatter(x, marks[name], marker="_", s=120, color="black", zorder=3,
                         label="null p95" if offset == 0 else None)
    axes.set_xticks(range(len(groups)), groups, rotation=45, ha="right", rotation_mode="anchor", fontsize=8)


def plot_methods(rows: Sequence[dict[str, Any]], png_path: str | os.PathLike, pdf_path: str | os.PathLike,
                 title: str) -> None:
    """Three panels from the rows of ``methods.tsv``: sizes and null p95 per language, Jaccard per method pair and
    language, and the layer-third shares of every method over all languages."""
    methods = list(dict.fromkeys(row["method"] for row in rows))
    langs = list(dict.fromkeys(row["lang"] for row in rows if row["lang"] != "all"))
    cell = {(row["method"], row["lang"]): row for row in rows}
    figure = Figure(figsize=(6 + 1.1 * len(langs), 4.2), layout="constrained")
    sizes, pairs, thirds = figure.subplots(1, 3, width_ratios=[len(langs), len(langs), 1.2 * len(methods)])
    _grouped_bars(sizes, langs, {m: np.array([_number(cell[m, lang]["size"]) for lang in langs]) for m in methods},
                  {m: np.array([_number(cell[m, lang]["null_p95"]) for lang in langs]) for m in methods})
    sizes.set_yscale("symlog", linthresh=10)
    sizes.set_ylabel("neurons in the region")
    sizes.set_title("region size (tick: null p95)")
    sizes.legend(fontsize=7)
    combos = list(itertools.combinations(methods, 2))
    _grouped_bars(pairs, langs, {f"{a}–{b}": np.array([_number(cell[a, lang][f"jaccard_{b}"]) for lang in langs])
                                 for a, b in combos}, None)
    pairs.set_ylim(0, 1)
    pairs.set_ylabel("Jaccard overlap")
    pairs.set_title("overlap between methods")
    pairs.legend(fontsize=7)
    bottom = np.zeros(len(methods))
    for third in THIRDS:
        shares = np.nan_to_num([_number(cell[m, "all"][third]) for m in methods])
        thirds.bar(methods, shares, bottom=bottom, label=third.replace("_", " "))
        bottom += shares
    thirds.set_ylim(0, 1)
    thirds.set_ylabel("share of the method's neurons")
    thirds.set_title("layer thirds")
    thirds.legend(fontsize=7)
    figure.suptitle(title, fontsize=10)
    save_figure(figure, png_path, pdf_path)
