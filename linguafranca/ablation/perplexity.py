"""Perplexity of a causal language model on one language's text, evaluated the way the paper does it.

The paper measures how much deactivating a set of neurons hurts each language (Section 5, Table 1) with the
perplexity evaluation of the pruning literature it builds on (Wanda / SparseGPT): the whole text is tokenised
once, cut into non-overlapping windows of ``seqlen`` tokens (the remainder is dropped), each window is run as an
independent sequence, and every window predicts its ``seqlen - 1`` next tokens. Perplexity is

    PPL = exp( sum over windows and positions of NLL / number of predicted tokens ).

Wanda writes this as ``exp(sum_w mean_loss_w * seqlen / (n_windows * seqlen))``; because every window predicts
the same number of tokens, that is the same number.

Memory: the logits of a 262,144-token vocabulary (Gemma 3) for 4 windows of 512 tokens are 2 GiB in float32,
so the language-model head is applied to the final hidden states a block at a time (:mod:`linguafranca.model.logprobs`) and
only the per-token losses are kept.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from linguafranca.data.samples import read_jsonl
from linguafranca.errors import LinguaFrancaError
from linguafranca.model.compute import compute_of
from linguafranca.model.loading import final_softcap
from linguafranca.model.logprobs import token_logprobs


@dataclass(frozen=True)
class PerplexityResult:
    """One language's perplexity and the totals it comes from (so conditions can be pooled or re-checked), and
    the dtype the model computed it in (its losses are float32 and their sum float64 whatever that is)."""

    ppl: float
    nll_sum: float
    n_predicted: int
    n_windows: int
    compute: str = "float32"


def load_joined_text(jsonl_path: str | os.PathLike, joiner: str) -> str:
    """The ``text`` of every record of a prepared dataset JSONL, in file order, joined by ``joiner``.

    The paper's evaluation joins the corpus into one string before tokenising (Wanda joins WikiText with
    ``" "``); the joiner is a parameter because some languages (Chinese, Japanese) are not space-separated.
    """
    path = Path(jsonl_path)
    if not path.is_file():
        raise LinguaFrancaError(f"perplexity text {path} does not exist: prepare the dataset first")
    texts = [sample.text for sample in read_jsonl(path)]
    if not texts:
        raise LinguaFrancaError(f"{path} holds no records; a perplexity text needs at least one")
    return joiner.join(texts)


def windows(
    token_ids: list[int] | torch.Tensor, seqlen: int, max_tokens: int | None, bos_id: int | None = None
) -> torch.Tensor:
    """Cut token ids into non-overlapping windows, LongTensor ``[n_windows, seqlen]``.

    ``max_tokens`` keeps only the first ``max_tokens`` tokens (to bound the cost per language); the remainder
    that does not fill a whole window is dropped, as in the paper.

    ``bos_id`` (not the paper's setting) starts every window with that token followed by ``seqlen - 1`` text
    tokens, so that every window looks like the start of a document; ``token_ids`` should then hold no BOS.
    Gemma needs this: on Gemma 3 270M a window that starts mid-text without BOS has more than twice the
    mean loss (5.5 vs 2.3 nats per token on English text).
    """
    if seqlen < 2:
        raise LinguaFrancaError(f"perplexity seqlen must be at least 2 (one token to predict), got {seqlen}")
    if max_tokens is not None and max_tokens < 1:
        raise LinguaFrancaError(f"perplexity max_tokens must be a positive number or unset, got {max_tokens}")
    ids = torch.as_tensor(token_ids, dtype=torch.long).reshape(-1)
    used = ids[:max_tokens] if max_tokens is not None else ids
    span = seqlen if bos_id is None else seqlen - 1
    n_windows = len(used) // span
    if n_windows == 0:
        cap = f" (capped by max_tokens={max_tokens})" if max_tokens is not None and len(ids) > max_tokens else ""
        prefix = "" if bos_id is None else ", one of them BOS"
        raise LinguaFrancaError(
            f"the text has {len(used)} tokens{cap}, fewer than one window of seqlen={seqlen}{prefix}; "
            "use more text or a smaller seqlen"
        )
    text = used[: n_windows * span].reshape(n_windows, span)
    if bos_id is None:
        return text
    return torch.cat([torch.full((n_windows, 1), bos_id, dtype=torch.long), text], dim=1)


def token_nll(model: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of every predicted token, float32 ``[batch * (seqlen - 1)]``.

    Equals ``cross_entropy(model(batch).logits[:, :-1], batch[:, 1:])`` per token, but runs the base model once
    and the output head through :func:`linguafranca.model.logprobs.token_logprobs` (a block of positions and of the
    vocabulary at a time). The head multiplies in the model's dtype (its products accumulate in float32 inside the
    kernel; the logits are rounded to the dtype, about 0.4% in bfloat16), then the logits are upcast to float32
    before soft-capping and the log-normaliser, so the loss itself loses nothing more. The precision table of config/README.md
    measures what this costs against float32.
    """
    head = model.get_output_embeddings()
    if head is None:
        raise LinguaFrancaError(f"{type(model).__name__} has no output head; perplexity needs a causal LM")
    hidden = model.base_model(input_ids=batch, use_cache=False).last_hidden_state
    hidden = hidden[:, :-1].reshape(-1, hidden.shape[-1])  # [batch * (seqlen - 1), hidden]
    logprobs, _ = token_logprobs(head, hidden, batch[:, 1:].reshape(-1), final_softcap(model), greedy=False)
    return -logprobs


def perplexity(
    model: torch.nn.Module,
    windows: torch.Tensor,
    batch_size: int = 1,
    progress: bool = True,
    desc: str = "perplexity",
) -> PerplexityResult:
    """Perplexity over ``windows`` ``[n_windows, seqlen]``, each window an independent sequence.

    Batches of ``batch_size`` windows run under ``torch.inference_mode()``; per-token losses are summed in
    float64; ``desc`` labels the progress bar.
    """
    if batch_size < 1:
        raise LinguaFrancaError(f"perplexity batch_size must be at least 1, got {batch_size}")
    device = next(model.parameters()).device
    nll_sum = 0.0
    n_predicted = 0
    with torch.inference_mode(), tqdm(total=len(windows), unit="window", desc=desc, disable=not progress) as bar:
        for start in range(0, len(windows), batch_size):
            batch = windows[start : start + batch_size].to(device)
            losses = token_nll(model, batch)
            nll_sum += float(losses.double().sum())
            n_predicted += losses.numel()
            bar.update(len(batch))
    return PerplexityResult(math.exp(nll_sum / n_predicted), nll_sum, n_predicted, len(windows), compute_of(model))
