"""Parallel text in, one JSON Lines file per language out: the loaders behind a config's ``datasets`` entries.

A loader (``bible``, ``textfiles``, ``table``, ``hf``) takes the entry's options and the languages and returns
lang -> list of :class:`Sample`; :func:`prepare_dataset` checks the result is parallel and writes it; later
stages read it back with :func:`read_jsonl`.
"""

from linguafranca.data.bible import CATALOGUE, TRANSLATIONS, load_bible
from linguafranca.data.clean import clean_verse
from linguafranca.data.hub import XLSUM, XLSUM_CONFIGS, load_hf
from linguafranca.data.prepare import LOADERS, check_alignment, dataset_files, prepare_dataset
from linguafranca.data.samples import Sample, read_jsonl, write_jsonl
from linguafranca.data.table import load_table
from linguafranca.data.textfiles import NTREX_FILES, load_textfiles

__all__ = [
    "CATALOGUE",
    "LOADERS",
    "NTREX_FILES",
    "TRANSLATIONS",
    "XLSUM",
    "XLSUM_CONFIGS",
    "Sample",
    "check_alignment",
    "clean_verse",
    "dataset_files",
    "load_bible",
    "load_hf",
    "load_table",
    "load_textfiles",
    "prepare_dataset",
    "read_jsonl",
    "write_jsonl",
]
