"""An lm-eval model of our own: the loaded model, optionally with a condition's neurons switched off, scoring
``loglikelihood`` requests the fast way.

lm-eval's ``HFLM`` runs every (context, continuation) pair as its own sequence and applies the output head at every
position. A multiple-choice item repeats its context once per choice, and Gemma's head (262,144 outputs) costs more
than the rest of a 270M model, so :class:`FastLM` instead

- runs each distinct context once (``use_cache=True``; ``batch_size`` contexts of similar length left-padded into
  one forward pass) and scores all their continuations from the cached keys and values in one more pass;
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
#: Positions whose logits the head produces at once (Gemma 3: 128 × 262,144 float32 logits are 128 MiB).
HEAD_POSITIONS = 128


@register_model("linguafranca")
class FastLM(TemplateLM):
    """``model`` and ``tokenizer`` as loaded by :func:`linguafranca.models.load_model`; ``mask`` (bool
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

    def _scores(self, hidden: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities (float32) of ``targets`` ``[n]`` from hidden states ``[n, d]``, and whether each is
        the argmax: the head, soft-capping and the log-normaliser on these positions only, :data:`HEAD_POSITIONS`
        at a time (Gemma's float32 logits are 1 MiB per position)."""
        targets = targets.to(hidden.device)
        logprobs, hits = [], []
        for start in range(0, len(targets), HEAD_POSITIONS):
            logits = self.head(hidden[start : start + HEAD_POSITIONS]).float()
            if self.cap is not None:
                logits = torch.tanh(logits / self.cap) * self.cap
            chosen = targets[start : start + HEAD_POSITIONS].to(logits.device)
            logprobs.append(logits.gather(-1, chosen[:, None])[:, 0] - torch.logsumexp(logits, dim=-1))
            hits.append(logits.argmax(-1) == chosen)
        return torch.cat(logprobs), torch.cat(hits)

    def _score_contexts(self, contexts: list[list[int]], continuations: list[list[list[int]]]) -> list[list[tuple[float, bool]]]:
        """Every continuation of a batch of contexts: the contexts run once, left-padded together, and all their
        continuations (right-padded, one row each) run from the cached keys and values of their own context.

        Left padding puts every context's last token in the last column, so the continuations follow at once; the
        attention mask hides the padding and the position ids count real tokens only, as ``generate`` does.
        """
        base = self.model.base_model
        width = max(len(c) for c in contexts)
        ids = torch.zeros((len(contexts), width), dtype=torch.long)
        mask = torch.zeros((len(contexts), width), dtype=torch.long)
        for row, context in enumerate(contexts):
            ids[row, width - len(context):] = torch.tensor(context)
            mask[row, width - len(context):] = 1
        out = base(input_ids=ids.to(self.where), attention_mask=mask.to(self.where),
                   position_ids=(mask.cumsum(-1) - 1).clamp(min=0).to(self.where), use_cache=True)
        owner = [i for i, conts in enumerate(continuations) for _ in conts]  # the context of each continuation row
        flat = [c for conts in continuations for c in conts]
        first_lp, first_hit = self._scores(out.last_hidden_state[owner, -1], torch.tensor([c[0] for c in flat]))
        totals, greedy = first_lp.double(), first_hit.clone()
        longest = max(len(c) for c in flat)
        if longest > 1:
            inputs = torch.zeros((len(flat), longest - 1), dtype=torch.long)
            tail = torch.zeros((len(flat), longest - 1), dtype=torch.long)
            for row, c in enumerate(flat):
                inputs[row, : len(c) - 1] = torch.tensor(c[:-1])
                tail[row, : len(c) - 1] = 1
            cache = out.past_key_values
            cache.batch_select_indices(torch.tensor(owner, device=self.where))
            full_mask = torch.cat([mask[owner], tail], dim=1)
            positions = mask[owner].sum(-1, keepdim=True) + torch.arange(longest - 1)
            hidden = base(input_ids=inputs.to(self.where), attention_mask=full_mask.to(self.where),
                          position_ids=positions.to(self.where), past_key_values=cache,
                          use_cache=True).last_hidden_state
            rows = [row for row, c in enumerate(flat) for _ in c[1:]]
            columns = [column for c in flat for column in range(len(c) - 1)]
            lp, hit = self._scores(hidden[rows, columns], torch.tensor([t for c in flat for t in c[1:]]))
            index = torch.tensor(rows, device=lp.device)
            totals.index_add_(0, index, lp.double())
            misses = torch.zeros(len(flat), dtype=torch.long, device=lp.device).index_add_(0, index, (~hit).long())
            greedy &= misses == 0
        answers = list(zip(totals.tolist(), greedy.tolist()))
        starts = np.cumsum([0, *map(len, continuations)])
        return [answers[a:b] for a, b in zip(starts[:-1], starts[1:])]

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
        with torch.inference_mode(), switched, tqdm(total=len(ordered), desc="contexts", disable=disable_tqdm) as bar:
            for start in range(0, len(ordered), self.batch_size):
                batch = ordered[start : start + self.batch_size]
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
