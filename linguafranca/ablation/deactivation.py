"""Deactivating neurons and measuring what it costs each language (paper Section 5, Table 1).

A condition is a set of neurons to switch off (:mod:`linguafranca.ablation.conditions` defines them all: ``none``, the
``random`` control, each language's key region, and each region's size-matched ``random_{lang}`` control).
Deactivating a neuron means zeroing it where the adapters locate neurons: in the input of each layer's MLP down
projection. The effect of a condition on a language is the perplexity increase over the baseline,

    increase[lang, condition] = 100 * (PPL(lang | condition) / PPL(lang | none) - 1)   (percent),

laid out like the paper's Table 1: rows are evaluated languages, columns deactivated regions. A region that is
really a language's own shows up as a dominant diagonal, which :func:`diagonal_dominance` summarises.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import numpy as np
import torch

from linguafranca.ablation.conditions import (
    BASELINE,
    RANDOM,
    Condition,
    condition_mask,
    matched_random_name,
    region_families,
)
from linguafranca.ablation.perplexity import PerplexityResult, perplexity, windows
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.methods_store import StoredMethods
from linguafranca.io.regions_store import StoredRegions, read_regions
from linguafranca.io.tsv import read_tsv, write_tsv
from linguafranca.model.architectures import down_projections, n_neurons
from linguafranca.model.hooks import deactivate
from linguafranca.model.random_masks import random_mask
from linguafranca.model.tokens import text_tensor

NOT_EVALUATED = "n/a"
"""What the tables write where a condition was not evaluated on a language."""
EMPTY = "empty"
"""What the tables write for a region with no neurons: its increase is no measurement, not 0.0 or NaN."""
CONDITION_COLUMNS = ("condition", "lang", "ppl", "nll_sum", "n_predicted", "n_windows", "compute")


@dataclass(frozen=True)
class IncreaseTable:
    """The paper's Table 1: perplexity increase (%) of each evaluated language under each condition but ``none``.

    ``increase`` is float64 ``[n_langs, n_regions]`` (``regions``: the condition names, ``random``, the regions,
    the size-matched controls), NaN where the condition was not evaluated on the language (written ``n/a``) and
    in the whole column of an empty region (written ``empty``); ``region_size`` (neurons, int64) and
    ``region_percent`` (of all neurons of the model) are ``[n_regions]``.
    """

    langs: list[str]
    regions: list[str]
    increase: np.ndarray
    region_size: np.ndarray
    region_percent: np.ndarray

    @property
    def evaluated(self) -> np.ndarray:
        """Bool ``[n_langs, n_regions]``: which cells were measured (an empty region measures nothing)."""
        return ~np.isnan(self.increase)

    @property
    def empty(self) -> np.ndarray:
        """Bool ``[n_regions]``: conditions that switch no neuron off."""
        return self.region_size == 0


def _cell(value: float, empty: bool = False) -> float | str:
    """A table value; ``empty`` for a region with no neurons, ``n/a`` where it was not measured (NaN in arrays)."""
    if empty:
        return EMPTY
    return NOT_EVALUATED if np.isnan(value) else float(value)


def _value(text: str) -> float:
    """The inverse of :func:`_cell` for a float column: ``n/a`` and ``empty`` read back as NaN."""
    return float("nan") if text in (NOT_EVALUATED, EMPTY) else float(text)


def text_windows(
    tokenizer,
    texts: dict[str, str],
    seqlen: int,
    max_tokens: int | None,
    bos: bool | None,
    bos_per_window: bool = False,
) -> dict[str, torch.Tensor]:
    """Each language's perplexity windows ``[n_windows, seqlen]``, tokenised once for every condition of a job
    (tokenising a whole book costs more than a tiny model's forward passes).

    ``bos`` is the model's BOS policy (:mod:`linguafranca.model.tokens`; the paper: the tokenizer's default, one BOS for
    the whole text). ``bos_per_window=True`` instead starts every window with BOS (see
    :func:`~linguafranca.ablation.perplexity.windows`); it contradicts ``bos=False``.
    """
    if bos_per_window and (bos is False or tokenizer.bos_token_id is None):
        raise LinguaFrancaError("perplexity bos_per_window needs a tokenizer with a BOS token and bos not false")
    bos_id = tokenizer.bos_token_id if bos_per_window else None
    return {
        lang: windows(text_tensor(tokenizer, text, False if bos_per_window else bos), seqlen, max_tokens, bos_id)
        for lang, text in texts.items()
    }


def model_random_mask(model: torch.nn.Module, fraction: float, seed: int) -> np.ndarray:
    """The ``random`` condition's mask, drawn over ``model``'s neurons ``[n_layers, n_neurons]`` as the regions stage
    draws its ``random_mask`` (the same fraction and seed give the same mask), without a regions store: so the
    random control's perplexity and reasoning jobs depend on no threshold."""
    return random_mask((len(down_projections(model)), n_neurons(model)), fraction, seed)


def job_mask(
    model: torch.nn.Module,
    condition: str,
    regions: StoredRegions | None,
    random: dict[str, float] | None,
    methods: StoredMethods | None = None,
) -> np.ndarray | None:
    """What a deactivation job switches off for ``condition``: nothing (None) for the baseline, the model's own
    draw for ``random`` (``random``: its ``fraction`` and ``seed``), else the condition's mask from ``regions`` (or,
    for another method's region, from ``methods``)."""
    if condition == BASELINE:
        return None
    if condition == RANDOM:
        if random is None:
            raise LinguaFrancaError("the random condition needs its fraction and seed (regions.random_fraction, seed)")
        return model_random_mask(model, **random)
    return condition_mask(regions, condition, methods)


def evaluate_condition(
    model: torch.nn.Module,
    windows_by_lang: dict[str, torch.Tensor],
    mask: np.ndarray | None,
    batch_size: int,
    progress: bool = True,
) -> dict[str, PerplexityResult]:
    """Perplexity of every language's windows (:func:`text_windows`) with the neurons of ``mask`` deactivated
    (one condition); ``mask`` None is the baseline, run without hooks."""
    with deactivate(model, mask) if mask is not None else contextlib.nullcontext():
        return {
            lang: perplexity(model, wins, batch_size, progress, desc=lang) for lang, wins in windows_by_lang.items()
        }


def write_condition(path: str | os.PathLike, condition: str, results: dict[str, PerplexityResult]) -> None:
    """One condition's results as a TSV (columns :data:`CONDITION_COLUMNS`), full float precision."""
    rows = [
        {"condition": condition, "lang": lang, "ppl": r.ppl, "nll_sum": r.nll_sum, "n_predicted": r.n_predicted,
         "n_windows": r.n_windows, "compute": r.compute}
        for lang, r in results.items()
    ]
    write_tsv(path, rows, CONDITION_COLUMNS)


def read_condition(path: str | os.PathLike, condition: str) -> dict[str, PerplexityResult]:
    """Read a TSV of :func:`write_condition`, checking that it holds ``condition``."""
    rows = read_tsv(path, CONDITION_COLUMNS)
    if not rows:
        raise LinguaFrancaError(f"{path} holds no rows: re-run its perplexity condition")
    found = {row["condition"] for row in rows}
    if found != {condition}:
        raise LinguaFrancaError(f"{path} holds condition(s) {sorted(found)}, expected {condition!r}")
    return {
        row["lang"]: PerplexityResult(
            float(row["ppl"]), float(row["nll_sum"]), int(row["n_predicted"]), int(row["n_windows"]), row["compute"]
        )
        for row in rows
    }


def _ordered_results(
    condition_tsvs: dict[str, str | os.PathLike], conditions: list[Condition]
) -> dict[str, dict[str, PerplexityResult]]:
    """Each given condition's results in table order, each covering exactly the languages it is evaluated on."""
    names = [c.name for c in conditions]
    unknown = sorted(set(condition_tsvs) - set(names))
    if unknown or BASELINE not in condition_tsvs:
        raise LinguaFrancaError(
            f"perplexity conditions {sorted(condition_tsvs)}: the baseline {BASELINE!r} is required and only "
            f"{names} are defined (unknown: {unknown})"
        )
    results = {}
    for condition in (c for c in conditions if c.name in condition_tsvs):
        by_lang = read_condition(condition_tsvs[condition.name], condition.name)
        if set(by_lang) != set(condition.evaluated):
            raise LinguaFrancaError(
                f"condition {condition.name!r} was evaluated on {sorted(by_lang)} in {condition_tsvs[condition.name]}, "
                f"but is defined on {sorted(condition.evaluated)}: re-run its perplexity job"
            )
        results[condition.name] = by_lang
    _check_one_compute(results)
    return results


def _check_one_compute(results: dict[str, dict[str, PerplexityResult]]) -> None:
    """Table 1 compares conditions, so all must come from one compute dtype (``compute: auto`` resolves per
    machine, and a changed machine reruns nothing by itself)."""
    computes = {name: {r.compute for r in by_lang.values()} for name, by_lang in results.items()}
    if len(set().union(*computes.values())) > 1:
        found = ", ".join(f"{name}: {'/'.join(sorted(c))}" for name, c in computes.items())
        raise LinguaFrancaError(
            f"perplexity conditions were computed in different dtypes ({found}), and Table 1 compares them: set the "
            "model's compute explicitly, or rerun them on one kind of machine with "
            "--forcerun ablation_baseline ablation_condition"
        )


def gather(
    condition_tsvs: dict[str, str | os.PathLike],
    conditions: list[Condition],
    regions_zarr: str | os.PathLike | StoredRegions,
    out_ppl_tsv: str | os.PathLike,
    out_increase_tsv: str | os.PathLike,
    methods: StoredMethods | None = None,
) -> IncreaseTable:
    """Combine per-condition TSVs into ``perplexity.tsv`` and the paper's Table 1, ``perplexity_increase.tsv``.

    ``conditions`` (from :func:`linguafranca.ablation.conditions.condition_list`) fixes the column order and the languages
    each TSV must hold. ``perplexity.tsv``: rows the baseline's languages, columns the given conditions, values
    PPL. ``perplexity_increase.tsv``: rows the languages then ``region_size`` and ``region_percent``, columns all
    conditions but ``none``, values % increase over ``none``. A cell whose condition was not evaluated on that
    language is ``n/a`` in both. Other methods' regions take their sizes from the methods store ``methods``.
    """
    results = _ordered_results(condition_tsvs, conditions)
    columns = list(results)
    langs = list(results[BASELINE])
    ppl = np.array(
        [[results[c][lang].ppl if lang in results[c] else np.nan for c in columns] for lang in langs],
        dtype=np.float64,
    )
    rows = [{"lang": lang, **{c: _cell(v) for c, v in zip(columns, row)}} for lang, row in zip(langs, ppl)]
    write_tsv(out_ppl_tsv, rows, ["lang", *columns])

    stored = regions_zarr if isinstance(regions_zarr, StoredRegions) else read_regions(regions_zarr)
    regions = columns[1:]
    size = np.array([int(condition_mask(stored, region, methods).sum()) for region in regions], dtype=np.int64)
    total = stored.random_mask.size
    increase = 100.0 * (ppl[:, 1:] / ppl[:, :1] - 1.0)
    increase[:, size == 0] = np.nan  # an empty region switched nothing off
    table = IncreaseTable(langs, regions, increase, size, 100.0 * size / total)
    write_increase(out_increase_tsv, table)
    return table


def write_increase(path: str | os.PathLike, table: IncreaseTable) -> None:
    """Write an :class:`IncreaseTable` as TSV (the layout :func:`read_increase` reads); empty regions read ``empty``."""
    rows = [[lang, *map(_cell, row, table.empty)] for lang, row in zip(table.langs, table.increase)]
    rows.append(["region_size", *table.region_size.tolist()])
    rows.append(["region_percent", *table.region_percent.tolist()])
    columns = ["lang", *table.regions]
    write_tsv(path, [dict(zip(columns, row)) for row in rows], columns)


def read_increase(path: str | os.PathLike) -> IncreaseTable:
    """Read ``perplexity_increase.tsv`` back into an :class:`IncreaseTable`."""
    records = read_tsv(path)
    header = list(records[0]) if records else []
    rows = [list(record.values()) for record in records]
    if len(rows) < 2 or [rows[-2][0], rows[-1][0]] != ["region_size", "region_percent"]:
        raise LinguaFrancaError(f"{path} is not a perplexity increase table (last rows region_size, region_percent)")
    return IncreaseTable(
        langs=[row[0] for row in rows[:-2]],
        regions=header[1:],
        increase=np.array([[_value(v) for v in row[1:]] for row in rows[:-2]], dtype=np.float64).reshape(
            len(rows) - 2, len(header) - 1
        ),
        region_size=np.array([int(v) for v in rows[-2][1:]], dtype=np.int64),
        region_percent=np.array([float(v) for v in rows[-1][1:]], dtype=np.float64),
    )


def _own_and_others(table: IncreaseTable, lang: str, region: str) -> tuple[float, float]:
    """``lang``'s increase with its own ``region`` off, and the mean over the other languages evaluated on it."""
    row, column = table.langs.index(lang), table.regions.index(region)
    others = np.delete(table.increase[:, column], row)
    others = others[~np.isnan(others)]
    return float(table.increase[row, column]), float(others.mean()) if others.size else float("nan")


def _dominated_regions(table: IncreaseTable) -> list[tuple[str, str]]:
    """(language, region) for every region column of an evaluated language (``{lang}``, then ``sig_{lang}`` when
    gathered), with its own cell measured or the region empty."""
    pairs = [(lang, family.prefix + lang) for family in region_families() for lang in table.langs]
    return [
        (lang, region) for lang, region in pairs
        if region in table.regions
        and (table.evaluated[table.langs.index(lang), table.regions.index(region)]
             or table.empty[table.regions.index(region)])
    ]


def diagonal_dominance(table: IncreaseTable) -> dict[str, float]:
    """For each region of an evaluated language (keyed by region name): own increase / mean increase of the others.

    ``increase[L, L] / mean(increase[M, L] for evaluated M != L)``: how much more deactivating L's region hurts
    L than the other languages (> 1 means language-specific). Division by a zero mean gives ``inf`` or ``nan``.
    """
    if len(table.langs) < 2:
        raise LinguaFrancaError("diagonal dominance compares languages, so it needs at least two evaluated languages")
    dominance = {}
    for lang, region in _dominated_regions(table):
        own, others = _own_and_others(table, lang, region)
        with np.errstate(divide="ignore", invalid="ignore"):
            dominance[region] = float(np.float64(own) / others)
    return dominance


def _matched_control(table: IncreaseTable, lang: str, region: str) -> float:
    """``lang``'s increase under ``region``'s size-matched random control; NaN where that was not measured."""
    matched = matched_random_name(region)
    if matched not in table.regions:
        return float("nan")
    return float(table.increase[table.langs.index(lang), table.regions.index(matched)])


def matched_random_ratio(table: IncreaseTable) -> dict[str, float]:
    """Per language: own-region increase / increase from its size-matched random control on the same language.

    The fair baseline for a region: a random set of exactly as many neurons. ``nan`` where the control was not
    gathered or not evaluated on the language; division by a zero control increase gives ``inf`` or ``nan``.
    """
    ratios = {}
    for lang, region in _dominated_regions(table):
        own, _ = _own_and_others(table, lang, region)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios[region] = float(np.float64(own) / _matched_control(table, lang, region))
    return ratios


DOMINANCE_COLUMNS = (
    "lang", "own_increase", "mean_other_increase", "ratio", "matched_random_increase", "ratio_to_matched_random",
    "unstable",
)

NEAR_ZERO = 1.0
"""An increase below one percentage point: a ratio over it, or over a fall, says nothing about specificity (10 / 0.01
reads as a dominance of 1,000), so the dominance table flags it."""


def ratio_flags(own: float, others: float, control: float) -> str:
    """Why the row's ratios cannot be read as dominance, ``; ``-separated, or empty: a region that does not raise
    its own language's perplexity, or a denominator at or below zero or under :data:`NEAR_ZERO` points."""
    flags = ["own_increase <= 0"] if own <= 0 else []
    for name, value in (("mean_other_increase", others), ("matched_random_increase", control)):
        if np.isnan(value):
            continue
        if value <= 0:
            flags.append(f"{name} <= 0")
        elif value < NEAR_ZERO:
            flags.append(f"{name} < {NEAR_ZERO:g}")
    return "; ".join(flags)


def write_dominance(path: str | os.PathLike, table: IncreaseTable) -> None:
    """``diagonal_dominance.tsv``: per language, own-region increase, mean increase elsewhere, their ratio, the
    size-matched random control's increase on the language, and own increase / that (``n/a`` where the control
    was not evaluated on the language), and ``unstable``: why those ratios cannot be read as dominance
    (:func:`ratio_flags`), empty when they can. With significant regions gathered, rows ``sig_{lang}`` follow the
    languages' rows: the same columns for the significant region and its own control ``random_sig_{lang}``."""
    ratios, matched = diagonal_dominance(table), matched_random_ratio(table)
    rows = []
    for lang, region in _dominated_regions(table):
        own, others = _own_and_others(table, lang, region)
        control = _matched_control(table, lang, region)
        row = {"lang": region, "own_increase": own, "mean_other_increase": others, "ratio": ratios[region],
               "matched_random_increase": _cell(control),
               "ratio_to_matched_random": NOT_EVALUATED if np.isnan(control) else matched[region],
               "unstable": ratio_flags(own, others, control)}
        if table.empty[table.regions.index(region)]:
            row = {"lang": region, **{column: EMPTY for column in DOMINANCE_COLUMNS[1:]}}
        rows.append(row)
    write_tsv(path, rows, DOMINANCE_COLUMNS)
