"""Forward hooks on the MLP down projections: the one place where linguafranca reads or changes neurons.

A neuron is one input of a layer's down projection (see :mod:`linguafranca.adapters`), so every hook here is a
forward *pre*-hook on that module. :class:`NeuronSums` reads the neuron vectors (capture); :func:`deactivate`
scales them (deactivation, reasoning), and :func:`deactivate_rows` scales each row of a batch by its own mask
(generation runs every condition of a prompt as one batch). Both remove their hooks on exit, also on an exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from .adapters import down_projections, n_neurons
from .errors import LinguaFrancaError


class NeuronSums:
    """Forward pre-hooks that sum each layer's neuron vector over the averaged tokens of the current batch.

    Set ``keep`` (bool ``[b, t]``: the positions that enter the mean) before each forward pass; after it,
    ``sums[layer]`` is ``[b, n_neurons]`` in the accumulation dtype. The sum runs in ``accumulate`` (float32 by
    default; float64 models stay float64) whatever the model's dtype: summed in bfloat16 a mean keeps about three
    digits, and float16 sums overflow past 65,504. Left-out positions are replaced by zeros, not multiplied by
    them, because 0 × NaN is NaN: a NaN at a padded or excluded position never reaches a sample's sum.
    """

    def __init__(self, modules: Sequence[torch.nn.Module], accumulate: torch.dtype = torch.float32):
        self.modules = list(modules)
        self.accumulate = accumulate
        self.keep: torch.Tensor | None = None  # [b, t] bool
        self.sums: list[torch.Tensor | None] = [None] * len(self.modules)

    def _hook(self, layer: int):
        def hook(module, args):
            keep = self.keep.to(args[0].device)  # a no-op but where device_map spreads layers over GPUs
            # [b, t, n_neurons]; OPT flattens tokens to [b * t, n_neurons] inside its layers.
            activations = args[0].reshape(keep.shape[0], keep.shape[1], -1)
            kept = torch.where(keep.unsqueeze(-1), activations, 0.0)
            self.sums[layer] = kept.sum(dim=1, dtype=torch.promote_types(activations.dtype, self.accumulate))

        return hook

    @contextmanager
    def installed(self) -> Iterator["NeuronSums"]:
        handles = [m.register_forward_pre_hook(self._hook(i)) for i, m in enumerate(self.modules)]
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()


def _keep_vectors(mask: np.ndarray, n_layers: int, width: int) -> dict[int, np.ndarray]:
    """``1 - mask[layer]`` for every layer with a masked neuron; validates the mask against the model."""
    mask = np.asarray(mask)
    if mask.shape != (n_layers, width):
        raise LinguaFrancaError(
            f"deactivation mask has shape {mask.shape}, but the model has {n_layers} layers of {width} neurons; "
            f"the mask must be [n_layers, n_neurons] = [{n_layers}, {width}] (was the region computed for "
            "another model?)"
        )
    values = mask.astype(np.float64)
    if not np.all((values >= 0) & (values <= 1)):
        raise LinguaFrancaError("deactivation mask values must be booleans or fractions in [0, 1]")
    return {layer: 1.0 - values[layer] for layer in np.flatnonzero(values.any(axis=1)).tolist()}


def _scale_input(keep: torch.Tensor):
    """A forward pre-hook that multiplies the module's input (the neuron vector ``[..., n_neurons]``) by ``keep``."""

    def hook(module: torch.nn.Module, args: tuple) -> tuple:
        return (args[0] * keep.to(args[0].device), *args[1:])  # a no-op but for offloaded layers

    return hook


@contextmanager
def deactivate(model: torch.nn.Module, mask: np.ndarray) -> Iterator[None]:
    """Within the block, neuron ``(l, i)`` is multiplied by ``1 - mask[l, i]`` (zeroed where the mask is true).

    ``mask`` is bool or float ``[n_layers, n_neurons]``. Only layers with a masked neuron get a hook, so an
    all-false mask runs the untouched model and reproduces the baseline bit for bit. The hooks are removed when
    the block exits, also on an exception.
    """
    downs = down_projections(model)
    keep = _keep_vectors(mask, len(downs), n_neurons(model))
    handles = []
    try:
        for layer, vector in keep.items():
            weight = downs[layer].weight
            # Offloaded weights sit on the meta device until their layer runs; keep such vectors on the CPU.
            device = weight.device if weight.device.type != "meta" else torch.device("cpu")
            tensor = torch.as_tensor(vector, dtype=weight.dtype, device=device)
            handles.append(downs[layer].register_forward_pre_hook(_scale_input(tensor)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _scale_rows(keep: torch.Tensor):
    """A forward pre-hook that multiplies batch row ``r`` of the neuron vector by ``keep[r]`` (``[rows, n]``)."""

    def hook(module: torch.nn.Module, args: tuple) -> tuple:
        x = args[0]
        if x.shape[0] % keep.shape[0]:
            raise LinguaFrancaError(f"deactivate_rows has {keep.shape[0]} masks, but the batch has {x.shape[0]} rows")
        # [b, t, n], or [b * t, n] where OPT flattens the tokens: one mask row per batch row either way.
        rows = x.reshape(keep.shape[0], -1, x.shape[-1]) * keep.to(x.device).unsqueeze(1)
        return (rows.reshape(x.shape), *args[1:])

    return hook


@contextmanager
def deactivate_rows(model: torch.nn.Module, masks: Sequence[np.ndarray]) -> Iterator[None]:
    """Within the block, batch row ``r`` runs with the neurons of ``masks[r]`` deactivated, as :func:`deactivate`.

    Every forward pass in the block must have ``len(masks)`` rows. Why: several conditions on one prompt become one
    batched pass (one ``generate`` call for all of them) instead of one pass each. A layer that no mask touches
    gets no hook; a row whose mask is empty is multiplied by ones, which leaves it exactly as it was.
    """
    downs = down_projections(model)
    width = n_neurons(model)
    keeps = [_keep_vectors(mask, len(downs), width) for mask in masks]
    handles = []
    try:
        for layer in sorted({layer for keep in keeps for layer in keep}):
            weight = downs[layer].weight
            device = weight.device if weight.device.type != "meta" else torch.device("cpu")
            rows = np.stack([keep.get(layer, np.ones(width)) for keep in keeps])
            tensor = torch.as_tensor(rows, dtype=weight.dtype, device=device)
            handles.append(downs[layer].register_forward_pre_hook(_scale_rows(tensor)))
        yield
    finally:
        for handle in handles:
            handle.remove()
