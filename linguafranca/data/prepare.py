"""Turn a dataset entry of the config into one JSON Lines file per language, checked to be parallel.

This is the one place where every loader's output is checked the same way, so capture and the analyses can
take sample i of every language to mean the same thing without looking again.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from linguafranca.data.bible import database, load_bible, verse_gaps
from linguafranca.data.hub import load_hf, local_data_files
from linguafranca.data.romanize import romanisation, romanize_samples, romanized_base, source_language
from linguafranca.data.samples import Sample, read_jsonl, write_jsonl
from linguafranca.data.table import load_table, table_paths
from linguafranca.data.textfiles import load_textfiles, textfiles_paths
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.atomic import write_text

Loader = Callable[[dict[str, Any], list[str]], dict[str, list[Sample]]]

LOADERS: dict[str, Loader] = {"bible": load_bible, "textfiles": load_textfiles, "table": load_table, "hf": load_hf}
"""Every loader by the name a config's ``loader`` key uses; each takes (options, languages) and returns
lang -> samples, languages in the order given."""


INPUT_FILES: dict[str, Callable[[dict[str, Any], list[str]], list[Path]]] = {
    "bible": lambda options, languages: [database(options)],
    "textfiles": lambda options, languages: list(textfiles_paths(options, languages).values()),
    "table": lambda options, languages: list(table_paths(options, languages).values()),
    "hf": local_data_files,
}
"""The local files each loader reads, by loader name; each takes (options, languages)."""


PER_LANGUAGE_OPTIONS: dict[str, tuple[str, ...]] = {
    "bible": ("translations",),
    "textfiles": ("files",),
    "table": ("files",),
    "hf": ("data_files", "configs"),
}
"""The options of each loader that map languages to values (a file, a translation code, a hub configuration)."""


SET_GAPS: dict[str, Callable[[dict[str, Any], list[str]], list[str]]] = {"bible": verse_gaps}
"""Loaders that leave out of every language what one language of the set lacks (the Bible's verse gaps), by
name: each gives the ids to leave out, which the loader's ``skip`` option takes."""


@lru_cache(maxsize=64)
def _gaps(loader: str, options: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    """The set's gaps, once per workflow process: every language's job asks for the same set."""
    return tuple(SET_GAPS[loader](json.loads(options), list(languages)))


def language_spec(spec: dict[str, Any], lang: str, languages: list[str]) -> dict[str, Any]:
    """The dataset entry as one language's preparation sees it: each per-language option narrowed to ``lang``,
    and for a loader that aligns the set (the Bible's) the set's gaps in ``skip``.

    The workflow gives this to ``prepare_language`` as a param, so that adding, dropping or changing another
    language's file leaves this language's job as it was, unless it changes the gaps, which change this
    language's text too. A mapping without ``lang`` stays whole, so that the loader's message can list the
    languages it does know. Gaps that cannot be found (an unknown language, a missing database) are left to the
    jobs, whose own loading stops with the loader's message.

    A ``-Latn`` code romanised from its base (the entry's ``romanize``, default true) sees the base's entry, and
    its ``romanize`` becomes the :func:`~linguafranca.data.romanize.romanisation` record, so that another uroman
    version reruns it; with ``romanize: false`` it stays false, and the loader is asked for the code itself. Other
    languages' entries drop ``romanize``: the setting does not change their text, so it reruns none of them.
    """
    romanize = spec.get("romanize", True)
    source = source_language(lang, romanize)
    sources = [source_language(other, romanize) for other in languages]
    narrowed = _narrowed({key: value for key, value in spec.items() if key != "romanize"}, source, sources)
    if romanized_base(lang):
        narrowed["romanize"] = romanisation(source) if romanize else False
    return narrowed


def _narrowed(spec: dict[str, Any], lang: str, languages: list[str]) -> dict[str, Any]:
    """:func:`language_spec` for the language whose text the loader reads."""
    options = dict(spec.get("options") or {})
    loader = spec.get("loader")
    if loader in SET_GAPS:
        try:
            gaps = _gaps(loader, json.dumps(options, sort_keys=True), tuple(sorted({*languages, lang})))
        except LinguaFrancaError:
            gaps = ()
        skip = options.get("skip", [])
        if isinstance(skip, list):  # anything else is left for the loader to refuse, naming the option
            options["skip"] = skip + [verse for verse in gaps if verse not in skip]
    for name in PER_LANGUAGE_OPTIONS.get(loader, ()):
        value = options.get(name)
        if isinstance(value, dict) and lang in value:
            options[name] = {lang: value[lang]}
    return {**spec, "options": options}


def dataset_files(spec: dict[str, Any], languages: list[str]) -> list[str]:
    """The local files a dataset entry is read from for ``languages``, each once, in the order of the languages.

    The workflow takes them as the inputs of ``prepare_dataset``: Snakemake reruns a job when an input is newer
    than its outputs and its checksum changed (over 1 MB: when it is newer), so an edited text file or database
    reruns it, and what follows through its output. Hub datasets have no local file. A romanised ``-Latn``
    language is read from its base's files.
    """
    loader = spec.get("loader")
    if loader not in INPUT_FILES:
        raise LinguaFrancaError(f"unknown loader {loader!r}; the loaders are {', '.join(INPUT_FILES)}")
    sources = [source_language(lang, spec.get("romanize", True)) for lang in languages]
    files = INPUT_FILES[loader](spec.get("options") or {}, list(dict.fromkeys(sources)))
    return list(dict.fromkeys(str(path) for path in files))


def _some(ids: list[str], shown: int = 5) -> str:
    """The first few ids and how many there are: enough to find the problem, short enough to read."""
    listed = ", ".join(map(repr, ids[:shown]))
    return f"{listed}{', ...' if len(ids) > shown else ''} ({len(ids)} in all)"


def blank(text: str) -> bool:
    """Whether ``text`` has nothing a tokenizer could read as a word: only white space and invisible format or control
    characters (a zero-width space U+200B, a joiner U+200D, a byte-order mark U+FEFF)."""
    return all(char.isspace() or unicodedata.category(char) in ("Cf", "Cc") for char in text)


def check_samples(dataset: str, lang: str, samples: list[Sample]) -> None:
    """A language must have samples and no empty text (nor text of only invisible characters)."""
    if not samples:
        raise LinguaFrancaError(f"dataset {dataset!r}: language {lang!r} has no samples")
    empty = [sample.id for sample in samples if blank(sample.text)]
    if empty:
        raise LinguaFrancaError(f"dataset {dataset!r}: language {lang!r} has empty text for id {_some(empty)}")


def warn_same_text(dataset: str, kept: dict[str, list[Sample]]) -> None:
    """Warn when two languages have the very same texts: the same file given twice, or one copied over another.

    Not an error: a short list of names or numbers may be truly identical across languages.
    """
    first: dict[tuple[str, ...], str] = {}
    for lang, rows in kept.items():
        texts = tuple(sample.text for sample in rows)
        if texts in first:
            logging.warning(
                "dataset %r: languages %s and %s have the same text in all %d samples; was the same file given for "
                "both?", dataset, first[texts], lang, len(texts)
            )
        first.setdefault(texts, lang)


def normalised(samples: list[Sample]) -> list[Sample]:
    """Texts in Unicode NFC, whatever the loader: the same word typed composed (é) or decomposed (e + U+0301) must
    reach the tokenizer as the same bytes. The Bible's cleaning does this already; here every loader gets it."""
    return [Sample(sample.id, unicodedata.normalize("NFC", sample.text)) for sample in samples]


def check_unique(dataset: str, lang: str, loaded: list[Sample]) -> None:
    """No id twice in everything the loader returned, not only in the first ``samples``.

    Ids are what aligns the languages. A repeat anywhere in the file, even beyond the first ``samples``, can move
    another sample out of the selection (the table loader orders rows by id), so the whole file is checked.
    """
    repeated = [sample_id for sample_id, count in Counter(sample.id for sample in loaded).items() if count > 1]
    if repeated:
        raise LinguaFrancaError(
            f"dataset {dataset!r}: language {lang!r} repeats id {_some(repeated)}; ids must be unique in the whole file"
        )


def check_count(dataset: str, lang: str, loaded: list[Sample], samples: int | None) -> None:
    """Asking for more samples than a language has is refused rather than silently taking fewer."""
    if samples is not None and len(loaded) < samples:
        raise LinguaFrancaError(
            f"dataset {dataset!r}: samples is {samples}, but language {lang!r} has only {len(loaded)}; "
            f"set samples to {len(loaded)} or fewer (or 'all') in datasets.{dataset}.samples or the top-level samples"
        )


def check_alignment(dataset: str, kept: dict[str, list[Sample]], loaded_ids: dict[str, list[str]]) -> None:
    """Every language must keep exactly the first language's ids, in the same order.

    ``kept`` holds the samples to be written and ``loaded_ids`` the ids of everything the loader returned, so that
    the message names ids truly absent from a language (missing) or absent from the first language (extra), not
    ids that a gap merely pushed out of the first ``samples``.
    """
    reference, *others = kept
    expected = [sample.id for sample in kept[reference]]
    everywhere = set(loaded_ids[reference])
    for lang in others:
        ids = [sample.id for sample in kept[lang]]
        if ids == expected:
            continue
        present = set(loaded_ids[lang])
        missing = [sample_id for sample_id in expected if sample_id not in present]
        extra = [sample_id for sample_id in ids if sample_id not in everywhere]
        problems = [f"missing ids {_some(missing)}"] if missing else []
        problems += [f"extra ids {_some(extra)}"] if extra else []
        if not problems:
            position = next((i for i, pair in enumerate(zip(expected, ids)) if pair[0] != pair[1]), len(ids))
            problems = [
                f"the same ids in another order: sample {position} is "
                f"{ids[position] if position < len(ids) else None!r}, in {reference!r} "
                f"{expected[position] if position < len(expected) else None!r}"
            ]
        raise LinguaFrancaError(
            f"dataset {dataset!r} is not parallel: language {lang!r} against {reference!r} has {'; '.join(problems)}"
        )


class Prepared(NamedTuple):
    """One language of a dataset, checked on its own: the samples to write, the ids of all the loader gave, and
    for a romanised language its :func:`~linguafranca.data.romanize.romanisation` record (None otherwise)."""

    kept: list[Sample]
    loaded_ids: list[str]
    romanized: dict[str, Any] | None = None


def _loader(name: str, spec: dict[str, Any]) -> Loader:
    loader = LOADERS.get(spec.get("loader"))
    if loader is None:
        raise LinguaFrancaError(
            f"dataset {name!r}: unknown loader {spec.get('loader')!r}; the loaders are {', '.join(LOADERS)}"
        )
    return loader


def load_language(name: str, spec: dict[str, Any], lang: str, samples: int | None) -> Prepared:
    """Load one language of dataset ``name`` and check what needs no other language: samples, ids, count.

    ``spec`` is the config entry ``{"loader": ..., "options": {...}, "aligned": true}``; ``samples`` (the caller
    resolves the entry's own ``samples`` against the top-level one) keeps the first N samples, None keeps all; a
    language with fewer than N is an error. The loader is asked for this language alone, so that the workflow
    prepares each language in its own job and an edit to one language's file reruns that language only. A ``-Latn``
    code (unless ``romanize`` is false) is its base's samples romanised with uroman, the first N only.
    """
    loader = _loader(name, spec)
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        raise LinguaFrancaError(f"dataset {name!r}: samples must be a positive integer or null, not {samples!r}")
    romanized = spec.get("romanize", True) is not False and romanized_base(lang) is not None
    source = source_language(lang, romanized)
    loaded = loader(spec.get("options") or {}, [source]).get(source, [])
    kept = normalised(loaded[:samples])
    check_samples(name, source, kept)
    check_unique(name, source, loaded)
    check_count(name, source, loaded, samples)
    if not romanized:
        return Prepared(kept, [sample.id for sample in loaded])
    kept = romanize_samples(f"dataset {name!r}", lang, kept)
    check_samples(name, lang, kept)
    return Prepared(kept, [sample.id for sample in loaded], romanisation(source))


def check_language_set(name: str, spec: dict[str, Any], prepared: dict[str, Prepared]) -> None:
    """What needs every language at once: the same ids in the same order when ``aligned`` (the default; a
    non-parallel dataset for perplexity sets it false), and a warning for languages with the very same texts."""
    if not prepared:
        raise LinguaFrancaError(f"dataset {name!r}: no languages requested")
    kept = {lang: language.kept for lang, language in prepared.items()}
    if spec.get("aligned", True):
        check_alignment(name, kept, {lang: language.loaded_ids for lang, language in prepared.items()})
    warn_same_text(name, kept)


def prepare_dataset(
    name: str, spec: dict[str, Any], languages: list[str], samples: int | None, out_dir: str | Path
) -> None:
    """Load dataset ``name`` for ``languages``, check them one by one and as a set, then write
    ``out_dir/{lang}.jsonl`` for every language, atomically; nothing is written unless every check passes.

    The workflow runs the two halves as separate jobs (:func:`prepare_language` per language, then
    :func:`check_prepared_set`); this is both in one call, for scripts and tests.
    """
    prepared = {lang: load_language(name, language_spec(spec, lang, languages), lang, samples) for lang in languages}
    check_language_set(name, spec, prepared)
    for lang, language in prepared.items():
        write_jsonl(Path(out_dir) / f"{lang}.jsonl", language.kept, _provenance(language))


def _provenance(language: Prepared) -> dict[str, Any]:
    """The fields every record of a language carries beyond id and text: ``romanized`` for a romanised one."""
    return {"romanized": language.romanized} if language.romanized else {}


def prepare_language(
    name: str, spec: dict[str, Any], lang: str, samples: int | None, text: str | Path, ids: str | Path
) -> None:
    """The workflow's job for one language: ``text`` (its JSON Lines) and ``ids`` (a JSON list of every id the
    loader gave, in its order, which the set's check needs to tell a missing id from one pushed out of the first
    ``samples``), both atomically."""
    language = load_language(name, spec, lang, samples)
    write_jsonl(text, language.kept, _provenance(language))
    write_text(ids, json.dumps(language.loaded_ids, ensure_ascii=False) + "\n")


def check_prepared_set(
    name: str, spec: dict[str, Any], texts: dict[str, str | Path], ids: dict[str, str | Path], out: str | Path
) -> None:
    """The workflow's job for the language set: check the prepared languages together and write ``out``, a JSON
    record of the set (dataset, languages in config order, aligned, samples per language) that every job combining
    languages takes as an input, so that a new, dropped or reordered language reruns those jobs and no capture."""
    prepared = {
        lang: Prepared(read_jsonl(texts[lang]), json.loads(Path(ids[lang]).read_text(encoding="utf-8")))
        for lang in texts
    }
    check_language_set(name, spec, prepared)
    record = {
        "dataset": name,
        "languages": list(prepared),
        "aligned": bool(spec.get("aligned", True)),
        "samples": {lang: len(language.kept) for lang, language in prepared.items()},
    }
    write_text(out, json.dumps(record, ensure_ascii=False, indent=1) + "\n")
