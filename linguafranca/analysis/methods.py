"""The field's other language-neuron selections on the same capture as the z-score regions: LAPE
(:mod:`linguafranca.analysis.lape`) and AP experts (:mod:`linguafranca.analysis.ap_experts`), in one pass over the
layers of the activation stores, with the label-shuffled null of each, size-matched random controls, and each
language's median responses (what median forcing fixes a region to, whichever method found it).

One pass reads every layer's means ``X`` and active counts ``A`` once, hands them to every method's accumulator
and takes the medians; the selections that need all layers (LAPE's quantiles, AP's top experts) are made at the
end. The result is the methods store (:mod:`linguafranca.io.methods_store`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from linguafranca.analysis.ap_experts import ExpertsAccumulator, ExpertsResult, ExpertsSettings, language_medians
from linguafranca.analysis.lape import LapeAccumulator, LapeResult, LapeSettings
from linguafranca.analysis.method_comparison import ranks
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.activations import LanguageStores
from linguafranca.io.methods_store import write_methods_store
from linguafranca.model.random_masks import matched_random_masks

#: Second entropy word of each method's size-matched controls, apart from the z-score regions' (0) and the
#: significant regions' (2) streams and the label shuffles' (1).
CONTROL_STREAMS = {"lape": 3, "ap": 4}

#: What each method's ``score`` array holds.
SCORE_NAMES = {"lape": "activation_probability", "ap": "average_precision"}


@dataclass(frozen=True)
class ApSettings:
    """``experts`` per language and direction (a count, or a share below 1 of all neurons); ``top`` and
    ``bottom`` say which directions are selected (Kojima et al. take both)."""

    experts: int | float = 0.01
    top: bool = True
    bottom: bool = True

    def check(self) -> None:
        if not (self.top or self.bottom):
            raise LinguaFrancaError("regions.ap selects no expert: set top or bottom (or both) to true")
        if self.experts >= 1 and self.experts != int(self.experts):
            raise LinguaFrancaError(f"regions.ap.experts is {self.experts}: a count is a whole number, a share is "
                                    "below 1")

    def experts_settings(self) -> ExpertsSettings:
        """A count as an int, a share as a float: what :class:`ExpertsSettings` tells them apart by."""
        experts = int(self.experts) if self.experts >= 1 else float(self.experts)
        return ExpertsSettings(experts=experts, bottom=self.bottom)


@dataclass
class MethodOutput:
    """One method's arrays for the store: ``mask`` bool, ``score`` float, ``rank`` int, all ``[langs, layers,
    neurons]``; ``null_count`` int ``[B, langs, layers]``; ``attrs`` for the store; ``extras`` named arrays."""

    mask: np.ndarray
    score: np.ndarray
    rank: np.ndarray
    null_count: np.ndarray
    attrs: dict[str, Any]
    extras: dict[str, tuple[np.ndarray, str]] = field(default_factory=dict)


def _lape_output(result: LapeResult, shape: tuple[int, ...]) -> MethodOutput:
    """LAPE's score is each language's activation probability; its rank the entropy's (one for all languages:
    LAPE ranks neurons, then assigns them)."""
    entropy = np.broadcast_to(result.entropy, shape)
    null = result.null_count if result.null_count is not None else np.zeros((0, *shape[:2]), dtype=np.int64)
    attrs = {"top_prob_value": float(result.top_prob_value), "activation_bar": float(result.activation_bar),
             "selected": int(result.selected.sum())}
    if result.null_top_prob_value is not None:
        attrs["null_top_prob_value_mean"] = float(result.null_top_prob_value.mean())
    extras = {"lape_entropy": (result.entropy.astype(np.float32),
                               "entropy of the activation probability normalised over languages; inf: dismissed")}
    return MethodOutput(result.mask, result.probability, ranks(entropy, descending=False), null, attrs, extras)


def _ap_output(result: ExpertsResult, settings: ApSettings, shape: tuple[int, ...]) -> MethodOutput:
    """AP's score is the top experts' AP (the bottom experts' where only those are selected)."""
    mask = np.zeros(shape, dtype=bool)
    null = np.zeros((result.null_permutations, *shape[:2]), dtype=np.int64)
    if settings.top:
        mask |= result.mask_top
        if result.null_count is not None:
            null += result.null_count
    if settings.bottom:
        mask |= result.mask_bottom
        if result.null_count_bottom is not None:
            null += result.null_count_bottom
    score = result.ap if settings.top else result.ap_bottom
    attrs = {"experts": int(result.experts), "top": settings.top, "bottom": settings.bottom,
             "cutoff_ap": result.cutoff_ap.tolist()}
    extras = {}
    if settings.bottom:
        extras["ap_bottom"] = (result.ap_bottom.astype(np.float32), "average precision of the negated response")
        attrs["cutoff_ap_bottom"] = result.cutoff_ap_bottom.tolist()
    if result.null_cutoff_ap is not None:
        extras["ap_null_cutoff"] = (result.null_cutoff_ap.astype(np.float32),
                                    "the experts-th best AP of the top experts under each label shuffle")
    return MethodOutput(mask, score, ranks(score), null, attrs, extras)


@dataclass
class MethodsResult:
    """Every method's output (in ``methods`` order), the medians ``[langs, layers, neurons]`` and the context."""

    methods: list[str]
    langs: list[str]
    outputs: dict[str, MethodOutput]
    median: np.ndarray
    null_permutations: int
    seed: int
    n_samples: int
    provenance: dict[str, Any]
    settings: dict[str, Any]


def compute_methods(
    source: LanguageStores,
    methods: Sequence[str],
    lape: LapeSettings = LapeSettings(),
    ap: ApSettings = ApSettings(),
    null_permutations: int = 0,
    seed: int = 0,
    threads: int = 1,
) -> MethodsResult:
    """LAPE and/or AP experts (``methods``, of :data:`SCORE_NAMES`) of opened activation stores, streaming the
    layers once; the medians are computed whatever the methods."""
    unknown = sorted(set(methods) - set(SCORE_NAMES))
    if unknown:
        raise LinguaFrancaError(f"unknown selection method(s) {unknown}: choose from {', '.join(SCORE_NAMES)}")
    ap.check()
    sizes, shape = [source.n_samples] * len(source.languages), (len(source.languages), source.n_layers,
                                                                source.n_neurons)
    accumulators = {}
    if "lape" in methods:
        accumulators["lape"] = LapeAccumulator(sizes, source.n_layers, source.n_neurons, lape, null_permutations, seed)
    if "ap" in methods:
        accumulators["ap"] = ExpertsAccumulator(sizes, source.n_layers, source.n_neurons, ap.experts_settings(),
                                                null_permutations, seed, threads)
    median = np.empty(shape, dtype=np.float32)
    n_tokens = source.n_tokens
    for layer, X in source.layers():
        A = source.read_active_layer(layer) if "lape" in accumulators else None
        for accumulator in accumulators.values():
            accumulator.add_layer(layer, X, A, n_tokens)
        median[:, layer] = language_medians(X, sizes)
    outputs = {}
    if "lape" in accumulators:
        outputs["lape"] = _lape_output(accumulators["lape"].result(), shape)
    if "ap" in accumulators:
        outputs["ap"] = _ap_output(accumulators["ap"].result(), ap, shape)
    return MethodsResult(list(outputs), list(source.languages), outputs, median, null_permutations, seed,
                         source.n_samples, dict(source.provenance),
                         {"lape": vars(lape).copy(), "ap": vars(ap).copy()})


def _null_summary(null: np.ndarray) -> dict[str, Any]:
    """Null region sizes per language (lists in language order): mean, sd (ddof=0), linear 95th percentile."""
    if not len(null):
        return {}
    sizes = null.sum(axis=2)
    return {"null_size_mean": sizes.mean(axis=0).tolist(), "null_size_sd": sizes.std(axis=0).tolist(),
            "null_size_p95": np.percentile(sizes, 95, axis=0).tolist()}


def write_methods(result: MethodsResult, path: str | os.PathLike) -> None:
    """The methods store (:mod:`linguafranca.io.methods_store`), atomically; every array described."""
    outputs = [result.outputs[method] for method in result.methods]
    n_langs, n_layers, n_neurons = result.median.shape
    empty = (0, n_langs, n_layers, n_neurons)

    def stacked(name: str, dtype) -> np.ndarray:
        values = [getattr(output, name) for output in outputs]
        return np.stack(values).astype(dtype) if values else np.zeros(empty, dtype=dtype)

    masks = stacked("mask", bool)
    controls = np.stack([matched_random_masks(output.mask, [result.seed, CONTROL_STREAMS[method]])
                         for method, output in zip(result.methods, outputs)]) if outputs else np.zeros(empty, bool)
    nulls = [output.null_count for output in outputs]
    arrays = {
        "mask": masks,
        "score": stacked("score", np.float32),
        "rank": stacked("rank", np.int32),
        "random_mask_per_language": controls,
        "null_count": (np.stack(nulls) if nulls else np.zeros((0, result.null_permutations, n_langs, n_layers)))
        .astype(np.int32),
        "median": result.median,
    }
    descriptions = {
        "mask": "each method's selected neurons per language (docs/methods.md)",
        "score": "the per-neuron score each method selects by: " + ", ".join(
            f"{method}: {SCORE_NAMES[method]}" for method in result.methods),
        "rank": "1 for the neuron the method ranks first for the language (lape: by entropy, one rank for all)",
        "random_mask_per_language": "size-matched random control per method and language, seeded",
        "null_count": "selected neurons per method, label shuffle, language and layer",
        "median": "each language's median per-sample mean response of every neuron",
    }
    for output in outputs:
        for name, (values, description) in output.extras.items():
            arrays[name], descriptions[name] = values, description
    attrs = {
        "methods": result.methods,
        "langs": result.langs,
        "n_layers": n_layers,
        "n_neurons": n_neurons,
        "n_samples": result.n_samples,
        "seed": result.seed,
        "null_permutations": result.null_permutations,
        "score_names": {method: SCORE_NAMES[method] for method in result.methods},
        "settings": {method: result.settings[method] for method in result.methods},
        "sizes": {method: output.mask.sum(axis=(1, 2)).tolist() for method, output in zip(result.methods, outputs)},
        "nulls": {method: _null_summary(output.null_count) for method, output in zip(result.methods, outputs)},
        "method_attrs": {method: output.attrs for method, output in zip(result.methods, outputs)},
        **result.provenance,
    }
    write_methods_store(path, arrays, descriptions, attrs)


def methods_from_config(settings: Mapping[str, Any]) -> tuple[LapeSettings, ApSettings]:
    """The ``regions.lape`` and ``regions.ap`` config blocks as settings."""
    return LapeSettings(**settings["lape"]), ApSettings(**settings["ap"])
