"""Regions in the formats other tools read, so a user can feed our masks to their own code.

- ``regions/masks.safetensors``: one bool tensor ``[layers, neurons]`` per method and language, named
  ``{method}/{lang}``, with the store's provenance as string metadata. Safetensors holds tensors only, so reading it
  runs no code.
- on explicit request (``regions.export_lape_layout``), ``regions/lape_layout/{method}.pt``: the layout of LAPE's
  released perplexity and generation scripts (Tang et al. 2024), a list with one entry per language (config order)
  of a list with one int64 index tensor per layer. That file is a torch pickle, because those scripts
  ``torch.load`` it; linguafranca writes it and never loads one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from linguafranca.io.atomic import atomic_path


def write_safetensors(path: str | os.PathLike, masks: Mapping[str, np.ndarray], langs: Sequence[str],
                      metadata: Mapping[str, Any]) -> None:
    """``masks``: method → bool ``[langs, layers, neurons]``; written atomically as ``{method}/{lang}`` tensors."""
    from safetensors.numpy import save_file

    tensors = {f"{method}/{lang}": np.ascontiguousarray(mask[index])
               for method, mask in masks.items() for index, lang in enumerate(langs)}
    with atomic_path(path) as temporary:
        save_file(tensors, str(temporary), metadata={key: str(value) for key, value in metadata.items()})


def lape_layout(mask: np.ndarray) -> list[list[Any]]:
    """``mask`` bool ``[langs, layers, neurons]`` as LAPE's list (language) of lists (layer) of index tensors."""
    import torch

    return [[torch.from_numpy(np.flatnonzero(layer).astype(np.int64)) for layer in lang] for lang in mask]


def write_lape_layout(folder: str | os.PathLike, masks: Mapping[str, np.ndarray]) -> None:
    """One ``{method}.pt`` per method in ``folder`` (atomically, the folder as a whole)."""
    import torch

    with atomic_path(folder, directory=True) as temporary:
        Path(temporary).mkdir(parents=True, exist_ok=True)
        for method, mask in masks.items():
            torch.save(lape_layout(mask), Path(temporary) / f"{method}.pt")
