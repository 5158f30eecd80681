"""Evolution across checkpoints and sizes: one row per (model, revision) point of a series, gathered from the
files the other stages wrote (docs/series.md).

Two things are kept in one place each so that a stage joins a series with one entry:
- :func:`point_files` lists the files one point is read from (the workflow's inputs of the series job);
- :data:`READERS` turns each of those files into columns. A file that is not configured gives empty cells.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.regions_store import read_regions
from linguafranca.io.tsv import read_tsv, write_tsv
from linguafranca.model.parameters import parameter_count
from linguafranca.overlap import jaccard
from linguafranca.probes.summary import read_summary

Files = Mapping[str, str]
"""One point's input files by kind: manifest, metrics, sklr, regions, and where configured increase, accuracy,
probes."""


FIGURES = {
    "step": ["figure4", "figure5", "figure6", "jaccard"],
    "size": ["figure7", "figure5", "figure6", "jaccard"],
}
"""The figures of a series by what varies along it: Figure 4 is against step, Figure 7 against size."""

PROBE_FIGURES = ["probes", "overlap"]
"""The figures added where the probes stage is configured: probe accuracy per layer for every point, and expert
overlap (with mean probe accuracy) against step or size."""


def figure_names(vary: str, probes: bool) -> list[str]:
    """The figures of a series that varies ``vary``, with :data:`PROBE_FIGURES` where the probes stage runs."""
    return FIGURES[vary] + (PROBE_FIGURES if probes else [])


def point_files(patterns: Mapping[str, str | None], model: str, revision: str) -> dict[str, str]:
    """The files one point is read from: each configured pattern (a path with {model} and {revision}) filled in.

    ``patterns`` maps a kind to a pattern, or to None where its stage is not configured (its columns stay empty).
    """
    return {kind: pattern.format(model=model, revision=revision) for kind, pattern in patterns.items() if pattern}


def relative_thirds(n_layers: int) -> np.ndarray:
    """Each layer's third of the depth (0 first, 1 middle, 2 last), by the relative depth of its centre, so that
    models of different depths compare."""
    depth = (np.arange(n_layers) + 0.5) / n_layers
    return np.minimum((depth * 3).astype(int), 2)


def _number(text: str) -> float | None:
    """A table cell as a number; None for the cells that hold none (empty, ``n/a``, ``empty`` regions)."""
    return None if text in ("", "n/a", "empty") else float(text)


def _mean(cells: Sequence[str]) -> float | None:
    """The mean of the cells that hold numbers, or None when none does."""
    values = [value for value in map(_number, cells) if value is not None]
    return float(np.mean(values)) if values else None


def read_similarity(path: str, langs: Sequence[str]) -> dict[str, Any]:
    """LRDS and SADS of the whole model (the ``all`` row of metrics.tsv)."""
    row = next(row for row in read_tsv(path) if row["layer"] == "all")
    return {"lrds": float(row["lrds"]), "sads": float(row["sads"])}


def read_sklr(path: str, langs: Sequence[str]) -> dict[str, Any]:
    """SKLR (% of neurons), each language's region size, the key neurons' share per third of the depth, and the
    chance level beside them: null SKLR (mean, 95th percentile), null sizes (mean) and significant counts."""
    rows = {row["layer"]: row for row in read_tsv(path)}
    layers = sorted(int(name) for name in rows if name.isdigit())
    per_layer = np.array([float(rows[str(layer)]["all"]) for layer in layers])
    thirds = np.bincount(relative_thirds(len(layers)), weights=per_layer, minlength=3)
    shares = thirds / per_layer.sum() if per_layer.sum() else np.full(3, np.nan)
    columns: dict[str, Any] = {"sklr": float(rows["percent"]["all"])}
    columns.update({f"size_{lang}": int(rows["total"][lang]) for lang in langs})
    columns.update({f"layers_{name}": float(share) for name, share in zip(THIRDS, shares)})
    columns["sklr_null_mean"] = _number(rows["percent"].get("null_mean", ""))
    columns["sklr_null_p95"] = _number(rows["percent"].get("null_p95", ""))
    columns["sklr_significant"] = _number(rows["percent"].get("significant", ""))
    for lang in langs:
        columns[f"null_size_{lang}"] = _number(rows["null_mean"][lang]) if "null_mean" in rows else None
        columns[f"significant_{lang}"] = _number(rows["significant"][lang]) if "significant" in rows else None
    return columns


def read_increase(path: str, langs: Sequence[str]) -> dict[str, Any]:
    """Mean perplexity increase (Table 1 ratios) with a language's own region off, with another language's region
    off, and with the random region off; over every language evaluated, leaving out the cells of empty regions."""
    rows = {row["lang"]: row for row in read_tsv(path) if row["lang"] in langs}
    return {
        "ppl_own": _mean([rows[a][a] for a in langs]),
        "ppl_other": _mean([rows[b][a] for a in langs for b in langs if b != a]),
        "ppl_random": _mean([rows[b]["random"] for b in langs]),
    }


def read_accuracy(path: str, langs: Sequence[str]) -> dict[str, Any]:
    """Cross-lingual reasoning accuracy: mean ``acc_none`` of the bible task over its available languages."""
    values = [float(row["acc_none"]) for row in read_tsv(path) if row["task"] == "bible" and row["available"] == "yes"]
    return {"accuracy": float(np.mean(values)) if values else None}


def read_probes(path: str, langs: Sequence[str]) -> dict[str, Any]:
    """Language-ID probes and concept neurons (``probes/summary.tsv``): probe accuracy averaged over layers and at
    its lowest layer (Riemenschneider & Frank's middle-layer dip), the shuffled-label probe's mean (chance), and the
    whole-model expert overlap across languages (Jaccard, and the share of experts shared by at least m languages)."""
    summary = read_summary(path)
    accuracy = list(summary.get("probe_accuracy", {}).values())
    shuffled = list(summary.get("shuffled_accuracy", {}).values())
    return {
        "probe_accuracy_mean": float(np.mean(accuracy)) if accuracy else None,
        "probe_accuracy_min": float(np.min(accuracy)) if accuracy else None,
        "probe_shuffled_mean": float(np.mean(shuffled)) if shuffled else None,
        "expert_jaccard": summary.get("jaccard", {}).get("all"),
        "expert_shared": summary.get("shared_share", {}).get("all"),
    }


THIRDS = ("first", "middle", "last")

READERS: list[tuple[str, Callable[[str, Sequence[str]], dict[str, Any]]]] = [
    ("metrics", read_similarity),
    ("sklr", read_sklr),
    ("increase", read_increase),
    ("accuracy", read_accuracy),
    ("probes", read_probes),
]
"""(file kind, reader): each reader turns one point's file of that kind into columns."""


def metric_columns(langs: Sequence[str]) -> list[str]:
    """Every column the readers can fill, in table order."""
    return [
        "lrds", "sads",
        "sklr", "sklr_null_mean", "sklr_null_p95", "sklr_significant",
        *(f"size_{lang}" for lang in langs),
        *(f"null_size_{lang}" for lang in langs),
        *(f"significant_{lang}" for lang in langs),
        *(f"layers_{name}" for name in THIRDS),
        "ppl_own", "ppl_other", "ppl_random",
        "accuracy",
        "probe_accuracy_mean", "probe_accuracy_min", "probe_shuffled_mean", "expert_jaccard", "expert_shared",
    ]


def weights_hash(manifest: Mapping[str, Any]) -> str:
    """One sha256 over a revision's weight files (name and hash of each), from its resolve_model manifest."""
    sums = manifest.get("weights_sha256")
    if not sums:
        raise LinguaFrancaError(f"manifest of {manifest.get('name')} @ {manifest.get('revision')} has no weight hashes")
    return hashlib.sha256("".join(f"{name}:{digest};" for name, digest in sorted(sums.items())).encode()).hexdigest()


def identical_points(hashes: Sequence[str], labels: Sequence[str]) -> list[str]:
    """For each point, the label of the first earlier point with the same weights, or "" (logged as a warning:
    an identical checkpoint is a mislabelled or duplicated upload, and its trend step is not a training step)."""
    first: dict[str, str] = {}
    flags = []
    for digest, label in zip(hashes, labels):
        flags.append(first.get(digest, ""))
        if flags[-1]:
            logging.warning("series point %s has the same weights as %s (sha256 %s)", label, flags[-1], digest)
        first.setdefault(digest, label)
    return flags


def consecutive_jaccard(regions: Sequence[str], langs: Sequence[str]) -> list[dict[str, Any]]:
    """Each point's ``jaccard_{lang}`` with the previous point's region; empty for the first point and where the
    two models differ in shape (a size series)."""
    rows: list[dict[str, Any]] = [dict.fromkeys((f"jaccard_{lang}" for lang in langs), None)]
    previous = read_regions(regions[0]).mask if regions else None
    for path in regions[1:]:
        mask = read_regions(path).mask
        values = jaccard(previous, mask, empty=np.nan, axis=(1, 2)) if previous.shape == mask.shape else np.full(len(langs), np.nan)
        rows.append({f"jaccard_{lang}": None if np.isnan(v) else float(v) for lang, v in zip(langs, values)})
        previous = mask
    return rows


POINT_COLUMNS = ["model", "revision", "step", "tokens", "parameters", "weights_sha256", "identical_to"]


def evolution_rows(
    points: Sequence[tuple[str, str]],
    files: Sequence[Files],
    info: Sequence[Mapping[str, Any]],
    langs: Sequence[str],
) -> list[dict[str, Any]]:
    """One row per point: its identity (:data:`POINT_COLUMNS`), every reader's columns, and the Jaccard overlap
    with the previous point. ``info`` is each point's revision metadata (step, tokens, parameters; may be empty)."""
    manifests = [json.loads(Path(f["manifest"]).read_text(encoding="utf-8")) for f in files]
    hashes = [weights_hash(manifest) for manifest in manifests]
    identical = identical_points(hashes, [f"{model} @ {revision}" for model, revision in points])
    overlap = consecutive_jaccard([f["regions"] for f in files], langs)
    rows = []
    for (model, revision), point_files_, meta, manifest, digest, same, jac in zip(
        points, files, info, manifests, hashes, identical, overlap
    ):
        row: dict[str, Any] = dict.fromkeys(metric_columns(langs))
        row.update(model=model, revision=revision, step=meta.get("step"), tokens=meta.get("tokens"),
                   parameters=meta.get("parameters") or parameter_count(manifest["path"]),
                   weights_sha256=digest, identical_to=same)
        for kind, reader in READERS:
            if kind in point_files_:
                row.update(reader(point_files_[kind], langs))
        row.update(jac)
        rows.append(row)
    return rows


def evolution_columns(langs: Sequence[str]) -> list[str]:
    return [*POINT_COLUMNS, *metric_columns(langs), *(f"jaccard_{lang}" for lang in langs)]


def write_evolution(rows: Sequence[Mapping[str, Any]], langs: Sequence[str], path: str | os.PathLike) -> None:
    """Write evolution.tsv atomically; a missing value (a stage not configured, no previous point) is empty."""
    cleaned = [{key: "" if value is None else value for key, value in row.items()} for row in rows]
    write_tsv(path, cleaned, evolution_columns(langs))
