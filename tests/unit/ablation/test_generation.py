"""Generation samples: greedy, deterministic, one record per language × prompt × condition."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from linguafranca.ablation.generation import Generation, Prompt, generate_samples, load_prompts, write_generations
from linguafranca.errors import LinguaFrancaError
from linguafranca.model.hooks import deactivate
from tests.helpers.tiny import word_model, word_tokenizer

FIELDS = ["lang", "prompt_id", "prompt", "condition", "continuation"]


def tiny_model() -> torch.nn.Module:
    """Two layers of 64 neurons, with the tokenizer's special ids and a checkpoint's sampling defaults."""
    model = word_model("llama", bos_token_id=1, eos_token_id=2, pad_token_id=0, initializer_range=0.3)
    # A checkpoint may ship sampling defaults; generation must stay greedy regardless.
    model.generation_config.do_sample, model.generation_config.top_k = True, 5
    return model


PROMPTS = [Prompt("en", "s0", "w1 w2 w3 w4 w5 w6"), Prompt("zh", "s0", "w7 w8 w9"), Prompt("zh", "s1", "w10 w11")]


def masks() -> dict[str, np.ndarray]:
    everything = np.ones((2, 64), dtype=bool)
    half = np.zeros((2, 64), dtype=bool)
    half[:, ::2] = True
    return {"none": np.zeros((2, 64), dtype=bool), "random": half, "en": everything}


def test_records_cover_every_prompt_and_condition():
    records = generate_samples(tiny_model(), word_tokenizer(), PROMPTS, masks(), max_new_tokens=6)
    assert [(r.lang, r.prompt_id, r.condition) for r in records] == [
        (p.lang, p.prompt_id, c) for p in PROMPTS for c in ["none", "random", "en"]
    ]
    assert [r.prompt for r in records[::3]] == [p.text for p in PROMPTS]
    for record in records:
        words = record.continuation.split()
        assert len(words) <= 6 and all(w.startswith("w") for w in words)


def test_generation_is_greedy_and_deterministic():
    model, tokenizer = tiny_model(), word_tokenizer()
    first = generate_samples(model, tokenizer, PROMPTS, masks(), max_new_tokens=8)
    assert generate_samples(model, tokenizer, PROMPTS, masks(), max_new_tokens=8) == first

    ids = tokenizer(PROMPTS[0].text, return_tensors="pt")["input_ids"]
    plain = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, top_k=None, max_new_tokens=8)
    assert first[0].condition == "none"
    assert first[0].continuation == tokenizer.decode(plain[0, ids.shape[1] :], skip_special_tokens=True)
    # Switching off every neuron of every layer changes what the model says.
    assert first[2].condition == "en" and first[2].continuation != first[0].continuation


def test_prompts_are_truncated_to_max_prompt_tokens():
    records = generate_samples(tiny_model(), word_tokenizer(), PROMPTS[:1], masks(), 4, max_prompt_tokens=3)
    assert {r.prompt for r in records} == {"w1 w2"}  # BOS + two words


def test_load_prompts_takes_the_first_records(tmp_path):
    path = tmp_path / "fr.jsonl"
    path.write_text("".join(json.dumps({"id": f"s{i}", "text": f"t{i}"}) + "\n" for i in range(3)), encoding="utf-8")
    assert load_prompts(path, "fr", 2) == [Prompt("fr", "s0", "t0"), Prompt("fr", "s1", "t1")]
    with pytest.raises(LinguaFrancaError, match="3 records, fewer than the 5 prompts"):
        load_prompts(path, "fr", 5)


def test_write_generations(tmp_path):
    records = [
        Generation("zh", "s0", "你好", "none", "a | b\nc"),
        Generation("zh", "s0", "你好", "en", "d"),
        Generation("en", "s1", "hi", "none", "e"),
    ]
    write_generations(records, tmp_path / "g.jsonl", tmp_path / "g.md")
    lines = (tmp_path / "g.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [{k: getattr(r, k) for k in FIELDS} for r in records]
    assert "你好" in lines[0]
    markdown = (tmp_path / "g.md").read_text(encoding="utf-8")
    assert "## zh — s0" in markdown and "## en — s1" in markdown
    assert "| none | a \\| b<br>c |" in markdown and "| en | d |" in markdown


def test_batched_conditions_equal_one_generate_per_condition():
    """All conditions of a prompt run as one batch; each row must read as its condition's own greedy run."""
    model, tokenizer = tiny_model(), word_tokenizer()
    records = generate_samples(model, tokenizer, PROMPTS[:2], masks(), max_new_tokens=8)
    for record in records:
        ids = tokenizer(next(p.text for p in PROMPTS if p.prompt_id == record.prompt_id and p.lang == record.lang),
                        return_tensors="pt")["input_ids"]
        with deactivate(model, masks()[record.condition]), torch.inference_mode():
            alone = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, top_k=None,
                                   top_p=None, max_new_tokens=8, pad_token_id=0)
        new = alone[0, ids.shape[1] :].tolist()
        if 2 in new:
            new = new[: new.index(2) + 1]
        assert record.continuation == tokenizer.decode(new, skip_special_tokens=True), record
