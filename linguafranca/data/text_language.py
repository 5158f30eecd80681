"""The language of a text, among exactly the run's languages: a character n-gram naive Bayes trained on the run's own
prepared texts.

The generation stage asks which configured language a model's continuation is in. A general identifier (langid.py)
knows 97 languages but none of the run's romanised controls (``hi-Latn``), and may answer with a language the run
does not have; trained on the prepared text of each configured language, this one covers exactly the run's codes.
It is stdlib only and deterministic: the same training texts give the same scores on every machine.

A text is lower-cased (NFC), split on white space, and each word padded with one space on either side; its features
are the counts of every 1-, 2- and 3-character substring of the padded words (the lone space left out). The word
boundary grams (``" th"``, ``"e "``) carry much of a language's identity; a Chinese or Japanese run without spaces
is one long "word", whose grams are all inside it. A multinomial naive Bayes with add-``alpha`` smoothing and equal
priors scores them: ``log P(lang) + sum_g count(g) log P(g | lang)``, with
``P(g | lang) = (c(g, lang) + alpha) / (N(lang) + alpha V)`` over the vocabulary of the training grams (``V`` of
them); grams never seen in training carry no evidence and are skipped.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from linguafranca.errors import LinguaFrancaError

NONE = "none"
"""The label of a text with no feature at all (empty, white space, or only unseen characters)."""

MAX_N = 3


def ngrams(text: str, max_n: int = MAX_N) -> Counter[str]:
    """The 1- to ``max_n``-grams of ``text``'s words, each word padded with a space on either side."""
    grams: Counter[str] = Counter()
    for word in unicodedata.normalize("NFC", text).lower().split():
        padded = f" {word} "
        for n in range(1, max_n + 1):
            grams.update(padded[i:i + n] for i in range(len(padded) - n + 1))
    del grams[" "]
    return grams


@dataclass(frozen=True)
class TextLanguageId:
    """A fitted identifier: the languages in fit order and each one's log P(g | lang) over the vocabulary."""

    languages: tuple[str, ...]
    log_likelihood: tuple[dict[str, float], ...]
    log_unseen: tuple[float, ...]
    """log P(g | lang) of a vocabulary gram that ``lang``'s training texts lack: alpha / (N(lang) + alpha V)."""
    vocabulary: frozenset[str]

    @classmethod
    def fit(cls, texts: Mapping[str, Iterable[str]], alpha: float = 1.0) -> TextLanguageId:
        """Train on ``texts`` (lang -> its training texts); the languages keep the mapping's order, which also
        breaks ties."""
        if alpha <= 0:
            raise LinguaFrancaError(f"text language id: alpha must be positive, not {alpha}")
        counts: dict[str, Counter[str]] = {}
        for lang, lang_texts in texts.items():
            counts[lang] = Counter()
            for text in lang_texts:
                counts[lang].update(ngrams(text))
        empty = [lang for lang, grams in counts.items() if not grams]
        if len(counts) < 2 or empty:
            raise LinguaFrancaError(
                f"text language id: needs training text in at least two languages; "
                f"{'none in ' + ', '.join(empty) if empty else f'got {len(counts)}'}"
            )
        vocabulary = frozenset().union(*counts.values())
        denominators = [sum(grams.values()) + alpha * len(vocabulary) for grams in counts.values()]
        return cls(
            tuple(counts),
            tuple(
                {gram: math.log((count + alpha) / denominator) for gram, count in grams.items()}
                for grams, denominator in zip(counts.values(), denominators)
            ),
            tuple(math.log(alpha / denominator) for denominator in denominators),
            vocabulary,
        )

    def _known(self, text: str) -> dict[str, int]:
        """The grams of ``text`` that training saw, with their counts: the only ones that carry evidence."""
        return {gram: count for gram, count in ngrams(text).items() if gram in self.vocabulary}

    def scores(self, texts: Iterable[str]) -> list[list[float]]:
        """log P(lang) + log P(text | lang) for every text and language, [n_texts][n_languages]; a text with no
        known gram scores the prior alone in every language."""
        prior = -math.log(len(self.languages))
        rows = []
        for text in texts:
            grams = self._known(text)
            rows.append([
                prior + sum(count * likelihood.get(gram, unseen) for gram, count in grams.items())
                for likelihood, unseen in zip(self.log_likelihood, self.log_unseen)
            ])
        return rows

    def predict(self, texts: Iterable[str]) -> list[str]:
        """The most likely language of each text (the first in fit order on a tie); :data:`NONE` for a text with no
        known gram, which no language can claim."""
        texts = list(texts)
        return [
            self.languages[max(range(len(row)), key=lambda i: (row[i], -i))] if self._known(text) else NONE
            for text, row in zip(texts, self.scores(texts))
        ]
