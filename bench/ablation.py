"""How much do deactivation hooks slow down perplexity evaluation? Goal: hooked / unhooked ≤ 1.05.

Runs the same windows without hooks and with two masks (a sparse, realistic region: ~1% of neurons spread over
every layer; and a 10% random mask like the regions stage's control), interleaved so that drifts in machine
load hit all three alike, and prints median times and ratios. Both wall-clock and process CPU time are
reported: on a shared machine CPU time is the steadier figure. Token ids are random: speed does not depend
on the text.

    .venv/bin/python bench/ablation.py --model /tmp/g --gguf-file gemma.gguf
    .venv/bin/python bench/ablation.py --model resources/models/gemma3-270m/main/hf
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from transformers import AutoModelForCausalLM

from linguafranca.ablation.perplexity import perplexity
from linguafranca.model.architectures import down_projections, n_neurons
from linguafranca.model.hooks import deactivate


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="resources/models/gemma3-270m/main/hf", help="model folder")
    parser.add_argument("--gguf-file", default=None, help="GGUF file name inside --model, if it is a GGUF")
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--seqlen", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args()


def masks(n_layers: int, width: int) -> dict[str, np.ndarray]:
    """Condition → mask: none, a sparse ~1% region over all layers, a 10% random mask (seeded)."""
    rng = np.random.default_rng(0)
    return {
        "none": np.zeros((n_layers, width), dtype=bool),
        "sparse 1%": rng.random((n_layers, width)) < 0.01,
        "random 10%": rng.random((n_layers, width)) < 0.10,
    }


def timed(model: torch.nn.Module, wins: torch.Tensor, mask: np.ndarray, batch_size: int) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, perplexity) of one evaluation under ``mask``."""
    wall, cpu = time.perf_counter(), time.process_time()
    with deactivate(model, mask):
        result = perplexity(model, wins, batch_size, progress=False)
    return time.perf_counter() - wall, time.process_time() - cpu, result.ppl


def main() -> None:
    args = arguments()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(args.model, gguf_file=args.gguf_file, dtype=torch.float32).eval()
    print(f"loaded {model.config.model_type} in {time.perf_counter() - start:.1f} s")
    n_layers, width = len(down_projections(model)), n_neurons(model)
    vocab = model.get_output_embeddings().weight.shape[0]
    wins = torch.randint(0, vocab, (args.windows, args.seqlen), generator=torch.Generator().manual_seed(0))
    conditions = masks(n_layers, width)
    print(
        f"{n_layers} layers × {width} neurons, vocab {vocab}; {args.windows} windows × {args.seqlen} tokens, "
        f"batch {args.batch_size}, {args.threads} thread(s), {args.repeats} repeats"
    )
    timed(model, wins, conditions["none"], args.batch_size)  # warm-up
    wall: dict[str, list[float]] = {name: [] for name in conditions}
    cpu: dict[str, list[float]] = {name: [] for name in conditions}
    ppl: dict[str, float] = {}
    names = list(conditions)
    for repeat in range(args.repeats):
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:  # rotate the order
            elapsed, used, ppl[name] = timed(model, wins, conditions[name], args.batch_size)
            wall[name].append(elapsed)
            cpu[name].append(used)
    base_wall, base_cpu = statistics.median(wall["none"]), statistics.median(cpu["none"])
    for name in names:
        share = 100 * conditions[name].mean()
        median_wall, median_cpu = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"{name:>11}: {share:5.2f}% neurons off | wall median {median_wall:.3f} s (min {min(wall[name]):.3f}), "
            f"ratio {median_wall / base_wall:.3f} | CPU median {median_cpu:.3f} s, ratio {median_cpu / base_cpu:.3f}"
            f" | ppl {ppl[name]:.4g}"
        )


if __name__ == "__main__":
    main()
