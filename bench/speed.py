"""How fast do capture, perplexity and the output head run in float32 and bfloat16, and how close is each to the
matrix-product peak of its dtype on this machine?

For each dtype it measures:
- the peak: a square product (2048 × 2048) and a head-shaped one (positions × hidden against vocab × hidden);
- capture: the base model forward with the capture hooks on real-length batches (tokens/s);
- perplexity: base model plus the blockwise output head (tokens/s), and the head with its log-normaliser alone
  (GFLOP/s), blockwise (linguafranca.model.logprobs) and the simple way it replaced (whole rows of logits, then
  ``cross_entropy``), measured in the same run because this machine's speed drifts by up to 20% between runs.
A stage's GFLOP/s counts 2 × (weights of its linear layers) per token, attention scores left out, so it slightly
understates the work done. Token ids are random: speed does not depend on the text.

    .venv/bin/python bench/speed.py                   # the default run's converted Gemma 3 270M
    .venv/bin/python bench/speed.py --threads 2
    .venv/bin/python bench/speed.py --device cuda     # a GPU (bench/gpu.sh)
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import torch
from timing import run_times
from transformers import AutoModelForCausalLM

from linguafranca.ablation.perplexity import token_nll
from linguafranca.model.architectures import down_projections
from linguafranca.model.hooks import NeuronSums
from linguafranca.model.logprobs import BLOCK_ELEMENTS, VOCAB_BLOCK, token_logprobs

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="resources/models/gemma3-270m/main/hf", help="model folder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4, help="sequences per forward")
    parser.add_argument("--seqlen", type=int, default=512)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    return parser.parse_args()


DEVICE = torch.device("cpu")


def synchronised(run: Callable[[], object]) -> Callable[[], object]:
    """``run``, then wait for the GPU's queue: CUDA calls return before their kernels finish."""
    if DEVICE.type != "cuda":
        return run
    return lambda: (run(), torch.cuda.synchronize())


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """Median seconds of ``repeats`` runs after one warm-up."""
    return statistics.median(run_times(synchronised(run), repeats, warm_up=True))


def peak(dtype: torch.dtype, m: int, k: int, n: int, repeats: int) -> float:
    """GFLOP/s of an ``[m, k] @ [k, n]`` product in ``dtype``."""
    a, b = torch.randn(m, k).to(DEVICE, dtype), torch.randn(n, k).to(DEVICE, dtype)
    return 2 * m * k * n / best_of(repeats, lambda: a @ b.T) / 1e9


def whole_rows(head: torch.nn.Module, hidden: torch.Tensor, targets: torch.Tensor, chunk: int = 256) -> list:
    """The reference that linguafranca.model.logprobs replaced: whole rows of logits for ``chunk`` positions at a time,
    upcast to float32, then ``cross_entropy``."""
    return [torch.nn.functional.cross_entropy(head(hidden[s : s + chunk]).float(), targets[s : s + chunk],
                                              reduction="none") for s in range(0, len(targets), chunk)]


def linear_weights(module: torch.nn.Module) -> int:
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, torch.nn.Linear))


def main() -> None:
    global DEVICE
    args = arguments()
    DEVICE = torch.device(args.device)
    torch.set_num_threads(args.threads)
    ids = torch.randint(0, 1000, (args.batch, args.seqlen), generator=torch.Generator().manual_seed(0)).to(DEVICE)
    tokens = ids.numel()
    where = torch.cuda.get_device_name(DEVICE) if DEVICE.type == "cuda" else f"{args.threads} thread(s)"
    print(f"{where}; {args.batch} × {args.seqlen} tokens per forward; median of {args.repeats}")
    print(f"{'dtype':<9} {'what':<34} {'value':>12} {'GFLOP/s':>8} {'of peak':>8}")
    for name, dtype in DTYPES.items():
        model = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype).to(DEVICE).eval()
        head = model.get_output_embeddings()
        vocab, hidden = head.weight.shape
        square = peak(dtype, 2048, 2048, 2048, args.repeats)
        positions = BLOCK_ELEMENTS // min(vocab, VOCAB_BLOCK)
        head_peak = peak(dtype, positions, hidden, VOCAB_BLOCK, args.repeats)
        body_flops = 2 * linear_weights(model.base_model) * tokens
        head_flops = 2 * vocab * hidden * args.batch * (args.seqlen - 1)
        with torch.inference_mode():
            with NeuronSums(down_projections(model)).installed() as sums:
                sums.keep = torch.ones_like(ids, dtype=torch.bool)
                mask = torch.ones_like(ids)
                t_capture = best_of(
                    args.repeats, lambda: model.base_model(input_ids=ids, attention_mask=mask, use_cache=False))
            t_ppl = best_of(args.repeats, lambda: token_nll(model, ids))
            hidden_states = torch.randn(args.batch * (args.seqlen - 1), hidden).to(DEVICE, dtype)
            targets = ids[:, 1:].reshape(-1)
            t_head = best_of(args.repeats, lambda: token_logprobs(head, hidden_states, targets, greedy=False))
            t_rows = best_of(args.repeats, lambda: whole_rows(head, hidden_states, targets))
        rows = [
            ("matmul peak 2048²", f"{square:.0f} GFLOP/s", square, square),
            (f"matmul peak head-block {positions}×{hidden}×{VOCAB_BLOCK}", f"{head_peak:.0f} GFLOP/s", head_peak,
             head_peak),
            ("capture (base model + hooks)", f"{tokens / t_capture:.0f} tok/s", body_flops / t_capture / 1e9, square),
            ("perplexity (base + blockwise head)", f"{tokens / t_ppl:.0f} tok/s",
             (body_flops + head_flops) / t_ppl / 1e9, square),
            ("head + log-normaliser, blockwise", f"{t_head:.2f} s", head_flops / t_head / 1e9, head_peak),
            ("head + log-normaliser, whole rows", f"{t_rows:.2f} s", head_flops / t_rows / 1e9, head_peak),
        ]
        for what, value, gflops, reference in rows:
            print(f"{name:<9} {what:<34} {value:>12} {gflops:>8.0f} {100 * gflops / reference:>7.0f}%")


if __name__ == "__main__":
    main()
