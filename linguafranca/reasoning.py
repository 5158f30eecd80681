"""Cross-lingual understanding with lm-eval: the items of our two tasks, the evaluation, and the accuracy table.

Two multiple-choice tasks ask the same question: given a text in language X, which of two *English* continuations
follows? The model picks the one of higher log-likelihood, so a model that understands X picks the right one.

- ``xstorycloze_xling_{lang}`` (the paper's Appendix B): the four story sentences of XStoryCloze in ``lang``, then
  "The ending in English:", and the two English endings of the same story (joined on the story id).
- ``bible_xling_next_{lang}`` (our own task, not the paper's): ``k`` consecutive Bible verses in ``lang``, then
  "The next verse in English:", and two English verses: the true next one and a distractor of similar length drawn
  with a seed from elsewhere in the same book. It runs offline from ``bible.db``, on books that neither the
  analysis text nor the perplexity text uses.

The task YAML lives in :mod:`linguafranca.tasks` and calls the dataset builders here; the model is
:class:`linguafranca.lm_model.FastLM`. :func:`write_accuracy` lays the per-condition results out as
``accuracy.tsv`` with Wilson 95% intervals.
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from linguafranca.data.bible import load_bible
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.tsv import write_tsv
from linguafranca.tasks import TASKS_DIR

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
Z95 = 1.959963984540054


def task_name(family: str, lang: str) -> str:
    return TASK_NAMES[family].format(lang=lang)


def available(family: str, lang: str) -> bool:
    """Whether the task family has items in ``lang`` (XStoryCloze has no fr, pt, vi, ...)."""
    return family == "bible" or lang in XSTORYCLOZE_LANGS


# ---------------------------------------------------------------------------------------------------- Bible items


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


# --------------------------------------------------------------------------------------------- XStoryCloze items


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


# ---------------------------------------------------------------------------------------------------- evaluation


def task_metadata(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What the task YAML's dataset builders read (lm-eval passes TaskManager metadata to ``custom_dataset``), from
    the settings of the task families present: a job's settings hold its own family's only, so that a change to one
    family's settings reruns that family's jobs alone."""
    metadata: dict[str, Any] = {}
    if "bible" in settings:
        bible = settings["bible"]
        metadata.update(books=list(bible["books"]), context_verses=int(bible["context_verses"]),
                        seed=int(bible["seed"]), bible_db=bible.get("db"))
    if "xstorycloze" in settings:
        metadata["xstorycloze_path"] = settings["xstorycloze"]["path"]
    return metadata


def evaluate(lm, family: str, langs: Sequence[str], settings: Mapping[str, Any]) -> dict[str, Any]:
    """lm-eval's results (with per-item samples) for ``family`` on the available ``langs`` with model ``lm``."""
    import lm_eval.evaluator
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    names = [task_name(family, lang) for lang in langs if available(family, lang)]
    if not names:
        return {"results": {}, "n-samples": {}, "samples": {}}
    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False, metadata=task_metadata(settings))
    with mock.patch.object(lm_eval.evaluator, "add_env_info", _add_env_info_once):
        results = simple_evaluate(model=lm, tasks=names, task_manager=manager, limit=settings["limit"],
                                  log_samples=True, bootstrap_iters=0, random_seed=0, numpy_random_seed=0,
                                  torch_random_seed=0, fewshot_random_seed=0)
    return results


@functools.lru_cache(maxsize=1)
def _env_info() -> dict[str, Any]:
    from lm_eval.loggers.utils import add_env_info

    storage: dict[str, Any] = {}
    add_env_info(storage)
    return storage


def _add_env_info_once(storage: dict[str, Any]) -> None:
    """lm-eval's environment record, gathered once per process: it runs half a second of subprocesses (torch's
    collect_env), more than a tiny model's whole evaluation, and a combined job evaluates 20 conditions."""
    storage.update(copy.deepcopy(_env_info()))


def write_results(path: str | os.PathLike, results: Mapping[str, Any], extra: Mapping[str, Any]) -> None:
    """lm-eval's results dict as JSON (lm-eval's own serialiser for what JSON lacks), with ``extra`` provenance."""
    from lm_eval.utils import handle_non_serializable

    from linguafranca.io.atomic import write_text

    keep = {key: results[key] for key in ("results", "n-samples", "samples", "configs", "versions") if key in results}
    write_text(path, json.dumps({**keep, "linguafranca": dict(extra)}, default=handle_non_serializable, indent=1))


def read_accuracies(path: str | os.PathLike) -> tuple[dict[str, tuple[float, int]], str]:
    """(accuracy, number of items) per task name from a results JSON, and its compute dtype."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise LinguaFrancaError(f"reasoning results {path} cannot be read ({error})") from None
    scores = {}
    for task, metrics in data["results"].items():
        n = int(data["n-samples"][task]["effective"])
        scores[task] = (float(metrics["acc,none"]), n)
    return scores, data["linguafranca"]["compute"]


def wilson(correct: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``correct / n`` (better than the normal interval near 0, 1, small n)."""
    if n == 0:
        return float("nan"), float("nan")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def accuracy_rows(
    results: Mapping[str, Mapping[str, str | os.PathLike]], conditions: Sequence[str], langs: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows and columns of ``accuracy.tsv`` from results JSON paths by family and condition.

    One row per (task family, language); per condition ``acc_{c}``, ``low_{c}``, ``high_{c}``, empty where the
    condition was not evaluated on the language or the task is not available in it. ``n`` is the baseline's item
    count (every condition runs the same items).
    """
    columns = ["task", "language", "available", "n", *[f"{k}_{c}" for c in conditions for k in ("acc", "low", "high")],
               "compute"]
    rows = []
    for family, by_condition in results.items():
        read = {c: read_accuracies(path) for c, path in by_condition.items()}
        computes = {compute for _, compute in read.values()}
        if len(computes) > 1:
            raise LinguaFrancaError(f"reasoning {family} conditions were computed in different dtypes {sorted(computes)}")
        compute = next(iter(computes), "")
        for lang in langs:
            name = task_name(family, lang)
            row: dict[str, Any] = {"task": family, "language": lang, "n": "", "compute": compute}
            row["available"] = "yes" if available(family, lang) else NOT_AVAILABLE
            for condition in conditions:
                score = read[condition][0].get(name) if condition in read else None
                if score is None:
                    row.update({f"{k}_{condition}": "" for k in ("acc", "low", "high")})
                    continue
                acc, n = score
                low, high = wilson(round(acc * n), n)
                row.update({f"acc_{condition}": acc, f"low_{condition}": low, f"high_{condition}": high})
                row["n"] = n if row["n"] == "" else row["n"]
            rows.append(row)
    return rows, columns


def write_accuracy(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    write_tsv(path, rows, columns)
