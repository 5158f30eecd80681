"""Greedy continuations with and without neurons deactivated (paper Appendix A).

Perplexity says *how much* a deactivated region hurts a language; a few continuations show *how*: with its own
region off, a model tends to drift into another language or into repetition. For each configured language the
first prompts of its parallel data are continued greedily (deterministic, so reruns agree) under every
condition: no deactivation, the random control, and each language's region.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from linguafranca.data.samples import read_jsonl
from linguafranca.errors import LinguaFrancaError
from linguafranca.io.atomic import write_text
from linguafranca.model.hooks import deactivate_rows
from linguafranca.model.tokens import encode_ids


@dataclass(frozen=True)
class Prompt:
    """One prompt: a sample of a language's parallel data."""

    lang: str
    prompt_id: str
    text: str


@dataclass(frozen=True)
class Generation:
    """One continuation: one language × prompt × condition (one line of ``generations.jsonl``)."""

    lang: str
    prompt_id: str
    prompt: str
    condition: str
    continuation: str


def load_prompts(jsonl_path: str | os.PathLike, lang: str, n_prompts: int = 1) -> list[Prompt]:
    """The first ``n_prompts`` records (``{"id", "text"}``) of a prepared dataset JSONL, as prompts."""
    path = Path(jsonl_path)
    if not path.is_file():
        raise LinguaFrancaError(f"prompt file {path} does not exist: prepare the dataset first")
    samples = read_jsonl(path)
    if len(samples) < n_prompts:
        raise LinguaFrancaError(f"{path} has {len(samples)} records, fewer than the {n_prompts} prompts asked for")
    return [Prompt(lang, sample.id, sample.text) for sample in samples[:n_prompts]]


def prompt_ids(tokenizer, text: str, bos: bool | None, max_prompt_tokens: int | None) -> torch.Tensor:
    """Token ids ``[1, n]`` of a prompt under the model's BOS policy (:mod:`linguafranca.model.tokens`), cut to the first
    ``max_prompt_tokens`` so that long samples leave room for the continuation."""
    ids = encode_ids(tokenizer, [text], bos, max_prompt_tokens)[0]
    return torch.tensor([ids], dtype=torch.long)


def greedy_continuations(model: torch.nn.Module, tokenizer, ids: torch.Tensor, max_new_tokens: int) -> list[list[int]]:
    """The greedily generated token ids after each row of ``ids`` ``[rows, n]``, each cut after its first EOS.

    Sampling settings of the model's own generation config (top-k, top-p) are switched off explicitly so
    that the result is the argmax path whatever the checkpoint ships. Rows that stop early are padded by
    ``generate``; the padding is cut off here, so each row reads as if it had been generated alone.
    """
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos = model.generation_config.eos_token_id
    eos = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
    device = next(model.parameters()).device
    ids = ids.to(device)
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            top_k=None,
            top_p=None,
            max_new_tokens=max_new_tokens,
            pad_token_id=pad,
        )
    continuations = []
    for row in out[:, ids.shape[1] :].tolist():
        stop = next((i + 1 for i, token in enumerate(row) if token in eos), len(row))
        continuations.append(row[:stop])
    return continuations


def generate_samples(
    model: torch.nn.Module,
    tokenizer,
    prompts: list[Prompt],
    masks: dict[str, np.ndarray],
    max_new_tokens: int = 64,
    max_prompt_tokens: int | None = None,
    bos: bool | None = None,
    values: dict[str, np.ndarray] | None = None,
) -> list[Generation]:
    """Continue every prompt under every condition of ``masks`` (condition → ``[n_layers, n_neurons]`` mask): its
    neurons zeroed, or, for a condition in ``values``, fixed to those values (median forcing).

    Records come prompt by prompt, conditions in the order of ``masks``. The recorded prompt is the decoded
    (possibly truncated) prompt the model actually saw. Each prompt runs once, as a batch with one row per
    condition (:func:`linguafranca.model.hooks.deactivate_rows`): the rows have the same length, so no padding enters,
    and decoding costs one pass per token for all conditions instead of one per condition.
    """
    records = []
    conditions = list(masks)
    for prompt in prompts:
        ids = prompt_ids(tokenizer, prompt.text, bos, max_prompt_tokens)
        forced = [(values or {}).get(condition) for condition in conditions]
        with deactivate_rows(model, [masks[condition] for condition in conditions], forced):
            rows = greedy_continuations(model, tokenizer, ids.repeat(len(conditions), 1), max_new_tokens)
        seen = tokenizer.decode(ids[0], skip_special_tokens=True)
        records += [
            Generation(prompt.lang, prompt.prompt_id, seen, condition, tokenizer.decode(row, skip_special_tokens=True))
            for condition, row in zip(conditions, rows)
        ]
    return records


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, line breaks kept as ``<br>``."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def to_markdown(records: list[Generation]) -> str:
    """One section per prompt (the prompt quoted), with a table of condition → continuation."""
    lines = ["# Greedy continuations under neuron deactivation", ""]
    seen: list[tuple[str, str]] = []
    for record in records:
        if (record.lang, record.prompt_id) not in seen:
            seen.append((record.lang, record.prompt_id))
    for lang, prompt_id in seen:
        group = [r for r in records if (r.lang, r.prompt_id) == (lang, prompt_id)]
        lines += [f"## {lang} — {prompt_id}", "", f"**Prompt:** {_cell(group[0].prompt)}", ""]
        lines += ["| deactivated | continuation |", "| --- | --- |"]
        lines += [f"| {_cell(r.condition)} | {_cell(r.continuation)} |" for r in group]
        lines.append("")
    return "\n".join(lines)


def write_generations(records: list[Generation], jsonl_path: str | os.PathLike, md_path: str | os.PathLike) -> None:
    """Write ``generations.jsonl`` (one record per line, UTF-8 unescaped) and ``generations.md``."""
    write_text(jsonl_path, "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records))
    write_text(md_path, to_markdown(records))
