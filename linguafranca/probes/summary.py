"""One small table per (model, revision) that a series over checkpoints or sizes reads: probe accuracy per layer
(mean over seeds), its chance rows, and the expert overlap across languages, per layer and overall.

``probes/summary.tsv`` has columns ``metric, layer, relative_depth, value``; ``layer`` is ``all`` for whole-model
values (relative depth empty). Metrics: ``probe_accuracy``, ``shuffled_accuracy`` (per layer), ``majority_accuracy``,
``jaccard`` (mean over concepts and language pairs, per layer and all), ``shared_share`` (per layer and all).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from linguafranca.io.tsv import read_tsv, write_tsv
from linguafranca.probes.language_id import mean_accuracy

SUMMARY_COLUMNS = ("metric", "layer", "relative_depth", "value")


def relative_depth(layer: int, n_layers: int) -> float:
    """(layer + 1) / n_layers: 1 is the output of the last layer."""
    return (layer + 1) / n_layers


def summary_rows(language_id: Sequence[Mapping], overlap: Sequence[Mapping], shared: Sequence[Mapping]) -> list[dict]:
    """Rows of ``summary.tsv`` from the rows of ``language_id.tsv``, ``overlap.tsv`` and ``shared.tsv``."""
    rows = []
    for metric, probe in (("probe_accuracy", "language_id"), ("shuffled_accuracy", "shuffled")):
        accuracy = mean_accuracy(language_id, probe)
        rows += [{"metric": metric, "layer": layer, "relative_depth": relative_depth(layer, len(accuracy)),
                  "value": value} for layer, value in accuracy.items()]
    majority = [float(row["accuracy"]) for row in language_id if row["probe"] == "majority"]
    rows.append({"metric": "majority_accuracy", "layer": "all", "relative_depth": "", "value": float(np.mean(majority))})
    layers = [str(row["layer"]) for row in shared]
    n_layers = len([layer for layer in layers if layer != "all"])
    for layer in layers:
        depth = "" if layer == "all" else relative_depth(int(layer), n_layers)
        values = [float(row["jaccard"]) for row in overlap if str(row["layer"]) == layer]
        rows.append({"metric": "jaccard", "layer": layer, "relative_depth": depth,
                     "value": float(np.mean(values)) if values else float("nan")})
    for row in shared:
        layer = str(row["layer"])
        depth = "" if layer == "all" else relative_depth(int(layer), n_layers)
        rows.append({"metric": "shared_share", "layer": layer, "relative_depth": depth, "value": float(row["share"])})
    return rows


def write_summary(language_id: str | os.PathLike, overlap: str | os.PathLike, shared: str | os.PathLike,
                  out: str | os.PathLike) -> None:
    write_tsv(out, summary_rows(read_tsv(language_id), read_tsv(overlap), read_tsv(shared)), SUMMARY_COLUMNS)


def read_summary(path: str | os.PathLike) -> dict[str, dict[str, float]]:
    """``{metric: {layer: value}}`` of a ``summary.tsv`` (layers as strings, ``all`` included)."""
    found: dict[str, dict[str, float]] = {}
    for row in read_tsv(path, SUMMARY_COLUMNS):
        found.setdefault(row["metric"], {})[row["layer"]] = float(row["value"])
    return found
