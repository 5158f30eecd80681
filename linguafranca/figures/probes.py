"""Language-ID probe accuracy per layer."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from linguafranca.figures.style import save_figure
from linguafranca.io.tsv import read_tsv

if TYPE_CHECKING:
    pass


def plot_probe_accuracy(table_tsv: str | os.PathLike, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Language-ID probe accuracy against relative depth (mean over seeds, the seeds' range shaded), with the
    shuffled-label probe and the majority class as chance."""
    rows = read_tsv(table_tsv)
    figure = Figure(figsize=(6, 3.6), layout="constrained")
    axes = figure.add_subplot()
    for probe, colour in (("language_id", "C0"), ("shuffled", "C7")):
        layers = sorted({int(r["layer"]) for r in rows if r["probe"] == probe})
        values = np.array([[float(r["accuracy"]) for r in rows if r["probe"] == probe and int(r["layer"]) == layer]
                           for layer in layers])
        depth = (np.array(layers) + 1) / len(layers)
        axes.plot(depth, values.mean(axis=1), marker="o", color=colour, label=probe.replace("_", " "))
        axes.fill_between(depth, values.min(axis=1), values.max(axis=1), color=colour, alpha=0.2)
    majority = np.mean([float(r["accuracy"]) for r in rows if r["probe"] == "majority"])
    axes.axhline(majority, color="k", linestyle=":", label="majority class")
    axes.set_xlabel("relative depth (layer / number of layers)")
    axes.set_ylabel("held-out accuracy")
    axes.set_ylim(0, 1.02)
    axes.legend(fontsize=8)
    axes.set_title("language-ID probe per layer")
    save_figure(figure, png, pdf)
