"""Figures of the paper, each drawn from one output file and written as PNG and PDF.

Every function takes the input file and the two output paths and is independent of the others. Figures are
built on :class:`matplotlib.figure.Figure` directly (no pyplot state, no display needed) and saved atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from linguafranca.io.atomic import atomic_path
from linguafranca.io.regions_store import read_regions
from linguafranca.io.similarity_file import read_h5
from linguafranca.io.tsv import read_tsv
from linguafranca.probe_summary import read_summary

if TYPE_CHECKING:
    from linguafranca.ablation import IncreaseTable


def save_figure(fig: Figure, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Write ``fig`` to both paths; the temporary names have no suffix, so the format is given explicitly."""
    for path, fmt in ((png, "png"), (pdf, "pdf")):
        with atomic_path(path) as temporary:
            fig.savefig(temporary, format=fmt, dpi=150, bbox_inches="tight")


def _subtitle(attrs: dict) -> str:
    """``model @ revision, dataset`` from whichever of those the file records."""
    model = str(attrs.get("model", ""))
    revision = f" @ {attrs['revision']}" if "revision" in attrs else ""
    dataset = f", {attrs['dataset']}" if "dataset" in attrs else ""
    return f"{model}{revision}{dataset}".strip(", ")


def _blocks(langs: np.ndarray) -> list[tuple[str, int, int]]:
    """``(language, first row, end row)`` of each run of equal labels in ``langs`` (``[N]``)."""
    starts = [0, *np.flatnonzero(langs[1:] != langs[:-1]) + 1]
    ends = [*starts[1:], len(langs)]
    return [(str(langs[s]), s, e) for s, e in zip(starts, ends)]


def plot_similarity_heatmap(h5_path: str | os.PathLike, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Fig. 2: the whole-model similarity map, rows and columns grouped by language.

    The colour range spans the off-diagonal values (the diagonal is 1 by definition and would wash out the
    language blocks); white lines separate languages.
    """
    values, attrs = read_h5(h5_path, ["similarity", "langs"])
    S, langs = values["similarity"], values["langs"]
    offdiag = S[~np.eye(len(S), dtype=bool)]
    fig = Figure(figsize=(7.5, 6.5))
    ax = fig.add_subplot()
    image = ax.imshow(S, cmap="viridis", vmin=offdiag.min(), vmax=offdiag.max(), interpolation="nearest")
    blocks = _blocks(langs)
    for _, start, _ in blocks[1:]:
        ax.axhline(start - 0.5, color="white", linewidth=0.8)
        ax.axvline(start - 0.5, color="white", linewidth=0.8)
    centres = [(start + end - 1) / 2 for _, start, end in blocks]
    names = [lang for lang, _, _ in blocks]
    ax.set_xticks(centres, names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(centres, names)
    ax.tick_params(length=0)
    fig.colorbar(image, ax=ax, label="cosine similarity (diagonal clipped)", shrink=0.85)
    subtitle = _subtitle(attrs)
    ax.set_title("Similarity of mean neuron activations, whole model" + (f"\n{subtitle}" if subtitle else ""))
    save_figure(fig, png, pdf)


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


def plot_lrds_sads(metrics_tsv: str | os.PathLike, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Fig. 3: LRDS and SADS of each layer, with the whole-model values as dashed horizontal lines."""
    rows = read_tsv(metrics_tsv)
    whole = next(row for row in rows if row["layer"] == "all")
    layers = [row for row in rows if row["layer"] != "all"]
    x = [int(row["layer"]) for row in layers]
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()
    for key, label, colour in (("lrds", "LRDS", "tab:blue"), ("sads", "SADS", "tab:orange")):
        ax.plot(x, [float(row[key]) for row in layers], color=colour, marker="o", markersize=3, label=label)
        ax.axhline(float(whole[key]), color=colour, linestyle="--", linewidth=1, label=f"{label}, whole model")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.set_xlabel("layer")
    ax.set_ylabel("difference of mean cosine similarity")
    ax.set_title("Language relevance (LRDS) and semantic alignment (SADS) by layer")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    save_figure(fig, png, pdf)


def plot_region_layers(regions_zarr: str | os.PathLike, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Fig. 5: key neurons per layer, one small panel per language on shared axes; with a null, its 5-95% band and
    mean (dashed) under shuffled labels, and with significance, the significant neurons per layer."""
    regions = read_regions(regions_zarr)
    per_layer = regions.mask.sum(axis=2)  # [n_langs, n_layers]
    n_langs = len(regions.langs)
    n_cols = math.ceil(math.sqrt(n_langs))
    n_rows = math.ceil(n_langs / n_cols)
    fig = Figure(figsize=(3.0 * n_cols, 2.2 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False).ravel()
    layers = np.arange(per_layer.shape[1])
    for index, (ax, lang, counts) in enumerate(zip(axes, regions.langs, per_layer)):
        ax.fill_between(layers, counts, step="mid", alpha=0.35)
        ax.step(layers, counts, where="mid", linewidth=1, label="key (z)")
        if regions.null_count is not None:
            null = regions.null_count[:, index]  # [B, n_layers]
            low, high = np.percentile(null, [5, 95], axis=0)
            ax.fill_between(layers, low, high, step="mid", color="grey", alpha=0.3, label="shuffled labels, 5-95%")
            ax.step(layers, null.mean(axis=0), where="mid", color="grey", linestyle="--", linewidth=1)
        if regions.significant is not None:
            ax.step(layers, regions.significant[index].sum(axis=1), where="mid", color="tab:red", linewidth=1,
                    label="significant (BH)")
        ax.set_title(f"{lang} ({int(counts.sum()):,} neurons)", fontsize="medium")
        ax.grid(alpha=0.3)
    if regions.null_count is not None or regions.significant is not None:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper", fontsize="small")
    for ax in axes[n_langs:]:
        ax.set_visible(False)
    fig.supxlabel("layer")
    fig.supylabel("key neurons")
    fig.suptitle(f"Key linguistic regions by layer (z > {regions.attrs['threshold']})")
    save_figure(fig, png, pdf)


def plot_region_sizes(regions_zarr: str | os.PathLike, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Fig. 6: size of each language's key region, labelled with its share of all neurons; with a null, a marker at
    the shuffled-label mean with a bar up to its 95th percentile, and with significance, a narrow bar of the
    significant neurons."""
    regions = read_regions(regions_zarr)
    sizes = regions.mask.sum(axis=(1, 2))
    total_neurons = regions.mask.shape[1] * regions.mask.shape[2]
    fig = Figure(figsize=(max(5.0, 0.8 * len(sizes) + 2), 4.2))
    ax = fig.add_subplot()
    bars = ax.bar(regions.langs, sizes, color="tab:blue")
    ax.bar_label(bars, labels=[f"{s:,}\n{100 * s / total_neurons:.2f}%" for s in sizes], fontsize="small")
    top = sizes.max()
    if regions.significant is not None:
        significant = regions.significant.sum(axis=(1, 2))
        ax.bar(regions.langs, significant, width=0.4, color="tab:red", label="significant (BH)")
    if regions.null_count is not None:
        null = regions.null_count.sum(axis=2)  # [B, n_langs]
        high = np.percentile(null, 95, axis=0)
        ax.errorbar(regions.langs, null.mean(axis=0), yerr=[np.zeros_like(high), high - null.mean(axis=0)],
                    fmt="o", color="black", capsize=3, label="shuffled labels: mean, 95th percentile")
        top = max(top, high.max())
    if regions.null_count is not None or regions.significant is not None:
        ax.legend(fontsize="small", loc="upper right")
    ax.set_ylim(0, max(1, top) * 1.35)
    ax.set_ylabel("key neurons")
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")
    ax.set_title(f"Key linguistic region size per language (SKLR = {int(sizes.sum()):,} of {total_neurons:,})")
    save_figure(fig, png, pdf)


# Deactivation: the paper's Table 1 as a picture, rows evaluated languages, columns regions off.


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


def plot_increase(
    table: "IncreaseTable", png_path: str | os.PathLike, pdf_path: str | os.PathLike, title: str | None = None
) -> None:
    """Write the increase heatmap as PNG and PDF, each cell annotated with its % increase.

    Cells are coloured by the log10 perplexity ratio, so a 20% and a 900,000% increase are both visible.

    Column labels carry each region's size (% of all neurons) so that a large effect of a large region is
    not mistaken for specificity. Cells whose condition was not evaluated on the language are left blank.
    """
    n_langs, n_regions = table.increase.shape
    figure = Figure(figsize=(1.0 + 0.9 * n_regions, 1.0 + 0.6 * n_langs), layout="constrained")
    _draw(figure, figure.add_subplot(), table, title)
    save_figure(figure, png_path, pdf_path)


def _draw(figure: Figure, axes, table: "IncreaseTable", title: str | None) -> None:
    """The annotated matrix, its labels and colour bar."""
    n_langs, n_regions = table.increase.shape
    values = _log_ratio(table)
    scale = _colour_scale(values)
    image = axes.imshow(values, aspect="auto", **scale)
    for row, column in zip(*np.nonzero(table.evaluated)):
        dark = abs(scale["norm"](values[row, column]) - 0.5) > 0.35
        axes.text(column, row, f"{table.increase[row, column]:,.0f}", ha="center", va="center", fontsize=8,
                  color="white" if dark else "black")
    for column in np.flatnonzero(table.empty):
        for row in range(n_langs):
            axes.text(column, row, "empty", ha="center", va="center", fontsize=7, color="grey")
    axes.set_xticks(range(n_regions), [f"{r}\n({p:.2f}%)" for r, p in zip(table.regions, table.region_percent)])
    axes.set_yticks(range(n_langs), table.langs)
    axes.set_xlabel("deactivated region or control (size, % of neurons); blank: not evaluated; empty: no neurons")
    axes.set_ylabel("evaluated language")
    axes.set_title(title or "perplexity increase (%) over no deactivation")
    figure.colorbar(image, ax=axes, label="log10(perplexity / perplexity with nothing off)")


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
