"""Log-probabilities of chosen tokens through a language model's output head, a block of the vocabulary at a time.

Scoring a token needs the log-normaliser over the whole vocabulary at its position. Gemma 3's vocabulary has
262,144 entries: its float32 logits are 1 MiB per position. Producing a chunk of positions' logits whole and then
upcasting, soft-capping and reducing them runs every one of those passes through main memory; on a 2-core CPU they
cost more than the head's matrix product itself (bfloat16, 128 positions: product 145 ms, upcast and log-normaliser
about 200 ms, argmax 60 ms).

:func:`token_logprobs` instead runs the head over :data:`VOCAB_BLOCK` outputs at a time and folds each block into
running statistics while it is still in cache: the maximum and its first index (the argmax), and the sum of
exponentials relative to the maximum (the log-normaliser, summed in float32 within a block and combined across
blocks in float64; a float64 sum over a block costs ten times the float32 one). The numbers are those
of ``log_softmax`` over the whole row in float32: the logits are the head's own, rounded to the model's dtype as
before, then upcast. Perplexity (Table 1) and the reasoning stage's ``loglikelihood`` share it.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

#: Head outputs per block: small enough that a block's logits stay in cache between the passes over them.
VOCAB_BLOCK = 16384
#: Logits per block (16 MiB in float32): 256 positions of Gemma's blocks, more positions for a smaller vocabulary
#: (the sandbox's 2,048), whose blocks would otherwise be too small to be worth their Python.
BLOCK_ELEMENTS = 256 * VOCAB_BLOCK
#: exp(x) = 2 ** (x * log2(e)). torch's float32 ``exp`` on this CPU build is 2.5× slower than ``exp2`` and 30–70×
#: slower below -87 (a slow path for results that underflow), where logits far below the maximum land.
LOG2E = 1.4426950408889634


def token_logprobs(
    head: torch.nn.Module, hidden: torch.Tensor, targets: torch.Tensor, cap: float | None = None,
    greedy: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``log p(target)`` (float32 ``[n]``) at each of ``n`` positions from their final hidden states ``[n, d]``,
    and whether the target is the argmax there (bool ``[n]``; ties go to the lowest index, as ``argmax``).
    ``targets`` may also be ``[n, k]``: k tokens scored at each position for the price of one (the choices of a
    multiple-choice item share their first position); both results then have that shape.

    ``cap`` soft-caps the logits (``cap * tanh(logits / cap)``, Gemma 2/3) before the normaliser. With
    ``greedy=False`` the second result is None: perplexity needs no argmax, which costs more than the normaliser
    for a small vocabulary.
    """
    weight = getattr(head, "weight", None)
    vocab = weight.shape[0] if weight is not None else VOCAB_BLOCK
    positions = max(1, BLOCK_ELEMENTS // min(vocab, VOCAB_BLOCK))
    logprobs, hits = [], []
    for start in range(0, len(targets), positions):
        lp, hit = _score(head, hidden[start : start + positions], targets[start : start + positions], cap, greedy)
        logprobs.append(lp)
        hits.append(hit)
    if not logprobs:
        return torch.zeros(targets.shape), torch.zeros(targets.shape, dtype=torch.bool) if greedy else None
    return torch.cat(logprobs), torch.cat(hits) if greedy else None


def _blocks(head: torch.nn.Module, hidden: torch.Tensor) -> Iterator[tuple[int, torch.Tensor]]:
    """(first output index, logits ``[n, block]``) over the vocabulary. A plain ``Linear`` head with its weights in
    memory is sliced; any other head (offloaded, quantised, wrapped) runs whole, as one block."""
    weight = getattr(head, "weight", None)
    if not isinstance(head, torch.nn.Linear) or weight is None or weight.device.type == "meta":
        yield 0, head(hidden)
        return
    hidden = hidden.to(weight.device)
    for first in range(0, weight.shape[0], VOCAB_BLOCK):
        bias = None if head.bias is None else head.bias[first : first + VOCAB_BLOCK]
        yield first, torch.nn.functional.linear(hidden, weight[first : first + VOCAB_BLOCK], bias)


def _score(
    head: torch.nn.Module, hidden: torch.Tensor, targets: torch.Tensor, cap: float | None, greedy: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`token_logprobs` for one block's positions."""
    running, buffer = None, None
    for first, logits in _blocks(head, hidden):
        if running is None:
            running = _Running(targets.to(logits.device).reshape(len(targets), -1), greedy)
        if logits.dtype == torch.float32:
            block = logits
        else:
            if buffer is None or buffer.shape[1] < logits.shape[1]:
                buffer = torch.empty(logits.shape, dtype=torch.float32, device=logits.device)
            block = buffer[:, : logits.shape[1]].copy_(logits)
        if cap is not None:
            block.div_(cap).tanh_().mul_(cap)
        running.fold(block, first)
    logprobs, hits = running.result()
    return logprobs.reshape(targets.shape), None if hits is None else hits.reshape(targets.shape)


class _Running:
    """What the blocks of a row of logits fold into: the targets' logits, the maximum so far and its first index,
    and the sum of exponentials relative to that maximum. Without ``greedy`` the index is not kept."""

    def __init__(self, targets: torch.Tensor, greedy: bool):
        n, device = len(targets), targets.device
        self.targets, self.greedy = targets, greedy  # [n, k]
        self.chosen = torch.zeros(targets.shape, dtype=torch.float32, device=device)
        self.peak = torch.full((n,), -torch.inf, dtype=torch.float64, device=device)
        self.top = torch.zeros(n, dtype=torch.long, device=device)
        self.total = torch.zeros(n, dtype=torch.float64, device=device)

    def fold(self, block: torch.Tensor, first: int) -> None:
        """Take in the float32 logits ``block`` of outputs ``first, first + 1, ...`` (overwritten here)."""
        inside = (self.targets >= first) & (self.targets < first + block.shape[1])
        if inside.any():
            rows, columns = inside.nonzero(as_tuple=True)
            self.chosen[rows, columns] = block[rows, self.targets[rows, columns] - first]
        if self.greedy:
            block_top = block.argmax(dim=-1)
            block_peak = block.gather(-1, block_top[:, None])
        else:
            block_peak = block.amax(dim=-1, keepdim=True)
        sums = block.sub_(block_peak).mul_(LOG2E).exp2_().sum(dim=-1).double()
        block_peak = block_peak[:, 0].double()
        if self.greedy:
            self.top = torch.where(block_peak > self.peak, block_top + first, self.top)  # ties keep the earlier index
        peak = torch.maximum(self.peak, block_peak)
        self.total = self.total * torch.exp(self.peak - peak) + sums * torch.exp(block_peak - peak)
        self.peak = peak

    def result(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """log p(target) (float32 ``[n, k]``) and whether each target is the argmax (None without ``greedy``)."""
        normaliser = self.peak + torch.log(self.total)
        logprobs = (self.chosen.double() - normaliser[:, None]).float()
        return logprobs, self.top[:, None] == self.targets if self.greedy else None
