"""The similarity file (``similarity.h5``, HDF5): its checksummed datasets as they are read back."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.checksummed import DATASET_CHECKSUM, checksum, rebuild_error

SIMILARITY_FILE = "similarity file"


def read_h5(h5_path: str | os.PathLike, names: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Datasets ``names`` of an HDF5 file written here, each verified against its checksum (strings as str),
    and the file's attributes."""
    path = Path(h5_path)
    if not path.exists():
        raise LinguaFrancaError(f"{SIMILARITY_FILE} {str(path)!r} does not exist: run the similarity stage first")
    try:
        with h5py.File(path, "r") as h5:
            attrs = dict(h5.attrs)
            values = {name: _read_dataset(path, h5, name) for name in names}
    except OSError as error:  # h5py raises OSError on a truncated or otherwise unreadable file
        raise rebuild_error(SIMILARITY_FILE, path, f"is damaged: it cannot be read as HDF5 ({error})") from error
    return values, attrs


def _read_dataset(path: Path, h5: h5py.File, name: str) -> np.ndarray:
    if name not in h5:
        raise rebuild_error(SIMILARITY_FILE, path, f"is damaged: dataset {name!r} is missing")
    dataset = h5[name]
    if DATASET_CHECKSUM not in dataset.attrs:
        raise rebuild_error(
            SIMILARITY_FILE, path, f"cannot be verified: dataset {name!r} records no checksum (attribute "
            f"{DATASET_CHECKSUM!r}; files written by earlier versions of linguafranca lack it)"
        )
    values = dataset.asstr()[...] if h5py.check_string_dtype(dataset.dtype) else dataset[...]
    if checksum(values) != int(dataset.attrs[DATASET_CHECKSUM]):
        raise rebuild_error(
            SIMILARITY_FILE, path, f"is damaged: dataset {name!r} does not match the checksum recorded when it was "
            "written"
        )
    return values


def read_norms(h5_path: str | os.PathLike, languages: Sequence[str]) -> np.ndarray:
    """Whole-model norms float64 ``[N]`` from ``similarity.h5``, verified, and checked to be in the given language
    order."""
    values, attrs = read_h5(h5_path, ["norms"])
    stored = [str(lang) for lang in attrs["languages"]]
    if stored != list(languages):
        raise LinguaFrancaError(
            f"{h5_path} holds languages {', '.join(stored)}, not {', '.join(languages)}: re-run the similarity stage"
        )
    return np.asarray(values["norms"], dtype=np.float64)
