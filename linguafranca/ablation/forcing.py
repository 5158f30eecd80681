"""Does a region control the output language? Kojima et al.'s intervention on every method's regions.

Zeroing a region (Table 1) shows harm. Kojima et al. (NAACL 2024) show control instead: they fix a language's
expert neurons to their median response on that language's text and count how often the model then writes in it.
Here every method's region of every language is forced that way in turn (condition ``median_{lang}`` for the
z-score's, ``median_{method}_{lang}`` for the others'), each prompt's conditions in one batched greedy pass
(:func:`linguafranca.ablation.generation.generate_samples`), and langid.py, restricted to the run's languages
(:func:`linguafranca.data.identify.language_of`), tells the language of every continuation.

``forced_language.tsv`` has one row per method and forced language: the share of continuations in the forced
language over the prompts in other languages (a prompt already in it says nothing about control), beside the same
share for the unforced model on those prompts. langid cannot tell a romanised language (``hi-Latn``) from the
Latin-script ones, so a romanised language's shares read ``n/a``: its forcing is in the continuations, unscored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from linguafranca.ablation.generation import Generation, to_markdown
from linguafranca.data.identify import identifiable
from linguafranca.io.atomic import write_text
from linguafranca.io.tsv import write_tsv

UNFORCED = "none"


@dataclass(frozen=True)
class Forced:
    """One forcing condition: the ``method`` and the ``lang`` whose region it fixes to ``lang``'s medians."""

    name: str
    method: str
    lang: str


def forced_name(method: str, lang: str) -> str:
    """``median_{lang}`` for the z-score's region, ``median_{method}_{lang}`` for another method's."""
    return f"median_{lang}" if method == "zscore" else f"median_{method}_{lang}"


def forcing_conditions(
    masks: Mapping[str, np.ndarray], median: np.ndarray, langs: Sequence[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[Forced]]:
    """``(masks, values, conditions)`` for :func:`~linguafranca.ablation.generation.generate_samples`: the unforced
    model first, then every method (``masks``: method → bool ``[langs, layers, neurons]``) and language, its
    region fixed to ``median`` ``[langs, layers, neurons]`` of that language. An empty region is left out: it
    forces nothing."""
    zeros = np.zeros(median.shape[1:], dtype=bool)
    by_name, values, conditions = {UNFORCED: zeros}, {}, []
    for method, mask in masks.items():
        for index, lang in enumerate(langs):
            if not mask[index].any():
                continue
            condition = Forced(forced_name(method, lang), method, lang)
            by_name[condition.name], values[condition.name] = mask[index], median[index]
            conditions.append(condition)
    return by_name, values, conditions


SHARE_COLUMNS = ("method", "forced_lang", "region_size", "n_continuations", "share_forced", "share_unforced",
                 "share_prompt_language")


def language_shares(records: Sequence[Generation], identified: Sequence[str], conditions: Sequence[Forced],
                    sizes: Mapping[tuple[str, str], int], langs: Sequence[str]) -> list[dict]:
    """The rows of ``forced_language.tsv`` (:data:`SHARE_COLUMNS`), one per (method, language) of ``sizes`` (its
    region size); ``identified[i]`` is the language of ``records[i]``'s continuation. A language whose region is
    empty was not forced: its shares read ``empty``; one the identifier cannot name reads ``n/a``."""
    language = {(r.lang, r.prompt_id, r.condition): lang for r, lang in zip(records, identified)}
    prompts = list(dict.fromkeys((r.lang, r.prompt_id) for r in records))
    forced = {(c.method, c.lang): c for c in conditions}
    rows = []
    for (method, lang), size in sizes.items():
        others = [p for p in prompts if p[0] != lang]
        row = {"method": method, "forced_lang": lang, "region_size": size, "n_continuations": len(others),
               "share_unforced": _share([language[(*p, UNFORCED)] == lang for p in others])}
        condition = forced.get((method, lang))
        if not identifiable(lang):
            rows.append({**row, "share_unforced": "n/a", "share_forced": "n/a", "share_prompt_language": "n/a"})
            continue
        if condition is None:
            rows.append({**row, "share_forced": "empty", "share_prompt_language": "empty"})
            continue
        outputs = [language[(*p, condition.name)] for p in others]
        rows.append({**row, "share_forced": _share([o == lang for o in outputs]),
                     "share_prompt_language": _share([o == p[0] for o, p in zip(outputs, others)])})
    return rows


def _share(hits: Sequence[bool]) -> float:
    return float(np.mean(hits)) if len(hits) else float("nan")


def write_language_shares(path: str | os.PathLike, rows: Sequence[dict]) -> None:
    """``forced_language.tsv``, atomically."""
    write_tsv(path, rows, SHARE_COLUMNS)


def write_forced(records: Sequence[Generation], identified: Sequence[str], jsonl_path: str | os.PathLike,
                 md_path: str | os.PathLike) -> None:
    """``z{t}_forced.jsonl`` (each :class:`Generation` with its ``identified`` language) and ``.md`` (the
    continuations prefixed ``[lang]``)."""
    lines = [json.dumps({**asdict(r), "identified": lang}, ensure_ascii=False) + "\n"
             for r, lang in zip(records, identified)]
    write_text(jsonl_path, "".join(lines))
    shown = [replace(r, continuation=f"[{lang}] {r.continuation}") for r, lang in zip(records, identified)]
    write_text(md_path, to_markdown(shown).replace("under neuron deactivation", "with a region forced to its median",
                                                   1))
