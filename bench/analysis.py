"""Time similarity maps, LRDS/SADS and key regions on synthetic activation stores of a chosen size.

The default size is LLaMA-2-70B's: 80 layers x 28,672 neurons, 9 languages x 100 samples (about 8 GB of float32
on disk). The stores are written to a temporary folder by a child process, so that the peak memory reported
for the analysis (``ru_maxrss`` of this process) is the analysis' own, then deleted.

    .venv/bin/python bench/analysis.py                          # full size
    .venv/bin/python bench/analysis.py --layers 4 --neurons 512 --samples 20   # quick check
    .venv/bin/python bench/analysis.py --threads 1              # BLAS on one core, when the other is busy

Prints the wall time of each step and the peak resident memory. Goal at full size on 2 cores: under 5 minutes
and 6 GiB for similarity + metrics + regions.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linguafranca.regions import compute_regions, write_regions, write_sklr  # noqa: E402
from linguafranca.similarity import compute_similarity, metrics_table, write_metrics, write_similarity  # noqa: E402
from linguafranca.store import activation_writer, block_size  # noqa: E402


def generate(directory: Path, n_langs: int, n_samples: int, n_layers: int, n_neurons: int, seed: int) -> None:
    """Write one store per language: a level shared by all samples + noise + a sample's meaning (shared by its
    translations, weighted more in later layers) + a language's pattern (weighted more in early layers) + 0.3% of
    neurons firing for one language.

    The meaning and language parts are one ``[n_neurons]`` vector scaled per layer, so the cost is about one
    normal draw per value.
    """
    rng = np.random.default_rng(seed)
    depth = np.linspace(0.0, 1.0, n_layers, dtype=np.float32)[:, None]
    shared = 3 * rng.standard_normal((n_layers, n_neurons), dtype=np.float32)
    meaning = rng.standard_normal((n_samples, 1, n_neurons), dtype=np.float32) * (0.2 + depth)
    n_key = max(1, n_neurons // 300)
    block = block_size(n_samples, n_layers, n_neurons)
    for a in range(n_langs):
        language = (rng.standard_normal((1, n_neurons), dtype=np.float32) * (1.2 - depth))[None]
        language[..., rng.choice(n_neurons, n_key, replace=False)] += 4.0
        path = directory / f"lang{a}.zarr"
        with activation_writer(path, n_samples, n_layers, n_neurons, block) as writer:
            for start in range(0, n_samples, block):
                stop = min(start + block, n_samples)
                data = rng.standard_normal((stop - start, n_layers, n_neurons), dtype=np.float32)
                data += shared
                data += meaning[start:stop]
                data += language
                writer.write(start, data, np.full(stop - start, 50, dtype=np.int32))
            ids = [f"verse{i}" for i in range(n_samples)]
            writer.finish(
                {
                    "lang": f"lang{a}",
                    "sample_ids": ids,
                    "n_layers": n_layers,
                    "n_neurons": n_neurons,
                    "model": "synthetic",
                    "revision": "none",
                    "dataset": "random",
                }
            )


def peak_rss_gib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 2**20  # Linux reports KiB


@contextmanager
def step(name: str):
    start = time.perf_counter()
    yield
    print(f"{name:<28} {time.perf_counter() - start:8.1f} s   peak RSS {peak_rss_gib():5.2f} GiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=80)
    parser.add_argument("--neurons", type=int, default=28_672)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--langs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where to put the temporary stores")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads for the analysis (default: all)")
    args = parser.parse_args()
    size_gb = args.langs * args.samples * args.layers * args.neurons * 4 / 1e9
    print(
        f"{args.langs} languages x {args.samples} samples, {args.layers} layers x {args.neurons} neurons "
        f"({size_gb:.2f} GB of float32 means), BLAS threads: {args.threads or 'all'}"
    )
    directory = Path(tempfile.mkdtemp(prefix="linguafranca-bench-", dir=args.dir))
    try:
        start = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(
            target=generate, args=(directory, args.langs, args.samples, args.layers, args.neurons, args.seed)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generating the stores failed with exit code {child.exitcode}")
        on_disk = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e9
        print(
            f"{'generate stores (child)':<28} {time.perf_counter() - start:8.1f} s   "
            f"peak RSS {peak_rss_gib(resource.RUSAGE_CHILDREN):5.2f} GiB   {on_disk:.2f} GB on disk"
        )
        stores = {f"lang{a}": directory / f"lang{a}.zarr" for a in range(args.langs)}
        total = time.perf_counter()
        with threadpool_limits(args.threads), step("compute_similarity"):
            similarity = compute_similarity(stores)
        with step("metrics_table"):
            rows = metrics_table(similarity)
        with threadpool_limits(args.threads), step("compute_regions"):
            regions = compute_regions(stores)
        analysis = time.perf_counter() - total
        with step("write h5 + tsv + zarr + tsv"):
            write_similarity(similarity, directory / "similarity.h5")
            write_metrics(similarity, directory / "metrics.tsv")
            write_regions(regions, directory / "regions.zarr")
            write_sklr(regions, directory / "sklr.tsv")
        print(f"{'similarity+metrics+regions':<28} {analysis:8.1f} s   peak RSS {peak_rss_gib():5.2f} GiB")
        whole = rows[0]
        print(
            f"whole model: LRDS {whole['lrds']:.4f}  SADS {whole['sads']:.4f}  SKLR {regions.sklr} "
            f"({100 * regions.sklr / (args.layers * args.neurons):.2f}% of neurons)"
        )
    finally:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
