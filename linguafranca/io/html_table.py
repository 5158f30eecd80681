"""A table as a small self-contained HTML page, so that ``snakemake --report`` shows it on the page.

The report offers a TSV, JSONL or Markdown file only as a download; an HTML file it shows inline. The job that
writes a table therefore writes this page beside it, and the rule registers the page with ``report()``. Cells are
the table's text exactly as written (a TSV's numbers keep their full precision), HTML-escaped.
"""

from __future__ import annotations

import csv
import os
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


def _row(tag: str, cells: Iterable[str]) -> str:
    return "<tr>" + "".join(f"<{tag}>{escape(str(cell))}</{tag}>" for cell in cells) + "</tr>"


def table_page(title: str, header: Sequence[str], rows: Iterable[Sequence[str]], source: str = "") -> str:
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
    path: str | os.PathLike, title: str, header: Sequence[str], rows: Iterable[Sequence[str]], source: str = ""
) -> None:
    """Write :func:`table_page` to ``path`` atomically."""
    write_text(path, table_page(title, header, rows, source))


def write_tsv_page(tsv_path: str | os.PathLike, html_path: str | os.PathLike, title: str) -> None:
    """The page of a TSV written by :func:`linguafranca.io.tsv.write_tsv`: its header line and rows, as written."""
    with open(tsv_path, encoding="utf-8", newline="") as handle:
        header, *rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
    write_table_page(html_path, title, header, rows, source=os.path.basename(tsv_path))
