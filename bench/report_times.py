"""Where did a run's time go? Sums Snakemake's per-job benchmark files (``results/benchmarks/``) by stage.

Every rule writes a benchmark TSV (wall seconds ``s``, ``cpu_time``, ``max_rss`` in MB). Jobs of one stage may
overlap when cores allow, so a stage's summed job time can exceed its share of the wall clock; the total wall time
of the run is what ``time snakemake ...`` printed. Each job's time includes starting Python, importing torch and
loading the model.

    .venv/bin/python bench/report_times.py            # results/benchmarks under the working directory
    .venv/bin/python bench/report_times.py --benchmarks /tmp/run/results/benchmarks
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

from linguafranca.io.tsv import read_tsv

#: (stage, pattern on the benchmark path relative to results/benchmarks), first match wins; pipeline order.
STAGES = (
    ("resolve_model", r"/resolve_model\.tsv$"),
    ("prepare_language", r"^prepare_language/"),
    ("check_languages", r"^check_languages/"),
    ("capture", r"/capture/"),
    ("similarity", r"/similarity/"),
    ("regions", r"/regions/"),
    ("figures", r"/figures/"),
    ("perplexity: baseline", r"/ablation/[^/]*_none\.tsv$"),
    ("perplexity: tables", r"/ablation/[^/]*_tables\.tsv$"),
    ("perplexity: conditions", r"/ablation/"),
    ("generations", r"/generations/"),
    ("reasoning: table", r"/reasoning/[^/]*_table\.tsv$"),
    ("reasoning: conditions", r"/reasoning/"),
    ("probes: token capture", r"/probes/[^/]*_capture\.tsv$"),
    ("probes: language ID", r"/probes/[^/]*_language_id\.tsv$"),
    ("probes: concepts", r"/probes/[^/]*_concepts\.tsv$"),
    ("probes: intervention", r"/probes/[^/]*_intervention\.tsv$"),
    ("probes: summary", r"/probes/[^/]*_summary\.tsv$"),
    ("sandbox: tokenizer", r"^sandbox/tokenizer\.tsv$"),
    ("sandbox: training", r"^sandbox/[^/]+/train\.tsv$"),
    ("sandbox: loss figure", r"^sandbox/[^/]+/loss_figure\.tsv$"),
    ("series", r"^series/"),
)


def stage_of(relative: str) -> str:
    return next((stage for stage, pattern in STAGES if re.search(pattern, relative)), "other")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmarks", type=Path, default=Path("results/benchmarks"))
    args = parser.parse_args()
    jobs: dict[str, list[dict[str, str]]] = defaultdict(list)
    for path in sorted(args.benchmarks.rglob("*.tsv")):
        jobs[stage_of(path.relative_to(args.benchmarks).as_posix())] += read_tsv(path)
    if not jobs:
        raise SystemExit(f"no benchmark files under {args.benchmarks}: run the workflow first")
    total = sum(float(row["s"]) for rows in jobs.values() for row in rows)
    print(f"{'stage':<24} {'jobs':>4} {'wall s':>8} {'share':>6} {'mean s':>7} {'CPU s':>8} {'max RSS MB':>10}")
    order = [stage for stage, _ in STAGES] + ["other"]
    for stage in sorted(jobs, key=order.index):
        rows = jobs[stage]
        wall = sum(float(row["s"]) for row in rows)
        cpu = sum(float(row["cpu_time"]) for row in rows if row.get("cpu_time", "NA") != "NA")
        rss = max((float(row["max_rss"]) for row in rows if row.get("max_rss", "NA") != "NA"), default=float("nan"))
        print(f"{stage:<24} {len(rows):>4} {wall:>8.1f} {100 * wall / total:>5.1f}% {wall / len(rows):>7.1f} "
              f"{cpu:>8.1f} {rss:>10.0f}")
    print(f"{'all jobs':<24} {sum(map(len, jobs.values())):>4} {total:>8.1f}")


if __name__ == "__main__":
    main()
