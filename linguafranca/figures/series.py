"""The series figures (paper Figures 4-7 and the consecutive-point overlap), drawn from evolution.tsv and, for the
layer distribution, each point's SKLR table. PNG and PDF, written atomically (linguafranca.figures.style.save_figure)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from linguafranca.figures.style import save_figure
from linguafranca.io.tsv import read_tsv
from linguafranca.probes.summary import read_summary

Rows = Sequence[Mapping[str, Any]]

def _values(rows: Rows, column: str) -> np.ndarray:
    return np.array([np.nan if row[column] in (None, "") else float(row[column]) for row in rows])


def plot_probe_series(points: Sequence[tuple[str, str | os.PathLike]], png: str | os.PathLike,
                      pdf: str | os.PathLike) -> None:
    """Probe accuracy per layer against relative depth, one line per point of a series: ``points`` is
    ``[(label, probes/summary.tsv)]`` in the series' order (checkpoints by step, models by size)."""
    figure = Figure(figsize=(6, 3.6), layout="constrained")
    axes = figure.add_subplot()
    colours = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, max(len(points), 1)))
    for (label, path), colour in zip(points, colours):
        accuracy = read_summary(path)["probe_accuracy"]
        layers = sorted(int(layer) for layer in accuracy)
        axes.plot((np.array(layers) + 1) / len(layers), [accuracy[str(layer)] for layer in layers], marker="o",
                  markersize=3, color=colour, label=label)
    axes.set_xlabel("relative depth (layer / number of layers)")
    axes.set_ylabel("language-ID probe accuracy")
    axes.set_ylim(0, 1.02)
    axes.legend(fontsize=7)
    save_figure(figure, png, pdf)


def plot_overlap_series(points: Sequence[tuple[float, str | os.PathLike]], xlabel: str, png: str | os.PathLike,
                        pdf: str | os.PathLike) -> None:
    """Expert overlap across languages (whole-model Jaccard and the share of experts shared by at least m
    languages) and mean probe accuracy over layers against a series' x (step or size): ``points`` is
    ``[(x, probes/summary.tsv)]``."""
    summaries = [(x, read_summary(path)) for x, path in sorted(points, key=lambda point: point[0])]
    x = [point for point, _ in summaries]
    figure = Figure(figsize=(6, 3.6), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(x, [s["jaccard"]["all"] for _, s in summaries], marker="o", label="Jaccard of expert sets")
    axes.plot(x, [s["shared_share"]["all"] for _, s in summaries], marker="s", label="experts shared by ≥ m languages")
    axes.plot(x, [np.mean(list(s["probe_accuracy"].values())) for _, s in summaries], marker="^",
              label="mean probe accuracy over layers")
    axes.set_xlabel(xlabel)
    axes.set_ylim(0, 1.02)
    axes.legend(fontsize=8)
    save_figure(figure, png, pdf)


def _label(row: Mapping[str, Any]) -> str:
    return f"{row['model']}@{row['revision']}"


def _step_axis(ax) -> None:
    """Steps on a log axis that still shows step 0 (symmetric log, linear below 1)."""
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("training step")


def _twin(ax, x: np.ndarray, left: tuple[np.ndarray, str], right: tuple[np.ndarray, str]):
    """Draw ``left`` on ``ax`` and ``right`` on a twin y axis, which is returned."""
    ax.plot(x, left[0], "o-", color="C0", label=left[1])
    ax.set_ylabel(left[1], color="C0")
    other = ax.twinx()
    other.plot(x, right[0], "s--", color="C1", label=right[1])
    other.set_ylabel(right[1], color="C1")
    return other


def plot_figure4(rows: Rows, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """LRDS and SKLR against step (with the null SKLR as a band up to its 95th percentile); SADS and reasoning
    accuracy against step."""
    x = _values(rows, "step")
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    sklr_axis = _twin(left, x, (_values(rows, "lrds"), "LRDS"), (_values(rows, "sklr"), "SKLR (% of neurons)"))
    sklr_axis.fill_between(x, _values(rows, "sklr_null_mean"), _values(rows, "sklr_null_p95"), color="C1",
                           alpha=0.2, label="null SKLR (mean to p95)")
    sklr_axis.legend(loc="lower right", fontsize=7)
    _twin(right, x, (_values(rows, "sads"), "SADS"), (_values(rows, "accuracy"), "reasoning accuracy"))
    for ax in (left, right):
        _step_axis(ax)
    save_figure(fig, png, pdf)


def plot_figure7(rows: Rows, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """LRDS, SADS and reasoning accuracy against parameters (log axis)."""
    x = _values(rows, "parameters")
    fig = Figure(figsize=(10, 3.4), layout="constrained")
    for ax, column, name in zip(fig.subplots(1, 3), ("lrds", "sads", "accuracy"),
                                ("LRDS", "SADS", "reasoning accuracy")):
        ax.plot(x, _values(rows, column), "o-")
        ax.set_xscale("log")
        ax.set_xlabel("parameters")
        ax.set_ylabel(name)
    save_figure(fig, png, pdf)


def layer_profile(sklr_tsv: str) -> tuple[np.ndarray, np.ndarray]:
    """(relative depth of each layer's centre, share of the key neurons in that layer) from one SKLR table."""
    rows = [row for row in read_tsv(sklr_tsv) if row["layer"].isdigit()]
    counts = np.array([float(row["all"]) for row in rows])
    depth = (np.arange(len(rows)) + 0.5) / len(rows)
    return depth, counts / counts.sum() if counts.sum() else counts


def plot_figure5(rows: Rows, sklr_tables: Sequence[str], png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """The layer distribution of key neurons (share per layer, all languages) at every point, on relative depth so
    that models of different depths compare; later points darker."""
    fig = Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = fig.subplots()
    shades = np.linspace(0.25, 1, len(rows))
    for row, table, shade in zip(rows, sklr_tables, shades):
        depth, share = layer_profile(table)
        ax.plot(depth, share, "o-", color=(0.1, 0.2, 0.6, shade), label=_label(row), ms=3)
    ax.set_xlabel("relative depth (layer centre / layers)")
    ax.set_ylabel("share of key neurons")
    ax.legend(fontsize=6)
    save_figure(fig, png, pdf)


def plot_figure6(rows: Rows, langs: Sequence[str], png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Region size per language at every point, one panel each, with the null mean size as a marker."""
    cols = min(len(rows), 5)
    fig = Figure(figsize=(2.6 * cols, 2.4 * -(-len(rows) // cols)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(-(-len(rows) // cols), cols, squeeze=False)).ravel()
    x = np.arange(len(langs))
    for ax, row in zip(axes, rows):
        ax.bar(x, [float(row[f"size_{lang}"]) for lang in langs], color="C0")
        null = [row[f"null_size_{lang}"] for lang in langs]
        if all(value not in (None, "") for value in null):
            ax.plot(x, [float(v) for v in null], "k_", ms=10, label="null mean")
        ax.set_xticks(x, langs, fontsize=7)
        ax.set_title(_label(row), fontsize=7)
    for ax in axes[len(rows):]:
        ax.set_visible(False)
    save_figure(fig, png, pdf)


def plot_jaccard(rows: Rows, langs: Sequence[str], vary: str, png: str | os.PathLike,
                 pdf: str | os.PathLike) -> None:
    """Each language's region overlap (Jaccard) with the previous point of the series."""
    fig = Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = fig.subplots()
    x = _values(rows, "step" if vary == "step" else "parameters")
    for lang in langs:
        ax.plot(x, _values(rows, f"jaccard_{lang}"), "o-", ms=3, label=lang)
    if vary == "step":
        _step_axis(ax)
    else:
        ax.set_xscale("log")
        ax.set_xlabel("parameters")
    ax.set_ylabel("Jaccard with previous point")
    ax.legend(fontsize=6, ncol=3)
    save_figure(fig, png, pdf)


def draw_series(rows: Rows, sklr_tables: Sequence[str], langs: Sequence[str], vary: str,
                outputs: Mapping[str, tuple[str, str]], probe_summaries: Sequence[str] = ()) -> None:
    """Every figure of ``outputs`` (:func:`linguafranca.series.evolution.figure_names`); ``outputs`` maps a figure name to its
    (png, pdf). ``probe_summaries`` are the points' ``probes/summary.tsv`` where the probes stage runs."""
    x = [_x(row, vary) for row in rows]
    draw = {
        "figure4": lambda png, pdf: plot_figure4(rows, png, pdf),
        "figure7": lambda png, pdf: plot_figure7(rows, png, pdf),
        "figure5": lambda png, pdf: plot_figure5(rows, sklr_tables, png, pdf),
        "figure6": lambda png, pdf: plot_figure6(rows, langs, png, pdf),
        "jaccard": lambda png, pdf: plot_jaccard(rows, langs, vary, png, pdf),
        "probes": lambda png, pdf: plot_probe_series(list(zip(map(_label, rows), probe_summaries)), png, pdf),
        "overlap": lambda png, pdf: plot_overlap_series(list(zip(x, probe_summaries)), X_LABEL[vary], png, pdf),
    }
    for name, (png, pdf) in outputs.items():
        draw[name](png, pdf)


X_LABEL = {"step": "training step", "size": "parameters"}


def _x(row: Mapping[str, Any], vary: str) -> float:
    """A point's position along the series: its step, or its parameter count."""
    value = row["step"] if vary == "step" else row["parameters"]
    return float("nan") if value in (None, "") else float(value)
