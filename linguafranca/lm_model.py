"""An lm-eval model of our own: the loaded model, optionally with a condition's neurons switched off, scoring
``loglikelihood`` requests the fast way.

lm-eval's ``HFLM`` runs every (context, continuation) pair as its own sequence and applies the output head at every
position. A multiple-choice item repeats its context once per choice, and Gemma's head (262,144 outputs) costs more
than the rest of a 270M model, so :class:`FastLM` instead

- runs each distinct context once (``use_cache=True``) and scores all its continuations from the cached keys and
  values, the continuations batched together (right-padded: under a causal mask padding after a token never
  reaches it);
- applies the head only at the positions that predict a continuation token, then soft-caps (Gemma) and takes
  ``log_softmax`` in float32.

Tokenisation is lm-eval's own (:class:`~lm_eval.api.model.TemplateLM`: the context's trailing spaces move to the
continuation, the pair is encoded whole and split), with the model's BOS policy (:mod:`linguafranca.tokens`), so
the requests are the ones ``HFLM`` scores; the tests hold the two to 1e-4.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

import numpy as np
import torch
from lm_eval.api.model import TemplateLM
from lm_eval.api.registry import register_model
from tqdm.auto import tqdm

from .errors import LinguaFrancaError
from .hooks import deactivate
from .models import final_softcap
from .tokens import encode_ids

Request = tuple[tuple[str, str], list[int], list[int]]


@register_model("linguafranca")
class FastLM(TemplateLM):
    """``model`` and ``tokenizer`` as loaded by :func:`linguafranca.models.load_model`; ``mask`` (bool
    ``[n_layers, n_neurons]``, or None) is switched off while requests are scored; ``bos`` is the model's BOS
    policy; ``max_length`` caps context + continuation like ``HFLM`` (the context is cut on the left)."""

    def __init__(self, model: torch.nn.Module, tokenizer, mask: np.ndarray | None = None, bos: bool | None = None,
                 max_length: int = 2048):
        super().__init__()
        self.model, self.tokenizer, self.mask, self.bos = model, tokenizer, mask, bos
        self._max_length = max_length
        self.head = model.get_output_embeddings()
        if self.head is None:
            raise LinguaFrancaError(f"{type(model).__name__} has no output head; lm-eval scoring needs a causal LM")
        self.cap = final_softcap(model)
        self.where = next(model.parameters()).device

    @property
    def eot_token_id(self) -> int:
        return self.tokenizer.eos_token_id

    @property
    def prefix_token_id(self) -> int:
        """What an empty context is scored after: BOS where the tokenizer has one (as ``HFLM``)."""
        bos = self.tokenizer.bos_token_id
        return bos if bos is not None else self.tokenizer.eos_token_id

    def tok_encode(self, string: str, add_special_tokens: bool | None = None, **kwargs) -> list[int]:
        """The model's BOS policy when lm-eval leaves it open, else exactly what lm-eval asks for."""
        if add_special_tokens is None:
            return encode_ids(self.tokenizer, [string], self.bos)[0]
        return self.tokenizer.encode(string, add_special_tokens=add_special_tokens)

    def _scores(self, hidden: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities (float32) of ``targets`` ``[n]`` from hidden states ``[n, d]``, and whether each is
        the argmax: the head, soft-capping and ``log_softmax`` on these positions only."""
        logits = self.head(hidden).float()
        if self.cap is not None:
            logits = torch.tanh(logits / self.cap) * self.cap
        logprobs = torch.log_softmax(logits, dim=-1)
        targets = targets.to(logprobs.device)
        return logprobs.gather(-1, targets[:, None])[:, 0], logprobs.argmax(-1) == targets

    def _score_context(self, context: list[int], continuations: list[list[int]]) -> list[tuple[float, bool]]:
        """Every continuation of one context: the context runs once, the continuations from its cache."""
        base = self.model.base_model
        ids = torch.tensor([context], device=self.where)
        out = base(input_ids=ids, use_cache=True)
        first = torch.tensor([c[0] for c in continuations])
        first_lp, first_greedy = self._scores(out.last_hidden_state[0, -1:].expand(len(continuations), -1), first)
        totals, greedy = first_lp.double(), first_greedy.clone()
        longest = max(len(c) for c in continuations)
        if longest > 1:
            # Continuation tokens but the last are inputs; right-padded with the pad id (or 0), never read.
            pad = self.tokenizer.pad_token_id or 0
            inputs = torch.full((len(continuations), longest - 1), pad, dtype=torch.long)
            for row, c in enumerate(continuations):
                inputs[row, : len(c) - 1] = torch.tensor(c[:-1])
            cache = out.past_key_values
            cache.batch_repeat_interleave(len(continuations))
            hidden = base(input_ids=inputs.to(self.where), past_key_values=cache, use_cache=True).last_hidden_state
            rows = [row for row, c in enumerate(continuations) for _ in c[1:]]
            columns = [column for c in continuations for column in range(len(c) - 1)]
            targets = torch.tensor([t for c in continuations for t in c[1:]])
            lp, hit = self._scores(hidden[rows, columns], targets)
            totals.index_add_(0, torch.tensor(rows, device=lp.device), lp.double())
            misses = torch.zeros(len(continuations), dtype=torch.long, device=lp.device)
            misses.index_add_(0, torch.tensor(rows, device=lp.device), (~hit).long())
            greedy &= misses == 0
        return [(float(t), bool(g)) for t, g in zip(totals.tolist(), greedy.tolist())]

    def _truncated(self, context: list[int], continuation: list[int]) -> tuple[int, ...]:
        """The context as ``HFLM`` sees it: context + continuation keeps its last ``max_length + 1`` tokens."""
        if len(continuation) > self._max_length:
            raise LinguaFrancaError(f"a continuation of {len(continuation)} tokens exceeds max_length {self._max_length}")
        keep = self._max_length + 1 - len(continuation)
        return tuple(context[-keep:]) if len(context) > keep else tuple(context)

    def _loglikelihood_tokens(self, requests: list[Request], disable_tqdm: bool = False, **kwargs):
        """(log-likelihood, is greedy) per request, in request order, each distinct context run once."""
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for index, (_, context, continuation) in enumerate(requests):
            if not continuation:
                raise LinguaFrancaError("lm-eval asked for the log-likelihood of an empty continuation")
            groups[self._truncated(context, continuation)].append(index)
        answers: list[tuple[float, bool] | None] = [None] * len(requests)
        switched = deactivate(self.model, self.mask) if self.mask is not None else contextlib.nullcontext()
        with torch.inference_mode(), switched:
            for context, indices in tqdm(groups.items(), desc="contexts", disable=disable_tqdm):
                scored = self._score_context(list(context), [requests[i][2] for i in indices])
                for i, answer in zip(indices, scored):
                    answers[i] = answer
        return answers

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise LinguaFrancaError("FastLM answers loglikelihood requests only (multiple-choice tasks)")

    def generate_until(self, requests, disable_tqdm: bool = False):
        raise LinguaFrancaError("FastLM answers loglikelihood requests only (multiple-choice tasks)")
