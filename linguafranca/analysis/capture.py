"""Capture: the mean MLP neuron activation of every sample, layer by layer, in length-sorted padded batches.

A forward pre-hook on each layer's down projection sees the neuron vector ``[batch, seq, n_neurons]`` and reduces
it at once to a masked sum over the averaged tokens, so no token-level activations outlive their layer. In the same
forward pass a hook on each layer's LAPE site (:func:`~linguafranca.model.architectures.active_sites`) counts, over
the same tokens, where each neuron's LAPE activation is above zero. Only the base model runs: no LM head, no logits.

What a mean averages is the model's ``mean_over`` setting (:data:`MEAN_OVER`). The model always sees the tokens the
BOS policy of :mod:`linguafranca.model.tokens` gives it; with ``text_tokens`` (the default) the special tokens that were
added to the text (BOS, EOS) are left out of the mean. At position 0 a model sees nothing but BOS, so that vector is
the same for every sample in every language and would only pull all means towards each other.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from tqdm.auto import tqdm

from linguafranca import __version__
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.activations import activation_writer, block_size, count_dtype
from linguafranca.model.architectures import active_sites, adapter_for, down_projections, n_neurons
from linguafranca.model.batching import AUTO_BATCH_START, forward_inputs, longest_first, make_batch
from linguafranca.model.compute import compute_of, dtype_name
from linguafranca.model.hooks import NeuronActiveCounts, NeuronSums
from linguafranca.model.tokens import Encoded, encode

if TYPE_CHECKING:
    from linguafranca.data.samples import Sample


#: Values of a model's ``mean_over`` setting: which of the tokens fed to the model enter a sample's mean.
MEAN_OVER = ("text_tokens", "all_tokens")


def _check_mean_over(mean_over: str) -> None:
    """Stop on a ``mean_over`` that is not one of :data:`MEAN_OVER` (the schema catches it in a config)."""
    if mean_over not in MEAN_OVER:
        raise LinguaFrancaError(f"mean_over is {mean_over!r}; allowed values: {', '.join(MEAN_OVER)}")


def capture_means(
    model: torch.nn.Module,
    encoded: Sequence[Encoded],
    batch_size: int | str,
    pad_id: int,
    padding_side: str = "right",
    mean_over: str = "text_tokens",
    progress: bool = True,
) -> Iterator[tuple[list[int], np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(indices, mean [b, n_layers, n_neurons] float64, n_tokens [b], active_count [b, n_layers,
    n_neurons] int32)`` batch by batch.

    ``indices`` are positions in ``encoded``; batches come longest first, not in sample order. ``n_tokens``
    counts the tokens averaged (``mean_over``), not the tokens fed to the model; ``active_count`` counts, among those
    same tokens, the ones where the neuron's LAPE activation is above zero (exact, whatever the batching).
    ``batch_size: "auto"`` starts at :data:`AUTO_BATCH_START` and halves on every out-of-memory error, retrying the
    batch, down to 1; the batch size changes floating-point rounding of the means only.
    """
    _check_mean_over(mean_over)
    sums = NeuronSums(down_projections(model))
    active = NeuronActiveCounts(active_sites(model))
    base = model.base_model
    device = next(model.parameters()).device
    positions = "position_ids" in inspect.signature(base.forward).parameters
    size = AUTO_BATCH_START if batch_size == "auto" else batch_size
    order, start = longest_first(encoded), 0
    bar = tqdm(total=sum(len(item.ids) for item in encoded), unit="tok", disable=not progress, desc="capture")
    with torch.inference_mode(), sums.installed(), active.installed():
        while start < len(order):
            batch = make_batch(encoded, order[start : start + size], pad_id, padding_side)
            averaged = batch.averaged(mean_over)
            sums.keep = active.keep = averaged.to(device)
            try:
                base(**forward_inputs(batch, device, positions))
            except torch.OutOfMemoryError:
                if batch_size != "auto" or size == 1:
                    raise
                size //= 2
                logging.warning("capture: out of memory at batch size %d; trying %d", 2 * size, size)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            start += len(batch.indices)
            n_tokens = averaged.sum(-1)
            layer_sums = [layer_sum.to(device) for layer_sum in sums.sums]  # on several GPUs with device_map auto
            mean = torch.stack(layer_sums, dim=1).double() / n_tokens.to(device, torch.float64)[:, None, None]
            counts = torch.stack([count.to(device) for count in active.counts()], dim=1)
            bar.update(int(batch.attention_mask.sum()))
            yield batch.indices, mean.cpu().numpy(), n_tokens.numpy(), counts.cpu().numpy()
    bar.close()


def _check_tokens(encoded: Sequence[Encoded], sample_ids: Sequence[str], mean_over: str, where: str) -> None:
    """Every sample needs a text token to average: an empty text would be the mean of nothing (or of BOS alone)."""
    empty = [sample_ids[i] for i, item in enumerate(encoded) if all(item.special)]
    if empty:
        raise LinguaFrancaError(
            f"{where}: sample id(s) {', '.join(empty[:5])} yield no text token (only special tokens or nothing), so "
            f"there is nothing to average (mean_over: {mean_over}); remove or fix these samples"
        )


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

    ``settings`` holds ``batch_size``, ``max_length``, ``bos`` and ``mean_over`` (default ``text_tokens``) from
    the model's config entry; ``attrs`` the provenance (model, revision, dataset, lang, weights) to record in the
    store.
    """
    sample_ids = [s.id for s in samples]
    mean_over = settings.get("mean_over", "text_tokens")
    _check_mean_over(mean_over)
    full = encode(tokenizer, [s.text for s in samples], settings.get("bos"))
    encoded = [item.truncated(settings["max_length"]) for item in full]
    where = f"model {attrs.get('model')} language {attrs.get('lang')}"
    _check_tokens(encoded, sample_ids, mean_over, where)
    modules = down_projections(model)
    n_layers, n_neurons_ = len(modules), n_neurons(model)
    block = block_size(len(samples), n_layers, n_neurons_, settings["max_length"])
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    n_truncated = sum(len(item.ids) > settings["max_length"] for item in full)
    if n_truncated:
        logging.warning(
            "%s: %d of %d samples are longer than max_length = %d tokens and were truncated (store attribute "
            "n_truncated); raise the model's max_length to keep them whole", where, n_truncated, len(samples),
            settings["max_length"],
        )
    adapter = adapter_for(model.config.model_type)
    with activation_writer(out_path, len(samples), n_layers, n_neurons_, block, settings["max_length"]) as writer:
        for start in range(0, len(samples), block):
            stop = min(start + block, len(samples))
            # The block as stored (float32 means), so that block_size bounds what capture holds.
            mean = np.empty((stop - start, n_layers, n_neurons_), dtype=np.float32)
            counts = np.empty((stop - start, n_layers, n_neurons_), dtype=count_dtype(settings["max_length"]))
            n_tokens = np.empty(stop - start, dtype=np.int32)
            for indices, batch_mean, batch_n_tokens, batch_counts in capture_means(
                model, encoded[start:stop], settings["batch_size"], pad_id, tokenizer.padding_side, mean_over, progress
            ):
                mean[indices], n_tokens[indices], counts[indices] = batch_mean, batch_n_tokens, batch_counts
            _check_finite(mean, sample_ids[start:stop], where)
            writer.write(start, mean, n_tokens, counts)
        writer.finish(
            {
                **attrs,
                "sample_ids": sample_ids,
                "n_samples": len(samples),
                "n_layers": n_layers,
                "n_neurons": n_neurons_,
                "neuron_site": adapter.site,
                "neuron_definition": adapter.neurons,
                "active_site": adapter.active_site,
                "active_definition": adapter.active_definition,
                "model_type": model.config.model_type,
                "compute": compute_of(model),
                "accumulation": dtype_name(torch.promote_types(next(model.parameters()).dtype, torch.float32)),
                "bos": settings.get("bos"),
                "mean_over": mean_over,
                "max_length": settings["max_length"],
                "n_truncated": n_truncated,
                "linguafranca_version": __version__,
            }
        )
