"""Reading and writing the activation stores (Zarr v3) that every later stage starts from.

Layout of ``results/{model}/{revision}/{dataset}/activations/{lang}.zarr`` (see the README's output table):

- ``mean``: float32 ``[n_samples, n_layers, n_neurons]``, chunked ``[block, 1, n_neurons]`` so that a reader can
  stream one layer at a time without touching the others;
- ``n_tokens``: int32 ``[n_samples]``;
- group attributes describing where the numbers came from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from .atomic import atomic_path

DIMENSIONS = ("sample", "layer", "neuron")


def block_size(n_samples: int, n_layers: int, n_neurons: int, budget_bytes: int = 256 * 2**20) -> int:
    """Samples per write block: as many as fit in ``budget_bytes`` of float32 means, at least one.

    Capture holds one block of means in memory and writes it as whole chunks, so memory stays bounded for
    a 70B model and chunks stay aligned with writes.
    """
    per_sample = n_layers * n_neurons * 4
    return max(1, min(n_samples, budget_bytes // per_sample))


class ActivationWriter:
    """Writes one language's store block by block into a temporary folder (see :func:`activation_writer`)."""

    def __init__(self, group: zarr.Group, n_samples: int, n_layers: int, n_neurons: int, block: int):
        self.block = block
        self.mean = group.create_array(
            "mean",
            shape=(n_samples, n_layers, n_neurons),
            chunks=(block, 1, n_neurons),
            dtype="float32",
            dimension_names=DIMENSIONS,
        )
        self.n_tokens = group.create_array(
            "n_tokens", shape=(n_samples,), chunks=(n_samples,), dtype="int32", dimension_names=("sample",)
        )
        self.group = group
        self._n_tokens = np.zeros(n_samples, dtype=np.int32)

    def write(self, start: int, mean: np.ndarray, n_tokens: np.ndarray) -> None:
        """Write samples ``start .. start + len(mean)``: ``mean`` is ``[b, n_layers, n_neurons]``."""
        stop = start + len(mean)
        self.mean[start:stop] = mean.astype(np.float32, copy=False)
        self._n_tokens[start:stop] = n_tokens

    def finish(self, attrs: dict[str, Any]) -> None:
        self.n_tokens[:] = self._n_tokens
        self.mean.attrs["description"] = "mean over each sample's tokens of the MLP neuron activations"
        self.n_tokens.attrs["description"] = "number of tokens averaged per sample (padding excluded)"
        self.group.attrs.update(attrs)


@contextmanager
def activation_writer(
    path: str | os.PathLike, n_samples: int, n_layers: int, n_neurons: int, block: int
) -> Iterator[ActivationWriter]:
    """Create an activation store that appears at ``path`` only when the ``with`` block succeeds.

    The caller must call ``writer.finish(attrs)`` before leaving the block.
    """
    with atomic_path(path, directory=True) as temporary:
        group = zarr.open_group(str(temporary), mode="w", zarr_format=3)
        writer = ActivationWriter(group, n_samples, n_layers, n_neurons, block)
        yield writer


def open_activations(path: str | os.PathLike) -> zarr.Group:
    """Open an activation store read-only."""
    return zarr.open_group(str(Path(path)), mode="r", zarr_format=3)


def read_layer(path: str | os.PathLike, layer: int) -> np.ndarray:
    """One layer's means, float32 ``[n_samples, n_neurons]``: reads only that layer's chunks."""
    return np.asarray(open_activations(path)["mean"][:, layer, :])
