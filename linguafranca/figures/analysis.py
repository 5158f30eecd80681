"""The analysis figures of a point (paper Figures 2, 3, 5 and 6), each drawn from one output file: the similarity
map, LRDS and SADS per layer, and the key regions by layer and by size.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from linguafranca.figures.style import language_blocks, provenance_line, save_figure
from linguafranca.io.regions_store import read_regions
from linguafranca.io.similarity_file import read_h5
from linguafranca.io.tsv import read_tsv


def _titled(title: str, labels: Mapping[str, object]) -> str:
    """``title`` with a second line naming the model, revision and dataset, where known."""
    subtitle = provenance_line(dict(labels))
    return f"{title}\n{subtitle}" if subtitle else title


def _any_significant(regions) -> bool:
    """Whether the store has significance and any neuron passed it: an empty significant region draws no line and
    no legend entry (the regions job warns of it)."""
    return regions.significant is not None and bool(regions.significant.any())


def plot_similarity_heatmap(
    h5_path: str | os.PathLike,
    png: str | os.PathLike,
    pdf: str | os.PathLike,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Fig. 2: the whole-model similarity map, rows and columns grouped by language (the map's rows: every sample,
    or similarity.map_samples of each language).

    The colour range spans the off-diagonal values (the diagonal is 1 by definition and would wash out the
    language blocks); white lines separate languages.
    """
    values, attrs = read_h5(h5_path, ["similarity", "langs", "map_rows"])
    S, langs = values["similarity"], values["langs"][values["map_rows"]]
    offdiag = S[~np.eye(len(S), dtype=bool)]
    fig = Figure(figsize=(7.5, 6.5))
    ax = fig.add_subplot()
    image = ax.imshow(S, cmap="viridis", vmin=offdiag.min(), vmax=offdiag.max(), interpolation="nearest")
    blocks = language_blocks(langs)
    for _, start, _ in blocks[1:]:
        ax.axhline(start - 0.5, color="white", linewidth=0.8)
        ax.axvline(start - 0.5, color="white", linewidth=0.8)
    centres = [(start + end - 1) / 2 for _, start, end in blocks]
    names = [lang for lang, _, _ in blocks]
    ax.set_xticks(centres, names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(centres, names)
    ax.tick_params(length=0)
    fig.colorbar(image, ax=ax, label="cosine similarity (diagonal clipped)", shrink=0.85)
    ax.set_title(_titled("Similarity of mean neuron activations, whole model", labels or attrs))
    save_figure(fig, png, pdf)


def plot_lrds_sads(
    metrics_tsv: str | os.PathLike,
    png: str | os.PathLike,
    pdf: str | os.PathLike,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Fig. 3: LRDS and SADS of each layer, with the whole-model values as dashed horizontal lines; ``labels``
    (model, revision, dataset) name the run in the title, as the TSV records none of them."""
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
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(_titled("Language relevance (LRDS) and semantic alignment (SADS) by layer", labels or {}))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    save_figure(fig, png, pdf)


def plot_region_layers(
    regions_zarr: str | os.PathLike,
    png: str | os.PathLike,
    pdf: str | os.PathLike,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Fig. 5: key neurons per layer, one small panel per language on shared axes; with a null, its 5-95% band and
    mean (dashed) under shuffled labels, and with significance, the significant neurons per layer.

    Each layer is a step of width one centred on its index, the first and last included: the edge layers are
    what Observation V is about, and a step drawn through the centres would make them half as wide."""
    regions = read_regions(regions_zarr)
    per_layer = regions.mask.sum(axis=2)  # [n_langs, n_layers]
    n_langs = len(regions.langs)
    n_cols = math.ceil(math.sqrt(n_langs))
    n_rows = math.ceil(n_langs / n_cols)
    fig = Figure(figsize=(3.0 * n_cols, 2.2 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False).ravel()
    edges = np.arange(per_layer.shape[1] + 1) - 0.5
    for index, (ax, lang, counts) in enumerate(zip(axes, regions.langs, per_layer)):
        ax.stairs(counts, edges, fill=True, alpha=0.35)
        ax.stairs(counts, edges, linewidth=1, label="key (z)")
        if regions.null_count is not None:
            null = regions.null_count[:, index]  # [B, n_layers]
            low, high = np.percentile(null, [5, 95], axis=0)
            ax.stairs(high, edges, baseline=low, fill=True, color="grey", alpha=0.3, label="shuffled labels, 5-95%")
            ax.stairs(null.mean(axis=0), edges, color="grey", linestyle="--", linewidth=1)
        if _any_significant(regions):
            ax.stairs(regions.significant[index].sum(axis=1), edges, color="tab:red", linewidth=1,
                      label="significant (BH)")
        ax.set_title(f"{lang} ({int(counts.sum()):,} neurons)", fontsize="medium")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(edges[0], edges[-1])
        ax.grid(alpha=0.3)
    if regions.null_count is not None or _any_significant(regions):
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside right upper", fontsize="small")
    for ax in axes[n_langs:]:
        ax.set_visible(False)
    fig.supxlabel("layer")
    fig.supylabel("key neurons")
    title = f"Key linguistic regions by layer (z > {regions.attrs['threshold']})"
    fig.suptitle(_titled(title, labels or regions.attrs))
    save_figure(fig, png, pdf)


def plot_region_sizes(
    regions_zarr: str | os.PathLike,
    png: str | os.PathLike,
    pdf: str | os.PathLike,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Fig. 6: size of each language's key region, labelled with its share of all neurons; with a null, a marker at
    the shuffled-label mean with a bar up to its 95th percentile, and with significance, a narrow bar of the
    significant neurons. Each label sits above both its bar and its null marker, so the two never overlap."""
    regions = read_regions(regions_zarr)
    sizes = regions.mask.sum(axis=(1, 2))
    total_neurons = regions.mask.shape[1] * regions.mask.shape[2]
    fig = Figure(figsize=(max(5.0, 0.8 * len(sizes) + 2), 4.2))
    ax = fig.add_subplot()
    ax.bar(regions.langs, sizes, color="tab:blue")
    above = sizes.astype(np.float64)
    if _any_significant(regions):
        significant = regions.significant.sum(axis=(1, 2))
        ax.bar(regions.langs, significant, width=0.4, color="tab:red", label="significant (BH)")
    if regions.null_count is not None:
        null = regions.null_count.sum(axis=2)  # [B, n_langs]
        high = np.percentile(null, 95, axis=0)
        ax.errorbar(regions.langs, null.mean(axis=0), yerr=[np.zeros_like(high), high - null.mean(axis=0)],
                    fmt="o", color="black", capsize=3, label="shuffled labels: mean, 95th percentile")
        above = np.maximum(above, high)
    top = max(1.0, float(above.max()))
    for x, (size, y) in enumerate(zip(sizes, above)):
        ax.text(x, y + 0.03 * top, f"{size:,}\n{100 * size / total_neurons:.2f}%", ha="center", va="bottom",
                fontsize="small")
    if regions.null_count is not None or _any_significant(regions):
        ax.legend(fontsize="small", loc="upper right")
    ax.set_ylim(0, top * 1.35)
    ax.set_ylabel("key neurons")
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")
    title = f"Key linguistic region size per language (SKLR = {int(sizes.sum()):,} of {total_neurons:,})"
    ax.set_title(_titled(title, labels or regions.attrs))
    save_figure(fig, png, pdf)
