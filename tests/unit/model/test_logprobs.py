"""The blockwise output head against a float64 ``log_softmax`` over the whole row, with blocks of positions and
of the vocabulary small enough that every boundary is crossed."""

from __future__ import annotations

import pytest
import torch

from linguafranca.model import logprobs as head
from linguafranca.model.logprobs import token_logprobs

VOCAB, WIDTH, POSITIONS = 50, 8, 13


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(head, "BLOCK_ELEMENTS", 5 * 7)  # 5 positions per block
    monkeypatch.setattr(head, "VOCAB_BLOCK", 7)  # 50 outputs: seven full blocks and one of 1


def reference(logits: torch.Tensor, targets: torch.Tensor, cap: float | None) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(target) in float64 over the whole row, and first-index argmax == target."""
    logits = logits.double()
    if cap is not None:
        logits = torch.tanh(logits / cap) * cap
    logprobs = torch.log_softmax(logits, dim=-1)[torch.arange(len(targets)), targets]
    return logprobs, logits.argmax(-1) == targets


def linear(bias: bool, dtype: torch.dtype = torch.float32) -> torch.nn.Linear:
    torch.manual_seed(0)
    layer = torch.nn.Linear(WIDTH, VOCAB, bias=bias)
    return layer.to(dtype)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("cap", [None, 2.0])
def test_float32_head_equals_the_whole_row(bias, cap):
    layer = linear(bias)
    hidden = torch.randn(POSITIONS, WIDTH) * 3
    targets = torch.randint(0, VOCAB, (POSITIONS,))
    targets[:3] = torch.tensor([0, VOCAB - 1, 7])  # the first and last outputs, and a block's first
    with torch.no_grad():
        logprobs, greedy = token_logprobs(layer, hidden, targets, cap)
        expected, expected_greedy = reference(layer(hidden), targets, cap)
    assert logprobs.dtype == torch.float32 and logprobs.shape == (POSITIONS,)
    torch.testing.assert_close(logprobs.double(), expected, rtol=0, atol=2e-6)
    assert torch.equal(greedy, expected_greedy)


def test_greedy_is_true_where_the_target_is_the_argmax():
    layer = linear(False)
    hidden = torch.randn(POSITIONS, WIDTH)
    with torch.no_grad():
        best = layer(hidden).argmax(-1)
        _, greedy = token_logprobs(layer, hidden, best)
        _, other = token_logprobs(layer, hidden, (best + 1) % VOCAB)
    assert greedy.all() and not other.any()


def test_ties_go_to_the_lowest_index_across_blocks():
    """Outputs 3 and 40 (different blocks) have the same weights: argmax picks 3, so only 3 is greedy."""
    layer = linear(False)
    with torch.no_grad():
        layer.weight[40] = layer.weight[3]
        hidden = layer.weight[3][None].repeat(2, 1) * 50  # makes outputs 3 and 40 the row's maximum
        assert layer(hidden).argmax(-1).tolist() == [3, 3]
        _, greedy = token_logprobs(layer, hidden, torch.tensor([3, 40]))
    assert greedy.tolist() == [True, False]


def test_bfloat16_head_equals_log_softmax_of_its_own_logits():
    """In bfloat16 the logits are the head's, rounded to bfloat16, and everything after them is float32."""
    layer = linear(False, torch.bfloat16)
    hidden = torch.randn(POSITIONS, WIDTH).to(torch.bfloat16)
    targets = torch.randint(0, VOCAB, (POSITIONS,))
    with torch.no_grad():
        logprobs, greedy = token_logprobs(layer, hidden, targets, 2.0)
        expected, expected_greedy = reference(layer(hidden), targets, 2.0)
    torch.testing.assert_close(logprobs.double(), expected, rtol=0, atol=2e-6)
    assert torch.equal(greedy, expected_greedy)


class Wrapped(torch.nn.Module):
    """A head that is not a plain Linear (as a quantised or offloaded one): it runs whole."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.inner(hidden)


def test_any_other_head_runs_whole_with_the_same_numbers():
    layer = linear(True)
    hidden = torch.randn(POSITIONS, WIDTH)
    targets = torch.randint(0, VOCAB, (POSITIONS,))
    with torch.no_grad():
        sliced = token_logprobs(layer, hidden, targets, 2.0)
        whole = token_logprobs(Wrapped(layer), hidden, targets, 2.0)
    torch.testing.assert_close(sliced[0], whole[0], rtol=0, atol=2e-6)
    assert torch.equal(sliced[1], whole[1])


def test_no_positions_give_empty_results():
    logprobs, greedy = token_logprobs(linear(False), torch.zeros(0, WIDTH), torch.zeros(0, dtype=torch.long))
    assert logprobs.shape == greedy.shape == (0,)


def test_several_targets_per_position_equal_one_at_a_time():
    layer = linear(True)
    hidden = torch.randn(POSITIONS, WIDTH)
    targets = torch.randint(0, VOCAB, (POSITIONS, 3))
    with torch.no_grad():
        logprobs, greedy = token_logprobs(layer, hidden, targets, 2.0)
        for k in range(3):
            single = token_logprobs(layer, hidden, targets[:, k], 2.0)
            torch.testing.assert_close(logprobs[:, k], single[0], rtol=0, atol=0)
            assert torch.equal(greedy[:, k], single[1])
    assert logprobs.shape == greedy.shape == (POSITIONS, 3)


@pytest.mark.parametrize("cap", [None, 2.0])
def test_without_greedy_the_logprobs_are_the_same(cap):
    layer = linear(True)
    hidden = torch.randn(POSITIONS, WIDTH)
    targets = torch.randint(0, VOCAB, (POSITIONS,))
    with torch.no_grad():
        both = token_logprobs(layer, hidden, targets, cap)
        alone = token_logprobs(layer, hidden, targets, cap, greedy=False)
    torch.testing.assert_close(alone[0], both[0], rtol=0, atol=0)
    assert alone[1] is None
