"""Parallel text as tables, one file per language, each row an id and a text: JSON Lines or TSV with a header.

Ids, not row order, say which rows mean the same, so the files may list them in any order; the first language's
order is the order of the samples.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from linguafranca.data.options import check_options, get_option, per_language
from linguafranca.data.samples import Sample, id_text, read_utf8
from linguafranca.errors import LinguaFrancaError

OPTIONS = ("files", "format", "id_field", "text_field")
FORMATS = {".jsonl": "jsonl", ".tsv": "tsv"}


def _records(path: Path, file_format: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) for every non-blank row; a TSV's first line names the columns."""
    try:
        with io.StringIO(read_utf8(path, "loader 'table': "), newline="") as handle:
            if file_format == "tsv":
                reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
                rows = [(reader.line_num, row) for row in reader]
                bad = next((number for number, row in rows if None in row or None in row.values()), None)
                if bad is not None:
                    raise LinguaFrancaError(f"loader 'table': {path}:{bad}: the row does not have one value per column")
                return rows
            return [
                (number, _json_object(path, number, line))
                for number, line in enumerate(handle, start=1)
                if line.strip()
            ]
    except FileNotFoundError:
        raise LinguaFrancaError(f"loader 'table': no file {path}") from None


def _json_object(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise LinguaFrancaError(f"loader 'table': {path}:{number}: not valid JSON ({error.msg})") from None
    if not isinstance(record, dict):
        raise LinguaFrancaError(f"loader 'table': {path}:{number}: each line must be a JSON object")
    return record


def _sample(path: Path, number: int, row: dict[str, Any], id_field: str, text_fields: list[str]) -> Sample:
    """The id and the text fields of one row, the text fields joined by a space (XStoryCloze's four sentences)."""
    absent = [field for field in (id_field, *text_fields) if field not in row]
    if absent:
        raise LinguaFrancaError(
            f"loader 'table': {path}:{number} has no field {', '.join(map(repr, absent))}; it has {', '.join(row)}"
        )
    texts = [row[field] for field in text_fields]
    if not all(isinstance(text, str) for text in texts):
        raise LinguaFrancaError(f"loader 'table': {path}:{number}: the text fields {text_fields} must hold strings")
    sample_id = id_text(row[id_field])
    if sample_id is None:
        raise LinguaFrancaError(
            f"loader 'table': {path}:{number}: the id field {id_field!r} holds {row[id_field]!r}; an id must be a string "
            "or an integer"
        )
    return Sample(sample_id, " ".join(text.strip() for text in texts))


def _format(path: Path, file_format: str | None) -> str:
    if file_format is None and path.suffix.lower() not in FORMATS:
        raise LinguaFrancaError(
            f"loader 'table': cannot tell the format of {path} from its extension; set option 'format' to jsonl or tsv"
        )
    file_format = file_format or FORMATS[path.suffix.lower()]
    if file_format not in FORMATS.values():
        raise LinguaFrancaError(f"loader 'table': option 'format' must be jsonl or tsv, not {file_format!r}")
    return file_format


def table_paths(options: dict[str, Any], languages: list[str]) -> dict[str, Path]:
    """The table of every language, in the order of ``languages``; also the inputs of ``prepare_dataset``."""
    files = per_language("table", get_option("table", options, "files", dict), languages, "file (options.files)")
    return {lang: Path(name) for lang, name in files.items()}


def load_table(options: dict[str, Any], languages: list[str]) -> dict[str, list[Sample]]:
    """Rows of each language's file, put in the first language's id order (ids only there go last).

    Options:
    - ``files`` (object lang -> path, required): one table per language.
    - ``format`` ("jsonl" or "tsv", default from the extension: .jsonl or .tsv): the file format; TSV has a
      header line and no quoting (a quote character is text).
    - ``id_field`` (str, default "id"): the column holding the id; numbers become strings.
    - ``text_field`` (str or list of str, default "text"): the column holding the text; a list joins several
      columns with a space, e.g. XStoryCloze's InputSentence1 to InputSentence4.

    Ids present in some languages only are left for the alignment check to report.
    """
    check_options("table", options, OPTIONS)
    files = table_paths(options, languages)
    file_format = get_option("table", options, "format", str, None)
    id_field = get_option("table", options, "id_field", str, "id")
    text_fields = get_option("table", options, "text_field", (str, list), "text")
    text_fields = [text_fields] if isinstance(text_fields, str) else text_fields
    samples = {}
    for lang, path in files.items():
        samples[lang] = [
            _sample(path, number, row, id_field, text_fields)
            for number, row in _records(path, _format(path, file_format))
        ]
    order = {sample.id: position for position, sample in enumerate(samples[languages[0]])}
    return {lang: sorted(rows, key=lambda sample: order.get(sample.id, len(order))) for lang, rows in samples.items()}
