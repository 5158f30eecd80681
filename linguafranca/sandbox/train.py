"""Pretraining from scratch: a plain, seeded PyTorch loop (AdamW, linear warm-up then cosine decay) over packed
Bible text, saving checkpoints as ordinary Hugging Face folders with their tokenizer.

Deterministic for a seed on one machine and thread count: the initial weights, the batch sampling and the update
order depend only on ``seed``; checkpoint hashes are then equal run to run (tests/test_sandbox.py).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterator
from typing import Any

import torch
from transformers import BloomConfig, BloomForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.atomic import atomic_path
from linguafranca.sandbox.settings import TrainSettings

LOSS_COLUMNS = ["step", "tokens", "loss", "learning_rate", "tokens_per_s"]


def pack(verses: dict[str, list[str]], tokenizer: PreTrainedTokenizerFast, seq_len: int) -> dict[str, torch.Tensor]:
    """Each language's verses as ``<s> verse </s> <s> verse </s> …``, cut into ``[n, seq_len]`` sequences (the
    remainder dropped), so that a sequence holds one language only."""
    packed = {}
    for lang, texts in verses.items():
        ids = [token for row in tokenizer(texts)["input_ids"]
               for token in (tokenizer.bos_token_id, *row, tokenizer.eos_token_id)]
        n = len(ids) // seq_len
        if n == 0:
            raise LinguaFrancaError(f"sandbox: language {lang} has fewer than seq_len ({seq_len}) training tokens")
        packed[lang] = torch.tensor(ids[: n * seq_len], dtype=torch.long).view(n, seq_len)
    return packed


def build_model(settings: TrainSettings, tokenizer: PreTrainedTokenizerFast) -> torch.nn.Module:
    """A freshly initialised BLOOM (ALiBi, as in the paper) or LLaMA (RoPE, gated MLP) of the given shape."""
    special = dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                   pad_token_id=tokenizer.pad_token_id)
    vocab = len(tokenizer)
    if settings.architecture == "bloom":
        config = BloomConfig(vocab_size=vocab, hidden_size=settings.hidden, n_layer=settings.layers,
                             n_head=settings.heads, **special)
        return BloomForCausalLM(config)
    intermediate = 8 * ((8 * settings.hidden // 3 + 7) // 8)  # LLaMA's 8/3 h, a multiple of 8
    config = LlamaConfig(vocab_size=vocab, hidden_size=settings.hidden, intermediate_size=intermediate,
                         num_hidden_layers=settings.layers, num_attention_heads=settings.heads,
                         num_key_value_heads=settings.heads, max_position_embeddings=2048, **special)
    return LlamaForCausalLM(config)


def learning_rate(step: int, settings: TrainSettings) -> float:
    """Linear warm-up to the peak over ``warmup`` steps, then cosine decay to 0 at ``steps``."""
    if step < settings.warmup:
        return settings.learning_rate * (step + 1) / settings.warmup
    span = max(1, settings.steps - settings.warmup)
    return settings.learning_rate * 0.5 * (1 + math.cos(math.pi * (step - settings.warmup) / span))


def batches(packed: dict[str, torch.Tensor], mix: dict[str, float], settings: TrainSettings) -> Iterator[torch.Tensor]:
    """Seeded batches: each sequence's language drawn from ``mix``, then one of its sequences uniformly."""
    generator = torch.Generator().manual_seed(settings.seed)
    langs = list(mix)
    weights = torch.tensor([mix[lang] for lang in langs], dtype=torch.float64)
    while True:
        chosen = torch.multinomial(weights, settings.batch_size, replacement=True, generator=generator)
        rows = [packed[langs[i]][torch.randint(len(packed[langs[i]]), (1,), generator=generator)] for i in chosen]
        yield torch.cat(rows)


def save_checkpoint(model: torch.nn.Module, tokenizer: PreTrainedTokenizerFast, folder: str | os.PathLike) -> None:
    """An ordinary Hugging Face folder (config, safetensors, tokenizer), written atomically."""
    with atomic_path(folder, directory=True) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)


def train(
    settings: TrainSettings,
    packed: dict[str, torch.Tensor],
    mix: dict[str, float],
    tokenizer: PreTrainedTokenizerFast,
    checkpoints: dict[int, str | os.PathLike],
    device: str = "cpu",
) -> list[dict[str, Any]]:
    """Train and save a checkpoint at every step in ``checkpoints`` (step 0: the initial weights); return the log
    rows (:data:`LOSS_COLUMNS`), one per step, for :func:`linguafranca.io.tsv.write_tsv`."""
    torch.manual_seed(settings.seed)
    model = build_model(settings, tokenizer).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: learning_rate(step, settings) /
                                                  settings.learning_rate)
    autocast = torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16,
                              enabled=settings.autocast == "bfloat16")
    rows, data, tokens = [], batches(packed, mix, settings), settings.batch_size * settings.seq_len
    for step in range(settings.steps + 1):
        if step in checkpoints:
            model.eval()
            save_checkpoint(model, tokenizer, checkpoints[step])
        if step == settings.steps:
            break
        model.train()
        start = time.perf_counter()
        batch = next(data).to(device)
        with autocast:
            loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        rate = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        rows.append({"step": step + 1, "tokens": (step + 1) * tokens, "loss": loss.item(),
                     "learning_rate": rate, "tokens_per_s": tokens / (time.perf_counter() - start)})
        if (step + 1) % 50 == 0:
            logging.info("step %d loss %.3f", step + 1, rows[-1]["loss"])
    return rows
