"""How far are bfloat16 results from float32? The agreement table behind the default ``compute``.

Compares two finished runs of the same config that differ only in the model's ``compute`` (a reference, float32,
and another, bfloat16), output by output:

- LRDS and SADS, whole model and per layer: absolute difference;
- key-region masks: Jaccard index per language (and the region sizes);
- baseline perplexity and every Table 1 cell: relative difference of the perplexities, and the difference of
  the % increases in percentage points;
- diagonal dominance: the ratios side by side.

Either point it at two results folders of one (model, revision) that already exist:

    .venv/bin/python bench/precision.py /work/run32/results/gemma3-270m/main results/gemma3-270m/main

or let it run the default config twice (``--run DIR``: DIR/float32 and DIR/bfloat16, reused when finished):

    .venv/bin/python bench/precision.py --run /tmp/precision
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from linguafranca.ablation.deactivation import read_increase
from linguafranca.io.regions_store import read_regions
from linguafranca.io.tsv import read_tsv

REPO = Path(__file__).resolve().parents[1]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reference", nargs="?", type=Path, help="results/{model}/{revision} of the float32 run")
    parser.add_argument("other", nargs="?", type=Path, help="results/{model}/{revision} of the bfloat16 run")
    parser.add_argument("--run", type=Path, help="run the default config in float32 and bfloat16 under this folder")
    parser.add_argument("--cores", type=int, default=8)
    parser.add_argument("--device", default="cpu", help="where the bfloat16 run runs: cpu, or cuda (bench/gpu.sh)")
    args = parser.parse_args()
    if (args.run is None) == (args.reference is None or args.other is None):
        parser.error("give either two results folders or --run DIR")
    return args


def run_default(folder: Path, compute: str, cores: int, device: str = "cpu") -> Path:
    """Run ``snakemake all`` on the default config with every model's ``compute`` and ``device`` set; the results
    folder of its first (model, revision)."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text(encoding="utf-8"))
    for spec in config["models"].values():
        spec["compute"], spec["device"] = compute, device
    workdir = folder / (compute if device == "cpu" else f"{device}-{compute}")
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(path), "--cores", str(cores), "all"]
    subprocess.run(command, check=True)
    model, spec = next(iter(config["models"].items()))
    return workdir / "results" / model / spec.get("revisions", ["main"])[0]


def relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root))


def compare_metrics(reference: Path, other: Path) -> None:
    for tsv in sorted(reference.glob("*/metrics.tsv")):
        a, b = read_tsv(tsv), read_tsv(other / relative(tsv, reference))
        print(f"\n## {relative(tsv, reference)}: LRDS and SADS, float32 and |difference|")
        print(f"{'layer':>5} {'LRDS':>9} {'|Δ|':>9} {'SADS':>9} {'|Δ|':>9}")
        worst = {"lrds": 0.0, "sads": 0.0}
        for row_a, row_b in zip(a, b, strict=True):
            cells = []
            for key in ("lrds", "sads"):
                value, diff = float(row_a[key]), abs(float(row_a[key]) - float(row_b[key]))
                worst[key] = max(worst[key], diff)
                cells += [f"{value:9.5f}", f"{diff:9.2e}"]
            print(f"{row_a['layer']:>5} {' '.join(cells)}")
        print(f"largest |Δ|: LRDS {worst['lrds']:.2e}, SADS {worst['sads']:.2e}")


def jaccard(x: np.ndarray, y: np.ndarray) -> float:
    union = np.logical_or(x, y).sum()
    return float(np.logical_and(x, y).sum() / union) if union else 1.0


def compare_regions(reference: Path, other: Path) -> None:
    for store in sorted(reference.glob("*/regions/z*.zarr")):
        a, b = read_regions(store), read_regions(other / relative(store, reference))
        print(f"\n## {relative(store, reference)}: key regions, Jaccard index of the masks")
        print(f"{'lang':>6} {'size f32':>9} {'size other':>10} {'Jaccard':>8}")
        for i, lang in enumerate(a.langs):
            print(f"{lang:>6} {int(a.mask[i].sum()):9d} {int(b.mask[i].sum()):10d} {jaccard(a.mask[i], b.mask[i]):8.4f}")
        print(f"{'all':>6} {int(a.mask.sum()):9d} {int(b.mask.sum()):10d} {jaccard(a.mask, b.mask):8.4f}")


def compare_perplexity(reference: Path, other: Path) -> None:
    for tsv in sorted(reference.glob("*/ablation/regions-*/z*/perplexity.tsv")):
        a, b = read_tsv(tsv), read_tsv(other / relative(tsv, reference))
        print(f"\n## {relative(tsv, reference)}: perplexity, relative difference (other / float32 − 1, %)")
        columns = list(a[0])[1:]
        print(f"{'lang':>6} " + " ".join(f"{c:>9}" for c in columns))
        diffs = []
        for row_a, row_b in zip(a, b, strict=True):
            cells = []
            for column in columns:
                if row_a[column] in ("n/a", "empty"):
                    cells.append(f"{'n/a':>9}")
                    continue
                diff = 100 * (float(row_b[column]) / float(row_a[column]) - 1)
                diffs.append(abs(diff))
                cells.append(f"{diff:+9.3f}")
            print(f"{row_a['lang']:>6} " + " ".join(cells))
        print(f"|relative difference|: median {np.median(diffs):.3f}%, largest {max(diffs):.3f}%")
        compare_increase(tsv.parent / "perplexity_increase.tsv", other / relative(tsv.parent, reference))


def compare_increase(increase: Path, other_folder: Path) -> None:
    a, b = read_increase(increase), read_increase(other_folder / increase.name)
    relative = np.abs(b.increase / a.increase - 1) * 100
    print(f"Table 1 (% increase): relative difference of the cells, median {np.nanmedian(relative):.2f}%, "
          f"largest {np.nanmax(relative):.2f}% (cells from {np.nanmin(np.abs(a.increase)):.1f}% to "
          f"{np.nanmax(np.abs(a.increase)):.1f}%)")
    dominance_a = read_tsv(increase.parent / "diagonal_dominance.tsv")
    dominance_b = read_tsv(other_folder / "diagonal_dominance.tsv")
    print(f"{'lang':>6} {'ratio f32':>10} {'other':>8} {'to random f32':>14} {'other':>8}")
    for row_a, row_b in zip(dominance_a, dominance_b, strict=True):
        print(f"{row_a['lang']:>6} {row_a['ratio']:>10.8} {row_b['ratio']:>8.6} "
              f"{row_a['ratio_to_matched_random']:>14.8} {row_b['ratio_to_matched_random']:>8.6}")


def main() -> None:
    args = arguments()
    if args.run:
        reference = run_default(args.run, "float32", args.cores)
        other = run_default(args.run, "bfloat16", args.cores, args.device)
    else:
        reference, other = args.reference, args.other
    print(f"# reference (float32): {reference}\n# other: {other}")
    compare_metrics(reference, other)
    compare_regions(reference, other)
    compare_perplexity(reference, other)


if __name__ == "__main__":
    main()
