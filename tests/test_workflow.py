"""End to end: the Snakemake workflow on a tiny model and tiny parallel text, in a temporary directory.

The workflow runs from a copy of the repository's code (Snakefile, workflow/, config/, linguafranca/), so that the
rerun tests can edit a module in a further copy without touching the repository. envs/ comes along because
Snakemake records the conda environment file of every job.
"""

import base64
import json
import os
import re
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
import zarr
from tiny import save_tiny

from conftest import REPO
from linguafranca.pipeline.codehash import code_hash
from linguafranca.io.tsv import read_tsv

CODE = ["Snakefile", "workflow", "config", "envs", "profiles", "linguafranca"]
LANGS = ["en", "fr", "zh"]
CONDITIONS = ["none", "random", *LANGS, *(f"random_{lang}" for lang in LANGS)]
SWITCHED_OFF = CONDITIONS[1:]  # one job per threshold each; the baseline none runs once per (model, text)
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
    if rule != "prepare_dataset":
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


def reasoning_jobs(conditions=SWITCHED_OFF) -> set[tuple]:
    """The reasoning jobs of the Bible task for ``conditions`` (by default those that read a regions store), and the
    accuracy table that gathers them."""
    return {*(job("reasoning_condition", task="bible", condition=c) for c in conditions), job("reasoning_table")}


def after_regions(threshold: str = "1") -> set[tuple]:
    """The jobs that read the regions store of the toy dataset at ``threshold``, and what follows them."""
    return {
        job("regions", dataset="toy", threshold=threshold),
        *reasoning_jobs(),
        *regions_figure_jobs(threshold),
        *(job("ablation_condition", dataset="held_out", regions_dataset="toy", threshold=threshold, condition=c)
          for c in SWITCHED_OFF),
        job("ablation_tables", dataset="held_out", regions_dataset="toy", threshold=threshold),
        job("generations", dataset="toy", threshold=threshold),
    }


def after_capture() -> set[tuple]:
    """Capture of every language and every job downstream of the activation stores."""
    return {
        *(job("capture", dataset="toy", lang=lang) for lang in LANGS),
        job("similarity", dataset="toy"),
        *figure_jobs(),
        *after_regions(),
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


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One complete run of `all` on a tiny LLaMA, from a copy of the code; several tests read its outputs."""
    workdir = tmp_path_factory.mktemp("workflow")
    code = copy_code(REPO, tmp_path_factory.mktemp("code"))
    model_dir = save_tiny("llama", workdir / "tiny-llama")
    config = write_config(workdir, model_dir)
    run = snakemake(workdir, code, "--configfile", str(config), "--cores", "2", "all")
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir, config, code


@pytest.fixture
def edited_code(finished_run, tmp_path):
    """A fresh copy of the run's code; the test edits it, and the run's own code stays as it was."""
    return copy_code(finished_run[2], tmp_path / "code")


def test_activation_stores_have_documented_layout(finished_run):
    workdir, *_ = finished_run
    for lang in LANGS:
        group = zarr.open_group(str(workdir / f"results/tiny/main/toy/activations/{lang}.zarr"), mode="r")
        mean = group["mean"]
        assert mean.shape == (4, 2, 24) and mean.dtype == np.float32
        assert group["n_tokens"].dtype == np.int32 and (group["n_tokens"][:] > 0).all()
        assert np.isfinite(mean[:]).all()
        attrs = dict(group.attrs)
        assert attrs["sample_ids"] == ["v0", "v1", "v2", "v3"]
        assert (attrs["model"], attrs["revision"], attrs["dataset"], attrs["lang"]) == ("tiny", "main", "toy", lang)
        assert attrs["n_layers"] == 2 and attrs["n_neurons"] == 24 and attrs["compute"] == "float32" and attrs["accumulation"] == "float32"
        assert attrs["neuron_site"] == "model.layers.{i}.mlp.down_proj:input"
        assert attrs["weights"].startswith("sha256:") and "linguafranca_version" in attrs and "bos" in attrs
        assert list(mean.metadata.dimension_names) == ["sample", "layer", "neuron"]


def test_prepared_text_is_parallel(finished_run):
    workdir, *_ = finished_run
    for lang in LANGS:
        rows = [json.loads(line) for line in (workdir / f"resources/data/toy/{lang}.jsonl").read_text().splitlines()]
        assert [r["id"] for r in rows] == ["v0", "v1", "v2", "v3"]
        assert [r["text"] for r in rows] == TEXTS[lang][:4]


def test_similarity_metrics_and_regions(finished_run):
    import h5py

    workdir, *_ = finished_run
    base = workdir / "results/tiny/main/toy"
    with h5py.File(base / "similarity.h5") as h5:
        assert h5["similarity"].shape == (12, 12) and h5["similarity"].dtype == np.float32
        assert h5["similarity_by_layer"].shape == (2, 12, 12) and h5.attrs["per_layer_maps"]  # the config's param
        assert h5["block_mean"].shape == (3, 3) and h5["block_mean_by_layer"].shape == (2, 3, 3)
        assert [x.decode() for x in h5["langs"][:]] == [lang for lang in LANGS for _ in range(4)]
        np.testing.assert_allclose(np.diag(h5["similarity"][:]), 1, atol=1e-6)
    metrics = (base / "metrics.tsv").read_text().splitlines()
    assert metrics[0].split("\t")[:3] == ["layer", "lrds", "sads"]
    assert [row.split("\t")[0] for row in metrics[1:]] == ["all", "0", "1"]
    regions = zarr.open_group(str(base / "regions/z1.zarr"), mode="r")
    assert regions["mask"].shape == (3, 2, 24) and regions["random_mask"][:].sum() == 12
    assert regions.attrs["langs"] == LANGS and regions.attrs["threshold"] == 1
    assert regions["null_count"].shape == (20, 3, 2) and regions.attrs["null_permutations"] == 20  # the defaults
    assert regions["significant"].shape == regions["pvalue"].shape == (3, 2, 24)
    assert regions.attrs["significance_permutations"] == 1000 and regions.attrs["fdr_q"] == 0.05
    sklr = (base / "regions/z1_sklr.tsv").read_text().splitlines()
    assert sklr[0].split("\t") == ["layer", *LANGS, "all", "null_mean", "null_p95", "significant"]
    assert [row.split("\t")[0] for row in sklr[3:]] == ["total", "percent", "null_mean", "null_sd", "null_p95",
                                                        "significant"]
    for figure in ("similarity", "lrds_sads", "regions_z1_layers", "regions_z1_sizes"):
        assert (base / f"figures/{figure}.png").read_bytes()[:4] == b"\x89PNG"
        assert (base / f"figures/{figure}.pdf").read_bytes()[:4] == b"%PDF"


def test_ablation_tables_have_the_right_labels(finished_run):
    workdir, *_ = finished_run
    folder = workdir / "results/tiny/main/held_out/ablation/regions-toy/z1"
    controls = [f"random_{lang}" for lang in LANGS]
    rows = [line.split("\t") for line in (folder / "perplexity.tsv").read_text().splitlines()]
    assert rows[0] == ["lang", "none", "random", *LANGS, *controls] and [r[0] for r in rows[1:]] == LANGS
    assert all(float(v) > 1 for r in rows[1:] for v in r[1:6])
    # Each size-matched control is evaluated on its own language only: a diagonal, n/a elsewhere.
    assert [[v != "n/a" for v in r[6:]] for r in rows[1:]] == [[a == b for b in LANGS] for a in LANGS]
    assert all(float(r[6 + i]) > 1 for i, r in enumerate(rows[1:]))
    for lang, control in zip(LANGS, controls):
        evaluated = [line.split("\t")[1] for line in (folder / f"conditions/{control}.tsv").read_text().splitlines()]
        assert evaluated == ["lang", lang]
    increase = [line.split("\t") for line in (folder / "perplexity_increase.tsv").read_text().splitlines()]
    assert increase[0] == ["lang", "random", *LANGS, *controls]
    assert [r[0] for r in increase[1:]] == [*LANGS, "region_size", "region_percent"]
    assert increase[-2][1] == "12"  # the random control: 25% of 2 x 24 neurons
    assert increase[-2][5:] == increase[-2][2:5]  # each control has its region's size
    assert [[v == "n/a" for v in r[5:]] for r in increase[1:4]] == [[a != b for b in LANGS] for a in LANGS]
    dominance = [line.split("\t") for line in (folder / "diagonal_dominance.tsv").read_text().splitlines()]
    assert dominance[0] == ["lang", "own_increase", "mean_other_increase", "ratio", "matched_random_increase",
                            "ratio_to_matched_random"]
    for i, row in enumerate(dominance[1:]):
        own, control = float(increase[1 + i][2 + i]), float(increase[1 + i][5 + i])
        assert float(row[1]) == own and float(row[4]) == control
        assert float(row[5]) == pytest.approx(own / control, rel=1e-12, nan_ok=True)
    assert (folder / "perplexity_increase.png").read_bytes()[:4] == b"\x89PNG"
    # The baseline is computed once per (model, text), outside the regions and threshold folders, in float32.
    baseline = [line.split("\t") for line in (folder.parents[1] / "none.tsv").read_text().splitlines()]
    assert baseline[0] == ["condition", "lang", "ppl", "nll_sum", "n_predicted", "n_windows", "compute"]
    assert [(r[1], r[2], r[6]) for r in baseline[1:]] == [(r[0], r[1], "float32") for r in rows[1:]]
    generations = [json.loads(line) for line in
                   (workdir / "results/tiny/main/toy/generations/z1.jsonl").read_text().splitlines()]
    assert {(g["lang"], g["condition"]) for g in generations} == {
        (lang, c) for lang in ("en", "zh") for c in ("none", "random", *LANGS)}


def with_threshold(config: Path, threshold: float) -> Path:
    """A copy of the run's config with another regions threshold."""
    return changed_config(config, f"threshold_{threshold}.yaml", lambda c: c["regions"].update(threshold=threshold))


def test_regions_source_is_in_the_ablation_path(finished_run):
    """Another regions_from writes beside the existing tables instead of replacing them."""
    workdir, config, code = finished_run
    changed = yaml.safe_load(config.read_text())
    changed["datasets"]["toy2"] = changed["datasets"]["toy"]
    changed["capture"]["datasets"] = ["toy", "toy2"]
    changed["ablation"]["regions_from"] = "toy2"
    other = workdir / "regions_from.yaml"
    other.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    dry = snakemake(workdir, code, "--configfile", str(other), "-n", "all")
    assert dry.returncode == 0, dry.stderr
    assert "held_out/ablation/regions-toy2/z1/perplexity.tsv" in dry.stdout
    assert "ablation/regions-toy/" not in dry.stdout
    assert (workdir / "results/tiny/main/held_out/ablation/regions-toy/z1/perplexity.tsv").is_file()


def test_matched_random_switch_reruns_only_the_controls(finished_run):
    workdir, config, code = finished_run
    changed = yaml.safe_load(config.read_text())
    changed["ablation"]["matched_random_on_all_languages"] = True
    other = workdir / "switch.yaml"
    other.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    dry = snakemake(workdir, code, "--configfile", str(other), "-n", "all")
    assert dry.returncode == 0, dry.stderr
    blocks = [block for block in dry.stdout.split("rule ")[1:] if block.startswith("ablation_condition:")]
    outputs = [line.split("output:")[1] for block in blocks for line in block.splitlines()
               if line.strip().startswith("output:")]
    reruns = {output.split("/conditions/")[1].split(".tsv")[0] for output in outputs}
    assert reruns == {f"random_{lang}" for lang in LANGS}, dry.stdout
    assert "ablation_tables" in dry.stdout


def test_reasoning_runs_one_job_per_task_and_condition_and_the_baseline_once(finished_run):
    workdir, *_ = finished_run
    reasoning = workdir / "results/tiny/main/reasoning"
    assert sorted(p.stem for p in (reasoning / "bible").glob("*.json")) == sorted(CONDITIONS)
    none = json.loads((reasoning / "bible/none.json").read_text())
    assert sorted(none["results"]) == [f"bible_xling_next_{lang}" for lang in sorted(LANGS)]
    assert list(json.loads((reasoning / "bible/random_zh.json").read_text())["results"]) == ["bible_xling_next_zh"]
    rows = read_tsv(reasoning / "accuracy.tsv")
    assert [(r["task"], r["language"], r["available"], r["n"]) for r in rows] == [
        ("bible", lang, "yes", "2") for lang in LANGS]
    assert rows[0]["acc_fr"] == "" and rows[1]["acc_fr"] != "" and rows[0]["compute"] == "float32"
    assert (reasoning / "accuracy.png").stat().st_size > 0


@pytest.mark.parametrize("change, conditions", [
    ({"limit": 3}, CONDITIONS),
    ({"bible": {"books": [42]}}, CONDITIONS),
    ({"full_matrix": True}, SWITCHED_OFF[1:]),  # the regions and controls now run on every language
])
def test_a_reasoning_setting_reruns_its_jobs_only(finished_run, change, conditions):
    workdir, config, code = finished_run
    other = changed_config(config, "reasoning.yaml", lambda c: c["reasoning"].update(change))
    assert planned_jobs(workdir, code, other) == reasoning_jobs(conditions)


def test_another_task_familys_setting_reruns_nothing(finished_run):
    """The Bible jobs' params hold the Bible task's settings only: pointing XStoryCloze elsewhere (a task this run
    does not use) reruns none of them."""
    workdir, config, code = finished_run
    other = changed_config(config, "xstory.yaml", lambda c: c["reasoning"].update(xstorycloze={"path": "/elsewhere"}))
    assert planned_jobs(workdir, code, other) == set()


def test_xstorycloze_gets_no_job_for_a_condition_whose_language_it_lacks(finished_run, tmp_path):
    """XStoryCloze has en and zh but no fr: the fr region and its control get no XStoryCloze job (loading the
    model to evaluate nothing), and the table, which marks fr not available, reruns with the new task."""
    workdir, config, code = finished_run
    other = changed_config(config, "stories.yaml", lambda c: c["reasoning"].update(
        tasks=["bible", "xstorycloze"], xstorycloze={"path": str(tmp_path)}))
    stories = ["none", "random", "en", "zh", "random_en", "random_zh"]
    assert planned_jobs(workdir, code, other) == {
        *(job("reasoning_condition", task="xstorycloze", condition=c) for c in stories), job("reasoning_table")}


def test_threshold_change_reruns_regions_and_after_but_never_capture(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "threshold.yaml", lambda c: c["regions"].update(threshold=0.69559666))
    assert planned_jobs(workdir, code, other) == after_regions("0.69559666")


def test_a_param_change_reruns_regions_and_after(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "seed.yaml", lambda c: c["regions"].update(seed=7))
    assert planned_jobs(workdir, code, other) == after_regions()


@pytest.mark.parametrize("change", [{"null_permutations": 5}, {"significance_permutations": 50}, {"fdr_q": 0.1},
                                    {"significance_statistic": "contribution"}])
def test_a_chance_setting_reruns_regions_and_after(finished_run, change):
    workdir, config, code = finished_run
    other = changed_config(config, "chance.yaml", lambda c: c["regions"].update(change))
    assert planned_jobs(workdir, code, other) == after_regions()


def test_significant_regions_switch_adds_only_their_conditions_and_the_tables(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "significant.yaml", lambda c: c["ablation"].update(significant_regions=True))
    where = {"dataset": "held_out", "regions_dataset": "toy", "threshold": "1"}
    assert planned_jobs(workdir, code, other) == {
        *(job("ablation_condition", **where, condition=f"{prefix}{lang}")
          for prefix in ("sig_", "random_sig_") for lang in LANGS),
        job("ablation_tables", **where),
    }


def test_a_compute_change_reruns_every_job_that_runs_the_model(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "compute.yaml", lambda c: c["models"]["tiny"].update(compute="bfloat16"))
    assert planned_jobs(workdir, code, other) == {
        job("ablation_baseline", dataset="held_out"), *reasoning_jobs(["none"]), *after_capture()}


def test_batch_size_changes_rounding_only_and_reruns_nothing(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "batch.yaml", lambda c: c["models"]["tiny"].update(batch_size=2))
    assert planned_jobs(workdir, code, other) == set()


def test_editing_the_analysis_figures_reruns_those_figures_only(finished_run, edited_code):
    workdir, config, _ = finished_run
    with open(edited_code / "linguafranca/figures/analysis.py", "a", encoding="utf-8") as module:
        module.write("\n# an edit\n")
    assert planned_jobs(workdir, edited_code, config) == figure_jobs()


def test_editing_the_figure_style_reruns_the_figures_only(finished_run, edited_code):
    workdir, config, _ = finished_run
    with open(edited_code / "linguafranca/figures/style.py", "a", encoding="utf-8") as module:
        module.write("\n# an edit\n")
    # ablation_tables draws the perplexity heatmap in the same style, reasoning_table the accuracy figure
    assert planned_jobs(workdir, edited_code, config) == {
        *figure_jobs(), job("ablation_tables", dataset="held_out", regions_dataset="toy", threshold="1"),
        job("reasoning_table")}


def test_editing_a_task_yaml_reruns_the_reasoning_jobs_only(finished_run, edited_code):
    workdir, config, _ = finished_run
    with open(edited_code / "linguafranca/reasoning/tasks/_bible_xling_next.yaml", "a", encoding="utf-8") as task:
        task.write("\n# an edit\n")
    assert planned_jobs(workdir, edited_code, config) == reasoning_jobs(CONDITIONS)


def test_editing_capture_reruns_capture_and_everything_after_it(finished_run, edited_code):
    workdir, config, _ = finished_run
    with open(edited_code / "linguafranca/analysis/capture.py", "a", encoding="utf-8") as module:
        module.write("\n# an edit\n")
    assert planned_jobs(workdir, edited_code, config) == after_capture()


def test_editing_an_input_text_reruns_its_dataset_and_after(finished_run):
    workdir, config, code = finished_run
    text = workdir / "held_en.jsonl"
    original = text.read_text(encoding="utf-8")
    try:
        text.write_text(original.replace("God", "Dieu", 1), encoding="utf-8")
        assert planned_jobs(workdir, code, config) == {
            job("prepare_dataset", dataset="held_out"),
            job("ablation_baseline", dataset="held_out"),
            *(job("ablation_condition", dataset="held_out", regions_dataset="toy", threshold="1", condition=c)
              for c in SWITCHED_OFF),
            job("ablation_tables", dataset="held_out", regions_dataset="toy", threshold="1"),
        }
    finally:
        text.write_text(original, encoding="utf-8")
    assert planned_jobs(workdir, code, config) == set()  # newer, but the same checksum: nothing to do


def test_editing_a_model_file_reruns_resolve_model_and_after(finished_run):
    workdir, config, code = finished_run
    model_config = workdir / "tiny-llama" / "config.json"
    original = model_config.read_text(encoding="utf-8")
    try:
        model_config.write_text(original + "\n", encoding="utf-8")
        assert planned_jobs(workdir, code, config) == {
            job("resolve_model"), job("ablation_baseline", dataset="held_out"), *reasoning_jobs(["none"]),
            *after_capture()}
    finally:
        model_config.write_text(original, encoding="utf-8")


def test_the_code_hash_is_recorded_in_the_metadata(finished_run):
    workdir, _, code = finished_run
    key = base64.b64encode(b"results/tiny/main/toy/activations/en.zarr").decode()
    record = json.loads((workdir / ".snakemake/metadata" / key).read_text())
    assert repr(code_hash(code / "workflow/scripts/capture.py", code / "linguafranca")) in record["params"]


def test_nothing_left_to_do_after_a_run(finished_run):
    workdir, config, code = finished_run
    assert planned_jobs(workdir, code, config) == set()


def test_no_temporary_outputs_survive(finished_run):
    workdir, *_ = finished_run
    assert not [p for p in (workdir / "results").rglob(".*.tmp-*")]


def copy_of_run(finished_run, tmp_path: Path) -> Path:
    """A copy of the finished run's folder, so that a test adding outputs leaves the shared run as it was (the
    recovery test compares every output of it). copytree keeps modification times, so the copy is finished too."""
    copy = tmp_path / "copy"
    shutil.copytree(finished_run[0], copy, symlinks=True)
    return copy


@pytest.mark.parametrize(("threshold", "tag"), [(0.69559666, "0.69559666"), (-1, "-1"), (1e-05, "1e-05")])
def test_threshold_reaches_the_regions_store_exactly(finished_run, tmp_path, threshold, tag):
    """The path tag is lossless: no rounding to %g, and negative or exponent forms are no MissingInputException."""
    _, config, code = finished_run
    workdir = copy_of_run(finished_run, tmp_path)
    target = f"results/tiny/main/toy/regions/z{tag}.zarr"
    run = snakemake(workdir, code, "--configfile", str(with_threshold(config, threshold)), "--cores", "1", target)
    assert run.returncode == 0, run.stderr[-3000:]
    regions = zarr.open_group(str(workdir / target), mode="r")
    assert regions.attrs["threshold"] == threshold
    np.testing.assert_array_equal(regions["mask"][:], regions["zscore"][:] > np.float32(threshold))


def test_empty_region_is_a_warning_in_the_log_and_on_stderr(finished_run, tmp_path):
    """Just below the bound sqrt(2) of three languages, regions are (all but surely) empty: say so."""
    _, config, code = finished_run
    workdir = copy_of_run(finished_run, tmp_path)
    target = "results/tiny/main/toy/regions/z1.4142.zarr"
    run = snakemake(workdir, code, "--configfile", str(with_threshold(config, 1.4142)), "--cores", "1", target)
    assert run.returncode == 0, run.stderr[-3000:]
    mask = zarr.open_group(str(workdir / target), mode="r")["mask"][:]
    empty = [lang for lang, region in zip(LANGS, mask) if not region.any()]
    assert empty
    message = f"no neuron has a z-score above threshold 1.4142 for {', '.join(empty)}"
    assert f"linguafranca: warning: {message}" in run.stderr
    assert message in (workdir / "results/logs/tiny/main/regions/toy_z1.4142.log").read_text()


def test_a_model_that_is_no_causal_lm_stops_at_resolve_model(tmp_path):
    import transformers

    config = transformers.T5Config(d_model=8, d_ff=16, num_layers=1, num_heads=1, d_kv=8, vocab_size=50)
    config.architectures = ["T5ForConditionalGeneration"]
    config.save_pretrained(tmp_path / "t5")
    run = snakemake(tmp_path, REPO, "--configfile", str(write_config(tmp_path, tmp_path / "t5")), "--cores", "1", "all")
    assert run.returncode != 0
    message = (f"model '{tmp_path / 't5'}' revision 'main': {tmp_path / 't5' / 'config.json'} describes model_type "
               "'t5' (T5ForConditionalGeneration), which is not a causal language model linguafranca supports")
    assert message in run.stderr
    assert message in (tmp_path / "results/logs/tiny/main/resolve_model.log").read_text()
    assert not (tmp_path / "resources/models").exists() or not list((tmp_path / "resources/models").rglob("*.json"))
    assert not (tmp_path / "results/tiny").exists()  # no capture ran


def test_damaged_store_fails_the_job_and_the_message_rebuilds_it(finished_run, tmp_path):
    """Delete one chunk of an activation store: the regions job stops with the message (Zarr alone would read the
    fill value and exit 0), and doing what the message says restores the same regions."""
    import shutil

    source, config, code = finished_run
    workdir = tmp_path / "copy"
    shutil.copytree(source, workdir, symlinks=True)  # keeps mtimes, so Snakemake sees a finished run
    base = workdir / "results/tiny/main/toy"
    store = "results/tiny/main/toy/activations/en.zarr"  # Snakemake hands jobs paths relative to --directory
    before = zarr.open_group(str(base / "regions/z1.zarr"), mode="r")["mask"][...]
    (workdir / store / "mean/c/0/1/0").unlink()
    target = "results/tiny/main/toy/regions/z1_sklr.tsv"
    command = ["--configfile", str(config), "--cores", "2", "--forcerun", "regions", target]

    run = snakemake(workdir, code, *command)
    assert run.returncode != 0
    log = (workdir / "results/logs/tiny/main/regions/toy_z1.log").read_text()
    assert f"activation store '{store}' is damaged: chunk 'mean/c/0/1/0' (sample 0-3, layer 1, neuron 0-23) is " \
           f"missing. Rebuild it: delete it (rm -r '{store}') and run the same snakemake command again" in log
    assert not (base / "regions/z1.zarr").exists()

    shutil.rmtree(workdir / store)  # what the message says: delete it and run the same command again
    run = snakemake(workdir, code, *command)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "capture" in run.stdout + run.stderr
    np.testing.assert_array_equal(zarr.open_group(str(base / "regions/z1.zarr"), mode="r")["mask"][...], before)


FIGURES = ["similarity", "lrds_sads", "regions_z1_layers", "regions_z1_sizes"]


def report_results(html: str) -> tuple[dict, dict]:
    """The report's result records and its categories, from the JSON that Snakemake's HTML report embeds."""
    def embedded(name: str) -> dict:
        match = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', html, re.S)
        assert match, f"no {name} in the report"
        return json.loads(match.group(1))

    return embedded("results"), embedded("categories")


def test_html_report_holds_every_figure_and_table(finished_run):
    workdir, config, code = finished_run
    report = workdir / "report.html"
    run = snakemake(workdir, code, "--configfile", str(config), "--report", str(report))
    assert run.returncode == 0, run.stderr[-3000:]
    html = report.read_text(encoding="utf-8")
    results, categories = report_results(html)
    toy, held_out = "results/tiny/main/toy", "results/tiny/main/held_out/ablation/regions-toy/z1"
    reasoning = "results/tiny/main/reasoning"
    expected = {
        **{f"{toy}/figures/{figure}.png": "figure" for figure in FIGURES},
        f"{held_out}/perplexity_increase.png": "figure",
        **{f"{toy}/{table}": "table" for table in ("metrics.tsv", "regions/z1_sklr.tsv", "generations/z1.md")},
        **{f"{held_out}/{table}.tsv": "table" for table in ("perplexity", "perplexity_increase", "diagonal_dominance")},
        f"{reasoning}/accuracy.tsv": "table",
        f"{reasoning}/accuracy.png": "figure",
    }
    assert set(results) == set(expected)
    for path, entry in results.items():
        if path.startswith(reasoning):  # per (model, revision): no dataset, no threshold
            assert entry["labels"] == {"model": "tiny", "revision": "main"}, path
            assert "tiny &#64; main" in " ".join(entry["caption"].split()), path
            continue
        dataset = "held_out" if "held_out" in path else "toy"
        assert {k: entry["labels"][k] for k in ("model", "revision", "dataset")} == {
            "model": "tiny", "revision": "main", "dataset": dataset}, path
        assert entry["labels"].get("threshold") == (None if path.endswith(("metrics.tsv", "similarity.png",
                                                                           "lrds_sads.png")) else "1"), path
        caption = " ".join(entry["caption"].split())
        assert f"tiny &#64; main on {dataset}" in caption, path  # the caption, rendered with the job's wildcards
        embedded = base64.b64decode(entry["data_uri"].split("base64,", 1)[1])
        assert embedded == (workdir / path).read_bytes(), path  # the file itself, not a stale copy
        if expected[path] == "figure":
            assert entry["mime_type"] == "image/png", path
    placed = {path: (category, sub) for category, subs in categories.items() for sub, paths in subs.items()
              for path in paths}
    assert placed[f"{toy}/figures/similarity.png"] == ("Similarity (paper 3.1-3.2)", "Fig. 2: similarity map")
    assert placed[f"{toy}/figures/regions_z1_sizes.png"] == ("Key linguistic regions (paper 3.3)",
                                                            "Fig. 6: region sizes")
    assert placed[f"{held_out}/perplexity_increase.tsv"] == ("Deactivation (paper 4.3, Table 1)",
                                                            "Table 1: perplexity increase")
    assert "languages: en, fr, zh" in html  # the workflow description, rendered with the run's config
    assert not list((workdir / "results").rglob(".*.tmp-*"))


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


@pytest.mark.filterwarnings("ignore:Object at .snakemake_timestamp is not recognized")  # Snakemake's, in directory()
def test_a_run_killed_during_capture_recovers_as_the_readme_says(finished_run, tmp_path):
    reference, config, code = finished_run  # the same config: the same model and texts, by absolute path
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "snakemake --unlock" in readme and "rerun-incomplete: true" in (
        REPO / "profiles/default/config.yaml").read_text()
    for attempt in range(3):
        workdir = tmp_path / f"attempt{attempt}"
        workdir.mkdir()
        orphan = kill_during_capture(workdir, code, config)
        if orphan is not None:
            break
    else:
        pytest.fail("three runs ended, or renamed their store, before a capture job could be killed mid-write")
    store = orphan.parent / orphan.name[1:].split(".tmp-")[0]
    assert not store.exists(), "the killed job's store must not look finished"
    # A kill can also land after the store was renamed into place but before Snakemake recorded the job as done.
    # Stand in for that case: the store exists, and Snakemake's incomplete marker (set at job start) is on it.
    store.mkdir()

    stuck = snakemake(workdir, code, "--configfile", str(config), "--cores", "2", "all")
    assert stuck.returncode != 0 and "Directory cannot be locked" in stuck.stdout + stuck.stderr
    unlock = snakemake(workdir, code, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    without_profile = snakemake(workdir, code, "--configfile", str(config), "--workflow-profile", "none", "-n", "all")
    assert "IncompleteFilesException" in without_profile.stdout + without_profile.stderr  # what the profile fixes

    recovered = snakemake(workdir, code, "--configfile", str(config), "--cores", "2", "all")
    assert recovered.returncode == 0, recovered.stderr[-3000:]
    assert re.search(r"Using workflow specific profile \S*profiles/default for", recovered.stderr)  # from any cwd
    assert not orphan.exists()
    assert [p for p in (workdir / "results").rglob("*") if ".tmp-" in p.name] == []
    assert [p for p in (workdir / "resources").rglob("*") if ".tmp-" in p.name] == []
    expected, got = arrays(reference / "results"), arrays(workdir / "results")
    assert sorted(got) == sorted(expected) and len(expected) >= 10  # activations, similarity, regions
    for name, (array, attrs) in expected.items():
        assert got[name][0].dtype == array.dtype and got[name][0].shape == array.shape, name
        assert np.array_equal(got[name][0], array, equal_nan=array.dtype.kind == "f"), name
        assert got[name][1] == attrs, name
    for table in sorted((reference / "results").rglob("*.tsv")):
        if "benchmarks" not in table.parts:
            assert (workdir / "results" / table.relative_to(reference / "results")).read_text() == table.read_text()


def test_a_file_where_a_folder_belongs_stops_the_run_with_one_message(finished_run, tmp_path):
    _, config, code = finished_run
    blocker = tmp_path / "results/tiny/main/toy/figures"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    run = snakemake(tmp_path, code, "--configfile", str(config), "--cores", "2", "all")
    assert run.returncode != 0
    assert re.search(r"^linguafranca: cannot write results/tiny/main/toy/figures/\S+: \S+/results/tiny/main/toy/"
                     r"figures is not a folder \(a file is in the way\); move it away$", run.stderr, re.M), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert not (tmp_path / "resources").exists() and blocker.read_text() == "not a folder"  # no job ran
    assert not list((tmp_path / ".snakemake" / "locks").glob("*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders, so chmod cannot make one here")
def test_a_read_only_results_folder_stops_the_run_with_one_message(finished_run, tmp_path):
    _, config, code = finished_run
    results = tmp_path / "results"
    results.mkdir()
    results.chmod(0o555)
    try:
        run = snakemake(tmp_path, code, "--configfile", str(config), "--cores", "2", "all")
    finally:
        results.chmod(0o755)
    assert run.returncode != 0
    assert re.search(rf"^linguafranca: cannot write results/\S+: the folder {re.escape(str(results))} is not writable",
                     run.stderr, re.M), run.stderr
    assert "Traceback" not in run.stderr + run.stdout


def test_model_jobs_ask_for_what_the_model_needs_and_no_other_job_asks_for_a_gpu(finished_run):
    """Resources of every job from one dry run: GPUs, memory and time of the jobs that load the model follow from
    its size (linguafranca.pipeline.job_resources), and the analysis jobs ask for no GPU. Changing these settings reruns nothing."""
    from linguafranca.pipeline.job_resources import model_job_resources
    from linguafranca.model.parameters import parameter_count

    workdir, config, code = finished_run
    cluster = {"gpu_memory_gb": 40, "gpus_per_node": 8, "gpu_model": "a100"}
    other = changed_config(config, "gpus.yaml", lambda c: (c["models"]["tiny"].update(gpus=2), c.update(cluster=cluster)))
    assert planned_jobs(workdir, code, other) == set()
    dry = snakemake(workdir, code, "--configfile", str(other), "-n", "--forceall", "all")
    assert dry.returncode == 0, dry.stderr[-3000:]
    resources = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry.stdout):
        if header := re.match(r"(local)?rule (\w+):", block):
            listed = re.search(r"^\s+resources: (.*)$", block, re.M)
            items = dict(item.split("=", 1) for item in listed[1].split(", ")) if listed else {}
            resources.setdefault((bool(header[1]), header[2]), []).append(items)
    manifest = json.loads((workdir / "resources/models/tiny/main/manifest.json").read_text())
    spec = {**yaml.safe_load(other.read_text())["models"]["tiny"]}
    expected = model_job_resources(parameter_count(manifest["path"]), spec, cluster)
    assert expected["gpu"] == 2 and expected["gpu_model"] == "a100"
    model_rules = ("capture", "ablation_baseline", "ablation_condition", "generations", "reasoning_condition")
    for rule in model_rules:
        for items in resources[False, rule]:
            assert {key: items.get(key) for key in expected} == {k: str(v) for k, v in expected.items()}, rule
    others = {rule for (local, rule) in resources if not local} - {*model_rules, "all"}
    assert others >= {"similarity", "regions", "ablation_tables", "figure_similarity"}
    assert not [rule for rule in others for items in resources[False, rule] if "gpu" in items or "gpu_model" in items]
    # That resolve_model and prepare_dataset stay local shows under a real scheduler only: tests/test_slurm.py.


PROBES = {"dataset": "toy", "max_samples": None, "tokens_per_language": 12, "probe_seeds": 2, "max_iter": 50,
          "concepts": {"words": {"light": ["light"], "earth": ["earth", "heaven"]}, "min_positives": 1,
                       "negatives": 2, "experts": 3, "min_languages": 2},
          "intervention": {"concepts": 1, "languages": ["en", "zh"], "samples": 2, "max_new_tokens": 3}}


def probe_jobs() -> set[tuple]:
    return {job(rule, dataset="toy") for rule in ("probe_capture", "probes", "concepts", "concept_intervention",
                                                   "probe_summary")}


@pytest.fixture(scope="module")
def probes_run(finished_run):
    """The finished run with the probes stage switched on for the toy dataset, run to the end."""
    workdir, config, code = finished_run
    other = changed_config(config, "probes.yaml", lambda c: c.update(probes=PROBES))
    planned = planned_jobs(workdir, code, other)
    run = snakemake(workdir, code, "--configfile", str(other), "--cores", "2", "all")
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir, other, code, planned


def test_probes_switch_adds_only_the_probe_jobs(probes_run):
    assert probes_run[3] == probe_jobs()


def test_probe_outputs_are_as_documented(probes_run):
    workdir = probes_run[0]
    point = workdir / "results/tiny/main/toy"
    tokens = zarr.open_group(str(point / "tokens/en.zarr"), mode="r")
    assert tokens["hidden"].shape == (12, 2, 16) and tokens["token_sample"].shape == (12,)
    assert tokens.attrs["sample_ids"] == ["v0", "v1", "v2", "v3"]
    assert tokens["token_position"].shape == (12,) and tokens.attrs["tokens_per_language"] == 12
    response = zarr.open_group(str(point / "concepts/responses/zh.zarr"), mode="r")
    assert response["response"].shape == (4, 2, 24) and response.attrs["statistic"] == "mean"
    table = (point / "probes/language_id.tsv").read_text().splitlines()
    assert table[0].split("\t") == ["probe", "layer", "seed", "accuracy", "macro_f1", "n_train", "n_test"]
    assert len(table) == 1 + 2 * (1 + 2 * 2)
    ap = zarr.open_group(str(point / "concepts/ap.zarr"), mode="r")
    assert ap["ap"].shape == (2, 3, 2, 24) and ap["experts"][:].sum(axis=(2, 3)).tolist() == [[3] * 3] * 2
    summary = (point / "probes/summary.tsv").read_text().splitlines()
    assert summary[0].split("\t") == ["metric", "layer", "relative_depth", "value"]
    records = [json.loads(line) for line in (point / "concepts/intervention.jsonl").read_text().splitlines()]
    assert len(records) == 2 + 2 * 2 and {r["experts_lang"] for r in records} == {"none", "en", "zh"}


@pytest.mark.parametrize("section, change, rules", [
    ("concepts", {"experts": 2}, ("concepts", "concept_intervention", "probe_summary")),
    ("", {"probe_seeds": 3}, ("probes", "probe_summary")),
    ("", {"tokens_per_language": 8}, ("probe_capture", "probes", "concepts", "concept_intervention", "probe_summary")),
    ("intervention", {"samples": 3}, ("concept_intervention",)),
])
def test_a_probe_setting_reruns_its_jobs_and_after(probes_run, section, change, rules):
    workdir, config, code, _ = probes_run
    other = changed_config(config, "probe_change.yaml",
                           lambda c: (c["probes"][section] if section else c["probes"]).update(change))
    assert planned_jobs(workdir, code, other) == {job(rule, dataset="toy") for rule in rules}


def test_combined_jobs_capture_and_deactivate_in_one_job_each(tmp_path):
    """jobs: combined plans one capture job for every language and one deactivation job for every condition (the
    baseline keeps its own, shared with every table); split, the default, one per language and per condition."""
    code = copy_code(REPO, tmp_path / "code")
    model_dir = save_tiny("llama", tmp_path / "tiny-llama")
    config = write_config(tmp_path, model_dir)
    combined = changed_config(config, "combined.yaml", lambda c: c["models"]["tiny"].update(jobs="combined"))
    planned = planned_jobs(tmp_path, code, combined)
    assert job("capture_combined", dataset="toy") in planned
    assert job("ablation_combined", dataset="held_out", regions_dataset="toy", threshold="1") in planned
    assert job("ablation_baseline", dataset="held_out") in planned
    assert job("reasoning_combined", task="bible") in planned
    assert job("figures_combined", dataset="toy") in planned
    one_figure = {"figure_similarity", "figure_lrds_sads", "figure_region_layers", "figure_region_sizes"}
    assert not {rule for rule, _ in planned} & {"capture", "ablation_condition", "reasoning_condition", *one_figure}
    split = {rule for rule, _ in planned_jobs(tmp_path, code, config)}
    assert {"capture", "ablation_condition", "reasoning_condition", *one_figure} <= split
    assert not split & {"capture_combined", "ablation_combined", "reasoning_combined", "figures_combined"}


def test_combined_jobs_give_the_split_jobs_numbers(finished_run, tmp_path):
    """The same tables from one job per stage as from one job per language and condition."""
    reference, config, code = finished_run
    combined = changed_config(config, "combined.yaml", lambda c: c["models"]["tiny"].update(jobs="combined"))
    workdir = tmp_path / "combined"
    workdir.mkdir()
    tables = ["reasoning/accuracy.tsv", "held_out/ablation/regions-toy/z1/perplexity.tsv"]
    figures = [f"toy/figures/{name}.{ext}" for name in ("similarity", "lrds_sads", "regions_z1_layers", "regions_z1_sizes")
               for ext in ("png", "pdf")]
    run = snakemake(workdir, code, "--configfile", str(combined), "--cores", "2",
                    *[f"results/tiny/main/{path}" for path in tables + figures])
    assert run.returncode == 0, run.stderr[-3000:]
    for table in tables:
        assert (workdir / "results/tiny/main" / table).read_text() == (
            reference / "results/tiny/main" / table).read_text(), table
    for figure in figures:  # the same drawing functions on the same numbers: PNGs of the same size
        made, expected = workdir / "results/tiny/main" / figure, reference / "results/tiny/main" / figure
        assert made.stat().st_size > 0 and (figure.endswith(".pdf") or made.read_bytes() == expected.read_bytes())
