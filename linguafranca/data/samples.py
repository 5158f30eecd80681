"""The unit every stage exchanges: one sample is one sentence or verse of one language, with an id that names
the same meaning in every language of a parallel dataset.

A prepared dataset is one JSON Lines file per language, ``{"id": ..., "text": ...}`` per line, so that later
stages (capture, perplexity) read plain files and never depend on where the text came from.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.atomic import atomic_path


class Sample(NamedTuple):
    """One text and its id; ids match across the languages of a parallel dataset."""

    id: str
    text: str


def id_text(value: object) -> str | None:
    """A row's id as the text that aligns it across languages: a string as is, an integer in decimal; None for
    anything else (a null, a float, a list), which would otherwise become the id ``"None"`` or ``"1.0"``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def write_jsonl(path: str | os.PathLike, samples: Iterable[Sample], fields: Mapping[str, Any] | None = None) -> None:
    """Write ``samples`` to ``path`` atomically, one JSON object per line, non-ASCII kept as is; ``fields`` (the
    provenance of a romanised language) go into every record after id and text, and :func:`read_jsonl` skips them."""
    with atomic_path(path) as temporary, temporary.open("w", encoding="utf-8") as handle:
        for sample in samples:
            record = {"id": sample.id, "text": sample.text, **(fields or {})}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_utf8(path: str | os.PathLike, who: str = "") -> str:
    """The whole file as text; a leading byte-order mark is dropped.

    A file that is not UTF-8 stops with its path, line and exact byte offset (``who`` prefixes the message, e.g.
    ``"loader 'table': "``), instead of a ``UnicodeDecodeError`` that names no file. Decoding the bytes at once,
    rather than through a text stream, makes the offset count from the start of the file.
    """
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise LinguaFrancaError(
            f"{who}{path}:{line}: not UTF-8 text ({error.reason}: byte 0x{data[error.start]:02x} at byte offset "
            f"{error.start}); save the file as UTF-8"
        ) from None


def read_jsonl(path: str | os.PathLike) -> list[Sample]:
    """Read a file written by :func:`write_jsonl` (or by hand): every line an object with string ``id`` and ``text``.

    Lines are split on ``\\n`` only, so a text holding U+2028 or another Unicode line separator stays whole.
    """
    path = Path(path)
    samples = []
    with io.StringIO(read_utf8(path), newline="\n") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise LinguaFrancaError(f"{path}:{number}: not valid JSON ({error.msg})") from None
            if not (
                isinstance(record, dict) and isinstance(record.get("id"), str) and isinstance(record.get("text"), str)
            ):
                raise LinguaFrancaError(
                    f'{path}:{number}: expected an object {{"id": str, "text": str}}, got {line.strip()[:80]}'
                )
            samples.append(Sample(record["id"], record["text"]))
    return samples
