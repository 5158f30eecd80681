"""The sandbox's training text: Bible verses per language, leaving out every book another stage reads.

The analysis verses, the perplexity texts and the reasoning task's books must stay unseen, or the sandbox would
measure memorisation. Whole books are left out (the analysis reads Genesis from 1:1, so all of Genesis goes).
"""

from __future__ import annotations

from typing import Any

from linguafranca.data.bible import load_bible
from linguafranca.data.romanize import with_romanized
from linguafranca.errors import LinguaFrancaError


def held_out_books(config: dict[str, Any]) -> list[int]:
    """Every book a bible dataset of the config reads (analysis and perplexity), and ``reasoning.bible.books``."""
    books = {
        book
        for spec in config["datasets"].values()
        if spec["loader"] == "bible"
        for book in spec["options"].get("books", [1])
    }
    books.update(config.get("reasoning", {}).get("bible", {}).get("books", []))
    return sorted(books)


def training_mix(config: dict[str, Any]) -> dict[str, float]:
    """Language -> share of training sequences (normalised, zero weights dropped); default every language equally."""
    weights = config["sandbox"]["languages"] or dict.fromkeys(config["languages"], 1.0)
    kept = {lang: float(w) for lang, w in weights.items() if w > 0}
    if not kept:
        raise LinguaFrancaError("config error at sandbox.languages: every weight is 0, so there is nothing to train on")
    total = sum(kept.values())
    return {lang: w / total for lang, w in kept.items()}


def training_books(config: dict[str, Any]) -> list[int]:
    """The configured training books without every book another stage reads."""
    held_out = set(held_out_books(config))
    books = [book for book in config["sandbox"]["books"] if book not in held_out]
    if not books:
        raise LinguaFrancaError(
            f"config error at sandbox.books: every book is read by another stage ({sorted(held_out)}), so nothing "
            "is left to train on; add other books"
        )
    return books


def training_verses(langs: list[str], books: list[int], db: str | None = None) -> dict[str, list[str]]:
    """The cleaned verses of ``books``, per language, in canonical order; a -Latn language's romanised from its base."""
    options: dict[str, Any] = {"books": books, **({"db": db} if db else {})}
    verses = with_romanized(load_bible, "sandbox")(options, langs)
    return {lang: [sample.text for sample in samples] for lang, samples in verses.items()}
