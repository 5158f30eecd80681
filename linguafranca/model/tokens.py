"""Tokenisation, the BOS policy and padding, in one place for capture, perplexity, generation, reasoning and later
stages.

A model's ``bos`` setting says what goes in front of the text:

- ``None``: what the tokenizer does by default (``add_special_tokens=True``): LLaMA and Gemma prepend BOS,
  GPT-2 and BLOOM add nothing;
- ``True``: exactly one BOS, whatever the tokenizer would add;
- ``False``: no special tokens at all (the paper's released code tokenises with ``add_special_tokens=False``).

Every encoding also says which positions hold special tokens that were *added* to the text (the tokenizer's BOS/EOS
under ``None``, the BOS of ``True``), so a stage can feed them to the model and still leave them out of an average.
A special token written in the text itself counts as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from linguafranca.errors import LinguaFrancaError


@dataclass(frozen=True)
class Encoded:
    """Token ids of one text and, position by position, whether the token is special (BOS, EOS, ...)."""

    ids: list[int]
    special: list[bool]

    def truncated(self, max_length: int | None) -> "Encoded":
        """The first ``max_length`` tokens (all when None)."""
        if max_length is None:
            return self
        return Encoded(self.ids[:max_length], self.special[:max_length])


def _bos_id(tokenizer) -> int:
    if getattr(tokenizer, "bos_token_id", None) is None:
        raise LinguaFrancaError("bos: true, but the tokenizer has no BOS token; set the model's bos to false or null")
    return int(tokenizer.bos_token_id)


def encode(tokenizer, texts: Sequence[str], bos: bool | None) -> list[Encoded]:
    """Encode ``texts`` under the BOS policy of the module docstring; see :class:`Encoded`.

    The tokenizer's own ``special_tokens_mask`` says which tokens it added, so no list of special ids is guessed.
    """
    encoded = tokenizer(list(texts), add_special_tokens=bos is None, return_special_tokens_mask=True)
    result = []
    for ids, mask in zip(encoded["input_ids"], encoded["special_tokens_mask"]):
        ids, flags = list(ids), [bool(flag) for flag in mask]
        if bos:
            ids, flags = [_bos_id(tokenizer), *ids], [True, *flags]
        result.append(Encoded(ids, flags))
    return result


def encode_ids(tokenizer, texts: Sequence[str], bos: bool | None, max_length: int | None = None) -> list[list[int]]:
    """Token ids only, each cut to ``max_length`` tokens (all when None)."""
    return [item.truncated(max_length).ids for item in encode(tokenizer, texts, bos)]


def text_tensor(tokenizer, text: str, bos: bool | None) -> torch.Tensor:
    """Token ids ``[n_tokens]`` (int64) of one long text, tokenised once (perplexity's running text).

    With ``bos=None`` and a LLaMA/Gemma tokenizer that is one BOS at the very start of the whole text, as in the
    paper's code.
    """
    ids = tokenizer(text, add_special_tokens=bos is None, verbose=False)["input_ids"]
    if bos:
        ids = [_bos_id(tokenizer), *ids]
    return torch.tensor(ids, dtype=torch.long)


def pad(rows: Sequence[Sequence[int]], side: str, value: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of different lengths as one int64 tensor ``[n, longest]`` filled with ``value``, and its attention mask
    (1 at the rows' own positions). ``side`` is where the filling goes: ``"left"`` puts every row's last item in the
    last column (a batch that is continued, or read at its end), ``"right"`` every row's first in the first."""
    if side not in ("left", "right"):
        raise ValueError(f"padding side must be left or right, got {side!r}")
    width = max(len(row) for row in rows)
    values = torch.full((len(rows), width), value, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        span = slice(width - len(row), width) if side == "left" else slice(0, len(row))
        values[i, span] = torch.as_tensor(row, dtype=torch.long)
        mask[i, span] = 1
    return values, mask
