"""Capture speed on the default model: tokens/s, overhead over a plain forward, gain over one sentence per pass.

"One sentence per pass" is measured twice: as the paper's released code works (the full causal LM, LM head and
logits included, one sentence per forward, hooks reading the neurons), and as linguafranca's own capture with
batch size 1 (no logits), to show how much of the gain is batching and how much is skipping the LM head.

    python bench/capture.py [--manifest resources/models/gemma3-270m/main/manifest.json] [--langs en zh ...]

Prints figures only; nothing here asserts a time. Run the default workflow's resolve_model job first
(``snakemake --cores 2 resources/models/gemma3-270m/main/manifest.json``).
"""

from __future__ import annotations

import argparse
import inspect
import os
import resource
import statistics
import time

import torch

from linguafranca.adapters import down_projections
from linguafranca.capture import batches, capture_means, forward_inputs
from linguafranca.hooks import NeuronSums
from linguafranca.tokens import encode_ids
from linguafranca.data.bible import load_bible
from linguafranca.models import load_model, read_manifest


def timed(function, repeats: int) -> float:
    """Median wall time of ``function()`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default="resources/models/gemma3-270m/main/manifest.json")
    parser.add_argument("--langs", nargs="+", default=["en", "zh", "fr", "es", "pt", "ar", "vi", "hi", "id"])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--single-samples", type=int, default=30, help="sentences timed one per forward pass")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)

    model, tokenizer = load_model(read_manifest(args.manifest), {"dtype": "float32", "device": "cpu"})
    texts = load_bible({}, args.langs)
    token_ids = [ids for lang in args.langs for ids in encode_ids(tokenizer, [s.text for s in texts[lang][: args.samples]], None, 512)]
    n_tokens = sum(map(len, token_ids))
    pad = tokenizer.pad_token_id or 0
    base = model.base_model
    positions = "position_ids" in inspect.signature(base.forward).parameters

    def capture(ids, batch_size):
        for _ in capture_means(model, ids, batch_size, pad, tokenizer.padding_side, progress=False):
            pass

    def plain():
        with torch.inference_mode():
            for batch in batches(token_ids, args.batch_size, pad, tokenizer.padding_side):
                base(**forward_inputs(batch, torch.device("cpu"), positions))

    capture(token_ids[:32], args.batch_size)  # warm-up
    t_capture = timed(lambda: capture(token_ids, args.batch_size), args.repeats)
    t_plain = timed(plain, args.repeats)
    single = token_ids[:: max(1, len(token_ids) // args.single_samples)][: args.single_samples]
    single_tokens = sum(map(len, single))

    def paper_style():
        sums = NeuronSums(down_projections(model))
        with torch.inference_mode(), sums.installed():
            for ids in single:
                sums.weights = torch.ones(1, 1, len(ids))
                model(torch.tensor([ids]), use_cache=False)

    t_single = timed(lambda: capture(single, 1), 1)
    t_paper = timed(paper_style, 1)
    single_rate, paper_rate, batched_rate = single_tokens / t_single, single_tokens / t_paper, n_tokens / t_capture

    print(f"model: {read_manifest(args.manifest)['name']}  threads: {torch.get_num_threads()}")
    print(f"samples: {len(token_ids)} ({len(args.langs)} languages x {args.samples}), tokens: {n_tokens}")
    print(f"capture, batch {args.batch_size}: {t_capture:.2f} s, {batched_rate:.0f} tokens/s (median of {args.repeats})")
    print(f"plain base-model forward, same batches: {t_plain:.2f} s; capture/plain ratio: {t_capture / t_plain:.3f} (goal <= 1.15)")
    print(f"paper-style, one sentence per full-model forward with logits ({len(single)} sentences): "
          f"{paper_rate:.0f} tokens/s; batched capture speed-up: {batched_rate / paper_rate:.1f}x (goal >= 3x)")
    print(f"linguafranca capture at batch size 1 (no logits): {single_rate:.0f} tokens/s; "
          f"batching alone: {batched_rate / single_rate:.1f}x")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
