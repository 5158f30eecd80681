"""Deactivating neurons and measuring what it costs each language (paper Section 5, Table 1).

A condition is a set of neurons to switch off: ``none`` (the baseline), ``random`` (the regions stage's seeded
random mask, a control of comparable size) or a language's key linguistic region. Deactivating a neuron means
zeroing it where the adapters locate neurons: in the input of each layer's MLP down projection. The effect of
a condition on a language is the perplexity increase over the baseline,

    increase[lang, region] = 100 * (PPL(lang | region off) / PPL(lang | none) - 1)   (percent),

laid out like the paper's Table 1: rows are evaluated languages, columns deactivated regions. A region that is
really a language's own shows up as a dominant diagonal, which :func:`diagonal_dominance` summarises.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import torch

from .errors import LinguaFrancaError
from .hooks import deactivate
from .perplexity import PerplexityResult, perplexity, windows
from .store import read_regions
from .tokens import text_tensor
from .tsv import read_tsv, write_tsv

BASELINE = "none"
RANDOM = "random"
EMPTY = "empty"
"""What the tables write for a region with no neurons: its increase is no measurement, not 0.0 or NaN."""
CONDITION_COLUMNS = ("condition", "lang", "ppl", "nll_sum", "n_predicted", "n_windows")


@dataclass(frozen=True)
class IncreaseTable:
    """The paper's Table 1: perplexity increase (%) of each evaluated language when each region is off.

    ``increase`` is float64 ``[n_langs, n_regions]``; ``region_size`` (neurons, int64) and ``region_percent``
    (of all neurons of the model) are ``[n_regions]``.
    """

    langs: list[str]
    regions: list[str]
    increase: np.ndarray
    region_size: np.ndarray
    region_percent: np.ndarray


def conditions(regions_zarr: str | os.PathLike) -> list[str]:
    """All conditions a regions store defines, in table order: ``none``, ``random``, then each language."""
    return [BASELINE, RANDOM, *read_regions(regions_zarr).langs]


def condition_mask(regions_zarr: str | os.PathLike, condition: str) -> np.ndarray:
    """The bool mask ``[n_layers, n_neurons]`` of a condition: all false for ``none``."""
    regions = read_regions(regions_zarr)
    if condition == BASELINE:
        return np.zeros(regions.random_mask.shape, dtype=bool)
    if condition == RANDOM:
        return regions.random_mask
    if condition in regions.langs:
        return regions.mask[regions.langs.index(condition)]
    allowed = ", ".join([BASELINE, RANDOM, *regions.langs])
    raise LinguaFrancaError(f"unknown deactivation condition {condition!r}; {regions_zarr} defines {allowed}")


def evaluate_condition(
    model: torch.nn.Module,
    tokenizer,
    texts: dict[str, str],
    mask: np.ndarray,
    seqlen: int,
    max_tokens: int | None,
    batch_size: int,
    bos: bool | None,
    progress: bool = True,
    bos_per_window: bool = False,
) -> dict[str, PerplexityResult]:
    """Perplexity of every language's text with the neurons of ``mask`` deactivated (one condition).

    ``bos`` is the model's BOS policy (:mod:`linguafranca.tokens`; the paper: the tokenizer's default, one BOS for
    the whole text). ``bos_per_window=True`` instead starts every window with BOS (see
    :func:`~linguafranca.perplexity.windows`); it contradicts ``bos=False``.
    """
    if bos_per_window and (bos is False or tokenizer.bos_token_id is None):
        raise LinguaFrancaError("perplexity bos_per_window needs a tokenizer with a BOS token and bos not false")
    bos_id = tokenizer.bos_token_id if bos_per_window else None
    results = {}
    with deactivate(model, mask):
        for lang, text in texts.items():
            ids = text_tensor(tokenizer, text, False if bos_per_window else bos)
            wins = windows(ids, seqlen, max_tokens, bos_id)
            results[lang] = perplexity(model, wins, batch_size, progress, desc=lang)
    return results


def write_condition(path: str | os.PathLike, condition: str, results: dict[str, PerplexityResult]) -> None:
    """One condition's results as a TSV (columns :data:`CONDITION_COLUMNS`), full float precision."""
    rows = [
        {"condition": condition, "lang": lang, "ppl": r.ppl, "nll_sum": r.nll_sum, "n_predicted": r.n_predicted,
         "n_windows": r.n_windows}
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
            float(row["ppl"]), float(row["nll_sum"]), int(row["n_predicted"]), int(row["n_windows"])
        )
        for row in rows
    }


def _ordered_results(
    condition_tsvs: dict[str, str | os.PathLike], regions_zarr: str | os.PathLike
) -> dict[str, dict[str, PerplexityResult]]:
    """Each condition's results, in table order, all over the same languages."""
    order = conditions(regions_zarr)
    unknown = sorted(set(condition_tsvs) - set(order))
    if unknown or BASELINE not in condition_tsvs:
        raise LinguaFrancaError(
            f"perplexity conditions {sorted(condition_tsvs)}: the baseline {BASELINE!r} is required and only "
            f"{order} are defined by {regions_zarr} (unknown: {unknown})"
        )
    results = {c: read_condition(condition_tsvs[c], c) for c in order if c in condition_tsvs}
    langs = list(results[BASELINE])
    for condition, by_lang in results.items():
        if set(by_lang) != set(langs):
            raise LinguaFrancaError(
                f"condition {condition!r} was evaluated on {sorted(by_lang)}, the baseline on {sorted(langs)}; "
                "every condition must cover the same languages"
            )
    return results


def gather(
    condition_tsvs: dict[str, str | os.PathLike],
    regions_zarr: str | os.PathLike,
    out_ppl_tsv: str | os.PathLike,
    out_increase_tsv: str | os.PathLike,
) -> IncreaseTable:
    """Combine per-condition TSVs into ``perplexity.tsv`` and the paper's Table 1, ``perplexity_increase.tsv``.

    ``perplexity.tsv``: rows evaluated languages (baseline order), columns conditions (none, random, regions in
    the store's language order), values PPL. ``perplexity_increase.tsv``: rows evaluated languages then
    ``region_size`` and ``region_percent``, columns the deactivated regions, values % increase over ``none``.
    """
    results = _ordered_results(condition_tsvs, regions_zarr)
    columns = list(results)
    langs = list(results[BASELINE])
    ppl = np.array([[results[c][lang].ppl for c in columns] for lang in langs], dtype=np.float64)
    write_tsv(out_ppl_tsv, [{"lang": lang, **dict(zip(columns, row.tolist()))} for lang, row in zip(langs, ppl)],
              ["lang", *columns])

    regions = columns[1:]
    size = np.array([int(condition_mask(regions_zarr, region).sum()) for region in regions], dtype=np.int64)
    total = condition_mask(regions_zarr, BASELINE).size
    increase = 100.0 * (ppl[:, 1:] / ppl[:, :1] - 1.0)
    increase[:, size == 0] = np.nan  # an empty region switched nothing off
    table = IncreaseTable(langs, regions, increase, size, 100.0 * size / total)
    write_increase(out_increase_tsv, table)
    return table


def _cell(value: float, empty: bool) -> object:
    """A table cell: the number, or :data:`EMPTY` where the region has no neurons."""
    return EMPTY if empty else value


def _number(cell: str) -> float:
    """A table cell read back: :data:`EMPTY` becomes NaN."""
    return math.nan if cell == EMPTY else float(cell)


def write_increase(path: str | os.PathLike, table: IncreaseTable) -> None:
    """Write an :class:`IncreaseTable` as TSV (the layout :func:`read_increase` reads); empty regions read ``empty``."""
    empty = (table.region_size == 0).tolist()
    rows = [[lang, *map(_cell, row.tolist(), empty)] for lang, row in zip(table.langs, table.increase)]
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
        increase=np.array([[_number(v) for v in row[1:]] for row in rows[:-2]], dtype=np.float64).reshape(
            len(rows) - 2, len(header) - 1
        ),
        region_size=np.array([int(v) for v in rows[-2][1:]], dtype=np.int64),
        region_percent=np.array([float(v) for v in rows[-1][1:]], dtype=np.float64),
    )


def diagonal_dominance(table: IncreaseTable) -> dict[str, float]:
    """For each language that is both evaluated and a region: own increase / mean increase of the others.

    ``increase[L, L] / mean(increase[M, L] for evaluated M != L)``: how much more deactivating L's region hurts
    L than the other languages (> 1 means language-specific). Division by a zero mean gives ``inf`` or ``nan``.
    """
    if len(table.langs) < 2:
        raise LinguaFrancaError("diagonal dominance compares languages, so it needs at least two evaluated languages")
    dominance = {}
    for lang in (lang for lang in table.langs if lang in table.regions):
        row, column = table.langs.index(lang), table.regions.index(lang)
        others = np.delete(table.increase[:, column], row)
        with np.errstate(divide="ignore", invalid="ignore"):
            dominance[lang] = float(np.float64(table.increase[row, column]) / others.mean())
    return dominance


def write_dominance(path: str | os.PathLike, table: IncreaseTable) -> None:
    """``diagonal_dominance.tsv``: per language, own-region increase, mean increase elsewhere, and their ratio."""
    ratios = diagonal_dominance(table)
    rows = []
    for lang, ratio in ratios.items():
        row, column = table.langs.index(lang), table.regions.index(lang)
        others = np.delete(table.increase[:, column], row).mean()
        empty = bool(table.region_size[column] == 0)
        values = (float(table.increase[row, column]), float(others), ratio)
        cells = [_cell(value, empty) for value in values]
        rows.append(dict(zip(["lang", "own_increase", "mean_other_increase", "ratio"], [lang, *cells])))
    write_tsv(path, rows, ["lang", "own_increase", "mean_other_increase", "ratio"])
