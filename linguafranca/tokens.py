"""Tokenisation and the BOS policy, in one place for capture, perplexity, generation and later stages.

A model's ``bos`` setting says what goes in front of the text:

- ``None``: what the tokenizer does by default (``add_special_tokens=True``): LLaMA and Gemma prepend BOS,
  GPT-2 and BLOOM add nothing;
- ``True``: exactly one BOS, whatever the tokenizer would add;
- ``False``: no special tokens at all (the paper's released code tokenises with ``add_special_tokens=False``).

Every encoding also says which positions are special tokens (added BOS/EOS, or special tokens in the text), so a
stage can feed them to the model and still leave them out of an average.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .errors import LinguaFrancaError


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


def _special_ids(tokenizer) -> set[int]:
    """Ids of the tokenizer's special tokens (a stand-in tokenizer may know none)."""
    return set(getattr(tokenizer, "all_special_ids", None) or [])


def encode(tokenizer, texts: Sequence[str], bos: bool | None) -> list[Encoded]:
    """Encode ``texts`` under the BOS policy of the module docstring; see :class:`Encoded`."""
    encoded = tokenizer(list(texts), add_special_tokens=bos is None)["input_ids"]
    special = _special_ids(tokenizer)
    result = []
    for ids in encoded:
        ids = list(ids)
        if bos:
            ids = [_bos_id(tokenizer), *ids]
        flags = [token in special for token in ids]
        if bos:
            flags[0] = True
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
