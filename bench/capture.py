"""Capture speed on the default model: tokens/s, overhead over a plain forward, gain over one sentence per pass.

"One sentence per pass" is measured twice: as the paper's released code works (the full causal LM, LM head and
logits included, one sentence per forward, hooks reading the neurons), and as linguafranca's own capture with
batch size 1 (no logits), to show how much of the gain is batching and how much is skipping the LM head.

The hook's own cost is measured apart, on a random neuron tensor of ``--hook-shape`` (default Gemma 3 270M's
``[16, 64, 2048]``: batch, tokens, neurons) in each model dtype, summed in float32 and in float64, so the price of
exact sums can be read without the model (``--hook-only``).

    python bench/capture.py [--manifest resources/models/gemma3-270m/main/manifest.json] [--langs en zh ...]
    python bench/capture.py --hook-only [--hook-shape 16 64 2048]

Prints figures only; nothing here asserts a time. Run the default workflow's resolve_model job first
(``snakemake --cores 2 resources/models/gemma3-270m/main/manifest.json``).
"""

from __future__ import annotations

import argparse
import inspect
import os
import resource
import statistics

import torch
from timing import run_times

from linguafranca.analysis.capture import capture_means
from linguafranca.data.bible import load_bible
from linguafranca.io.manifest import read_manifest
from linguafranca.model.architectures import down_projections
from linguafranca.model.batching import batches, forward_inputs
from linguafranca.model.hooks import NeuronSums
from linguafranca.model.loading import load_model
from linguafranca.model.tokens import encode


def timed(function, repeats: int) -> float:
    """Median wall time of ``function()`` over ``repeats`` runs."""
    return statistics.median(run_times(function, repeats))


def fastest(function, repeats: int) -> float:
    """Shortest wall time of ``function()`` over ``repeats`` runs: a millisecond kernel on a shared machine."""
    return min(run_times(function, repeats))


def hook_cost(shape: tuple[int, int, int], repeats: int) -> None:
    """Print the time of one NeuronSums hook call per (model dtype, accumulation dtype) on a ``shape`` tensor.

    The former hook (a masked ``bmm`` in the model's dtype: not NaN-safe, bfloat16 sums) is timed as the baseline.
    """
    batch, tokens, width = shape
    keep = torch.ones(batch, tokens, dtype=torch.bool)
    keep[batch // 2 :, tokens // 2 :] = False  # half the rows padded to half length
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        activations = torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(dtype)
        reference = torch.where(keep[..., None], activations.double(), 0).sum(1)
        weights = keep.to(dtype).unsqueeze(1)
        former = fastest(lambda: torch.bmm(weights, activations), repeats)
        figures = [f"former in-dtype bmm {former * 1e3:.2f} ms"]
        for accumulate in (torch.float32, torch.float64):
            sums = NeuronSums([torch.nn.Identity()], accumulate)
            sums.keep = keep
            hook = sums._hook(0)
            with torch.inference_mode():
                seconds = fastest(lambda: hook(None, (activations,)), repeats)
            error = float((sums.sums[0].double() - reference).abs().max() / reference.abs().max())
            name = str(accumulate).removeprefix("torch.")
            figures.append(f"{name} {seconds * 1e3:.2f} ms (max rel. error {error:.1e})")
        print(f"hook on {list(shape)} {str(dtype).removeprefix('torch.')}: " + ", ".join(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default="resources/models/gemma3-270m/main/manifest.json")
    parser.add_argument("--langs", nargs="+", default=["en", "zh", "fr", "es", "pt", "ar", "vi", "hi", "id"])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--single-samples", type=int, default=30, help="sentences timed one per forward pass")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hook-shape", type=int, nargs=3, default=[16, 64, 2048], help="batch tokens neurons")
    parser.add_argument("--hook-only", action="store_true", help="time the capture hook alone, without a model")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    hook_cost(tuple(args.hook_shape), max(args.repeats, 20))
    if args.hook_only:
        return

    model, tokenizer = load_model(read_manifest(args.manifest), {"compute": "float32", "device": "cpu"})
    texts = load_bible({}, args.langs)
    encoded = [
        item.truncated(512)
        for lang in args.langs
        for item in encode(tokenizer, [s.text for s in texts[lang][: args.samples]], None)
    ]
    n_tokens = sum(len(item.ids) for item in encoded)
    pad = tokenizer.pad_token_id or 0
    base = model.base_model
    positions = "position_ids" in inspect.signature(base.forward).parameters

    def capture(ids, batch_size):
        for _ in capture_means(model, ids, batch_size, pad, tokenizer.padding_side, progress=False):
            pass

    def plain():
        with torch.inference_mode():
            for batch in batches(encoded, args.batch_size, pad, tokenizer.padding_side):
                base(**forward_inputs(batch, torch.device("cpu"), positions))

    capture(encoded[:32], args.batch_size)  # warm-up
    t_capture = timed(lambda: capture(encoded, args.batch_size), args.repeats)
    t_plain = timed(plain, args.repeats)
    single = encoded[:: max(1, len(encoded) // args.single_samples)][: args.single_samples]
    single_tokens = sum(len(item.ids) for item in single)

    def paper_style():
        sums = NeuronSums(down_projections(model))
        with torch.inference_mode(), sums.installed():
            for item in single:
                sums.keep = torch.ones(1, len(item.ids), dtype=torch.bool)
                model(torch.tensor([item.ids]), use_cache=False)

    t_single = timed(lambda: capture(single, 1), 1)
    t_paper = timed(paper_style, 1)
    single_rate, paper_rate, batched_rate = single_tokens / t_single, single_tokens / t_paper, n_tokens / t_capture

    print(f"model: {read_manifest(args.manifest)['name']}  threads: {torch.get_num_threads()}")
    print(f"samples: {len(encoded)} ({len(args.langs)} languages x {args.samples}), tokens: {n_tokens}")
    print(f"capture, batch {args.batch_size}: {t_capture:.2f} s, {batched_rate:.0f} tokens/s (median of {args.repeats})")
    print(f"plain base-model forward, same batches: {t_plain:.2f} s; capture/plain ratio: {t_capture / t_plain:.3f} (goal <= 1.15)")
    print(f"paper-style, one sentence per full-model forward with logits ({len(single)} sentences): "
          f"{paper_rate:.0f} tokens/s; batched capture speed-up: {batched_rate / paper_rate:.1f}x (goal >= 3x)")
    print(f"linguafranca capture at batch size 1 (no logits): {single_rate:.0f} tokens/s; "
          f"batching alone: {batched_rate / single_rate:.1f}x")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
