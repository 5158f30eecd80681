"""Text from Hugging Face ``datasets``, for users with a network (or a local cache, or local files read through
the packaged builders ``json``, ``csv`` and ``parquet``).

``datasets`` is imported inside the loader, so the rest of the workflow neither needs nor pays for it.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from linguafranca.data.options import check_options, get_option, per_language
from linguafranca.data.samples import Sample, id_text
from linguafranca.errors import LinguaFrancaError

OPTIONS = ("path", "configs", "data_files", "split", "columns", "revision")

XLSUM_CONFIGS = {
    "en": "english",
    "zh": "chinese_simplified",
    "fr": "french",
    "es": "spanish",
    "pt": "portuguese",
    "ar": "arabic",
    "vi": "vietnamese",
    "hi": "hindi",
    "id": "indonesian",
}
"""XL-Sum's configuration (one per language) for each project language."""

XLSUM = {
    "loader": "hf",
    "options": {
        "path": "parquet",
        "data_files": {
            lang: f"hf://datasets/csebuetnlp/xlsum@refs%2Fconvert%2Fparquet/{config}/validation/*.parquet"
            for lang, config in XLSUM_CONFIGS.items()
        },
        "split": "validation",
        "columns": {"id": "id", "text": "text"},
    },
    "samples": 500,
    "aligned": False,
}
"""XL-Sum (Hasan et al., 2021) BBC articles for perplexity: the first 500 validation articles of each language.

Not parallel (each language's articles are its own). ``csebuetnlp/xlsum`` is a loading-script dataset, which
``datasets`` 4 and later no longer run, so this reads the Hub's own Parquet export of it (the
``refs/convert/parquet`` branch, one folder per configuration and split) through the ``parquet`` builder."""


def _load_split(datasets: Any, path: str, config: str | None, files: Any, split: str, revision: str | None) -> Any:
    try:
        return datasets.load_dataset(
            path, name=config, data_files={split: files} if files else None, split=split, revision=revision
        )
    except Exception as error:  # a missing dataset, config, split or network: the user can act on each
        raise LinguaFrancaError(
            f"loader 'hf': cannot load {path!r} (config {config!r}, data_files {files!r}, split {split!r}, "
            f"revision {revision!r}): {type(error).__name__}: {error}"
        ) from error


def local_data_files(options: dict[str, Any], languages: list[str]) -> list[Path]:
    """The local files among the requested languages' ``data_files`` (globs expanded), for the packaged builders
    that read them; also the inputs of ``prepare_dataset``, so an edited file reruns it. Hub datasets and
    ``hf://`` paths have no local file: they are pinned by ``revision``."""
    data_files = options.get("data_files")
    chosen = [data_files.get(lang) for lang in languages] if isinstance(data_files, dict) else [data_files]
    patterns = [p for entry in chosen for p in (entry if isinstance(entry, list) else [entry]) if isinstance(p, str)]
    return [Path(path) for pattern in patterns for path in sorted(glob.glob(pattern)) if Path(path).is_file()]


def load_hf(options: dict[str, Any], languages: list[str]) -> dict[str, list[Sample]]:
    """Rows of one split per language; ids from an id column, or the row index when there is none.

    Options:
    - ``path`` (str, required): the dataset id on the Hub (``csebuetnlp/xlsum``) or a packaged builder
      (``json``, ``csv``, ``parquet``) together with ``data_files``.
    - ``configs`` (object lang -> configuration name, optional): the dataset configuration of each language.
    - ``data_files`` (object lang -> path, glob or list of them, or one of those for every language; optional):
      the files of each language, read as the split ``split``.
    - ``split`` (str, default "test"): the split to read.
    - ``columns`` (object {"id": str or null, "text": str}, default {"text": "text"}): the columns holding the id
      and the text; without an id column the id is the row number from 0.
    - ``revision`` (str, optional): a branch, tag or commit of the Hub dataset, to pin the data.

    Every language must be named in ``configs`` or in a ``data_files`` object.
    """
    check_options("hf", options, OPTIONS)
    path = get_option("hf", options, "path", str)
    configs = get_option("hf", options, "configs", dict, {})
    data_files = get_option("hf", options, "data_files", (dict, str, list), None)
    split = get_option("hf", options, "split", str, "test")
    revision = get_option("hf", options, "revision", str, None)
    columns = get_option("hf", options, "columns", dict, {"text": "text"})
    id_column, text_column = columns.get("id"), columns.get("text", "text")
    files_by_lang = data_files if isinstance(data_files, dict) else {}
    per_language("hf", {**dict.fromkeys(files_by_lang), **configs}, languages, "configuration or data_files")
    try:
        import datasets
    except ImportError:
        raise LinguaFrancaError("loader 'hf' needs the package datasets (pip install datasets)") from None
    samples = {}
    for lang in languages:
        files = files_by_lang.get(lang) if isinstance(data_files, dict) else data_files
        table = _load_split(datasets, path, configs.get(lang), files, split, revision)
        absent = [column for column in (id_column, text_column) if column and column not in table.column_names]
        if absent:
            raise LinguaFrancaError(
                f"loader 'hf': {path!r} ({lang}) has no column {', '.join(map(repr, absent))}; "
                f"it has {', '.join(table.column_names)} (option 'columns')"
            )
        ids = list(table[id_column]) if id_column else range(len(table))
        samples[lang] = [
            Sample(_hub_id(path, lang, sample_id), text if isinstance(text, str) else "")
            for sample_id, text in zip(ids, table[text_column], strict=True)
        ]
    return samples


def _hub_id(path: str, lang: str, value: object) -> str:
    """The id of one hub row (an index when there is no id column), refused when it is null or not an id."""
    sample_id = id_text(value)
    if sample_id is None:
        raise LinguaFrancaError(
            f"loader 'hf': {path!r} ({lang}) has the id {value!r}; an id must be a string or an integer (option 'columns')"
        )
    return sample_id
