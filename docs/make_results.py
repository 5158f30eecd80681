"""Write the documentation's result tables, run time and figures from one run's folder, so they cannot disagree.

Every number the docs quote from the default run sits between markers ``<!-- run:NAME -->`` and
``<!-- /run:NAME -->`` in a Markdown page; this script replaces what lies between them with tables read from the
run's TSV files and stores, and copies the run's figures into ``docs/figures/``. Prose around the markers refers to
the tables rather than repeating their numbers.

    .venv/bin/python docs/make_results.py RUN            # RUN: the folder snakemake ran in (results/, resources/,
                                                         # .snakemake/log/, config/config.yaml)
    .venv/bin/python docs/make_results.py RUN --check    # exit 1 if the docs differ from what RUN gives

The run time is the ``Elapsed time`` of the newest Snakemake log in ``RUN/.snakemake/log``: run the default from
nothing (``rm -rf results resources .snakemake && snakemake --cores 8 all``) right before.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
import zarr

from linguafranca.io.tsv import read_tsv
from linguafranca.pipeline import paths
from linguafranca.pipeline.config import regions_dataset, threshold_tag, validate

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
MARKER = re.compile(r"(<!-- run:(?P<name>[a-z0-9_]+) -->\n)(?P<body>.*?)(<!-- /run:(?P=name) -->)", re.S)


@dataclass(frozen=True)
class Run:
    """The run's folder and the names its default outputs are found under."""

    folder: Path
    config: dict
    model: str
    revision: str
    dataset: str
    ppl_dataset: str
    threshold: str

    def path(self, pattern: str, **fields: str) -> Path:
        """A path pattern of linguafranca.pipeline.paths, filled with this run's names (``fields`` override)."""
        names = dict(model=self.model, revision=self.revision, dataset=self.dataset, threshold=self.threshold,
                     regions_dataset=regions_dataset(self.config))
        return self.folder / pattern.format(**{**names, **fields})


def open_run(folder: Path) -> Run:
    config = validate(yaml.safe_load((folder / "config/config.yaml").read_text()))
    model = next(name for name in config["models"] if not name.startswith("sandbox-"))
    return Run(folder, config, model, config["models"][model]["revisions"][0], config["capture"]["datasets"][0],
               config["ablation"]["datasets"][0], threshold_tag(config["regions"]["threshold"]))


# Numbers as the docs print them: thousands separated, a real minus sign.
def number(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}".replace("-", "−")


def increase(text: str) -> str:
    """A % increase: whole numbers from 10 on, one decimal below."""
    if text in ("n/a", "empty", ""):
        return text or "n/a"
    value = float(text)
    return number(value, 0 if abs(value) >= 10 else 1)


def ratio(text: str) -> str:
    if text in ("n/a", "empty", ""):
        return text or "n/a"
    value = float(text)
    return number(value, 0 if abs(value) >= 1000 else 1)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def langs(run: Run) -> list[str]:
    return list(run.config["languages"])


# The blocks, each from its output files.
def run_compute(run: Run) -> str:
    """The dtype ``compute: auto`` picked in the run, as its perplexity table records it."""
    return read_tsv(run.path(paths.BASELINE_PPL, dataset=run.ppl_dataset))[0]["compute"]


CPU_KINDS = {"float32": "a CPU without AVX-512, the slower kind", "bfloat16": "a CPU with AVX512-BF16, the faster kind"}


def block_run(run: Run) -> str:
    """Which run the page's numbers come from: commit, compute, jobs and wall time."""
    elapsed, jobs = run_time(run.folder)
    compute = run_compute(run)
    later = later_jobs(run.folder)
    since = (f" (later runs in the folder ran {later} more jobs: updates to the commit below and other language "
             "sets)") if later else ""
    return (f"Run: `snakemake --cores 8 all` from nothing, {jobs} jobs in **{elapsed}** on 2 CPU cores{since}, "
            f"results current at commit `{commit(run.folder)}`, `compute: auto` = {compute}; model `{run.model}` "
            f"revision `{run.revision}`, analysis text `{run.dataset}`, perplexity text `{run.ppl_dataset}`.\n")


def block_similarity(run: Run) -> str:
    rows = read_tsv(run.path(paths.METRICS))
    whole = next(row for row in rows if row["layer"] == "all")
    layers = [row for row in rows if row["layer"] != "all"]
    overview = table(
        ["whole model", "LRDS", "SADS", "same language, other verse", "other language, same verse",
         "other language, other verse"],
        [["", *(f"{float(whole[key]):.3f}" for key in ("lrds", "sads", "same_lang_diff_meaning",
                                                       "diff_lang_same_meaning", "diff_lang_diff_meaning"))]])
    per_layer = table(["layer", *(row["layer"] for row in layers)],
                      [[name, *(f"{float(row[name]):.3f}" for row in layers)] for name in ("lrds", "sads")])
    return overview + "\n" + per_layer


def block_regions(run: Run) -> str:
    """Key neurons per language beside the label-shuffled null and the significant region."""
    total = next(row for row in read_tsv(run.path(paths.SKLR)) if row["layer"] == "total")
    store = zarr.open_group(paths.store_of(run.path(paths.REGIONS)), mode="r")
    n = int(store.attrs["n_layers"]) * int(store.attrs["n_neurons"])
    order = list(store.attrs["langs"])
    null = np.asarray(store["null_count"]).sum(axis=2) if "null_count" in store else None  # [B, langs]
    significant = np.asarray(store["significant"]) if "significant" in store else None
    header = ["", *langs(run), "all (SKLR)"]
    rows = [["key neurons, z > " + str(run.config["regions"]["threshold"]),
             *(number(int(total[lang])) for lang in langs(run)),
             f"{number(int(total['all']))} ({100 * int(total['all']) / n:.1f}%)"]]
    if null is not None:
        pick = [order.index(lang) for lang in langs(run)]
        rows.append(["shuffled labels: mean (sd)", *(f"{number(null[:, a].mean())} ({number(null[:, a].std())})"
                                                     for a in pick),
                     f"{number(float(total['null_mean']))}, {100 * float(total['null_mean']) / n:.1f}%"])
        rows.append(["shuffled labels: 95th percentile", *(number(np.percentile(null[:, a], 95)) for a in pick),
                     number(float(total["null_p95"]))])
    if significant is not None:
        counts = significant.reshape(len(order), -1).sum(axis=1)
        rows.append([f"significant (BH, q = {run.config['regions']['fdr_q']})",
                     *(number(int(counts[order.index(lang)])) for lang in langs(run)),
                     f"{number(int(total['significant']))} ({100 * int(total['significant']) / n:.1f}%)"])
    return table(header, rows)


def block_table1(run: Run) -> str:
    """Table 1: % perplexity increase, the region sizes, and the baseline perplexities under it."""
    folder = run.path(paths.INCREASE, dataset=run.ppl_dataset)
    rows = read_tsv(folder)
    columns = [c for c in rows[0] if c == "random" or c in langs(run) or c.removeprefix("random_") in langs(run)]
    own = [c for c in columns if c.startswith("random_")]
    shown = [c for c in columns if c not in own]
    header = ["evaluated ↓ / region →", *shown, "size-matched random (own language)"]
    body = []
    for row in rows:
        lang = row["lang"]
        if lang == "region_size":
            body.append(["region size", *(number(int(float(row[c]))) for c in shown), "as the region"])
        elif lang == "region_percent":
            body.append(["% of neurons", *(f"{float(row[c]):.1f}" for c in shown), ""])
        else:
            body.append([lang, *(increase(row[c]) for c in shown), increase(row.get(f"random_{lang}", "n/a"))])
    baseline = read_tsv(run.path(paths.BASELINE_PPL, dataset=run.ppl_dataset))
    line = ", ".join(f"{row['lang']} {float(row['ppl']):.1f}" for row in baseline)
    return table(header, body) + f"\nBaseline perplexities (nothing switched off): {line}.\n"


def block_dominance(run: Run) -> str:
    rows = read_tsv(run.path(paths.DOMINANCE, dataset=run.ppl_dataset))
    rows = [row for row in rows if row["lang"] in langs(run)]
    body = [["own ÷ mean of the other languages", *(ratio(row["ratio"]) for row in rows)],
            ["own ÷ size-matched random", *(ratio(row["ratio_to_matched_random"]) for row in rows)]]
    if any(row["unstable"] for row in rows):
        body.append(["unstable", *(row["unstable"] or "" for row in rows)])
    return table(["language", *(row["lang"] for row in rows)], body)


def other_methods(run: Run) -> list[str]:
    return [method for method in run.config["regions"]["methods"] if method != "zscore"]


def block_methods(run: Run) -> str:
    """Each method's region size per language beside its null, and its layer thirds (all languages)."""
    rows = {(row["method"], row["lang"]): row for row in read_tsv(run.path(paths.METHODS_TABLE))}
    methods = list(dict.fromkeys(method for method, _ in rows))
    header = ["method", *langs(run), "all", "first / middle / last third"]
    body = []
    for method in methods:
        body.append([method, *(number(int(rows[method, lang]["size"])) for lang in [*langs(run), "all"]),
                     " / ".join(f"{float(rows[method, 'all'][t]):.2f}" for t in
                                ("first_third", "middle_third", "last_third"))])
        nulls = [rows[method, lang] for lang in [*langs(run), "all"]]
        if nulls[0]["null_mean"] != "n/a":
            body.append([f"{method}, shuffled labels: mean (p95)",
                         *(f"{number(float(r['null_mean']))} ({number(float(r['null_p95']))})" for r in nulls), ""])
    return table(header, body)


def block_jaccard(run: Run) -> str:
    """The Jaccard overlap of every pair of methods, per language."""
    rows = {(row["method"], row["lang"]): row for row in read_tsv(run.path(paths.METHODS_TABLE))}
    methods = list(dict.fromkeys(method for method, _ in rows))
    pairs = [(a, b) for i, a in enumerate(methods) for b in methods[i + 1:]]
    body = [[f"{a} – {b}", *(f"{float(rows[a, lang][f'jaccard_{b}']):.3f}" for lang in [*langs(run), "all"])]
            for a, b in pairs]
    return table(["pair", *langs(run), "all"], body)


def block_methods_table1(run: Run) -> str:
    """Each method's region on its own language, on the other languages it is evaluated on (the z-score's: the
    mean of all others; another method's: its one other language), and its size-matched control on its own language
    (% perplexity increase), with own ÷ control."""
    rows = {row["lang"]: row for row in read_tsv(run.path(paths.INCREASE, dataset=run.ppl_dataset))}

    def measured(text: str) -> bool:
        return text not in ("n/a", "empty", "")

    body = []
    for method in ["zscore", *other_methods(run)]:
        for lang in langs(run):
            region = lang if method == "zscore" else f"{method}_{lang}"
            own, control = rows[lang][region], rows[lang]["random_" + region]
            others = {other: rows[other][region] for other in langs(run) if other != lang and measured(rows[other][region])}
            if not others:
                elsewhere = rows[lang][region] if rows[lang][region] == "empty" else "n/a"
            elif method == "zscore":
                elsewhere = f"{increase(str(np.mean([float(v) for v in others.values()])))} (mean of the others)"
            else:
                other, value = next(iter(others.items()))
                elsewhere = f"{increase(value)} ({other})"
            quotient = ratio(str(float(own) / float(control))) if measured(own) and measured(control) else "n/a"
            body.append([method, lang, number(int(float(rows["region_size"][region]))), increase(own), elsewhere,
                         increase(control), quotient])
    return table(["method", "region of", "size", "own language", "elsewhere", "size-matched random (own)",
                  "own ÷ random"], body)


def block_forcing(run: Run) -> str:
    """Median forcing: the share of continuations in the forced language, per method, against the unforced model."""
    rows = read_tsv(run.path(paths.FORCED_LANGUAGE))
    methods = list(dict.fromkeys(row["method"] for row in rows))
    cell = {(row["method"], row["forced_lang"]): row for row in rows}

    def share(value: str) -> str:
        return value if value in ("n/a", "empty") else f"{float(value):.2f}"

    body = [["unforced", *(share(cell[methods[0], lang]["share_unforced"]) for lang in langs(run))]]
    body += [[f"{method} forced", *(share(cell[method, lang]["share_forced"]) for lang in langs(run))]
             for method in methods]
    n = cell[methods[0], langs(run)[0]]["n_continuations"]
    return table(["share in the forced language", *langs(run)], body) + (
        f"\nEach share is over the {n} (or, for a forcing language, fewer) continuations of prompts in other "
        "languages.\n")


#: The language set of config/examples/romanised.yaml, whose results sit beside the default run's.
ROMANISED_SET = "romanised"


def block_script(run: Run) -> str:
    """The script control of config/examples/romanised.yaml run in the same folder: per method and romanised
    language, the region overlaps and the deactivation effects."""
    moved = paths.language_set_paths(ROMANISED_SET)
    overlap = read_tsv(run.path(moved["SCRIPT_OVERLAP"]))
    harm = {(row["method"], row["lang"]): row
            for row in read_tsv(run.path(moved["SCRIPT_DEACTIVATION"], dataset=run.ppl_dataset))}
    body = []
    for row in overlap:
        effect = harm[row["method"], row["lang"]]
        body.append([row["method"], row["lang"], number(int(row["size"])),
                     f"{float(row['jaccard_base']):.3f} ({float(row['jaccard_base_chance']):.3f})",
                     f"{float(row['jaccard_latin_mean']):.3f} / {float(row['jaccard_latin_max']):.3f}",
                     f"{float(row['base_jaccard_latin_mean']):.3f}", row["reads_as"],
                     increase(effect["base_region_on_base"]), increase(effect["base_region_on_romanised"]),
                     increase(effect["base_region_on_latin_mean"])])
    return table(["method", "romanised", "size", "Jaccard with its base (chance)", "with Latin-script (mean / max)",
                  "base with Latin-script", "reads as", "base's region: on base", "on romanised",
                  "on Latin-script (mean)"], body)


def block_accuracy(run: Run) -> str:
    """Reasoning accuracy with its Wilson interval: unablated, own region off, its size-matched control off."""
    rows = [row for row in read_tsv(run.path(paths.ACCURACY)) if row["available"] == "yes"]

    def cell(row: dict, condition: str) -> str:
        acc = row.get(f"acc_{condition}", "")
        if not acc:
            return ""
        return f"{float(acc):.2f} [{float(row[f'low_{condition}']):.2f}, {float(row[f'high_{condition}']):.2f}]"

    body = [[row["task"], row["language"], row["n"], cell(row, "none"), cell(row, row["language"]),
             cell(row, f"random_{row['language']}")] for row in rows]
    return table(["task", "language", "items", "nothing off", "own region off", "size-matched random off"], body)


def block_series(run: Run) -> str:
    """The sandbox's trends, one row per checkpoint of each `vary: step` series."""
    body = []
    for name, series in run.config["series"].items():
        if series["vary"] != "step":
            continue
        for row in read_tsv(run.folder / paths.EVOLUTION.format(series=name)):
            def f(key: str, digits: int = 2) -> str:
                return number(float(row[key]), digits) if row[key] else ""
            body.append([f"{row['model'].removeprefix('sandbox-')}, {int(row['step'])}", f("lrds", 3), f("sads", 4),
                         f"{f('sklr', 1)} ({f('sklr_null_mean', 1)})", f("sklr_significant", 1),
                         f"{f('layers_first')} / {f('layers_middle')} / {f('layers_last')}",
                         f"{f('ppl_own')} / {f('ppl_other')} / {f('ppl_random')}", f("accuracy"),
                         f"{f('probe_accuracy_mean')} / {f('probe_accuracy_min')}", f("expert_jaccard", 3)])
    return table(["size, step", "LRDS", "SADS", "SKLR % (null)", "significant %", "first / middle / last third",
                  "own / other / random increase %", "accuracy", "probe accuracy mean / min", "expert Jaccard"], body)


def block_runtime(run: Run) -> str:
    """The run time with the CPU kind it was measured on, which the compute dtype tells (float32 takes two to three
    times as long as bfloat16)."""
    elapsed, jobs = run_time(run.folder)
    compute = run_compute(run)
    kind = CPU_KINDS.get(compute, compute)
    return f"**{elapsed}** from nothing on 2 CPU cores ({jobs} jobs), in {compute} on {kind}\n"


BLOCKS: dict[str, Callable[[Run], str]] = {
    "run": block_run, "similarity": block_similarity, "regions": block_regions, "table1": block_table1,
    "dominance": block_dominance, "accuracy": block_accuracy, "methods": block_methods, "jaccard": block_jaccard,
    "methods_table1": block_methods_table1, "forcing": block_forcing, "script": block_script, "series": block_series, "runtime": block_runtime,
}

#: docs/figures/{name}: the run's file it is copied from (a path pattern and its fields).
FIGURES = {
    "similarity.png": (paths.FIGURE, {"figure": "similarity", "ext": "png"}),
    "lrds_sads.png": (paths.FIGURE, {"figure": "lrds_sads", "ext": "png"}),
    "regions_layers.png": (paths.FIGURE, {"figure": "regions_z{threshold}_layers", "ext": "png"}),
    "regions_sizes.png": (paths.FIGURE, {"figure": "regions_z{threshold}_sizes", "ext": "png"}),
    "perplexity_increase.png": (paths.INCREASE_FIGURE, {"ext": "png", "ppl": True}),
    "accuracy.png": (paths.ACCURACY_FIGURE, {"ext": "png"}),
    "methods.png": (paths.METHODS_FIGURE, {"ext": "png"}),
    "sandbox_m_figure4.png": (paths.SERIES_FIGURE, {"series": "sandbox-m", "figure": "figure4", "ext": "png"}),
    "sandbox_m_probes.png": (paths.SERIES_FIGURE, {"series": "sandbox-m", "figure": "probes", "ext": "png"}),
}


def figure_source(run: Run, pattern: str, fields: dict) -> Path:
    fields = dict(fields)
    if fields.pop("ppl", False):
        fields["dataset"] = run.ppl_dataset
    if "figure" in fields:
        fields["figure"] = fields["figure"].format(threshold=run.threshold)
    return run.path(pattern, **fields)


def _finished(log: Path) -> tuple[str, int]:
    """A finished run's elapsed time, as "24 min 56 s", and how many jobs it ran."""
    text = log.read_text()
    elapsed = re.search(r"Elapsed time: (\d+):(\d\d):(\d\d)", text)
    done = re.search(r"(\d+) of (\d+) steps \(100%\) done", text)
    if not elapsed or not done:
        raise SystemExit(f"make_results: {log} is not the log of a finished run")
    hours, minutes, seconds = map(int, elapsed.groups())
    return f"{60 * hours + minutes} min {seconds} s", int(done.group(2))


def _logs(folder: Path) -> list[Path]:
    logs = sorted((folder / ".snakemake/log").glob("*.snakemake.log"))
    if not logs:
        raise SystemExit(f"make_results: no Snakemake log in {folder}/.snakemake/log: run the workflow there first")
    return logs


@functools.cache  # the run line and the run-time blocks quote the same log
def run_time(folder: Path) -> tuple[str, int]:
    """The run from nothing: of the folder's finished Snakemake runs, the one with the most jobs (later runs that
    brought its results up to date, or added a language set beside them, ran fewer)."""
    return max((_finished(log) for log in _logs(folder) if "steps (100%) done" in log.read_text()),
               key=lambda found: found[1])


def later_jobs(folder: Path) -> int:
    """Jobs of the finished runs after the run from nothing (updates and other language sets)."""
    runs = [_finished(log) for log in _logs(folder) if "steps (100%) done" in log.read_text()]
    return sum(jobs for _, jobs in runs) - max(jobs for _, jobs in runs)


def commit(folder: Path) -> str:
    found = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return found.stdout.strip() or "unknown"


def rewrite(text: str, run: Run) -> str:
    return MARKER.sub(lambda m: m.group(1) + BLOCKS[m.group("name")](run) + m.group(4), text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="the folder the workflow ran in")
    parser.add_argument("--docs", type=Path, default=DOCS, help="the docs folder (default: this one)")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page or figure differs")
    args = parser.parse_args(argv)
    run = open_run(args.run)
    stale = []
    for page in [*sorted(args.docs.glob("*.md")), args.readme]:
        if page.is_symlink() or not page.exists():
            continue
        old = page.read_text()
        new = rewrite(old, run)
        if new != old:
            stale.append(page)
            if not args.check:
                page.write_text(new)
    for name, (pattern, fields) in FIGURES.items():
        source, target = figure_source(run, pattern, fields), args.docs / "figures" / name
        if not source.exists():
            continue
        if not target.exists() or target.read_bytes() != source.read_bytes():
            stale.append(target)
            if not args.check:
                shutil.copyfile(source, target)
    for path in stale:
        print(f"{'differs' if args.check else 'wrote'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
