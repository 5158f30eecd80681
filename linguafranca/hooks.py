"""Forward hooks on the MLP down projections: the one place where linguafranca reads or changes neurons.

A neuron is one input of a layer's down projection (see :mod:`linguafranca.adapters`), so every hook here is a
forward *pre*-hook on that module. :class:`NeuronSums` reads the neuron vectors (capture); :func:`deactivate`
scales them (deactivation, generation, reasoning). Both remove their hooks on exit, also on an exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from .adapters import down_projections, n_neurons
from .errors import LinguaFrancaError


class NeuronSums:
    """Forward pre-hooks that sum each layer's neuron vector over the real tokens of the current batch."""

    def __init__(self, modules: Sequence[torch.nn.Module]):
        self.modules = list(modules)
        self.weights: torch.Tensor | None = None  # [b, 1, t] token mask as the activations' dtype
        self.sums: list[torch.Tensor | None] = [None] * len(self.modules)

    def _hook(self, layer: int):
        def hook(module, args):
            weights = self.weights.to(args[0].dtype)  # [b, 1, t]
            # [b, t, n_neurons]; OPT flattens tokens to [b * t, n_neurons] inside its layers.
            activations = args[0].reshape(weights.shape[0], weights.shape[2], -1)
            self.sums[layer] = torch.bmm(weights, activations).squeeze(1).to(torch.float64)

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
        return (args[0] * keep, *args[1:])

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
            tensor = torch.as_tensor(vector, dtype=weight.dtype, device=weight.device)
            handles.append(downs[layer].register_forward_pre_hook(_scale_input(tensor)))
        yield
    finally:
        for handle in handles:
            handle.remove()
