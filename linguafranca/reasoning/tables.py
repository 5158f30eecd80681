"""The accuracy table: each condition's results JSON read back and laid out as ``accuracy.tsv`` with Wilson 95%
intervals.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.tsv import write_tsv
from linguafranca.reasoning.items import NOT_AVAILABLE, available, task_name

Z95 = 1.959963984540054


def read_accuracies(path: str | os.PathLike) -> tuple[dict[str, tuple[float, int]], str]:
    """(accuracy, number of items) per task name from a results JSON, and its compute dtype."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise LinguaFrancaError(f"reasoning results {path} cannot be read ({error})") from None
    scores = {}
    for task, metrics in data["results"].items():
        n = int(data["n-samples"][task]["effective"])
        scores[task] = (float(metrics["acc,none"]), n)
    return scores, data["linguafranca"]["compute"]


def wilson(correct: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``correct / n`` (better than the normal interval near 0, 1, small n)."""
    if n == 0:
        return float("nan"), float("nan")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def accuracy_rows(
    results: Mapping[str, Mapping[str, str | os.PathLike]], conditions: Sequence[str], langs: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows and columns of ``accuracy.tsv`` from results JSON paths by family and condition.

    One row per (task family, language); per condition ``acc_{c}``, ``low_{c}``, ``high_{c}``, empty where the
    condition was not evaluated on the language or the task is not available in it. ``n`` is the baseline's item
    count (every condition runs the same items).
    """
    columns = ["task", "language", "available", "n", *[f"{k}_{c}" for c in conditions for k in ("acc", "low", "high")],
               "compute"]
    rows = []
    for family, by_condition in results.items():
        read = {c: read_accuracies(path) for c, path in by_condition.items()}
        computes = {compute for _, compute in read.values()}
        if len(computes) > 1:
            raise LinguaFrancaError(f"reasoning {family} conditions were computed in different dtypes {sorted(computes)}")
        compute = next(iter(computes), "")
        for lang in langs:
            name = task_name(family, lang)
            row: dict[str, Any] = {"task": family, "language": lang, "n": "", "compute": compute}
            row["available"] = "yes" if available(family, lang) else NOT_AVAILABLE
            for condition in conditions:
                score = read[condition][0].get(name) if condition in read else None
                if score is None:
                    row.update({f"{k}_{condition}": "" for k in ("acc", "low", "high")})
                    continue
                acc, n = score
                low, high = wilson(round(acc * n), n)
                row.update({f"acc_{condition}": acc, f"low_{condition}": low, f"high_{condition}": high})
                row["n"] = n if row["n"] == "" else row["n"]
            rows.append(row)
    return rows, columns


def write_accuracy(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    write_tsv(path, rows, columns)
