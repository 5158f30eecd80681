"""Time similarity maps, LRDS/SADS and key regions on synthetic activations of a chosen size.

The default size is LLaMA-2-70B's: 80 layers x 28,672 neurons, 9 languages x 100 samples (about 8 GB of float32).
``--flores`` is the FLORES-200 size, 9 languages x 1,012 samples on the same shape: 84 GB of float32, more than
this machine's disk holds, so it uses ``--source computed``.

Two sources of the same numbers:

- ``stores`` (default): Zarr stores written to a temporary folder by a child process, so that the peak memory
  reported for the analysis (``ru_maxrss`` of this process) is the analysis' own, then deleted.
- ``computed``: no disk. Each language's ``mean`` array is an object that computes ``[:, layer, :]`` on demand,
  from a seed per (language, layer, tile of 64 samples), and is opened as a ``LanguageStores`` like real stores;
  so is its ``active_count`` array, the LAPE counts, computed from the same means (``SyntheticModel.active``).
  The analysis code is the workflow's, unchanged; generating the values replaces reading and decompressing chunks.
  The time of one generating pass is printed, so it can be told apart from the analysis.

Both sources hold identical values for the same size and seed. The analysis is the workflow's: the similarity
stage (``write_similarity``: maps, scores and block means, written as computed), ``metrics.tsv``, then the regions
stage with the norms read from ``similarity.h5``.

    .venv/bin/python bench/analysis.py                          # LLaMA-2-70B shape, 9 x 100 samples, on disk
    .venv/bin/python bench/analysis.py --flores                 # 9 x 1,012 samples, computed on the fly
    .venv/bin/python bench/analysis.py --layers 4 --neurons 512 --samples 20   # quick check
    .venv/bin/python bench/analysis.py --threads 1              # BLAS on one core, when the other is busy
    .venv/bin/python bench/analysis.py --layers 2 --significance 0   # the null at B = 20 alone, per layer

The regions stage runs twice: the paper's regions alone, then with the workflow's default chance settings (``--null``
label shuffles, 20; ``--significance`` permutations for p-values, 1000; 0 turns either off), so the cost of the
null and of significance reads apart from the paper's.

Prints the matmul peak of this run (numpy, float64 and float32), then each step's wall and CPU time, peak resident
memory, operations (``operation_counts``) and their share of the float64 peak. Goals on 2 cores: 9 x 100, under 5
minutes and 6 GiB; 9 x 1,012, under 10 minutes and 8 GiB. Memory does not grow with the number of layers (one
layer of data, Figure 2's map and the null's group sums), time does linearly, so ``--flores --layers 2`` measures
the per-layer cost at full N and n_neurons. The scores come from block sums (``O(m N d)`` per layer), so no step
needs the ``N x N`` map of all rows, whose ``N^2 x n_layers x n_neurons = 1.9e14`` operations at the FLORES size put
the goal out of reach before; Figure 2's map is of ``--map-samples`` per language (the workflow's default, 100).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linguafranca.analysis.regions import NullSettings, compute_regions, write_regions, write_sklr  # noqa: E402
from linguafranca.analysis.similarity import write_metrics, write_similarity  # noqa: E402
from linguafranca.io.activations import LanguageStores, activation_writer, block_size
from linguafranca.io.similarity_file import read_norms  # noqa: E402
from timing import matmul_peak  # noqa: E402

#: Samples per independently seeded tile of noise: a block of rows costs about its own size to generate.
TILE = 64

#: Averaged tokens of every synthetic sample (``n_tokens``), the most an active count can be; and the max_length
#: the stores are written for (uint16 counts, as the default run's).
N_TOKENS = 50
MAX_TOKENS = 512


class SyntheticModel:
    """Means with language and meaning structure, any layer of any language computed on demand, reproducibly.

    A level shared by all samples + noise + a sample's meaning (shared by its translations, weighted more in
    later layers) + a language's pattern (weighted more in early layers) + 0.3% of neurons firing for one language.
    The meaning and language parts are one ``[n_neurons]`` vector per sample or language scaled per layer; the
    noise of rows ``[t * TILE, (t + 1) * TILE)`` comes from ``default_rng([seed, language, layer, t])``.
    """

    def __init__(self, n_langs: int, n_samples: int, n_layers: int, n_neurons: int, seed: int):
        rng = np.random.default_rng(seed)
        self.shape = (n_samples, n_layers, n_neurons)
        self.seed = seed
        self.depth = np.linspace(0.0, 1.0, n_layers)
        self.shared = 3 * rng.standard_normal((n_layers, n_neurons), dtype=np.float32)
        self.meaning = rng.standard_normal((n_samples, n_neurons), dtype=np.float32)
        self.language = rng.standard_normal((n_langs, n_neurons), dtype=np.float32)
        n_key = max(1, n_neurons // 300)
        self.key_neurons = [rng.choice(n_neurons, n_key, replace=False) for _ in range(n_langs)]

    def layer(self, lang: int, layer: int, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of one layer of language ``lang``, float32 ``[stop - start, n_neurons]``."""
        first, last = start // TILE, -(-stop // TILE)
        noise = np.concatenate(
            [
                np.random.default_rng([self.seed, lang, layer, tile]).standard_normal(
                    (min(TILE, self.shape[0] - tile * TILE), self.shape[2]), dtype=np.float32
                )
                for tile in range(first, last)
            ]
        )[start - first * TILE : stop - first * TILE]
        depth = self.depth[layer]
        noise += self.shared[layer]
        noise += self.meaning[start:stop] * np.float32(0.2 + depth)
        noise += self.language[lang] * np.float32(1.2 - depth)
        noise[:, self.key_neurons[lang]] += 4.0
        return noise

    def active(self, lang: int, layer: int, start: int, stop: int) -> np.ndarray:
        """LAPE counts of the same rows, uint16 ``[stop - start, n_neurons]``: of ``N_TOKENS`` tokens, the share
        ``sigmoid(mean)`` rounded, so a language's key neurons (mean + 4) are active on nearly all its tokens."""
        share = 1.0 / (1.0 + np.exp(-self.layer(lang, layer, start, stop)))
        return np.rint(N_TOKENS * share).astype(np.uint16)


class ComputedMeans:
    """Stands in for a store's ``mean`` array: ``means[rows, layer, :]`` computes that slab (see SyntheticModel)."""

    def __init__(self, model: SyntheticModel, lang: int):
        self.model, self.lang, self.shape = model, lang, model.shape

    def __getitem__(self, key: tuple[slice, int, slice]) -> np.ndarray:
        rows, layer, neurons = key
        if self.lang == 0 and layer % 10 == 0:
            print(
                f"    reading layer {layer:3d}  {time.strftime('%H:%M:%S')}  peak RSS {peak_rss_gib():5.2f} GiB",
                flush=True,
            )
        start, stop, _ = rows.indices(self.shape[0])
        return self.model.layer(self.lang, int(layer), start, stop)[:, neurons]


class ComputedCounts(ComputedMeans):
    """Stands in for a store's ``active_count`` array: ``counts[rows, layer, :]`` computes that slab."""

    def __getitem__(self, key: tuple[slice, int, slice]) -> np.ndarray:
        rows, layer, neurons = key
        start, stop, _ = rows.indices(self.shape[0])
        return self.model.active(self.lang, int(layer), start, stop)[:, neurons]


PROVENANCE = {"model": "synthetic", "revision": "none", "dataset": "random"}


@dataclass(frozen=True)
class ComputedStores(LanguageStores):
    """Stores whose layers are computed on the fly: no chunk files, so nothing to verify while reading."""

    def _stack(self, arrays, layer: int, out: np.ndarray | None) -> np.ndarray:
        """Layer ``layer`` of every language's computed array, rows language-major, float64 ``[N, n_neurons]``."""
        if out is None:
            out = np.empty((self.n_rows, self.n_neurons), dtype=np.float64)
        for index, array in enumerate(arrays):
            out[self.rows_of(index)] = array[slice(None), layer, slice(None)]
        return out

    def read_layer(self, layer: int, out: np.ndarray | None = None) -> np.ndarray:
        return self._stack(self.arrays, layer, out)

    def read_active_layer(self, layer: int, out: np.ndarray | None = None) -> np.ndarray:
        return self._stack(self.active_arrays, layer, out)


def computed_source(n_langs: int, n_samples: int, n_layers: int, n_neurons: int, seed: int) -> LanguageStores:
    model = SyntheticModel(n_langs, n_samples, n_layers, n_neurons, seed)
    return ComputedStores(
        languages=tuple(f"lang{a}" for a in range(n_langs)),
        paths=tuple(f"computed:lang{a}" for a in range(n_langs)),
        arrays=tuple(ComputedMeans(model, a) for a in range(n_langs)),
        checksums=tuple({} for _ in range(n_langs)),
        active_arrays=tuple(ComputedCounts(model, a) for a in range(n_langs)),
        active_checksums=tuple({} for _ in range(n_langs)),
        n_tokens=np.full(n_langs * n_samples, N_TOKENS, dtype=np.int64),
        sample_ids=tuple(f"verse{i}" for i in range(n_samples)),
        n_layers=n_layers,
        n_neurons=n_neurons,
        provenance=dict(PROVENANCE),
    )


def write_synthetic_stores(directory: Path, n_langs: int, n_samples: int, n_layers: int, n_neurons: int, seed: int):
    """One Zarr store per language holding exactly the values of :func:`computed_source`."""
    model = SyntheticModel(n_langs, n_samples, n_layers, n_neurons, seed)
    block = block_size(n_samples, n_layers, n_neurons, MAX_TOKENS)
    for a in range(n_langs):
        path = directory / f"lang{a}.zarr"
        with activation_writer(path, n_samples, n_layers, n_neurons, block, MAX_TOKENS) as writer:
            for start in range(0, n_samples, block):
                stop = min(start + block, n_samples)
                data = np.stack([model.layer(a, layer, start, stop) for layer in range(n_layers)], axis=1)
                counts = np.stack([model.active(a, layer, start, stop) for layer in range(n_layers)], axis=1)
                writer.write(start, data, np.full(stop - start, N_TOKENS, dtype=np.int32), counts)
            ids = [f"verse{i}" for i in range(n_samples)]
            attrs = {"lang": f"lang{a}", "sample_ids": ids, "n_layers": n_layers, "n_neurons": n_neurons}
            writer.finish({**attrs, **PROVENANCE})


def generating_pass(source: LanguageStores) -> None:
    """Compute every layer once and drop it: the cost of the source itself, apart from the analysis."""
    for _layer, _data in source.layers():
        pass  # the layer buffer is freed when this function returns, before the analysis starts


def peak_rss_gib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 2**20  # Linux reports KiB


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads: on a shared machine, wall time / CPU time shows how
    much of the wall time was spent waiting for a core."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


#: float64 matmul GFLOP/s of this run (:func:`timing.matmul_peak`), set in main: each step's share of it.
PEAK = {"float64": math.nan}


@contextmanager
def step(name: str, operations: float = 0.0):
    """Time a step; with ``operations`` (floating-point operations of its arithmetic, from the formulas in
    docs/performance.md) also its GFLOP/s and their share of the float64 matmul peak."""
    start, cpu = time.perf_counter(), cpu_seconds()
    yield
    wall = time.perf_counter() - start
    gflops = operations / wall / 1e9
    share = gflops / PEAK["float64"]
    rate = f"   {operations:.2e} FLOP, {gflops:6.1f} GFLOP/s, {share:4.0%} of peak" if operations else ""
    print(
        f"{name:<32} {wall:8.1f} s wall {cpu_seconds() - cpu:8.1f} s CPU   peak RSS {peak_rss_gib():5.2f} GiB{rate}",
        flush=True,
    )


def stores_on_disk(args: argparse.Namespace, directory: Path) -> dict[str, Path]:
    """Write the stores in a child process; refuse when they would not fit on the disk."""
    need = args.langs * args.samples * args.layers * args.neurons * (4 + 2)  # float32 means, uint16 counts
    free = shutil.disk_usage(directory).free
    if need > 0.9 * free:
        raise SystemExit(
            f"the stores need {need / 1e9:.0f} GB but {directory} has {free / 1e9:.0f} GB free: use --source computed"
        )
    start = time.perf_counter()
    child = multiprocessing.get_context("spawn").Process(
        target=write_synthetic_stores,
        args=(directory, args.langs, args.samples, args.layers, args.neurons, args.seed),
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"generating the stores failed with exit code {child.exitcode}")
    on_disk = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e9
    print(
        f"{'write stores (child)':<32} {time.perf_counter() - start:8.1f} s   "
        f"peak RSS {peak_rss_gib(resource.RUSAGE_CHILDREN):5.2f} GiB   {on_disk:.2f} GB on disk"
    )
    return {f"lang{a}": directory / f"lang{a}.zarr" for a in range(args.langs)}


def operation_counts(args: argparse.Namespace) -> dict[str, float]:
    """Floating-point operations of each step (multiply-adds count two), the formulas of docs/performance.md.

    Per layer, with N rows, m languages, d neurons, M rows in Figure 2's map: similarity squares (2 N d),
    divides (N d) and sums (N d) the rows and dots the flattened language blocks (2 m N d) in the first pass,
    divides, sums and dots again in the second (2 N d + 2 m N d), and the map's Gram matrix costs M^2 d
    (symmetric: half the products); regions divide, sum and square (3 N d); the null and significance run two
    one-hot products ``[m, N] x [N, d]`` per label shuffle (4 m N d each; pruned neurons leave them, so
    significance is an upper bound).
    """
    n, m, d, layers = args.langs * args.samples, args.langs, args.neurons, args.layers
    rows = n if not args.map_samples or args.map_samples >= args.samples else m * args.map_samples
    per_layer_maps = n * n * d if args.per_layer_maps else 0
    shuffles = max(args.null, args.significance)
    return {
        "similarity": layers * (6 * n * d + 4 * m * n * d + rows * rows * d + per_layer_maps),
        "regions": layers * 3 * n * d,
        "null": layers * 4 * m * n * d * shuffles,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=80)
    parser.add_argument("--neurons", type=int, default=28_672)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--langs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flores", action="store_true", help="9 x 1,012 samples (FLORES-200), --source computed")
    parser.add_argument("--source", choices=("stores", "computed"), default=None, help="default: stores")
    parser.add_argument("--per-layer-maps", action="store_true", help="also write every layer's N x N map")
    parser.add_argument("--map-samples", type=int, default=100,
                        help="samples per language in Figure 2's map (similarity.map_samples; 0: all)")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where to put the temporary files")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads for the analysis (default: all)")
    parser.add_argument("--null", type=int, default=20, help="label shuffles of the null (regions.null_permutations)")
    parser.add_argument("--significance", type=int, default=1000,
                        help="permutations for per-neuron p-values (regions.significance_permutations)")
    parser.add_argument("--statistic", default="zscore", help="regions.significance_statistic")
    args = parser.parse_args()
    if args.flores:
        args.samples, args.langs, args.source = 1012, 9, args.source or "computed"
    args.source = args.source or "stores"
    n_rows = args.langs * args.samples
    print(
        f"{args.langs} languages x {args.samples} samples (N = {n_rows}), {args.layers} layers x {args.neurons} "
        f"neurons ({args.langs * args.samples * args.layers * args.neurons * 4 / 1e9:.2f} GB of float32 means), "
        f"source: {args.source}, BLAS threads: {args.threads or 'all'}, per-layer maps: {args.per_layer_maps}"
    )
    load_before = os.getloadavg()[0]
    directory = Path(tempfile.mkdtemp(prefix="linguafranca-bench-", dir=args.dir))
    try:
        if args.source == "stores":
            source = stores_on_disk(args, directory)
        else:
            print("store-free: every layer's means are generated on the fly when read; no activations on disk")
            source = computed_source(args.langs, args.samples, args.layers, args.neurons, args.seed)
            with step("one generating pass (not analysis)"):
                generating_pass(source)
        with threadpool_limits(args.threads):
            PEAK["float64"] = matmul_peak("float64")
            print(f"matmul peak, 2048^3 float64: {PEAK['float64']:.0f} GFLOP/s; float32: "
                  f"{matmul_peak('float32'):.0f} GFLOP/s (numpy, {args.threads or 'all'} threads)")
        cost = operation_counts(args)
        total, total_cpu = time.perf_counter(), cpu_seconds()
        with threadpool_limits(args.threads), step("similarity stage (+ h5)", cost["similarity"]):
            similarity = write_similarity(
                source, directory / "similarity.h5", per_layer_maps=args.per_layer_maps,
                map_samples=args.map_samples or None,
            )
        with step("metrics.tsv"):
            write_metrics(similarity, directory / "metrics.tsv")
        whole = similarity.metrics[0]
        del similarity  # the workflow runs the regions stage in a process of its own
        norms = read_norms(directory / "similarity.h5", [f"lang{a}" for a in range(args.langs)])
        with threadpool_limits(args.threads), step("compute_regions", cost["regions"]):
            regions = compute_regions(source, norms=norms)
        analysis, analysis_cpu = time.perf_counter() - total, cpu_seconds() - total_cpu
        chance = NullSettings(args.null, args.significance, statistic=args.statistic)
        if chance.active:
            label = f"regions + null B={args.null} S={args.significance}"
            with threadpool_limits(args.threads), step(label, cost["regions"] + cost["null"]):
                regions = compute_regions(source, norms=norms, null=chance)
            summary = regions.null_summary()
            if summary:
                print(f"null SKLR mean {summary['null_sklr_mean']:.0f} (sd {summary['null_sklr_sd']:.0f}, "
                      f"p95 {summary['null_sklr_p95']:.0f}) against SKLR {regions.sklr}")
            if regions.significant is not None:
                print(f"significant neurons (BH q = {chance.fdr_q}): {int(regions.significant.sum())}")
        with step("write regions zarr + tsv"):
            write_regions(regions, directory / "regions.zarr")
            write_sklr(regions, directory / "sklr.tsv")
        print(
            f"{'similarity+metrics+regions':<32} {analysis:8.1f} s wall {analysis_cpu:8.1f} s CPU   "
            f"peak RSS {peak_rss_gib():5.2f} GiB   (load average before: {load_before:.1f})"
        )
        print(
            f"whole model: LRDS {whole['lrds']:.4f}  SADS {whole['sads']:.4f}  SKLR {regions.sklr} "
            f"({100 * regions.sklr / (args.layers * args.neurons):.2f}% of neurons); "
            f"similarity.h5 {(directory / 'similarity.h5').stat().st_size / 1e9:.2f} GB"
        )
    finally:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
