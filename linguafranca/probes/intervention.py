"""The concept intervention: force a (concept, language)'s experts to their median response on the concept's
verses, let the model write from BOS alone, and ask what it wrote about and in which language.

The language of an output comes from langid.py (:func:`linguafranca.data.identify.language_of`).
Whether an output mentions the concept is a word match against a small lexicon per concept: the concept's English
words from the config, plus, per language, the units (words; single Han characters and their bigrams, as Chinese
has no spaces) that are most distinctive of the concept's aligned verses in that language, i.e. most frequent in
its verses relative to the other verses. Those words are read off the translations, not a dictionary, so they
can be a name or a function word that happens to co-occur: the lexicon is written out beside the results.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from linguafranca.data.identify import language_of
from linguafranca.model.hooks import force

_WORD = re.compile(r"\w+")
_HAN = re.compile(r"[\u3400-\u9fff]+")


def units(text: str) -> set[str]:
    """Lower-cased words of at least two characters, and every Han character and Han bigram."""
    found = {word for word in _WORD.findall(text.lower()) if len(word) >= 2 and not _HAN.fullmatch(word)}
    for run in _HAN.findall(text):
        found.update(run)
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found


def distinctive_units(positive: Sequence[str], other: Sequence[str], top: int, min_share: float = 0.3) -> list[str]:
    """The ``top`` units with the largest (share of ``positive`` texts holding them) minus (share of ``other``
    texts), among those in at least ``min_share`` of the positive texts."""
    if not positive or not other:
        return []
    pos = [units(text) for text in positive]
    neg = [units(text) for text in other]
    vocabulary = set().union(*pos)
    score = {
        unit: sum(unit in u for u in pos) / len(pos) - sum(unit in u for u in neg) / len(neg)
        for unit in vocabulary
        if sum(unit in u for u in pos) / len(pos) >= min_share
    }
    return [unit for unit, _ in sorted(score.items(), key=lambda item: (-item[1], item[0]))[:top]]


def mentions(text: str, lexicon: set[str]) -> bool:
    """Whether ``text`` holds one of the lexicon's units."""
    return bool(units(text) & lexicon)


def expert_medians(experts: np.ndarray, response: np.ndarray, positives: np.ndarray) -> dict[int, tuple]:
    """``{layer: (neuron indices, median response on the positive samples)}`` for the experts (bool
    ``[n_layers, n_neurons]``); ``response`` ``[n_samples, n_layers, n_neurons]``."""
    medians = np.median(response[positives], axis=0)
    return {
        int(layer): (np.flatnonzero(experts[layer]), medians[layer, experts[layer]])
        for layer in np.flatnonzero(experts.any(axis=1))
    }


def sample_from_bos(model: torch.nn.Module, tokenizer, neurons: Mapping[int, tuple], n_samples: int, seed: int,
                    max_new_tokens: int) -> list[str]:
    """``n_samples`` texts sampled (temperature 1, no top-k/top-p) from BOS alone with ``neurons`` forced
    (:func:`linguafranca.model.hooks.force`), one batch under one torch seed: row i is sample i of that seed."""
    device = next(model.parameters()).device
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    ids = torch.full((n_samples, 1), bos, dtype=torch.long, device=device)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    torch.manual_seed(seed)
    with torch.inference_mode(), force(model, dict(neurons)):
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True, top_k=None,
                             top_p=None, temperature=1.0, max_new_tokens=max_new_tokens, pad_token_id=pad)
    return [tokenizer.decode(row[1:], skip_special_tokens=True) for row in out.cpu()]


#: Columns of ``concepts/intervention.tsv`` and ``concepts/lexicon.tsv``.
INTERVENTION_COLUMNS = ("concept", "experts_lang", "sample", "output_lang", "mentions", "n_experts")
LEXICON_COLUMNS = ("concept", "lang", "words")
#: The ``concept`` and ``experts_lang`` of the rows sampled from the untouched model.
UNTOUCHED = "none"


def chosen_concepts(names: Sequence[str], labels: np.ndarray, kept: np.ndarray, n: int) -> list[int]:
    """The ``n`` kept concepts with the most positive verses (ties: config order)."""
    order = sorted(np.flatnonzero(kept), key=lambda c: (-int(labels[c].sum()), int(c)))
    return [int(c) for c in order[:n]]


def lexicon(words: Sequence[str], texts_by_lang: Mapping[str, Sequence[str]], positive: np.ndarray,
            top: int) -> dict[str, list[str]]:
    """Per language the units a mention of the concept is recognised by: the English words (lower-cased) in every
    language's entry under ``en``, plus each language's :func:`distinctive_units` of its aligned verses."""
    found = {}
    for lang, texts in texts_by_lang.items():
        pos = [t for t, p in zip(texts, positive) if p]
        other = [t for t, p in zip(texts, positive) if not p]
        found[lang] = distinctive_units(pos, other, top)
    found["en"] = sorted({w.lower() for w in words} | set(found.get("en", [])))
    return found


def intervention_records(model, tokenizer, experts: np.ndarray, responses: np.ndarray, labels: np.ndarray,
                         chosen: Sequence[int], names: Sequence[str], langs: Sequence[str],
                         lexicons: Mapping[int, set[str]], settings: Mapping) -> list[dict]:
    """One record per sampled text: the untouched model first, then every (chosen concept, intervention language).

    ``experts`` bool ``[c, lang, layer, neuron]``, ``responses`` ``[lang, sample, layer, neuron]``; ``lexicons``
    maps a concept index to its units in every language. The untouched rows are checked against every chosen
    concept's lexicon: a mention there is the rate without any intervention."""
    draw = dict(n_samples=settings["samples"], seed=settings["seed"], max_new_tokens=settings["max_new_tokens"])
    records = []
    for sample, text in enumerate(sample_from_bos(model, tokenizer, {}, **draw)):
        for c in chosen:
            records.append({"concept": names[c], "experts_lang": UNTOUCHED, "sample": sample, "n_experts": 0,
                            "output_lang": language_of(text), "mentions": mentions(text, lexicons[c]), "text": text})
    for c in chosen:
        for lang in settings["languages"]:
            index = list(langs).index(lang)
            forced = expert_medians(experts[c, index], responses[index], labels[c])
            for sample, text in enumerate(sample_from_bos(model, tokenizer, forced, **draw)):
                records.append({"concept": names[c], "experts_lang": lang, "sample": sample,
                                "n_experts": int(experts[c, index].sum()), "output_lang": language_of(text),
                                "mentions": mentions(text, lexicons[c]), "text": text})
    return records
