"""A table as a small self-contained HTML page, so that ``snakemake --report`` shows it on the page.

The report offers a TSV, JSONL or Markdown file only as a download; an HTML file it shows inline. The job that
writes a table therefore writes this page beside it, and the rule registers the page with ``report()``. Cells are
HTML-escaped text. A TSV's fractional numbers are shown to four significant digits, or to the unit with thousands
separated from 1,000 on (as the docs print them, ``docs/make_results.py``), each with its full-precision text as
the cell's tooltip (``title``): the TSV beside the page keeps every digit.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Iterable, Sequence
from html import escape

from linguafranca.io.atomic import write_text

STYLE = (
    "body{font-family:sans-serif;margin:1em}"
    "table{border-collapse:collapse;font-size:0.9em}"
    "th,td{border:1px solid #bbb;padding:0.25em 0.6em;text-align:left;vertical-align:top}"
    "th{background:#eee;position:sticky;top:0}"
    "tr:nth-child(even) td{background:#f7f7f7}"
    "td{white-space:pre-wrap}"
)


Cell = str | tuple[str, str]
"""A cell's text, or ``(shown, exact)``: text shown with its exact form as the tooltip."""


def _cell(tag: str, cell: Cell) -> str:
    """A cell; a ``(shown, exact)`` pair shows ``shown`` with ``exact`` as its tooltip."""
    if isinstance(cell, tuple):
        shown, exact = cell
        return f'<{tag} title="{escape(exact)}">{escape(shown)}</{tag}>'
    return f"<{tag}>{escape(str(cell))}</{tag}>"


def _row(tag: str, cells: Iterable[Cell]) -> str:
    return "<tr>" + "".join(_cell(tag, cell) for cell in cells) + "</tr>"


def readable(text: str) -> Cell:
    """A TSV cell for reading: a fractional number as ``(shown, exact)``; integers, NaN, inf and words as written."""
    if re.fullmatch(r"\s*[-+]?[0-9]+\s*", text):
        return text
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    shown = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return text if shown == text else (shown, text)


def table_page(title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]], source: str = "") -> str:
    """An HTML page with ``title`` as heading and one table: ``header`` as its head row, ``rows`` as its body.

    ``source`` names the file the page shows (the TSV beside it), so a reader knows where the numbers live.
    """
    note = f"<p>From <code>{escape(source)}</code>.</p>" if source else ""
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>"
        f"<h1>{escape(title)}</h1>{note}\n<table>\n<thead>{_row('th', header)}</thead>\n<tbody>\n"
        + "".join(_row("td", row) + "\n" for row in rows)
        + "</tbody>\n</table>\n</body></html>\n"
    )


def write_table_page(
    path: str | os.PathLike, title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]], source: str = ""
) -> None:
    """Write :func:`table_page` to ``path`` atomically."""
    write_text(path, table_page(title, header, rows, source))


def write_tsv_page(tsv_path: str | os.PathLike, html_path: str | os.PathLike, title: str) -> None:
    """The page of a TSV written by :func:`linguafranca.io.tsv.write_tsv`: its header line and rows, numbers
    :func:`readable`."""
    with open(tsv_path, encoding="utf-8", newline="") as handle:
        header, *rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
    shown = [[readable(cell) for cell in row] for row in rows]
    write_table_page(html_path, title, header, shown, source=os.path.basename(tsv_path))
