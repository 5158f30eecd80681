"""Forward hooks on the MLP down projections: the one place where linguafranca reads or changes neurons.

A neuron is one input of a layer's down projection (see :mod:`linguafranca.model.architectures`), so every hook here is a
forward *pre*-hook on that module. :class:`NeuronSums` reads the neuron vectors (capture); :func:`deactivate`
scales them (deactivation, reasoning), and :func:`deactivate_rows` scales each row of a batch by its own mask
(generation runs every condition of a prompt as one batch; a row may instead fix its neurons to given values); :class:`NeuronMaxima` and :class:`NeuronPicks` read
the per-sample maximum and chosen token positions (probes, concepts); :func:`force` sets chosen neurons to fixed
values (the concept intervention). All remove their hooks on exit, also on an exception. The one hook elsewhere is
:class:`NeuronActiveCounts`: LAPE's activation of a gated MLP is ``act(gate(x))``, the output of its activation
module (:func:`linguafranca.model.architectures.active_sites`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from linguafranca.errors import LinguaFrancaError
from linguafranca.model.architectures import down_projections, n_neurons


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


class NeuronActiveCounts:
    """Hooks that count, per sample and neuron, the kept tokens of the current batch where LAPE's activation is > 0.

    ``sites`` are ``(module, output)`` pairs, one per layer (:func:`~linguafranca.model.architectures.active_sites`):
    the activation is the module's output (a forward hook) or its input (a forward pre-hook). Set ``keep`` (bool
    ``[b, t]``, as for :class:`NeuronSums`) before each forward pass, which also clears the previous pass's counts,
    so a pass cut short by an out-of-memory error leaves nothing behind; after the pass, :meth:`counts` gives int32
    ``[b, n_neurons]`` per layer, exact. A NaN is not above zero. Each site must run exactly once per pass: a site
    that ran twice or never stops the capture, since its counts would mix calls or be missing.
    """

    def __init__(self, sites: Sequence[tuple[torch.nn.Module, bool]]):
        self.sites = list(sites)
        self._keep: torch.Tensor | None = None
        self._counts: list[torch.Tensor | None] = [None] * len(self.sites)

    @property
    def keep(self) -> torch.Tensor | None:
        return self._keep

    @keep.setter
    def keep(self, keep: torch.Tensor) -> None:
        self._keep, self._counts = keep, [None] * len(self.sites)

    def _count(self, layer: int, activations: torch.Tensor) -> None:
        if self._counts[layer] is not None:
            raise LinguaFrancaError(f"the LAPE site of layer {layer} ran twice in one forward pass, so its counts "
                                    "would mix calls; read a module called once (linguafranca/model/architectures.py)")
        keep = self._keep.to(activations.device)
        # [b, t, n_neurons]; OPT flattens tokens to [b * t, n_neurons] inside its layers.
        active = activations.reshape(keep.shape[0], keep.shape[1], -1) > 0
        self._counts[layer] = (active & keep.unsqueeze(-1)).sum(dim=1, dtype=torch.int32)

    def _hook(self, layer: int, output: bool):
        if output:
            return lambda module, args, result: self._count(layer, result)
        return lambda module, args: self._count(layer, args[0])

    def counts(self) -> list[torch.Tensor]:
        """The counts of the latest forward pass, one int32 ``[b, n_neurons]`` per layer."""
        missing = [layer for layer, count in enumerate(self._counts) if count is None]
        if missing:
            raise LinguaFrancaError(f"the LAPE site of layer(s) {missing} did not run in the forward pass, so there "
                                    "is nothing to count; check its module path (linguafranca/model/architectures.py)")
        return list(self._counts)

    @contextmanager
    def installed(self) -> Iterator["NeuronActiveCounts"]:
        handles = [
            module.register_forward_hook(self._hook(i, True)) if output
            else module.register_forward_pre_hook(self._hook(i, False))
            for i, (module, output) in enumerate(self.sites)
        ]
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()


class NeuronMaxima(NeuronSums):
    """Like :class:`NeuronSums`, but ``sums[layer]`` holds each sample's maximum over the kept tokens (float32
    ``[b, n_neurons]``): the ``max`` response of the concept stage. Left-out positions are -inf, never chosen."""

    def _hook(self, layer: int):
        def hook(module, args):
            keep = self.keep.to(args[0].device)
            activations = args[0].reshape(keep.shape[0], keep.shape[1], -1).to(self.accumulate)
            self.sums[layer] = torch.where(keep.unsqueeze(-1), activations, -torch.inf).amax(dim=1)

        return hook


class NeuronPicks(NeuronSums):
    """Copies the neuron vectors at chosen positions: set ``rows`` and ``cols`` (int ``[k]``) before each forward
    pass; after it ``sums[layer]`` is float32 ``[k, n_neurons]`` (token samples for probes with ``neurons``)."""

    def __init__(self, modules: Sequence[torch.nn.Module]):
        super().__init__(modules)
        self.rows: torch.Tensor | None = None
        self.cols: torch.Tensor | None = None

    def _hook(self, layer: int):
        def hook(module, args):
            activations = args[0].reshape(self.keep.shape[0], self.keep.shape[1], -1)
            self.sums[layer] = activations[self.rows, self.cols].float()

        return hook


def _set_input(indices: torch.Tensor, values: torch.Tensor):
    """A forward pre-hook that overwrites neurons ``indices`` of the module's input with ``values`` at every
    position."""

    def hook(module: torch.nn.Module, args: tuple) -> tuple:
        vector = args[0].clone()
        vector[..., indices.to(vector.device)] = values.to(vector.device, vector.dtype)
        return (vector, *args[1:])

    return hook


@contextmanager
def force(model: torch.nn.Module, neurons: dict[int, tuple[np.ndarray, np.ndarray]]) -> Iterator[None]:
    """Within the block, neurons ``indices`` of layer ``l`` take ``values`` at every position
    (``neurons = {l: (indices, values)}``). Layers with no neuron get no hook, so an empty dict runs the untouched
    model: the intervention's baseline is the model itself, bit for bit."""
    downs = down_projections(model)
    width = n_neurons(model)
    handles = []
    try:
        for layer, (indices, values) in neurons.items():
            if not 0 <= layer < len(downs) or len(indices) and not 0 <= int(np.max(indices)) < width:
                raise LinguaFrancaError(f"forced neuron out of range: layer {layer}, model has {len(downs)} layers "
                                        f"of {width} neurons")
            if len(indices):
                hook = _set_input(torch.as_tensor(indices, dtype=torch.long), torch.as_tensor(values))
                handles.append(downs[layer].register_forward_pre_hook(hook))
        yield
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
def _scaling_hooks(model: torch.nn.Module, vectors: dict[int, tuple[np.ndarray, ...]], make_hook) -> Iterator[None]:
    """Install ``make_hook(*tensors)`` on the down projection of every layer of ``vectors``, the layer's arrays as
    tensors in the weight's dtype and on its device; remove the hooks on exit, also on an exception."""
    downs = down_projections(model)
    handles = []
    try:
        for layer, arrays in vectors.items():
            weight = downs[layer].weight
            # Offloaded weights sit on the meta device until their layer runs; keep such vectors on the CPU.
            device = weight.device if weight.device.type != "meta" else torch.device("cpu")
            tensors = [torch.as_tensor(array, dtype=weight.dtype, device=device) for array in arrays]
            handles.append(downs[layer].register_forward_pre_hook(make_hook(*tensors)))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def deactivate(model: torch.nn.Module, mask: np.ndarray) -> Iterator[None]:
    """Within the block, neuron ``(l, i)`` is multiplied by ``1 - mask[l, i]`` (zeroed where the mask is true).

    ``mask`` is bool or float ``[n_layers, n_neurons]``. Only layers with a masked neuron get a hook, so an
    all-false mask runs the untouched model and reproduces the baseline bit for bit. The hooks are removed when
    the block exits, also on an exception.
    """
    keep = _keep_vectors(mask, len(down_projections(model)), n_neurons(model))
    with _scaling_hooks(model, {layer: (vector,) for layer, vector in keep.items()}, _scale_input):
        yield


def _intervene_rows(keep: torch.Tensor, fill: torch.Tensor):
    """A forward pre-hook that sets batch row ``r`` of the neuron vector to ``x * keep[r] + fill[r]`` (both
    ``[rows, n]``): ``keep`` is 0 on the row's selected neurons, ``fill`` their fixed value (0 when zeroed)."""

    def hook(module: torch.nn.Module, args: tuple) -> tuple:
        x = args[0]
        if (x.dim() == 3 and x.shape[0] != keep.shape[0]) or x.shape[0] % keep.shape[0]:
            raise LinguaFrancaError(f"deactivate_rows has {keep.shape[0]} masks, but the batch has {x.shape[0]} rows")
        # [b, t, n], or [b * t, n] where OPT flattens the tokens: one mask row per batch row either way.
        rows = x.reshape(keep.shape[0], -1, x.shape[-1])
        rows = rows * keep.to(x.device).unsqueeze(1) + fill.to(x.device, x.dtype).unsqueeze(1)
        return (rows.reshape(x.shape), *args[1:])

    return hook


@contextmanager
def deactivate_rows(
    model: torch.nn.Module, masks: Sequence[np.ndarray], values: Sequence[np.ndarray | None] | None = None
) -> Iterator[None]:
    """Within the block, batch row ``r`` runs with the neurons of ``masks[r]`` deactivated, as :func:`deactivate`,
    or, where ``values[r]`` (float ``[n_layers, n_neurons]``) is given, fixed to those values at every position
    (Kojima et al.'s median forcing), as :func:`force` does for a whole batch.

    Every forward pass in the block must have ``len(masks)`` rows. Why: several conditions on one prompt become one
    batched pass (one ``generate`` call for all of them) instead of one pass each. A layer that no mask touches
    gets no hook; a row whose mask is empty is multiplied by ones and shifted by zeros, which leaves it exactly as
    it was. Boolean masks only when ``values`` are given: a fraction of a fixed value means nothing.
    """
    n_layers, width = len(down_projections(model)), n_neurons(model)
    values = [None] * len(masks) if values is None else list(values)
    if len(values) != len(masks):
        raise LinguaFrancaError(f"deactivate_rows has {len(masks)} masks but {len(values)} value sets")
    keeps = [_keep_vectors(mask, n_layers, width) for mask in masks]
    fills = [_fill_vectors(mask, value, n_layers, width) for mask, value in zip(masks, values)]
    layers = sorted({layer for keep in keeps for layer in keep})
    stacked = {
        layer: (np.stack([keep.get(layer, np.ones(width)) for keep in keeps]),
                np.stack([fill.get(layer, np.zeros(width)) for fill in fills]))
        for layer in layers
    }
    with _scaling_hooks(model, stacked, _intervene_rows):
        yield


def _fill_vectors(mask: np.ndarray, values: np.ndarray | None, n_layers: int, width: int) -> dict[int, np.ndarray]:
    """``values[layer]`` on the masked neurons of every masked layer, 0 elsewhere; nothing without ``values``."""
    if values is None:
        return {}
    mask, values = np.asarray(mask), np.asarray(values, dtype=np.float64)
    if mask.dtype != bool or values.shape != (n_layers, width) or not np.isfinite(values[mask]).all():
        raise LinguaFrancaError(
            f"forced values need a boolean mask and finite values of shape [{n_layers}, {width}], got a {mask.dtype} "
            f"mask and values of shape {values.shape}"
        )
    return {layer: np.where(mask[layer], values[layer], 0.0) for layer in np.flatnonzero(mask.any(axis=1)).tolist()}
