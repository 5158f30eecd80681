"""Romanised script controls: a language code with the script subtag ``Latn`` (``hi-Latn``, ``ar-Latn``, ``zh-Latn``)
is its base language's text (``hi``) passed through uroman, the universal romaniser (PyPI ``uroman``).

The control asks whether "language neurons" follow the language or its script: the romanised text keeps the words
and the meaning of the base and changes only the script, sample by sample, under the same ids, so the parallel
structure holds. uroman ships its tables inside the package and never reaches the network.

A ``-Latn`` code of a language already written in Latin script (``fr-Latn``) is refused rather than served as a copy:
uroman would only strip accents, and a near-copy of ``fr`` in the language set would split every French neuron's
specificity between two "languages" that differ in no script at all.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata, resources
from typing import Any

from linguafranca.data.samples import Sample
from linguafranca.errors import LinguaFrancaError

SCRIPT = "Latn"
ROMANIZER = "uroman"
MAX_LATIN_SHARE = 0.5
"""A base language whose letters are at least this share Latin is already in Latin script: nothing to romanise."""

Loader = Callable[[dict[str, Any], list[str]], dict[str, list[Sample]]]


def romanized_base(lang: str) -> str | None:
    """The language a ``-Latn`` code romanises (``hi`` for ``hi-Latn``, ``sr-RS`` for ``sr-Latn-RS``); None for any
    other code."""
    primary, *subtags = lang.split("-")
    if not subtags or subtags[0] != SCRIPT:
        return None
    return "-".join([primary, *subtags[1:]])


def source_language(lang: str, romanize: bool = True) -> str:
    """The language whose text the loader is asked for: the base of a ``-Latn`` code when ``romanize``, else ``lang``."""
    base = romanized_base(lang) if romanize else None
    return base or lang


def romanizer_version() -> str:
    """The installed uroman's version: part of a romanised language's job params, so a new uroman reruns it."""
    try:
        return metadata.version(ROMANIZER)
    except metadata.PackageNotFoundError:
        raise LinguaFrancaError(
            "a -Latn language is romanised with uroman: install it (pip install uroman==1.3.1.1) or set the dataset's "
            "romanize: false"
        ) from None


@lru_cache(maxsize=1)
def _iso639_3() -> dict[str, str]:
    """ISO 639-1 and deprecated codes -> ISO 639-3, from the list uroman ships (``zh`` -> ``zho``, ``hi`` -> ``hin``)."""
    listing = resources.files(ROMANIZER) / "data" / "ISO-639-3-list.txt"
    codes = {}
    for line in listing.read_text(encoding="utf-8").splitlines():
        slots = dict(slot.strip().partition(" ")[::2] for slot in line.split("::")[1:])
        if "lang-code" in slots:
            for old in filter(None, (code.strip() for code in slots.get("deprecated-lang-codes", "").split(";"))):
                codes.setdefault(old, slots["lang-code"])
    return codes


def uroman_code(base: str) -> str | None:
    """The ISO 639-3 code uroman's language-specific rules key on (``rus`` picks Russian over Ukrainian Cyrillic
    rules); None where the list has no code for a two-letter one, which leaves uroman's language-independent rules."""
    primary = base.split("-")[0]
    return primary if len(primary) == 3 else _iso639_3().get(primary)


def romanisation(base: str) -> dict[str, Any]:
    """What a romanised language records (in its job params and every prepared record): its base, the romaniser and
    its version, and the code uroman was given."""
    return {"from": base, "romanizer": f"{ROMANIZER} {romanizer_version()}", "lcode": uroman_code(base)}


@lru_cache(maxsize=1)
def _uroman() -> Any:
    """One Uroman per process: building it reads all its tables (about 2 s)."""
    romanizer_version()
    import uroman

    return uroman.Uroman()


def latin_share(texts: list[str]) -> float:
    """The share of the letters of ``texts`` that are Latin script (0 for no letters)."""
    letters = [char for text in texts for char in text if char.isalpha()]
    latin = sum(unicodedata.name(char, "").startswith("LATIN") for char in letters)
    return latin / len(letters) if letters else 0.0


def romanize_texts(texts: list[str], base: str) -> list[str]:
    """``texts`` of language ``base`` in Latin script, as uroman writes them (with ``base``'s ISO 639-3 code), in NFC
    with white space runs made one space and none at the ends, as the loaders leave every text (uroman turns the
    Chinese full stop into ". ")."""
    romanizer, lcode = _uroman(), uroman_code(base)
    return [unicodedata.normalize("NFC", " ".join(romanizer.romanize_string(text, lcode).split())) for text in texts]


def romanize_samples(where: str, lang: str, samples: list[Sample]) -> list[Sample]:
    """The samples of ``lang``'s base romanised, ids kept; a base already in Latin script is refused (see the module
    docstring). ``where`` starts the message (``dataset 'bible'``)."""
    base = romanized_base(lang)
    share = latin_share([sample.text for sample in samples])
    if share >= MAX_LATIN_SHARE:
        raise LinguaFrancaError(
            f"{where}: {lang} would romanise {base}, but {base} is already in Latin script ({share:.0%} of its letters); "
            f"drop {lang} from languages"
        )
    texts = romanize_texts([sample.text for sample in samples], base)
    return [Sample(sample.id, text) for sample, text in zip(samples, texts)]


def with_romanized(loader: Loader, where: str) -> Loader:
    """``loader`` that also serves ``-Latn`` codes, romanised from their base, for the stages that read the Bible
    themselves (the sandbox corpus)."""

    def load(options: dict[str, Any], languages: list[str]) -> dict[str, list[Sample]]:
        sources = list(dict.fromkeys(source_language(lang) for lang in languages))
        loaded = loader(options, sources)
        return {
            lang: romanize_samples(where, lang, loaded[source_language(lang)])
            if romanized_base(lang) else loaded[lang]
            for lang in languages
        }

    return load
