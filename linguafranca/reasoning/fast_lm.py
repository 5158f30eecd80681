"""An lm-eval model of our own: the loaded model, optionally with a condition's neurons switched off, scoring
``loglikelihood`` requests the fast way.

lm-eval's ``HFLM`` runs every (context, continuation) pair as its own sequence and applies the output head at every
position. A multiple-choice item repeats its context once per choice, and Gemma's head (262,144 outputs) costs more
than the rest of a 270M model, so :class:`FastLM` instead

- runs each distinct context once (``use_cache=True``; up to ``batch_size`` contexts of similar length
  left-padded into one forward pass) and their continuations from the cached keys and values, in passes of
  similar length so that little of the compute is padding (:func:`passes`);
- applies the head only at the positions that predict a continuation token (the first token's position once
  per context), a block of the vocabulary at a time with soft-capping (Gemma) and the log-normaliser in float32
  (:mod:`linguafranca.model.logprobs`).

Tokenisation is lm-eval's own (:class:`~lm_eval.api.model.TemplateLM`: the context's trailing spaces move to the
continuation, the pair is encoded whole and split), with the model's BOS policy (:mod:`linguafranca.model.tokens`), so
the requests are the ones ``HFLM`` scores; the tests hold the two to 1e-4.
"""

from __future__ import annotations

import contextlib
import copy
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch
from lm_eval.api.model import TemplateLM
from lm_eval.api.registry import register_model
from tqdm.auto import tqdm

from linguafranca.errors import LinguaFrancaError
from linguafranca.model.hooks import deactivate
from linguafranca.model.loading import final_softcap
from linguafranca.model.logprobs import token_logprobs
from linguafranca.model.tokens import encode_ids, pad

Request = tuple[tuple[str, str], list[int], list[int]]
#: What one more forward pass costs, in padded tokens' worth of compute: Gemma 3 270M on 2 CPU threads takes 29 ms
#: for one token (reading the weights, Python per layer) and about 0.7 ms per further token of a batch.
PASS_TOKENS = 40


def passes(lengths: Sequence[int], overhead: int, most: int | None = None) -> list[range]:
    """Split rows of ascending ``lengths`` into consecutive passes, padded to their longest row, so that padded
    tokens plus ``overhead`` per pass are fewest; at most ``most`` rows per pass.

    One pass over everything pads every row to the longest (continuations of 10–60 tokens: nearly twice the real
    tokens); one pass per row pays the overhead every time. The split is exact (dynamic programming over the
    sorted rows, O(n * most)).
    """
    n = len(lengths)
    if any(a > b for a, b in zip(lengths, lengths[1:])):
        raise ValueError("passes() needs lengths in ascending order")
    most = n if most is None else most
    best = [0] + [None] * n  # best[j]: cost of rows [0, j)
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        for start in range(max(0, end - most), end):
            cost = best[start] + (end - start) * lengths[end - 1] + overhead
            if best[end] is None or cost < best[end]:
                best[end], cut[end] = cost, start
    groups, end = [], n
    while end > 0:
        groups.append(range(cut[end], end))
        end = cut[end]
    return groups[::-1]


@register_model("linguafranca")
class FastLM(TemplateLM):
    """``model`` and ``tokenizer`` as loaded by :func:`linguafranca.model.loading.load_model`; ``mask`` (bool
    ``[n_layers, n_neurons]``, or None) is switched off while requests are scored; ``bos`` is the model's BOS
    policy; ``max_length`` caps context + continuation like ``HFLM`` (the context is cut on the left);
    ``batch_size`` is the number of contexts per forward pass (it changes rounding only)."""

    def __init__(self, model: torch.nn.Module, tokenizer, mask: np.ndarray | None = None, bos: bool | None = None,
                 max_length: int = 2048, batch_size: int = 8):
        super().__init__()
        self.batch_size = batch_size
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

    def _score_contexts(self, contexts: list[list[int]], continuations: list[list[list[int]]]) -> list[list[tuple[float, bool]]]:
        """Every continuation of a batch of contexts: the contexts run once, left-padded together; their
        continuations (right-padded, one row each) run from the cached keys and values of their own context, in
        passes of similar length (:func:`passes`); then the head scores every predicting position at once.

        Left padding puts every context's last token in the last column, so the continuations follow at once; the
        attention mask hides the padding and the position ids count real tokens only, as ``generate`` does. A
        context's last position predicts the first token of all its choices, so it is scored once with all of them.
        """
        out, mask = self._run_contexts(contexts)
        owner = [i for i, conts in enumerate(continuations) for _ in conts]  # the context of each continuation row
        flat = [c for conts in continuations for c in conts]
        choices = max(len(conts) for conts in continuations)
        # Each scored position: its hidden state, up to `choices` target tokens, and the continuation each counts
        # towards (-1: none).
        states, targets, counts_for = [out.last_hidden_state[:, -1]], [], []
        starts = np.cumsum([0, *map(len, continuations)])
        for i, conts in enumerate(continuations):
            pad = choices - len(conts)
            targets.append([c[0] for c in conts] + [0] * pad)
            counts_for.append(list(range(starts[i], starts[i + 1])) + [-1] * pad)
        longer = sorted((row for row, c in enumerate(flat) if len(c) > 1), key=lambda row: len(flat[row]))
        for group in passes([len(flat[row]) - 1 for row in longer], PASS_TOKENS):
            rows = [longer[i] for i in group]
            cache = out.past_key_values if group.stop == len(longer) else copy.deepcopy(out.past_key_values)
            states.append(self._tails(cache, mask, [owner[row] for row in rows], [flat[row] for row in rows]))
            targets += [[t] + [0] * (choices - 1) for row in rows for t in flat[row][1:]]
            counts_for += [[row] + [-1] * (choices - 1) for row in rows for _ in flat[row][1:]]
        lp, hit = token_logprobs(self.head, torch.cat(states), torch.tensor(targets), self.cap)
        counts_for = torch.tensor(counts_for, device=lp.device)
        real = counts_for >= 0
        totals = torch.zeros(len(flat), dtype=torch.float64, device=lp.device).index_add_(
            0, counts_for[real], lp[real].double())
        misses = torch.zeros(len(flat), dtype=torch.long, device=lp.device).index_add_(
            0, counts_for[real], (~hit[real]).long())
        answers = list(zip(totals.tolist(), (misses == 0).tolist()))
        return [answers[a:b] for a, b in zip(starts[:-1], starts[1:])]

    def _run_contexts(self, contexts: list[list[int]]):
        """The base model's output (final hidden states and cache) on the contexts, left-padded, and their
        attention mask ``[n, width]``."""
        ids, mask = pad(contexts, "left")
        out = self.model.base_model(input_ids=ids.to(self.where), attention_mask=mask.to(self.where),
                                    position_ids=(mask.cumsum(-1) - 1).clamp(min=0).to(self.where), use_cache=True)
        return out, mask

    def _tails(self, cache, mask: torch.Tensor, owners: list[int], rows: list[list[int]]) -> torch.Tensor:
        """Final hidden states ``[sum(len - 1), d]`` at the positions that predict tokens 2.. of each continuation
        in ``rows``, in row order, from one pass from ``cache``. The cache is cut down here to the rows' contexts
        (``owners``: each row's index into the cache's batch and into ``mask``, the contexts' attention mask)."""
        inputs, tail = pad([c[:-1] for c in rows], "right")
        cache.batch_select_indices(torch.tensor(owners, device=self.where))
        context_mask = mask[owners]
        positions = context_mask.sum(-1, keepdim=True) + torch.arange(inputs.shape[1])
        hidden = self.model.base_model(
            input_ids=inputs.to(self.where), attention_mask=torch.cat([context_mask, tail], 1).to(self.where),
            position_ids=positions.to(self.where), past_key_values=cache, use_cache=True,
        ).last_hidden_state
        return hidden[tail.bool().to(hidden.device)]

    def _truncated(self, context: list[int], continuation: list[int]) -> tuple[int, ...]:
        """The context as ``HFLM`` sees it: context + continuation keeps its last ``max_length + 1`` tokens."""
        if len(continuation) > self._max_length:
            raise LinguaFrancaError(
                f"a continuation of {len(continuation)} tokens exceeds max_length {self._max_length} (reasoning.max_length)"
            )
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
        # Contexts of similar length share a batch, so that little of it is padding.
        ordered = sorted(groups.items(), key=lambda item: len(item[0]))
        batches = passes([len(context) for context, _ in ordered], PASS_TOKENS, self.batch_size)
        with torch.inference_mode(), switched, tqdm(total=len(ordered), desc="contexts", disable=disable_tqdm) as bar:
            for group in batches:
                batch = ordered[group.start : group.stop]
                scored = self._score_contexts([list(context) for context, _ in batch],
                                              [[requests[i][2] for i in indices] for _, indices in batch])
                for (_, indices), answers_of_context in zip(batch, scored):
                    for i, answer in zip(indices, answers_of_context):
                        answers[i] = (float(answer[0]), bool(answer[1]))
                bar.update(len(batch))
        return answers

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise LinguaFrancaError("FastLM answers loglikelihood requests only (multiple-choice tasks)")

    def generate_until(self, requests, disable_tqdm: bool = False):
        raise LinguaFrancaError("FastLM answers loglikelihood requests only (multiple-choice tasks)")
