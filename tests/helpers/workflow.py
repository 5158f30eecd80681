"""The tiny workflow the workflow tests run: its config, a copy of the code, dry-run plans and job sets."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml
import zarr

CODE = ["Snakefile", "workflow", "config", "envs", "profiles", "linguafranca"]


LANGS = ["en", "fr", "zh"]


CONDITIONS = ["none", "random", *LANGS, *(f"random_{lang}" for lang in LANGS)]


# One job per (regions dataset, threshold) each; none and random read no regions store and run once per (model, text).
REGION_CONDITIONS = CONDITIONS[2:]


#: The jobs of the threshold-free conditions: perplexity and reasoning, none and random.
THRESHOLD_FREE_RULES = {"ablation_baseline", "ablation_random", "reasoning_baseline", "reasoning_random"}


TEXTS = {
    "en": ["In the beginning God created the heaven.", "And the earth was without form.", "Let there be light.",
           "And there was light.", "God saw the light, that it was good."],
    "fr": ["Au commencement, Dieu créa les cieux.", "La terre était informe et vide.", "Que la lumière soit!",
           "Et la lumière fut.", "Dieu vit que la lumière était bonne."],
    "zh": ["起初，神创造天地。", "地是空虚混沌。", "要有光。", "就有了光。", "神看光是好的。"],
}


def copy_code(source: Path, dest: Path) -> Path:
    """A copy of the workflow's code. copytree keeps modification times, so the copied scripts stay older than
    the outputs (Snakemake reruns a script rule whose script is newer than its outputs)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in CODE:
        if (source / name).is_dir():
            shutil.copytree(source / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source / name, dest / name)
    return dest


def snakemake(workdir: Path, code: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Snakemake on the code in ``code``: its Snakefile, and its package first on the path. It runs in
    ``workdir``, because ``python -m`` puts the current directory before PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(code / "Snakefile"), "--directory", str(workdir)]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, cwd=workdir)


def planned_jobs(workdir: Path, code: Path, config: Path) -> set[tuple]:
    """The jobs a dry run of ``all`` would run, each as (rule, sorted wildcard items), without the ``all`` job.

    Read from the job listing of ``-n``; the "Job stats" total confirms that no job was missed or merged.
    """
    dry = snakemake(workdir, code, "--configfile", str(config), "-n", "all")
    assert dry.returncode == 0, dry.stderr[-3000:]
    if "Nothing to be done" in dry.stdout + dry.stderr:
        return set()
    jobs: list[tuple[str, dict]] = []
    for line in dry.stdout.splitlines():
        if header := re.fullmatch(r"(?:local)?rule (\w+):", line):
            jobs.append((header[1], {}))
        elif jobs and (listed := re.fullmatch(r"\s+wildcards: (.*)", line)):
            jobs[-1][1].update(item.split("=", 1) for item in listed[1].split(", "))
    total = int(re.search(r"^total\s+(\d+)$", dry.stdout, re.MULTILINE)[1])
    planned = {(rule, tuple(sorted(wildcards.items()))) for rule, wildcards in jobs if rule != "all"}
    assert len(planned) == total - 1 == len(jobs) - 1, dry.stdout
    return planned


def job(rule: str, **wildcards: str) -> tuple:
    """One expected job; model and revision default to the test's."""
    if rule not in ("prepare_language", "check_languages"):
        wildcards = {"model": "tiny", "revision": "main", **wildcards}
    return rule, tuple(sorted(wildcards.items()))


def figure_jobs(threshold: str = "1") -> set[tuple]:
    return {
        job("figure_similarity", dataset="toy"),
        job("figure_lrds_sads", dataset="toy"),
        *regions_figure_jobs(threshold),
    }


def regions_figure_jobs(threshold: str = "1") -> set[tuple]:
    return {job(f"figure_region_{kind}", dataset="toy", threshold=threshold) for kind in ("layers", "sizes")}


def reasoning_job(condition: str, threshold: str = "1") -> tuple:
    """The Bible task's reasoning job of ``condition``: none and random have their own threshold-free rules."""
    if condition in ("none", "random"):
        return job("reasoning_baseline" if condition == "none" else "reasoning_random", task="bible")
    return job("reasoning_condition", task="bible", condition=condition, regions_dataset="toy", threshold=threshold)


def reasoning_jobs(conditions=REGION_CONDITIONS, threshold: str = "1") -> set[tuple]:
    """The reasoning jobs of the Bible task for ``conditions`` (by default those that read a regions store), and the
    accuracy table of ``threshold`` that gathers them."""
    return {*(reasoning_job(c, threshold) for c in conditions),
            job("reasoning_table", regions_dataset="toy", threshold=threshold)}


def random_jobs() -> set[tuple]:
    """The random control's perplexity and reasoning jobs: what regions.random_fraction and seed rerun beside the
    regions stage."""
    return {job("ablation_random", dataset="held_out"), job("reasoning_random", task="bible")}


def after_regions(threshold: str = "1") -> set[tuple]:
    """The jobs that read the regions store of the toy dataset at ``threshold``, and what follows them (never none's
    or random's)."""
    return {
        job("regions", dataset="toy", threshold=threshold),
        *reasoning_jobs(threshold=threshold),
        *regions_figure_jobs(threshold),
        *(job("ablation_condition", dataset="held_out", regions_dataset="toy", threshold=threshold, condition=c)
          for c in REGION_CONDITIONS),
        job("ablation_tables", dataset="held_out", regions_dataset="toy", threshold=threshold),
        job("generations", dataset="toy", threshold=threshold),
        *methods_jobs(threshold),
    }


def methods_jobs(threshold: str = "1") -> set[tuple]:
    """The jobs that read the methods store and the regions store of ``threshold``: the comparison and median
    forcing."""
    return {job("methods_table", dataset="toy", threshold=threshold),
            job("forced_generations", dataset="toy", threshold=threshold)}


def method_store_jobs() -> set[tuple]:
    """The methods job and the perplexity jobs of the methods' regions, which depend on no threshold."""
    return {job("methods", dataset="toy"),
            *(job("ablation_method", dataset="held_out", regions_dataset="toy", method=method)
              for method in ("lape", "ap"))}


def after_capture() -> set[tuple]:
    """Capture of every language and every job downstream of the activation stores."""
    return {
        *(job("capture", dataset="toy", lang=lang) for lang in LANGS),
        job("similarity", dataset="toy"),
        *figure_jobs(),
        *after_regions(),
        *method_store_jobs(),
    }


def write_config(workdir: Path, model_dir: Path, **overrides) -> Path:
    """Config of the tiny run; the held-out dataset reads its own copies of the texts."""
    files = {"toy": {}, "held_out": {}}
    for lang, texts in TEXTS.items():
        text = "".join(json.dumps({"id": f"v{i}", "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts))
        for dataset, prefix in (("toy", ""), ("held_out", "held_")):
            path = workdir / f"{prefix}{lang}.jsonl"
            path.write_text(text, encoding="utf-8")
            files[dataset][lang] = str(path)
    config = {
        "languages": LANGS,
        "samples": 4,
        "models": {"tiny": {"source": "local", "name": str(model_dir), "device": "cpu", "batch_size": 3,
                            "compute": "float32"}},
        "datasets": {
            "toy": {"loader": "table", "options": {"files": files["toy"]}},
            "held_out": {"loader": "table", "options": {"files": files["held_out"]}, "samples": "all", "joiner": " "},
        },
        "capture": {"datasets": ["toy"]},
        "similarity": {"per_layer_maps": True},
        "regions": {"threshold": 1, "random_fraction": 0.25},
        "ablation": {"datasets": ["held_out"], "seqlen": 8, "max_tokens": 24, "bos_per_window": False,
                     "generation": {"languages": ["en", "zh"], "max_new_tokens": 4}},
        "reasoning": {"tasks": ["bible"], "limit": 2},
        **overrides,
    }
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def changed_config(config: Path, name: str, change) -> Path:
    """A copy of ``config`` beside it, with ``change`` applied to the loaded dict."""
    values = yaml.safe_load(config.read_text())
    change(values)
    other = config.parent / name
    other.write_text(yaml.safe_dump(values, allow_unicode=True), encoding="utf-8")
    return other


def with_threshold(config: Path, threshold: float) -> Path:
    """A copy of the run's config with another regions threshold."""
    return changed_config(config, f"threshold_{threshold}.yaml", lambda c: c["regions"].update(threshold=threshold))


def copy_of_run(finished_run, tmp_path: Path) -> Path:
    """A copy of the finished run's folder, so that a test adding outputs leaves the shared run as it was (the
    recovery test compares every output of it). copytree keeps modification times, so the copy is finished too."""
    copy = tmp_path / "copy"
    shutil.copytree(finished_run[0], copy, symlinks=True)
    return copy


FIGURES = ["similarity", "lrds_sads", "regions_z1_layers", "regions_z1_sizes"]


def report_results(html: str) -> tuple[dict, dict]:
    """The report's result records and its categories, from the JSON that Snakemake's HTML report embeds."""
    def embedded(name: str) -> dict:
        match = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', html, re.S)
        assert match, f"no {name} in the report"
        return json.loads(match.group(1))

    return embedded("results"), embedded("categories")


def start_run(workdir: Path, code: Path, config: Path) -> subprocess.Popen:
    """`snakemake all` in its own process group, so that one kill takes Snakemake and all its jobs."""
    log = (workdir / "killed_run.log").open("w")
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(code / "Snakefile"), "--directory", str(workdir)]
    return subprocess.Popen([*command, "--configfile", str(config), "--cores", "2", "all"], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=workdir)


def kill_during_capture(workdir: Path, code: Path, config: Path) -> Path | None:
    """Start a run, SIGKILL its process group while a capture job is writing its store, and return that store's
    temporary folder; None when no capture was caught in the act (the run ended first, or the store was renamed
    into place between the look and the kill)."""
    process = start_run(workdir, code, config)
    activations = workdir / "results/tiny/main/toy/activations"
    deadline = time.monotonic() + 900  # a safety net for a hung run, not a speed requirement
    try:
        while process.poll() is None and time.monotonic() < deadline:
            temporaries = sorted(activations.glob(".*.zarr.tmp-*")) if activations.is_dir() else []
            if temporaries:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return temporaries[0] if temporaries[0].exists() else None
            time.sleep(0.005)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return None


def plain(attrs) -> dict:
    """Attributes as comparable Python values (HDF5 gives numpy arrays and scalars)."""
    return {key: value.tolist() if isinstance(value, np.ndarray | np.generic) else value
            for key, value in attrs.items()}


def arrays(folder: Path) -> dict[str, tuple[np.ndarray, dict]]:
    """Every array of every Zarr and HDF5 store under ``folder``, with its attributes and its store's."""
    import h5py

    found = {}
    for store in sorted(folder.rglob("*.zarr")):
        group = zarr.open_group(str(store), mode="r")
        for name, array in group.arrays():
            found[f"{store.relative_to(folder)}/{name}"] = (array[...], plain({**group.attrs, **array.attrs}))
    for store in sorted(folder.rglob("*.h5")):
        with h5py.File(store, "r") as h5:
            def visit(name, item):
                if isinstance(item, h5py.Dataset):
                    found[f"{store.relative_to(folder)}/{name}"] = (item[...], plain({**h5.attrs, **item.attrs}))
            h5.visititems(visit)
    return found


PROBES = {"dataset": "toy", "max_samples": None, "tokens_per_language": 12, "probe_seeds": 2, "max_iter": 50,
          "concepts": {"words": {"light": ["light"], "earth": ["earth", "heaven"]}, "min_positives": 1,
                       "negatives": 2, "experts": 3, "min_languages": 2},
          "intervention": {"concepts": 1, "languages": ["en", "zh"], "samples": 2, "max_new_tokens": 3}}


def probe_jobs() -> set[tuple]:
    return {job(rule, dataset="toy") for rule in ("probe_capture", "probes", "concepts", "concept_intervention",
                                                   "probe_summary")}
