"""Which script a language code is written in, as far as the script control needs it: Latin or not.

A code with a script subtag says so itself (``hi-Latn`` is Latin, ``sr-Cyrl`` is not); a bare code is Latin unless
it is in :data:`NON_LATIN`, the languages of the Bible loader, NTREX-128 and FLORES that are written in another
script by default. The script control compares a romanised language (``{base}-Latn``, see
:mod:`linguafranca.data.romanize`) with its base and with the run's Latin-script languages.
"""

from __future__ import annotations

from collections.abc import Sequence

from linguafranca.data.romanize import SCRIPT, romanized_base

#: Bare language codes whose default script is not Latin.
NON_LATIN = frozenset(
    "am ar as be bg bn bo dv el fa gu he hi hy ja ka kk km kn ko ky lo mk ml mn mr my ne or pa ps ru sa sd si ta te "
    "tg th ti uk ur yi zh".split()
)

def is_latin(lang: str) -> bool:
    """True when ``lang`` is written in Latin script: its script subtag, else its default script."""
    parts = lang.split("-")
    scripts = [part for part in parts[1:] if len(part) == 4 and part.isalpha()]
    if scripts:
        return scripts[0].capitalize() == SCRIPT
    return parts[0].lower() not in NON_LATIN


def romanised_pairs(langs: Sequence[str]) -> dict[str, str]:
    """``{romanised: base}`` for every ``{base}-Latn`` of ``langs`` whose base is also in ``langs``, in order."""
    return {lang: base for lang in langs if (base := romanized_base(lang)) in langs}


def latin_languages(langs: Sequence[str]) -> list[str]:
    """The languages of ``langs`` written in Latin script that are not romanisations: the script control's
    reference group."""
    return [lang for lang in langs if is_latin(lang) and romanized_base(lang) is None]
