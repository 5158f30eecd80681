"""Time LAPE and AP experts, each alone and with its label-shuffled null, on synthetic layers of a chosen size.

The default size is FLORES-200 on LLaMA-2-70B's shape: 9 languages x 1,012 samples, 80 layers x 28,672 neurons.
No disk: each layer's means come from ``bench/analysis.py``'s ``SyntheticModel`` (seeded, language-structured),
and active counts from them, ``A = round(n_tokens * sigmoid(X))`` with ``n_tokens`` seeded in 20..60. Every
method and its null cost the same per layer, so ``--layers 2`` times the per-layer cost at full N and
``n_neurons``; the extrapolation to ``--full-layers`` (80) adds LAPE's final selection once per labelling.

    .venv/bin/python bench/methods.py --layers 2                 # about 3 minutes on 2 cores
    .venv/bin/python bench/methods.py --layers 2 --threads 2     # AP's column chunks on 2 threads
    .venv/bin/python bench/methods.py --layers 2 --neurons 4096  # quick check

Prints the float64 matmul peak, then per method the seconds spent in ``add_layer`` (per layer) and in
``result``, the extrapolation, peak RSS, and the share of the peak: LAPE counts ``2 m N n`` flops per layer and
labelling (its one-hot products); AP counts ``N log2 N`` comparisons per column for the sort and ``N log2 n_a``
per labelling for the group sorts (operations, not flops: the share says how far a sort is from a matmul).
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import SyntheticModel  # noqa: E402
from timing import matmul_peak  # noqa: E402

from linguafranca.analysis.ap_experts import ExpertsAccumulator, ExpertsSettings  # noqa: E402
from linguafranca.analysis.lape import LapeAccumulator, LapeSettings  # noqa: E402


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def layer_data(model: SyntheticModel, n_langs: int, n_samples: int, layer: int, n_tokens: np.ndarray):
    X = np.concatenate([model.layer(a, layer, 0, n_samples) for a in range(n_langs)]).astype(np.float64)
    A = np.rint(n_tokens[:, None] / (1 + np.exp(-X))).astype(np.float64)
    return X, A


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=2, help="layers run (time is linear in them)")
    parser.add_argument("--full-layers", type=int, default=80, help="layers to extrapolate to")
    parser.add_argument("--neurons", type=int, default=28_672)
    parser.add_argument("--samples", type=int, default=1012)
    parser.add_argument("--langs", type=int, default=9)
    parser.add_argument("--null", type=int, default=20, help="label shuffles B")
    parser.add_argument("--experts", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="AP column chunks in parallel")
    parser.add_argument("--blas-threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    m, n_a, d, L = args.langs, args.samples, args.neurons, args.layers
    N = m * n_a
    sizes = [n_a] * m
    print(f"{m} languages x {n_a} samples (N = {N}), {L} of {args.full_layers} layers x {d} neurons, B = {args.null}")
    with threadpool_limits(args.blas_threads):
        peak = matmul_peak("float64")
    print(f"matmul peak, 2048^3 float64: {peak:.0f} GFLOP/s")
    model = SyntheticModel(m, n_a, L, d, args.seed)
    n_tokens = np.random.default_rng(args.seed).integers(20, 61, N)
    methods = {}
    for B in (0, args.null):
        methods[f"lape B={B}"] = LapeAccumulator(sizes, L, d, LapeSettings(), B, args.seed)
        methods[f"ap_experts B={B}"] = ExpertsAccumulator(
            sizes, L, d, ExpertsSettings(args.experts, bottom=True), B, args.seed, threads=args.threads
        )
    spent = dict.fromkeys(methods, 0.0)
    generate = 0.0
    for layer in range(L):
        start = time.perf_counter()
        X, A = layer_data(model, m, n_a, layer, n_tokens)
        generate += time.perf_counter() - start
        for name, accumulator in methods.items():
            start = time.perf_counter()
            with threadpool_limits(args.blas_threads):
                accumulator.add_layer(layer, X, A, n_tokens)
            spent[name] += time.perf_counter() - start
            print(f"  layer {layer} {name:<18} {spent[name] / (layer + 1):7.1f} s/layer  RSS {peak_rss_gib():5.2f} GiB",
                  flush=True)
        del X, A
    print(f"generating data: {generate / L:.1f} s/layer (not counted)")
    scale = args.full_layers / L
    for name, accumulator in methods.items():
        start = time.perf_counter()
        result = accumulator.result()
        final = time.perf_counter() - start
        B = accumulator.null_permutations
        if name.startswith("lape"):
            # the final selection: per labelling a few passes over [m, L, n]; linear in the layers
            projected = spent[name] * scale + final * scale
            operations = 2.0 * m * N * d * (1 + B) * L
            summary = f"selected {int(result.mask.sum())}, bar {result.activation_bar:.3f}"
        else:
            projected = spent[name] * scale + final
            operations = d * L * (N * math.log2(N) + (1 + B) * 2 * N * math.log2(n_a))
            summary = f"cutoff AP {np.round(result.cutoff_ap, 3).tolist()[:3]}..."
            if result.null_cutoff_ap is not None:
                summary += f" null cutoff {result.null_cutoff_ap.mean():.3f}"
        share = operations / (spent[name] + final) / 1e9 / peak
        print(f"{name:<18} add_layer {spent[name] / L:7.1f} s/layer  result {final:6.1f} s  "
              f"-> {args.full_layers} layers {projected / 60:6.1f} min   {share:5.1%} of peak   {summary}")
    print(f"peak RSS {peak_rss_gib():.2f} GiB (all four accumulators at once, {L} layers)")


if __name__ == "__main__":
    main()
