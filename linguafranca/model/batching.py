"""Length-sorted padded batches of encoded samples, and the inputs a forward pass takes from one; shared by
activation capture and probe capture.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from linguafranca.model.tokens import Encoded, pad

if TYPE_CHECKING:
    pass


@dataclass
class Batch:
    """Token ids of one padded batch and the positions (in the caller's sample order) they came from."""

    indices: list[int]
    input_ids: torch.Tensor  # [b, t]
    attention_mask: torch.Tensor  # [b, t], 1 for real tokens
    special: torch.Tensor  # [b, t] bool, True for special tokens added to the text (see linguafranca.model.tokens)

    def averaged(self, mean_over: str) -> torch.Tensor:
        """Bool ``[b, t]``: the positions that enter the mean under ``mean_over``."""
        real = self.attention_mask.bool()
        return real & ~self.special if mean_over == "text_tokens" else real


#: The first batch size ``batch_size: auto`` tries; it halves on every out-of-memory error until a batch fits.
AUTO_BATCH_START = 64


def longest_first(encoded: Sequence[Encoded]) -> list[int]:
    """Sample positions, longest first: samples of similar length share a batch, so little compute goes to padding,
    and the first batch is the largest, so ``batch_size: auto`` meets an out-of-memory error at once or never."""
    return sorted(range(len(encoded)), key=lambda i: -len(encoded[i].ids))


def make_batch(encoded: Sequence[Encoded], indices: list[int], pad_id: int, padding_side: str) -> Batch:
    """The padded batch of the samples at ``indices``."""
    ids, mask = pad([encoded[i].ids for i in indices], padding_side, pad_id)
    special, _ = pad([encoded[i].special for i in indices], padding_side)
    return Batch(indices, ids, mask, special.bool())


def batches(encoded: Sequence[Encoded], batch_size: int, pad_id: int, padding_side: str) -> Iterator[Batch]:
    """Batches of ``batch_size`` samples of similar length, longest first."""
    order = longest_first(encoded)
    for start in range(0, len(order), batch_size):
        yield make_batch(encoded, order[start : start + batch_size], pad_id, padding_side)


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
