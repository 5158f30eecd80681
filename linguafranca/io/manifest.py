"""The model manifest: the small JSON file a ``resolve_model`` job writes, naming the folder the weights are in and
pinning them (hub commit or sha256 of every weight file). Every job that loads a model reads it, and every store
records :func:`provenance` of it, so readers can tell whether two artefacts came from the same weights.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from linguafranca.io.atomic import write_text


def write_manifest(manifest: dict[str, Any], path: str | os.PathLike) -> None:
    write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def provenance(manifest: dict[str, Any]) -> str:
    """One string that pins the weights: the hub commit, or the sha256 of the weight files."""
    if "commit" in manifest:
        return f"commit:{manifest['commit']}"
    sums = manifest["weights_sha256"]
    if len(sums) == 1:
        return f"sha256:{next(iter(sums.values()))}"
    combined = hashlib.sha256("".join(f"{n}:{h};" for n, h in sorted(sums.items())).encode()).hexdigest()
    return f"sha256-of-files:{combined}"


def job_provenance(manifest_path: str | os.PathLike, **labels: str) -> tuple[dict[str, Any], str]:
    """What every store a job reads must record: the job's ``labels`` (model, revision, dataset from its
    wildcards) and the weights its manifest pins; with the words that name them in a mismatch message."""
    expected = {**labels, "weights": provenance(read_manifest(manifest_path))}
    return expected, f"this job (its wildcards and {manifest_path})"


def regions_provenance(
    model: str,
    revision: str,
    dataset: str,
    threshold: float | None,
    manifest: dict[str, Any] | None = None,
    compute: str | None = None,
) -> tuple[dict[str, Any], str]:
    """What the regions store a job switches off or draws must record: the job's model, revision, regions dataset
    and threshold (None for the methods store, which has none), and, where the job loads the model, the weights its
    ``manifest`` pins and the ``compute`` it runs in; with the words that name them in a mismatch message."""
    expected: dict[str, Any] = {"model": model, "revision": revision, "dataset": dataset}
    if threshold is not None:
        expected["threshold"] = float(threshold)
    if manifest is not None:
        expected["weights"] = provenance(manifest)
    if compute is not None:
        expected["compute"] = compute
    return expected, "this job (its wildcards and settings" + (", its model's manifest)" if manifest else ")")