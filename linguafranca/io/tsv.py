"""Tab-separated tables, the one reader and writer behind every ``.tsv`` output.

Floats are written with ``repr`` so they read back exactly; everything else with ``str``. Files are UTF-8 with
``\\n`` line ends and a header line, written atomically.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.atomic import write_text


def cell(value: Any) -> str:
    """Floats at full precision (``repr`` round-trips exactly), everything else as ``str``."""
    return repr(float(value)) if isinstance(value, float | np.floating) else str(value)


def tsv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Tab-separated text with a header line; ``rows`` are dicts keyed by ``columns``."""
    lines = ["\t".join(columns)]
    lines += ["\t".join(cell(row[column]) for column in columns) for row in rows]
    return "\n".join(lines) + "\n"


def write_tsv(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Write :func:`tsv_text` to ``path`` atomically."""
    write_text(path, tsv_text(rows, columns))


def read_tsv(path: str | os.PathLike, columns: Sequence[str] | None = None) -> list[dict[str, str]]:
    """Rows of a TSV with a header line, as dicts of strings.

    ``columns``, when given, must be exactly the header: a table of another kind is an error naming the file.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            rows = list(reader)
            header = reader.fieldnames or []
    except FileNotFoundError:
        raise LinguaFrancaError(f"table {path} does not exist") from None
    except UnicodeDecodeError as error:
        raise LinguaFrancaError(f"table {path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    if columns is not None and list(header) != list(columns):
        raise LinguaFrancaError(f"{path} has columns {list(header)}, expected {list(columns)}")
    return rows
