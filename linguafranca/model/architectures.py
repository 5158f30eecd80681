"""Where the MLP neurons live in each architecture: one table, one entry per ``config.model_type``.

The paper's "neurons" are the inputs of the MLP's down projection: ``act(gate(x)) * up(x)`` for gated MLPs
(LLaMA, Mistral, Qwen2, Gemma) and ``act(fc1(x))`` for two-layer MLPs (BLOOM, GPT-2, GPT-NeoX, OPT).
Capturing the input of the down projection with a forward pre-hook reads exactly that vector, whatever the
activation function, and deactivating a neuron means zeroing it there. Adding an architecture is one entry.

LAPE (Tang et al., ACL 2024) counts the tokens at which a neuron is active, its activation above zero. For a
gated MLP that activation is ``act(gate(x))``, before the product with ``up(x)`` (whose sign would flip it), so
it is read from the output of the MLP's activation module; for a two-layer MLP it is the neuron itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from linguafranca.errors import LinguaFrancaError


@dataclass(frozen=True)
class Adapter:
    """Module paths of the decoder layers (relative to the ``*ForCausalLM`` model) and, relative to a layer, of its
    down projection and of its LAPE site.

    ``active`` is the module whose output is ``act(gate(x))`` (``active_value``), called once per forward pass;
    ``None`` where the LAPE activation is the neuron itself, the down projection's input (two-layer MLPs).
    """

    layers: str
    down_proj: str
    neurons: str
    active: str | None = None
    active_value: str | None = None

    @property
    def site(self) -> str:
        """The neuron site as one readable path, e.g. ``model.layers.{i}.mlp.down_proj:input``."""
        return f"{self.layers}.{{i}}.{self.down_proj}:input"

    @property
    def active_site(self) -> str:
        """Where LAPE's activation is read, e.g. ``model.layers.{i}.mlp.act_fn:output``."""
        return self.site if self.active is None else f"{self.layers}.{{i}}.{self.active}:output"

    @property
    def active_definition(self) -> str:
        """What a count counts, e.g. ``act(gate_proj(x)) > 0``, per sample over its averaged tokens."""
        return f"{self.neurons if self.active is None else self.active_value} > 0"


_GATED = "act(gate_proj(x)) * up_proj(x)"
_GATE = "act(gate_proj(x))"

ADAPTERS: dict[str, Adapter] = {
    "bloom": Adapter("transformer.h", "mlp.dense_4h_to_h", "gelu(dense_h_to_4h(x))"),
    "llama": Adapter("model.layers", "mlp.down_proj", _GATED, "mlp.act_fn", _GATE),
    "mistral": Adapter("model.layers", "mlp.down_proj", _GATED, "mlp.act_fn", _GATE),
    "qwen2": Adapter("model.layers", "mlp.down_proj", _GATED, "mlp.act_fn", _GATE),
    "gemma": Adapter("model.layers", "mlp.down_proj", _GATED, "mlp.act_fn", _GATE),
    "gemma2": Adapter("model.layers", "mlp.down_proj", _GATED, "mlp.act_fn", _GATE),
    "gemma3_text": Adapter("model.layers", "mlp.down_proj", _GATED, "mlp.act_fn", _GATE),
    "gemma3": Adapter("model.language_model.layers", "mlp.down_proj", _GATED, "mlp.act_fn", _GATE),
    "gpt2": Adapter("transformer.h", "mlp.c_proj", "act(c_fc(x))"),
    "gpt_neox": Adapter("gpt_neox.layers", "mlp.dense_4h_to_h", "act(dense_h_to_4h(x))"),
    "opt": Adapter("model.decoder.layers", "fc2", "relu(fc1(x))"),
}


def adapter_for(model_type: str) -> Adapter:
    """The adapter of an architecture, or an error that lists the supported ones."""
    try:
        return ADAPTERS[model_type]
    except KeyError:
        supported = ", ".join(sorted(ADAPTERS))
        raise LinguaFrancaError(
            f"unsupported architecture {model_type!r}: linguafranca knows where the MLP neurons are for "
            f"{supported}. Add one entry to linguafranca/model/architectures.py:ADAPTERS for a new one."
        ) from None


def down_projections(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The down-projection module of every decoder layer, in layer order."""
    adapter = adapter_for(model.config.model_type)
    layers = model.get_submodule(adapter.layers)
    return [layer.get_submodule(adapter.down_proj) for layer in layers]


def active_sites(model: torch.nn.Module) -> list[tuple[torch.nn.Module, bool]]:
    """Per decoder layer, in order, the module LAPE's activation is read from and whether it is the module's output
    (``True``: a forward hook) or its input (``False``: the down projection, a forward pre-hook)."""
    adapter = adapter_for(model.config.model_type)
    layers = model.get_submodule(adapter.layers)
    if adapter.active is None:
        return [(layer.get_submodule(adapter.down_proj), False) for layer in layers]
    return [(layer.get_submodule(adapter.active), True) for layer in layers]


def n_neurons(model: torch.nn.Module) -> int:
    """Neurons per layer: the width of the down projection's input."""
    down = down_projections(model)[0]
    weight = down.weight
    # nn.Linear stores [out, in]; GPT-2's Conv1D stores [in, out].
    return int(weight.shape[0] if type(down).__name__ == "Conv1D" else weight.shape[1])
