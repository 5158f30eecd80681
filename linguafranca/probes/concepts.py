"""Concept ("expert") neurons across languages, after Suau et al. (2022) and Riemenschneider & Frank (2025).

A verse is about a concept when its English text contains one of the concept's English words; its translations
carry the same label, so no lexicon per language is needed. For every (concept, language, layer, neuron) the
average precision (AP) of the neuron's per-sentence response at telling the concept's verses from a seeded sample
of other verses measures how well that neuron alone detects the concept. A (concept, language)'s experts are its
top-k neurons by AP; their overlap across languages says whether languages share concept neurons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np

from linguafranca import overlap
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.checksummed import read_group
from linguafranca.io.probe_stores import RESPONSE_STORE


def _pattern(words: Sequence[str]) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(re.escape(word) for word in words) + r")\b", re.IGNORECASE)


def concept_labels(english: Sequence[str], concepts: Mapping[str, Sequence[str]]) -> np.ndarray:
    """Bool ``[n_concepts, n_samples]``: whether each English text contains one of the concept's words (whole
    words, any case), concepts in the order of ``concepts``."""
    return np.array([[bool(_pattern(words).search(text)) for text in english] for words in concepts.values()],
                    dtype=bool).reshape(len(concepts), len(english))


def select_samples(labels: np.ndarray, max_samples: int | None, seed: int) -> np.ndarray:
    """Indices (sorted) of the samples to capture: up to half of ``max_samples`` from the verses about some concept,
    the rest from the others, each part a seeded sample; all when ``max_samples`` is None or not smaller."""
    n = labels.shape[1]
    if max_samples is None or max_samples >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    about = np.flatnonzero(labels.any(axis=0))
    others = np.flatnonzero(~labels.any(axis=0))
    take_about = min(len(about), max_samples // 2)
    take_others = min(len(others), max_samples - take_about)
    take_about = min(len(about), max_samples - take_others)
    chosen = [rng.choice(about, take_about, replace=False), rng.choice(others, take_others, replace=False)]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def contrast_sets(labels: np.ndarray, negatives: int, min_positives: int, seed: int) -> list[np.ndarray]:
    """Per concept, the sample indices AP is measured on: every positive and a seeded sample of ``negatives`` other
    samples (all others when fewer). Concepts with fewer than ``min_positives`` positives get an empty set."""
    rng = np.random.default_rng(seed)
    sets = []
    for row in labels:
        positive, other = np.flatnonzero(row), np.flatnonzero(~row)
        if len(positive) < min_positives or not len(other):
            sets.append(np.zeros(0, dtype=np.int64))
            continue
        chosen = rng.choice(other, min(negatives, len(other)), replace=False)
        sets.append(np.sort(np.concatenate([positive, chosen])))
    return sets


def average_precision(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """AP of every column of ``scores`` ``[n, m]`` at ranking the true ``labels`` ``[n]`` first, float64 ``[m]``.

    Rank-based and vectorised over columns: sort each column descending; every positive contributes the precision
    at the end of its tie group (tied scores share one threshold, as in scikit-learn's
    ``average_precision_score``, which this equals); AP is their mean over the positives.
    """
    labels = np.asarray(labels, dtype=bool)
    n_positive = labels.sum()
    if n_positive == 0 or n_positive == len(labels):
        raise LinguaFrancaError("average precision needs both positive and negative samples")
    order = np.argsort(-scores, axis=0, kind="stable")
    ranked = np.take_along_axis(scores, order, axis=0)
    hits = labels[order]
    true_positives = np.cumsum(hits, axis=0)
    n = len(labels)
    group_end = np.ones_like(ranked, dtype=bool)
    group_end[:-1] = ranked[:-1] != ranked[1:]
    end_index = np.where(group_end, np.arange(n)[:, None], n)
    end_index = np.minimum.accumulate(end_index[::-1], axis=0)[::-1]
    precision_at_end = np.take_along_axis(true_positives, end_index, axis=0) / (end_index + 1.0)
    return (hits * precision_at_end).sum(axis=0) / n_positive


def concept_ap(response: np.ndarray, labels: np.ndarray, contrast: np.ndarray) -> np.ndarray:
    """AP ``[n_layers, n_neurons]`` of one concept in one language: ``response`` ``[n_samples, n_layers,
    n_neurons]``, ``labels`` bool ``[n_samples]``, ``contrast`` the sample indices it is measured on."""
    scores = response[contrast].astype(np.float64)
    flat = average_precision(scores.reshape(len(contrast), -1), labels[contrast])
    return flat.reshape(response.shape[1:])


def top_k(ap: np.ndarray, experts: int | float) -> np.ndarray:
    """Bool mask of ``ap``'s shape: its top-k entries (k a count, or a fraction of all entries when a float < 1);
    ties broken by position, so k is exact."""
    k = int(round(experts * ap.size)) if isinstance(experts, float) and experts < 1 else int(experts)
    k = max(0, min(k, ap.size))
    mask = np.zeros(ap.size, dtype=bool)
    mask[np.argsort(-ap.ravel(), kind="stable")[:k]] = True
    return mask.reshape(ap.shape)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|a ∩ b| / |a ∪ b| of two bool masks; 1 when both are empty (two empty expert sets are the same set)."""
    return float(overlap.jaccard(a, b, empty=1.0))


def shared_share(masks: np.ndarray, min_languages: int) -> float:
    """Of the neurons that are experts in some language (``masks`` bool ``[n_langs, ...]``), the share that are
    experts in at least ``min_languages`` languages; NaN when no neuron is an expert."""
    counts = masks.reshape(len(masks), -1).sum(axis=0)
    union = (counts > 0).sum()
    return float("nan") if union == 0 else float((counts >= min_languages).sum() / union)


def overlap_rows(experts: np.ndarray, langs: Sequence[str], concepts: Sequence[str]) -> list[dict]:
    """Jaccard of expert sets per language pair, mean over concepts, per layer and overall (layer ``all``).

    ``experts`` is bool ``[n_concepts, n_langs, n_layers, n_neurons]``; only kept concepts are passed.
    """
    rows = []
    n_layers = experts.shape[2]
    for layer in [*range(n_layers), "all"]:
        part = experts if layer == "all" else experts[:, :, layer : layer + 1]
        for a, b in combinations(range(len(langs)), 2):
            values = [jaccard(part[c, a], part[c, b]) for c in range(len(concepts))]
            rows.append({"layer": layer, "lang_a": langs[a], "lang_b": langs[b], "jaccard": float(np.mean(values))})
    return rows


def shared_rows(experts: np.ndarray, min_languages: int) -> list[dict]:
    """Share of experts that are experts in at least ``min_languages`` languages, mean over concepts (concepts
    without any expert in the layer are left out of that layer's mean), per layer and overall."""
    rows = []
    for layer in [*range(experts.shape[2]), "all"]:
        part = experts if layer == "all" else experts[:, :, layer : layer + 1]
        values = [shared_share(part[c], min_languages) for c in range(len(part))]
        values = [v for v in values if not np.isnan(v)]
        rows.append({"layer": layer, "min_languages": min_languages,
                     "share": float(np.mean(values)) if values else float("nan"), "n_concepts": len(values)})
    return rows


def cross_lingual_rows(ap: np.ndarray, experts: np.ndarray, langs: Sequence[str]) -> list[dict]:
    """Mean AP of language a's experts measured on language b's sentences (``ap`` ``[c, lang, layer, neuron]``),
    mean over concepts, for every ordered pair (a = b is the within-language AP)."""
    rows = []
    for a, lang_a in enumerate(langs):
        for b, lang_b in enumerate(langs):
            values = [ap[c, b][experts[c, a]].mean() for c in range(len(ap)) if experts[c, a].any()]
            rows.append({"experts_lang": lang_a, "sentences_lang": lang_b,
                         "ap": float(np.mean(values)) if values else float("nan")})
    return rows


#: Columns of the concept stage's tables.
CONCEPT_COLUMNS = ("concept", "words", "n_positive", "n_contrast", "kept")
OVERLAP_COLUMNS = ("layer", "lang_a", "lang_b", "jaccard")
SHARED_COLUMNS = ("layer", "min_languages", "share", "n_concepts")
CROSS_COLUMNS = ("experts_lang", "sentences_lang", "ap")


def read_responses(paths: Sequence[str], langs: Sequence[str]) -> tuple[np.ndarray, list[str], dict]:
    """Responses float32 ``[n_langs, n_samples, n_layers, n_neurons]`` of the response stores, their sample ids
    (checked equal across languages) and the first store's attributes."""
    arrays, ids, first = [], None, None
    for lang, path in zip(langs, paths):
        values, attrs = read_group(RESPONSE_STORE, path, ["response"])
        if ids is not None and list(attrs["sample_ids"]) != ids:
            raise LinguaFrancaError(f"response store {path} holds other verses than that of {langs[0]!r}")
        ids, first = list(attrs["sample_ids"]), first or attrs
        arrays.append(values["response"])
    return np.stack(arrays), ids, first


def concept_neurons(responses: np.ndarray, labels: np.ndarray, settings: Mapping, seed: int):
    """``(ap [c, lang, layer, neuron] float32, experts bool, contrast sets, kept bool [c])``: AP for every concept
    with at least ``min_positives`` positives (NaN rows for the others), experts the top ``experts`` per
    (concept, language)."""
    contrast = contrast_sets(labels, settings["negatives"], settings["min_positives"], seed)
    n_langs, _, n_layers, width = responses.shape
    ap = np.full((len(labels), n_langs, n_layers, width), np.nan, dtype=np.float32)
    experts = np.zeros(ap.shape, dtype=bool)
    kept = np.array([len(c) > 0 for c in contrast])
    for c in np.flatnonzero(kept):
        for lang in range(n_langs):
            ap[c, lang] = concept_ap(responses[lang], labels[c], contrast[c])
            experts[c, lang] = top_k(ap[c, lang], settings["experts"])
    return ap, experts, contrast, kept
