"""Line-aligned parallel text: one plain-text file per language, line n of every file is the same sentence.

This is the layout of NTREX-128 (Federmann, Kocmi and Xin, 2022), WMT test sets and FLORES' ``.devtest`` files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from linguafranca.data.options import check_options, get_option, per_language
from linguafranca.data.samples import Sample, read_utf8
from linguafranca.errors import LinguaFrancaError

NTREX_FILES = {
    "en": "newstest2019-src.eng.txt",
    "zh": "newstest2019-ref.zho-CN.txt",
    "fr": "newstest2019-ref.fra.txt",
    "es": "newstest2019-ref.spa.txt",
    "pt": "newstest2019-ref.por.txt",
    "ar": "newstest2019-ref.arb.txt",
    "vi": "newstest2019-ref.vie.txt",
    "hi": "newstest2019-ref.hin.txt",
    "id": "newstest2019-ref.ind.txt",
}
"""NTREX-128's file for each project language (1,997 news sentences from WMT19, English the source)."""

NTREX_SOURCE = "NTREX-128 is the NTREX-128 folder of https://github.com/MicrosoftTranslator/NTREX (set options.root to it)"

OPTIONS = ("root", "files", "id_prefix")


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 file, split on ``\\n`` only and stripped (NTREX ends lines with ``\\r\\n``).

    Splitting on ``\\n`` alone keeps a sentence holding U+2028 or a form feed in one piece, which
    ``str.splitlines`` would break and so shift every later line out of alignment.
    """
    try:
        text = read_utf8(path, "loader 'textfiles': ")
    except FileNotFoundError:
        raise LinguaFrancaError(f"loader 'textfiles': no file {path}") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.strip() for line in lines]


def textfiles_paths(options: dict[str, Any], languages: list[str]) -> dict[str, Path]:
    """The file of every language (``root`` / its name in ``files``), in the order of ``languages``.

    The workflow also takes these as the inputs of ``prepare_dataset``, so an edited file reruns it.
    """
    root = Path(get_option("textfiles", options, "root", str))
    files = get_option("textfiles", options, "files", (dict, str), "ntrex")
    if isinstance(files, str):
        if files != "ntrex":
            raise LinguaFrancaError(
                f"loader 'textfiles': option 'files' must be a map lang -> file or 'ntrex', not {files!r}"
            )
        files = NTREX_FILES
    return {
        lang: root / name for lang, name in per_language("textfiles", files, languages, "file (options.files)").items()
    }


def load_textfiles(options: dict[str, Any], languages: list[str]) -> dict[str, list[Sample]]:
    """One sample per line; the id is the 1-based line number, so line n means the same in every language.

    Options:
    - ``root`` (str, required): the folder holding the files.
    - ``files`` (object lang -> file name relative to ``root``, or the string "ntrex"; default "ntrex"): which
      file holds each language; "ntrex" is :data:`NTREX_FILES`.
    - ``id_prefix`` (str, default ""): put before every line number, e.g. "ntrex-" gives ids "ntrex-1", ...

    Files with different line counts are misaligned parallel text and raise an error naming every file's count.
    """
    check_options("textfiles", options, OPTIONS)
    prefix = get_option("textfiles", options, "id_prefix", str, "")
    paths = textfiles_paths(options, languages)
    try:
        lines = {lang: read_lines(path) for lang, path in paths.items()}
    except LinguaFrancaError as error:
        if options.get("files", "ntrex") == "ntrex":
            raise LinguaFrancaError(f"{error}; {NTREX_SOURCE}") from None
        raise
    if len({len(text) for text in lines.values()}) > 1:
        counts = ", ".join(f"{lang} {paths[lang].name} {len(text)}" for lang, text in lines.items())
        raise LinguaFrancaError(
            f"loader 'textfiles': misaligned parallel text in {options['root']}, line counts differ: {counts}"
        )
    return {
        lang: [Sample(f"{prefix}{number}", line) for number, line in enumerate(text, start=1)]
        for lang, text in lines.items()
    }
