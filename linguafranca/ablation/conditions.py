"""The deactivation conditions, defined once: their names, the languages each is evaluated on, and their masks.

A condition is a set of neurons switched off while a language is evaluated. Every stage that deactivates neurons
(perplexity, generation, and later reasoning) takes its conditions from :func:`condition_list`, so names, order
and masks agree everywhere:

- ``none``: nothing off, the baseline.
- ``random``: the regions stage's seeded random mask of ``random_fraction`` of all neurons (the paper's control).
- ``{lang}``: language ``lang``'s key region (the paper's Table 1 columns).
- ``random_{lang}``: a seeded random mask with exactly as many neurons as ``lang``'s region, the size-matched
  control. A small model loses a lot to any 10% mask, so only a control of the same size tells whether a region
  hurts because of *which* neurons it holds or merely because of *how many*.
- ``sig_{lang}`` and ``random_sig_{lang}`` (only with ``significant_regions``): ``lang``'s significant region
  (Benjamini–Hochberg over permutation p-values, see :mod:`linguafranca.analysis.permutation_null`) and its own size-matched control.
- ``{method}_{lang}`` and ``random_{method}_{lang}`` for each other selection method asked for (``lape``, ``ap``;
  the methods store of :mod:`linguafranca.io.methods_store`): that method's region of ``lang`` and its size-matched
  control. By default a method's region is evaluated on its own language and one other, a diagonal cell and an
  off-diagonal one per region: its romanised counterpart where the run has one (``hi`` and ``hi-Latn`` evaluate
  each other's, for the script control), else the next language in config order (the last language's on the
  first); ``methods_full_matrix`` evaluates it on every language.

Order: ``none``, ``random``, each language's region, then each language's size-matched control (languages in
config order), then, when asked, the significant regions and their controls, then each method's regions and their
controls (in :data:`METHODS` order). The regions are evaluated on every
language by default (Table 1 is a matrix); a size-matched control only on its own language, unless asked, since it
is read against that language's own-region increase.

Per-language condition kinds are listed in :data:`FAMILIES`, each with the regions-store array it reads; a new
kind of region is one more entry there.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from dataclasses import dataclass

import numpy as np

from linguafranca.data.scripts import romanised_pairs
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.methods_store import StoredMethods
from linguafranca.io.regions_store import StoredRegions, read_regions

BASELINE = "none"
RANDOM = "random"


@dataclass(frozen=True)
class Family:
    """Conditions with one member per language, read from one ``[n_langs, n_layers, n_neurons]`` store array.

    ``prefix`` + language is the condition's name; ``field`` names the :class:`~linguafranca.io.regions_store.StoredRegions`
    attribute that holds the masks; ``control`` marks size-matched controls (evaluated on their own language
    unless the matched-random switch is on), as opposed to regions.
    """

    kind: str
    prefix: str
    field: str
    control: bool
    significance: bool = False
    method: str | None = None

    @property
    def store(self) -> str:
        """Which store holds the masks: the regions store, or the methods store for another method's regions."""
        return "regions" if self.method is None else "methods"


REGION = Family("region", "", "mask", control=False)
MATCHED_RANDOM = Family("matched_random", "random_", "random_mask_per_language", control=True)
SIGNIFICANT = Family("significant", "sig_", "significant", control=False, significance=True)
MATCHED_SIGNIFICANT = Family(
    "matched_random_significant", "random_sig_", "random_mask_significant", control=True, significance=True
)

#: The selection methods other than the z-score whose regions can be switched off (``regions.methods``).
METHODS = ("lape", "ap")


def _method_families(method: str) -> tuple[Family, Family]:
    """A method's regions (``{method}_{lang}``) and their size-matched controls (``random_{method}_{lang}``), read
    from the methods store's ``mask`` and ``random_mask_per_language`` of that method."""
    return (Family(method, f"{method}_", "mask", control=False, method=method),
            Family(f"matched_random_{method}", f"random_{method}_", "random_mask_per_language", control=True,
                   method=method))


METHOD_FAMILIES = tuple(family for method in METHODS for family in _method_families(method))
FAMILIES = (REGION, MATCHED_RANDOM, SIGNIFICANT, MATCHED_SIGNIFICANT, *METHOD_FAMILIES)


@dataclass(frozen=True)
class Condition:
    """One condition: its ``name``, ``kind`` (``baseline``, ``random`` or a :class:`Family` kind), the language
    whose region it derives from (None for ``none`` and ``random``), and the languages it is evaluated on."""

    name: str
    kind: str
    lang: str | None
    evaluated: tuple[str, ...]


def matched_random_name(region: str) -> str:
    """The name of a region's size-matched random control: ``random_{lang}`` for region ``{lang}``,
    ``random_sig_{lang}`` for ``sig_{lang}``."""
    return MATCHED_RANDOM.prefix + region


def _check_languages(langs: Sequence[str]) -> None:
    """Language names must not collide with condition names (``none``, ``random``, ``random_…``)."""
    if len(set(langs)) != len(langs):
        raise LinguaFrancaError(f"languages {list(langs)} repeat a language: each condition needs a unique name")
    prefixes = tuple(family.prefix for family in FAMILIES if family.prefix)
    clash = [lang for lang in langs if lang in (BASELINE, RANDOM) or lang.startswith(prefixes)]
    if clash:
        raise LinguaFrancaError(
            f"a language may not be called {', '.join(clash)}: 'none', 'random', 'random_*', 'sig_*' and "
            f"{', '.join(repr(m + '_*') for m in METHODS)} name conditions"
        )


def condition_list(
    langs: Sequence[str],
    *,
    regions_on_all_languages: bool = True,
    matched_random_on_all_languages: bool = False,
    significant_regions: bool = False,
    methods: Sequence[str] = (),
    methods_full_matrix: bool = False,
) -> list[Condition]:
    """Every condition for ``langs`` (config order), in table order, with the languages each is evaluated on.

    ``none`` and ``random`` are evaluated on every language. Regions are evaluated on every language
    (``regions_on_all_languages``, the paper's Table 1) or on their own only; size-matched controls on their own
    language (default) or on all (``matched_random_on_all_languages``). ``significant_regions`` adds the
    significant regions and their controls, evaluated like the paper's regions and controls. ``methods`` (of
    :data:`METHODS`) adds each method's regions, evaluated on their own and the next language, or on all with
    ``methods_full_matrix``, and their controls, evaluated like the paper's controls.
    """
    langs = list(langs)
    _check_languages(langs)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise LinguaFrancaError(f"unknown selection method(s) {unknown}: choose from {', '.join(METHODS)}")
    everywhere = tuple(langs)
    conditions = [Condition(BASELINE, "baseline", None, everywhere), Condition(RANDOM, "random", None, everywhere)]
    for family in (f for f in FAMILIES if _asked(f, significant_regions, methods)):
        conditions += [
            Condition(family.prefix + lang, family.kind, lang,
                      _evaluated_on(family, index, everywhere, regions_on_all_languages,
                                    matched_random_on_all_languages, methods_full_matrix))
            for index, lang in enumerate(langs)
        ]
    return conditions


def _asked(family: Family, significant_regions: bool, methods: Sequence[str]) -> bool:
    """Whether ``condition_list`` includes the family's conditions."""
    if family.method is not None:
        return family.method in methods
    return significant_regions or not family.significance


def _evaluated_on(family: Family, index: int, langs: tuple[str, ...], regions_on_all: bool, controls_on_all: bool,
                  methods_full_matrix: bool) -> tuple[str, ...]:
    """The languages the ``index``-th language's condition of ``family`` is evaluated on."""
    if family.control:
        return langs if controls_on_all else (langs[index],)
    if family.method is None:
        return langs if regions_on_all else (langs[index],)
    if methods_full_matrix or len(langs) < 2:
        return langs
    counterparts = romanised_pairs(langs)
    counterparts.update({base: romanised for romanised, base in counterparts.items()})
    other = counterparts.get(langs[index], langs[(index + 1) % len(langs)])
    return tuple(lang for lang in langs if lang in (langs[index], other))


def is_method_condition(condition: Condition) -> bool:
    """Whether ``condition`` switches off another method's region or control (it reads the methods store)."""
    return any(family.kind == condition.kind for family in METHOD_FAMILIES)


def method_condition_name(path: str | os.PathLike) -> str:
    """The condition of a method condition's file ``.../methods/{method}/{member}.tsv`` (member: the language of
    the region, or ``random_{lang}`` of its control): ``{method}_{lang}`` or ``random_{method}_{lang}``."""
    method, member = Path(path).parent.name, Path(path).stem
    return f"random_{method}_{member[len('random_'):]}" if member.startswith("random_") else f"{method}_{member}"


def paper_conditions(langs: Sequence[str]) -> list[Condition]:
    """The paper's conditions only: ``none``, ``random`` and each language's region (what generation uses)."""
    return [c for c in condition_list(langs) if c.kind != MATCHED_RANDOM.kind]


def region_families() -> list[Family]:
    """The families of regions (not controls), each read against its own size-matched control family."""
    return [family for family in FAMILIES if not family.control]


def by_name(conditions: Sequence[Condition], name: str) -> Condition:
    """The condition called ``name``; an unknown name is an error that lists the defined ones."""
    for condition in conditions:
        if condition.name == name:
            return condition
    allowed = ", ".join(c.name for c in conditions)
    raise LinguaFrancaError(f"unknown deactivation condition {name!r}; defined conditions: {allowed}")


def condition_mask(
    regions: StoredRegions | str | os.PathLike | None, name: str, methods: StoredMethods | None = None
) -> np.ndarray:
    """The bool mask ``[n_layers, n_neurons]`` of condition ``name`` from a regions store (all false for ``none``),
    or, for another method's region or control, from the methods store ``methods``.

    ``regions`` is a store path or an already read :class:`~linguafranca.io.regions_store.StoredRegions` (read it once when
    taking several masks); None for a job that switches off other methods' regions only, which reads no z-score
    threshold's store.
    """
    stored = regions if isinstance(regions, StoredRegions) or regions is None else read_regions(regions)
    source = stored if stored is not None else methods
    if source is None:
        raise LinguaFrancaError(f"condition {name!r} switches off a region, but the job read no regions store")
    condition = by_name(condition_list(source.langs, significant_regions=True, methods=METHODS), name)
    family = next((f for f in FAMILIES if f.kind == condition.kind), None)
    if family is not None and family.method is not None:
        if methods is None:
            raise LinguaFrancaError(f"condition {name!r} is a region of method {family.method}, but the job read no "
                                    "methods store")
        return np.asarray(methods.masks(family.method, family.control)[methods.langs.index(condition.lang)])
    if stored is None:
        raise LinguaFrancaError(f"condition {name!r} needs the regions store, but the job read only the methods store")
    if condition.kind == "baseline":
        return np.zeros(stored.random_mask.shape, dtype=bool)
    if condition.kind == "random":
        return stored.random_mask
    masks = getattr(stored, family.field)
    if masks is None:
        raise LinguaFrancaError(
            f"condition {name!r} needs significant regions, but the regions store has none: set "
            "regions.significance_permutations above 0"
        )
    return np.asarray(masks[stored.langs.index(condition.lang)])
