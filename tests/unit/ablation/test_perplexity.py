"""Perplexity: windowing, tokenisation, and the blockwise-head evaluation against brute force on tiny models."""

from __future__ import annotations

import json
import math

import pytest
import torch

from linguafranca.ablation.perplexity import load_joined_text, perplexity, token_nll, windows
from linguafranca.errors import LinguaFrancaError
from linguafranca.model import logprobs as head
from linguafranca.model.tokens import text_tensor
from tests.helpers.tiny import WORD_VOCAB as VOCAB
from tests.helpers.tiny import word_model, word_tokenizer


def model_of(kind: str) -> torch.nn.Module:
    """The tiny model of ``kind``; Gemma 3 with final-logit soft-capping on, so the blockwise head must apply it."""
    return word_model(kind, final_logit_softcapping=1.0) if kind == "gemma3" else word_model(kind)


def brute_force_ppl(model: torch.nn.Module, wins: torch.Tensor) -> tuple[float, int]:
    """exp(mean NLL), one window and one position at a time, float64 log-softmax over ``model(...).logits``."""
    total, count = 0.0, 0
    with torch.no_grad():
        for window in wins:
            logits = model(window[None]).logits[0].double()
            for t in range(len(window) - 1):
                total -= torch.log_softmax(logits[t], dim=-1)[window[t + 1]].item()
                count += 1
    return math.exp(total / count), count


def test_windows_drop_the_remainder():
    result = windows(list(range(11)), seqlen=3, max_tokens=None)
    assert result.dtype == torch.long
    assert result.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_windows_use_only_the_first_max_tokens():
    result = windows(torch.arange(20), seqlen=4, max_tokens=10)
    assert result.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_windows_can_start_each_with_bos():
    result = windows(torch.arange(10, 20), seqlen=4, max_tokens=8, bos_id=1)
    assert result.tolist() == [[1, 10, 11, 12], [1, 13, 14, 15]]
    with pytest.raises(LinguaFrancaError, match=r"2 tokens.*seqlen=4, one of them BOS"):
        windows([5, 6], seqlen=4, max_tokens=None, bos_id=1)


def test_windows_error_when_no_window_fits():
    with pytest.raises(LinguaFrancaError, match=r"5 tokens.*seqlen=8"):
        windows(list(range(5)), seqlen=8, max_tokens=None)
    with pytest.raises(LinguaFrancaError, match=r"6 tokens \(capped by max_tokens=6\).*seqlen=8"):
        windows(list(range(50)), seqlen=8, max_tokens=6)
    with pytest.raises(LinguaFrancaError, match="seqlen must be at least 2"):
        windows(list(range(50)), seqlen=1, max_tokens=None)


def test_text_tensor_puts_one_bos_at_the_start_only():
    tokenizer = word_tokenizer()
    text = " ".join(f"w{i % 96}" for i in range(40))
    default = text_tensor(tokenizer, text, bos=None).tolist()
    assert default[0] == 1 and default.count(1) == 1 and len(default) == 41
    assert text_tensor(tokenizer, text, bos=True).tolist() == default
    assert text_tensor(tokenizer, text, bos=False).tolist() == default[1:]


def test_load_joined_text_joins_records_in_order(tmp_path):
    path = tmp_path / "en.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "text": f"s{i}"}) + "\n" for i in range(3)), encoding="utf-8")
    assert load_joined_text(path, " ") == "s0 s1 s2"
    assert load_joined_text(path, "") == "s0s1s2"
    path.write_text('{"id": "0"}\n', encoding="utf-8")
    with pytest.raises(LinguaFrancaError, match=r"en.jsonl:1"):
        load_joined_text(path, " ")


@pytest.mark.parametrize("kind", ["llama", "gpt2", "gemma3"])
def test_perplexity_equals_brute_force(kind, monkeypatch):
    model = model_of(kind)
    torch.manual_seed(1)
    wins = torch.randint(0, VOCAB, (5, 8))
    # batch 2 leaves a ragged last batch; head blocks of 5 positions straddle window boundaries, and blocks of 7
    # outputs straddle the vocabulary.
    monkeypatch.setattr(head, "BLOCK_ELEMENTS", 5 * 7)
    monkeypatch.setattr(head, "VOCAB_BLOCK", 7)
    result = perplexity(model, wins, batch_size=2, progress=False)
    expected, count = brute_force_ppl(model, wins)
    assert result.n_predicted == count == 5 * 7
    assert result.n_windows == 5
    assert result.ppl == pytest.approx(expected, rel=1e-6)
    assert result.ppl == pytest.approx(math.exp(result.nll_sum / result.n_predicted), rel=1e-12)


@pytest.mark.parametrize("kind", ["llama", "gemma3"])
def test_blockwise_head_equals_the_logits_path(kind, monkeypatch):
    monkeypatch.setattr(head, "BLOCK_ELEMENTS", 4 * 9)
    monkeypatch.setattr(head, "VOCAB_BLOCK", 9)
    model = model_of(kind)
    torch.manual_seed(2)
    batch = torch.randint(0, VOCAB, (3, 8))
    with torch.no_grad():
        logits = model(batch).logits
        reference = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, VOCAB), batch[:, 1:].reshape(-1), reduction="none"
        )
        blockwise = token_nll(model, batch)
    torch.testing.assert_close(blockwise, reference, rtol=1e-5, atol=1e-6)


def test_softcapping_is_applied():
    """The Gemma reference above would pass vacuously if soft-capping changed nothing: check it does."""
    capped, uncapped = model_of("gemma3"), word_model("gemma3")
    torch.manual_seed(2)
    batch = torch.randint(0, VOCAB, (2, 8))
    with torch.no_grad():
        difference = (token_nll(capped, batch) - token_nll(uncapped, batch)).abs().max()
    assert difference > 1e-2
