"""The methods side by side: region sizes beside their chance levels, the overlap between every pair of methods,
where in depth each method's neurons lie, and one row per neuron any method selects.

Every method gives bool masks ``[langs, layers, neurons]`` on the same capture (the z-score regions of
:mod:`linguafranca.analysis.regions`, LAPE of :mod:`linguafranca.analysis.lape`, AP experts of
:mod:`linguafranca.analysis.ap_experts`) and ``null_count`` ``[B, langs, layers]`` under the same label shuffles,
so sizes, Jaccard overlaps and layer shares compare like with like.

``regions/methods.tsv``: one row per method and language, then one row per method for ``all`` languages (sizes
summed; Jaccard over every (language, neuron) pair). ``regions/methods_neurons.tsv``: one row per method, language,
layer and neuron that any method selects for that language, with that method's score and rank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.checksummed import read_group
from linguafranca.io.methods_store import read_method_arrays
from linguafranca.io.provenance import check_provenance
from linguafranca.io.regions_store import REGIONS_STORE
from linguafranca.overlap import jaccard

ALL = "all"
"""The ``lang`` of the summary rows: every language at once."""

THIRDS = ("first_third", "middle_third", "last_third")


@dataclass(frozen=True)
class MethodRegions:
    """One method's result on one capture: ``mask`` bool ``[langs, layers, neurons]``, ``score`` float and
    ``rank`` int (1 = the method's first choice for the language) of the same shape, ``null_count`` int
    ``[B, langs, layers]`` (B may be 0), and what the score is (``score_name``)."""

    mask: np.ndarray
    score: np.ndarray
    rank: np.ndarray
    null_count: np.ndarray
    score_name: str


def load_method_regions(
    regions_path: str, methods_path: str, methods: Sequence[str], langs: Sequence[str]
) -> dict[str, MethodRegions]:
    """Every method of ``methods`` (config order) from the z-score regions store and the methods store, which
    must describe the same languages and the same capture (model, revision, dataset, weights, compute)."""
    zscore, regions_attrs = read_group(REGIONS_STORE, regions_path, ("zscore", "mask"))
    arrays, attrs = read_method_arrays(methods_path, ("mask", "score", "rank", "null_count"))
    shared = {key: regions_attrs.get(key) for key in ("langs", "model", "revision", "dataset", "weights", "compute")}
    check_provenance(f"methods store {methods_path}", attrs, shared, f"regions store {regions_path}")
    if list(attrs["langs"]) != list(langs):
        raise LinguaFrancaError(f"{methods_path} holds languages {attrs['langs']}, the run {list(langs)}")
    null = _zscore_null(regions_path, regions_attrs, zscore["mask"].shape)
    results = {}
    for method in methods:
        if method == "zscore":
            results[method] = MethodRegions(zscore["mask"], zscore["zscore"], ranks(zscore["zscore"]), null, "zscore")
            continue
        if method not in attrs["methods"]:
            raise LinguaFrancaError(f"{methods_path} has no method {method!r}: rerun rule methods")
        index = list(attrs["methods"]).index(method)
        results[method] = MethodRegions(arrays["mask"][index], arrays["score"][index], arrays["rank"][index],
                                        arrays["null_count"][index][: attrs["null_permutations"]],
                                        attrs["score_names"][method])
    return results


def _zscore_null(path: str, attrs: Mapping[str, Any], shape: tuple[int, ...]) -> np.ndarray:
    """The z-score regions' ``null_count`` ``[B, langs, layers]``, empty ``[0, ...]`` without a null."""
    if "null_permutations" not in attrs:
        return np.zeros((0, *shape[:2]), dtype=np.int32)
    return read_group(REGIONS_STORE, path, ("null_count",))[0]["null_count"]


def layer_thirds(n_layers: int) -> list[np.ndarray]:
    """The layer indices of the first, middle and last third (``np.array_split``: the first thirds take the
    remainder, so 4 layers split 2, 1, 1)."""
    return np.array_split(np.arange(n_layers), 3)


def _third_shares(per_layer: np.ndarray) -> list[float]:
    """Shares of the selected neurons ``per_layer`` ``[layers]`` in each third; NaN for an empty selection."""
    total = per_layer.sum()
    return [float(per_layer[third].sum() / total) if total else float("nan") for third in layer_thirds(len(per_layer))]


def _null_columns(null: np.ndarray) -> dict[str, Any]:
    """Mean, sd (ddof=0) and linear 95th percentile of the null sizes ``[B]``; ``n/a`` without a null."""
    if null.size == 0:
        return dict.fromkeys(("null_mean", "null_sd", "null_p95"), "n/a")
    return {"null_mean": float(null.mean()), "null_sd": float(null.std()), "null_p95": float(np.percentile(null, 95))}


def method_columns(methods: Sequence[str]) -> list[str]:
    """The columns of ``methods.tsv``."""
    return ["method", "lang", "size", "null_mean", "null_sd", "null_p95", *THIRDS,
            *(f"jaccard_{other}" for other in methods)]


def method_rows(results: Mapping[str, MethodRegions], langs: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``methods.tsv``: per method, each language then ``all``."""
    rows = []
    for method, result in results.items():
        for index, lang in enumerate([*langs, ALL]):
            mine = result.mask if lang == ALL else result.mask[index]
            per_layer = mine.sum(axis=-1) if lang != ALL else mine.sum(axis=(0, 2))
            null = result.null_count.sum(axis=(1, 2)) if lang == ALL else result.null_count[:, index].sum(axis=1)
            row = {"method": method, "lang": lang, "size": int(mine.sum()), **_null_columns(null),
                   **dict(zip(THIRDS, _third_shares(per_layer)))}
            for other, theirs in results.items():
                other_mask = theirs.mask if lang == ALL else theirs.mask[index]
                row[f"jaccard_{other}"] = float(jaccard(mine, other_mask, empty=np.nan))
            rows.append(row)
    return rows


NEURON_COLUMNS = ("method", "lang", "layer", "neuron", "selected", "score", "score_name", "rank", "selected_by")


def neuron_rows(results: Mapping[str, MethodRegions], langs: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``methods_neurons.tsv``: for every (language, layer, neuron) that some method selects, one row
    per method with its score and rank there, whether it selects it, and the methods that do (``+``-joined)."""
    names = list(results)
    selected = np.stack([results[name].mask for name in names])  # [methods, langs, layers, neurons]
    rows = []
    for lang_index, layer, neuron in zip(*np.nonzero(selected.any(axis=0))):
        cell = (lang_index, layer, neuron)
        by = "+".join(name for name, chosen in zip(names, selected[(slice(None), *cell)]) if chosen)
        for name in names:
            result = results[name]
            rows.append({"method": name, "lang": langs[lang_index], "layer": int(layer), "neuron": int(neuron),
                         "selected": bool(result.mask[cell]), "score": float(result.score[cell]),
                         "score_name": result.score_name, "rank": int(result.rank[cell]), "selected_by": by})
    return rows


def ranks(score: np.ndarray, descending: bool = True) -> np.ndarray:
    """Rank of every neuron within its language, int32 like ``score`` ``[langs, layers, neurons]``: 1 for the
    highest score (lowest when not ``descending``); ties by position (layer, then neuron), NaN last."""
    flat = score.reshape(len(score), -1)
    keys = -flat if descending else flat
    keys = np.where(np.isnan(keys), np.inf, keys)
    order = np.argsort(keys, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, flat.shape[1] + 1)[None, :], axis=1)
    return rank.reshape(score.shape).astype(np.int32)


SCRIPT_COLUMNS = ("method", "lang", "base", "size", "jaccard_base", "jaccard_base_chance", "jaccard_latin_mean",
                  "jaccard_latin_max", "base_jaccard_latin_mean", "reads_as")


def script_rows(results: Mapping[str, MethodRegions], langs: Sequence[str], romanised: Mapping[str, str],
                latin: Sequence[str]) -> list[dict[str, Any]]:
    """The overlap half of the script control: per method and romanised language (``{lang: base}``), the Jaccard
    overlap of its region with its base language's and with each Latin-script language's (mean and max), and,
    as the reference, the base's mean overlap with those Latin-script languages.

    ``jaccard_base_chance``: the Jaccard overlap two random sets of the two regions' sizes have on average
    (:func:`chance_jaccard`). ``reads_as``: ``neither`` when the romanised region overlaps its base and every
    Latin-script language at most as much as that (a region of its own), else ``language`` when it overlaps its
    base more than any Latin-script language and ``script`` when one of those overlaps it more.
    """
    rows = []
    for method, result in results.items():
        region = {lang: result.mask[index] for index, lang in enumerate(langs)}
        for lang, base in romanised.items():
            with_base = float(jaccard(region[lang], region[base], empty=np.nan))
            chance = chance_jaccard(int(region[lang].sum()), int(region[base].sum()), region[lang].size)
            with_latin = np.array([jaccard(region[lang], region[other], empty=np.nan) for other in latin])
            base_latin = np.array([jaccard(region[base], region[other], empty=np.nan) for other in latin])
            rows.append({
                "method": method, "lang": lang, "base": base, "size": int(region[lang].sum()),
                "jaccard_base": with_base, "jaccard_base_chance": chance, "jaccard_latin_mean": _mean(with_latin),
                "jaccard_latin_max": float(np.nanmax(with_latin)) if np.isfinite(with_latin).any() else float("nan"),
                "base_jaccard_latin_mean": _mean(base_latin),
                "reads_as": _reading(with_base, with_latin, chance),
            })
    return rows


def _mean(values: np.ndarray) -> float:
    """The mean of the defined values, NaN when none is."""
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def chance_jaccard(a: int, b: int, total: int) -> float:
    """The Jaccard overlap of two independent uniformly random sets of ``a`` and ``b`` of ``total`` neurons, to
    first order: expected intersection ``ab / total`` over expected union ``a + b - ab / total``."""
    shared = a * b / total
    return float(shared / (a + b - shared)) if a + b else float("nan")


def _reading(with_base: float, with_latin: np.ndarray, chance: float) -> str:
    """``language``, ``script`` or ``neither`` (see :func:`script_rows`)."""
    best_latin = np.nanmax(with_latin) if np.isfinite(with_latin).any() else 0.0
    if not (with_base > chance or best_latin > chance):
        return "neither"
    return "language" if with_base > best_latin else "script"
