"""The language of a generated text, by langid.py (Lui & Baldwin 2012): an offline n-gram classifier that ships its
model, the identifier every stage uses for the language a model writes in (the concept intervention, median
forcing).

``language_of(text)`` chooses among all 97 of langid's languages; with ``among`` it chooses among those only (the
run's languages), which keeps a short continuation in a configured language from being read as a close relative
the run does not have. langid knows bare ISO 639-1 codes, so a code with subtags is matched by its first part, and
a romanised language (``hi-Latn``) cannot be told apart from the Latin-script languages: :func:`identifiable`
says which codes it can tell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    from langid.langid import LanguageIdentifier, model

    return frozenset(LanguageIdentifier.from_modelstring(model).nb_classes)


@lru_cache(maxsize=8)
def _identifier(among: tuple[str, ...] | None):
    """A langid identifier of its own (langid's module-level one is shared state), restricted to ``among``."""
    from langid.langid import LanguageIdentifier, model

    identifier = LanguageIdentifier.from_modelstring(model)
    if among is not None:
        identifier.set_languages(list(among))
    return identifier


def identifiable(lang: str) -> bool:
    """Whether langid can name ``lang``: a bare code it knows (``zh-Hant`` counts as ``zh``), not a romanisation."""
    parts = lang.split("-")
    return parts[0] in _known() and "Latn" not in parts[1:]


def language_of(text: str, among: Sequence[str] | None = None) -> str:
    """langid's language code of ``text`` (of ``among``'s identifiable codes, mapped back to the code as given,
    when ``among`` is given); empty for text without letters."""
    if not _WORD.search(text):
        return ""
    if among is None:
        return _identifier(None).classify(text)[0]
    codes = {lang.split("-")[0]: lang for lang in among if identifiable(lang)}
    return codes[_identifier(tuple(sorted(codes))).classify(text)[0]]
