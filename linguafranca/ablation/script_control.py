"""The deactivation half of the script control: does switching off a language's region hurt its romanised text?

For each method and romanised language ``r = {base}-Latn`` of the run, from Table 1 (:class:`IncreaseTable`): the
perplexity increase of ``r`` with its base's region off beside the base's own increase, the base's region on the
run's Latin-script languages (how much of the region's harm follows the script), and the other direction (the
romanised region on the base). A region that tracks language hurts ``r`` about as much as ``base``; one that tracks
script hurts ``base`` and spares ``r``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from linguafranca.ablation.deactivation import NOT_EVALUATED, IncreaseTable
from linguafranca.io.tsv import write_tsv

COLUMNS = ("method", "lang", "base", "base_region_on_base", "base_region_on_romanised", "base_region_on_latin_mean",
           "romanised_region_on_romanised", "romanised_region_on_base", "share_on_romanised")


def _increase(table: IncreaseTable, lang: str, region: str) -> float:
    """Table 1's cell, NaN where the region is not a column or was not evaluated on the language."""
    if region not in table.regions or lang not in table.langs:
        return float("nan")
    return float(table.increase[table.langs.index(lang), table.regions.index(region)])


def script_deactivation_rows(table: IncreaseTable, prefixes: Mapping[str, str], romanised: Mapping[str, str],
                             latin: Sequence[str]) -> list[dict]:
    """One row per method (``prefixes``: method → condition-name prefix, ``""`` for the z-score) and romanised
    language (``{romanised: base}``); ``share_on_romanised`` is the romanised text's increase over the base's
    under the base's region (1: the region hurts both alike; 0: only the base's script)."""
    rows = []
    for method, prefix in prefixes.items():
        for lang, base in romanised.items():
            on_base = _increase(table, base, prefix + base)
            on_romanised = _increase(table, lang, prefix + base)
            on_latin = np.array([_increase(table, other, prefix + base) for other in latin])
            row = {"method": method, "lang": lang, "base": base, "base_region_on_base": on_base,
                   "base_region_on_romanised": on_romanised,
                   "base_region_on_latin_mean": float(np.nanmean(on_latin)) if np.isfinite(on_latin).any()
                   else float("nan"),
                   "romanised_region_on_romanised": _increase(table, lang, prefix + lang),
                   "romanised_region_on_base": _increase(table, base, prefix + lang),
                   "share_on_romanised": on_romanised / on_base if on_base > 0 else float("nan")}
            rows.append({key: NOT_EVALUATED if isinstance(value, float) and np.isnan(value) else value
                         for key, value in row.items()})
    return rows


def write_script_deactivation(path: str | os.PathLike, table: IncreaseTable, prefixes: Mapping[str, str],
                              romanised: Mapping[str, str], latin: Sequence[str]) -> None:
    """``script_control.tsv`` beside Table 1 (:data:`COLUMNS`; ``n/a`` where a cell was not evaluated)."""
    write_tsv(path, script_deactivation_rows(table, prefixes, romanised, latin), COLUMNS)
