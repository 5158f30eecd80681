"""Capture for probes and concept neurons: one forward pass per batch gives both what the probes need (a seeded
sample of text-token vectors, the residual stream after every layer and optionally the MLP neurons) and what the
concept stage needs (each sample's per-sentence neuron response, the mean or the max over its text tokens).

It reuses the capture machinery (:func:`linguafranca.model.batching.batches`, :func:`~linguafranca.model.batching.forward_inputs`,
the hooks of :mod:`linguafranca.model.hooks` and the BOS policy of :mod:`linguafranca.model.tokens`). Special tokens added to the
text (BOS, EOS) are never sampled and never enter a response; padding is masked out.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from linguafranca import __version__
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.checksummed import Stored, index_coordinates, write_group
from linguafranca.model.architectures import down_projections
from linguafranca.model.batching import AUTO_BATCH_START, batches, forward_inputs
from linguafranca.model.compute import compute_of
from linguafranca.model.hooks import NeuronMaxima, NeuronPicks, NeuronSums
from linguafranca.model.tokens import Encoded, encode
from linguafranca.probes.concepts import concept_labels, select_samples

if TYPE_CHECKING:
    from linguafranca.data.samples import Sample

#: Per-sentence responses the concept stage can use.
RESPONSES = ("mean", "max")


def text_positions(encoded: Sequence[Encoded]) -> tuple[np.ndarray, np.ndarray]:
    """``(sample index, position)`` int64 ``[n]`` of every text token (special tokens left out)."""
    samples = [np.full(len(item.ids), index) for index, item in enumerate(encoded)]
    positions = [np.arange(len(item.ids)) for item in encoded]
    text = np.concatenate([~np.array(item.special, dtype=bool) for item in encoded]) if encoded else np.zeros(0, bool)
    return np.concatenate(samples)[text], np.concatenate(positions)[text]


def sample_tokens(encoded: Sequence[Encoded], n_tokens: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of ``n_tokens`` text tokens (all when there are fewer), sorted by (sample, position)."""
    samples, positions = text_positions(encoded)
    if n_tokens < len(samples):
        chosen = np.sort(np.random.default_rng(seed).choice(len(samples), n_tokens, replace=False))
        samples, positions = samples[chosen], positions[chosen]
    return samples, positions


@dataclass
class ProbeCapture:
    """What :func:`capture_probe_inputs` returns for one language.

    ``hidden``: float32 ``[n_tokens, n_layers, d_model]``; ``neurons``: float32 ``[n_tokens, n_layers, n_neurons]``
    or None; ``token_sample``/``token_position``: int32 ``[n_tokens]``; ``response``: float32
    ``[n_samples, n_layers, n_neurons]``.
    """

    hidden: np.ndarray
    neurons: np.ndarray | None
    token_sample: np.ndarray
    token_position: np.ndarray
    response: np.ndarray


def capture_probe_inputs(
    model: torch.nn.Module,
    encoded: Sequence[Encoded],
    batch_size: int,
    pad_id: int,
    padding_side: str,
    n_tokens: int,
    seed: int,
    response: str = "mean",
    neurons: bool = False,
) -> ProbeCapture:
    """Token sample and per-sentence responses of ``encoded`` in length-sorted padded batches (see module doc)."""
    if response not in RESPONSES:
        raise LinguaFrancaError(f"probes.concepts.response is {response!r}; allowed values: {', '.join(RESPONSES)}")
    if any(all(item.special) for item in encoded):
        raise LinguaFrancaError("a sample yields no text token (only special tokens): it has no response to record")
    token_sample, token_position = sample_tokens(encoded, n_tokens, seed)
    downs = down_projections(model)
    reader = (NeuronMaxima if response == "max" else NeuronSums)(downs)
    picks = NeuronPicks(downs) if neurons else None
    base, device = model.base_model, next(model.parameters()).device
    positions = "position_ids" in inspect.signature(base.forward).parameters
    hidden = response_out = neuron_out = None
    with torch.inference_mode(), ExitStack() as hooks:
        hooks.enter_context(reader.installed())
        if picks:
            hooks.enter_context(picks.installed())
        for batch in batches(encoded, batch_size, pad_id, padding_side):
            kept = batch.averaged("text_tokens")
            reader.keep = kept.to(device)
            rows_of = {sample: row for row, sample in enumerate(batch.indices)}
            here = np.flatnonzero(np.isin(token_sample, batch.indices))
            rows = torch.as_tensor([rows_of[s] for s in token_sample[here]], dtype=torch.long)
            width = batch.input_ids.shape[1]
            offset = torch.as_tensor(
                [width - len(encoded[s].ids) if padding_side == "left" else 0 for s in token_sample[here]],
                dtype=torch.long,
            )
            cols = torch.as_tensor(token_position[here], dtype=torch.long) + offset
            if picks:
                picks.keep, picks.rows, picks.cols = reader.keep, rows.to(device), cols.to(device)
            states = base(**forward_inputs(batch, device, positions), output_hidden_states=True).hidden_states
            layers = torch.stack([state[rows.to(device), cols.to(device)] for state in states[1:]], dim=1)
            sums = torch.stack([s.to(device) for s in reader.sums], dim=1).float()
            if response == "mean":
                sums = sums / kept.sum(-1).to(device, torch.float32)[:, None, None]
            if hidden is None:
                hidden = np.empty((len(token_sample), *layers.shape[1:]), dtype=np.float32)
                response_out = np.empty((len(encoded), *sums.shape[1:]), dtype=np.float32)
                if picks:
                    neuron_out = np.empty((len(token_sample), *sums.shape[1:]), dtype=np.float32)
            hidden[here] = layers.float().cpu().numpy()
            response_out[batch.indices] = sums.cpu().numpy()
            if picks:
                neuron_out[here] = torch.stack([s.to(device) for s in picks.sums], dim=1).cpu().numpy()
    if not np.isfinite(response_out).all() or not np.isfinite(hidden).all():
        raise LinguaFrancaError("non-finite (NaN or inf) activations in the probe capture: try compute float32")
    return ProbeCapture(hidden, neuron_out, token_sample.astype(np.int32), token_position.astype(np.int32),
                        response_out)


def aligned_ids(samples_by_lang: Mapping[str, Sequence["Sample"]]) -> list[str]:
    """The sample ids shared by every language, in the order of the first; a language missing one is an error."""
    langs = list(samples_by_lang)
    ids = [sample.id for sample in samples_by_lang[langs[0]]]
    for lang in langs[1:]:
        if [sample.id for sample in samples_by_lang[lang]] != ids:
            raise LinguaFrancaError(
                f"probes: language {lang!r} does not hold the same verse ids as {langs[0]!r} in the same order; the "
                "probes dataset must be parallel (aligned: true)"
            )
    return ids


def capture_probe_stores(
    model: torch.nn.Module,
    tokenizer,
    samples_by_lang: Mapping[str, Sequence["Sample"]],
    token_paths: Sequence[str],
    response_paths: Sequence[str],
    settings: dict,
    attrs: dict,
) -> None:
    """Select the verses (:func:`linguafranca.probes.concepts.select_samples` on the English labels), then capture and
    write each language's token store and response store (atomic; layouts in docs/probes.md).

    ``settings``: ``max_length``, ``bos``, ``batch_size`` and the capture keys of ``probes`` (``max_samples``,
    ``seed``, ``tokens_per_language``, ``neurons``, ``words``, ``response``).
    """
    ids = aligned_ids(samples_by_lang)
    english = [sample.text for sample in samples_by_lang["en"]]
    labels = concept_labels(english, settings["words"])
    chosen = select_samples(labels, settings["max_samples"], settings["seed"])
    chosen_ids = [ids[i] for i in chosen]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    batch_size = AUTO_BATCH_START if settings["batch_size"] == "auto" else settings["batch_size"]
    common = {**attrs, "sample_ids": chosen_ids, "compute": compute_of(model), "bos": settings["bos"],
              "max_length": settings["max_length"], "seed": settings["seed"], "linguafranca_version": __version__}
    for lang, token_path, response_path in zip(samples_by_lang, token_paths, response_paths):
        texts = [samples_by_lang[lang][i].text for i in chosen]
        encoded = [item.truncated(settings["max_length"]) for item in encode(tokenizer, texts, settings["bos"])]
        got = capture_probe_inputs(model, encoded, batch_size, pad_id, tokenizer.padding_side,
                                   settings["tokens_per_language"], settings["seed"], settings["response"],
                                   settings["neurons"])
        n_tokens, n_layers, width = got.hidden.shape
        arrays = {
            "hidden": Stored(got.hidden, (max(n_tokens, 1), 1, width), ("token", "layer", "dim")),
            "token_sample": Stored(got.token_sample, (max(n_tokens, 1),), ("token",)),
            "token_position": Stored(got.token_position, (max(n_tokens, 1),), ("token",)),
        }
        if got.neurons is not None:
            arrays["neurons"] = Stored(got.neurons, (max(n_tokens, 1), 1, got.neurons.shape[2]),
                                       ("token", "layer", "neuron"))
        neurons = {} if got.neurons is None else index_coordinates(neuron=got.neurons.shape[2])
        write_group(token_path, arrays, {**common, "lang": lang, "n_layers": n_layers, "d_model": width,
                                         "tokens_per_language": settings["tokens_per_language"]},
                    {**index_coordinates(layer=n_layers), **neurons})
        response = got.response
        write_group(response_path,
                    {"response": Stored(response, (len(response), 1, response.shape[2]), ("sample", "layer", "neuron"))},
                    {**common, "lang": lang, "statistic": settings["response"], "n_layers": n_layers,
                     "n_neurons": response.shape[2]},
                    {"sample": chosen_ids, **index_coordinates(layer=n_layers, neuron=response.shape[2])})
