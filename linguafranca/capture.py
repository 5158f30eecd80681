"""Capture: the mean MLP neuron activation of every sample, layer by layer, in length-sorted padded batches.

A forward pre-hook on each layer's down projection sees the neuron vector ``[batch, seq, n_neurons]`` and reduces
it at once to a masked sum over real tokens, so no token-level activations outlive their layer. Only the base
model runs: no LM head, no logits.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import __version__
from .adapters import adapter_for, down_projections, n_neurons
from .errors import LinguaFrancaError
from .hooks import NeuronSums
from .store import activation_writer, block_size
from .tokens import encode_ids

if TYPE_CHECKING:
    from .data import Sample


@dataclass
class Batch:
    """Token ids of one padded batch and the positions (in the caller's sample order) they came from."""

    indices: list[int]
    input_ids: torch.Tensor  # [b, t]
    attention_mask: torch.Tensor  # [b, t], 1 for real tokens


def batches(token_ids: Sequence[list[int]], batch_size: int, pad_id: int, padding_side: str) -> Iterator[Batch]:
    """Group samples of similar length (longest first) so little compute goes to padding."""
    order = sorted(range(len(token_ids)), key=lambda i: -len(token_ids[i]))
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        width = max(len(token_ids[i]) for i in indices)
        ids = torch.full((len(indices), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(indices), width), dtype=torch.long)
        for row, i in enumerate(indices):
            n = len(token_ids[i])
            span = slice(width - n, width) if padding_side == "left" else slice(0, n)
            ids[row, span] = torch.tensor(token_ids[i])
            mask[row, span] = 1
        yield Batch(indices, ids, mask)


def forward_inputs(batch: Batch, device: torch.device, positions: bool) -> dict:
    """Inputs for the base model; explicit position ids (where it takes them) so left padding shifts nothing."""
    kwargs = {
        "input_ids": batch.input_ids.to(device),
        "attention_mask": batch.attention_mask.to(device),
        "use_cache": False,
    }
    if positions:
        kwargs["position_ids"] = (batch.attention_mask.cumsum(-1) - 1).clamp(min=0).to(device)
    return kwargs


def capture_means(
    model: torch.nn.Module,
    token_ids: Sequence[list[int]],
    batch_size: int,
    pad_id: int,
    padding_side: str = "right",
    progress: bool = True,
) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """Yield ``(indices, mean [b, n_layers, n_neurons] float64, n_tokens [b])`` batch by batch.

    ``indices`` are positions in ``token_ids``; batches come longest first, not in sample order.
    """
    sums = NeuronSums(down_projections(model))
    base = model.base_model
    device = next(model.parameters()).device
    positions = "position_ids" in inspect.signature(base.forward).parameters
    bar = tqdm(total=sum(map(len, token_ids)), unit="tok", disable=not progress, desc="capture")
    with torch.inference_mode(), sums.installed():
        for batch in batches(token_ids, batch_size, pad_id, padding_side):
            sums.weights = batch.attention_mask.to(device).unsqueeze(1)
            base(**forward_inputs(batch, device, positions))
            n_tokens = batch.attention_mask.sum(-1)
            mean = torch.stack(sums.sums, dim=1) / n_tokens.to(device, torch.float64)[:, None, None]
            bar.update(int(n_tokens.sum()))
            yield batch.indices, mean.cpu().numpy(), n_tokens.numpy()
    bar.close()


def _check_finite(mean: np.ndarray, sample_ids: Sequence[str], where: str) -> None:
    bad = ~np.isfinite(mean).reshape(len(mean), -1).all(axis=1)
    if bad.any():
        raise LinguaFrancaError(
            f"non-finite (NaN or inf) activations for {where}, sample id(s) "
            f"{', '.join(sample_ids[i] for i in np.flatnonzero(bad)[:5])}: try dtype float32"
        )


def capture_store(
    model: torch.nn.Module,
    tokenizer,
    samples: Sequence["Sample"],
    out_path: str | Path,
    settings: dict,
    attrs: dict,
    progress: bool = True,
) -> None:
    """Capture one language's samples into an activation store at ``out_path`` (atomic; see :mod:`store`).

    ``settings`` holds ``batch_size``, ``max_length`` and ``bos`` from the model's config entry; ``attrs`` the
    provenance (model, revision, dataset, lang, weights) to record in the store.
    """
    sample_ids = [s.id for s in samples]
    full = encode_ids(tokenizer, [s.text for s in samples], settings.get("bos"))
    token_ids = [ids[: settings["max_length"]] for ids in full]
    modules = down_projections(model)
    n_layers, n_neurons_ = len(modules), n_neurons(model)
    block = block_size(len(samples), n_layers, n_neurons_)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    where = f"model {attrs.get('model')} language {attrs.get('lang')}"
    n_truncated = sum(len(ids) > settings["max_length"] for ids in full)
    if n_truncated:
        logging.warning(
            "%s: %d of %d samples are longer than max_length = %d tokens and were truncated (store attribute "
            "n_truncated); raise the model's max_length to keep them whole", where, n_truncated, len(samples),
            settings["max_length"],
        )
    with activation_writer(out_path, len(samples), n_layers, n_neurons_, block) as writer:
        for start in range(0, len(samples), block):
            stop = min(start + block, len(samples))
            mean = np.empty((stop - start, n_layers, n_neurons_), dtype=np.float64)
            counts = np.empty(stop - start, dtype=np.int32)
            for indices, batch_mean, batch_counts in capture_means(
                model, token_ids[start:stop], settings["batch_size"], pad_id, tokenizer.padding_side, progress
            ):
                mean[indices], counts[indices] = batch_mean, batch_counts
            _check_finite(mean, sample_ids[start:stop], where)
            writer.write(start, mean, counts)
        writer.finish(
            {
                **attrs,
                "sample_ids": sample_ids,
                "n_samples": len(samples),
                "n_layers": n_layers,
                "n_neurons": n_neurons_,
                "neuron_site": adapter_for(model.config.model_type).site,
                "neuron_definition": adapter_for(model.config.model_type).neurons,
                "model_type": model.config.model_type,
                "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
                "bos": settings.get("bos"),
                "max_length": settings["max_length"],
                "n_truncated": n_truncated,
                "linguafranca_version": __version__,
            }
        )
