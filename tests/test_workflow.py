"""End to end: the Snakemake workflow on a tiny model and tiny parallel text, in a temporary directory.

The workflow runs from a copy of the repository's code (Snakefile, workflow/, config/, linguafranca/), so that the
rerun tests can edit a module in a further copy without touching the repository. envs/ comes along because
Snakemake records the conda environment file of every job.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
import zarr
from tiny import save_tiny

from conftest import REPO
from linguafranca.codehash import code_hash

CODE = ["Snakefile", "workflow", "config", "envs", "linguafranca"]
LANGS = ["en", "fr", "zh"]
CONDITIONS = ["none", "random", *LANGS]
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


def after_regions(threshold: str = "1") -> set[tuple]:
    """The jobs that read the regions store of the toy dataset at ``threshold``, and what follows them."""
    return {
        job("regions", dataset="toy", threshold=threshold),
        *regions_figure_jobs(threshold),
        *(job("ablation_condition", dataset="held_out", threshold=threshold, condition=c) for c in CONDITIONS),
        job("ablation_tables", dataset="held_out", threshold=threshold),
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
        "models": {"tiny": {"source": "local", "name": str(model_dir), "device": "cpu", "batch_size": 3}},
        "datasets": {
            "toy": {"loader": "table", "options": {"files": files["toy"]}},
            "held_out": {"loader": "table", "options": {"files": files["held_out"]}, "samples": "all", "joiner": " "},
        },
        "capture": {"datasets": ["toy"]},
        "regions": {"threshold": 1, "random_fraction": 0.25},
        "ablation": {"datasets": ["held_out"], "seqlen": 8, "max_tokens": 24, "bos_per_window": False,
                     "generation": {"languages": ["en", "zh"], "max_new_tokens": 4}},
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
        assert attrs["n_layers"] == 2 and attrs["n_neurons"] == 24 and attrs["dtype"] == "float32"
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
        assert h5["similarity_by_layer"].shape == (2, 12, 12)
        assert [x.decode() for x in h5["langs"][:]] == [lang for lang in LANGS for _ in range(4)]
        np.testing.assert_allclose(np.diag(h5["similarity"][:]), 1, atol=1e-6)
    metrics = (base / "metrics.tsv").read_text().splitlines()
    assert metrics[0].split("\t")[:3] == ["layer", "lrds", "sads"]
    assert [row.split("\t")[0] for row in metrics[1:]] == ["all", "0", "1"]
    regions = zarr.open_group(str(base / "regions/z1.zarr"), mode="r")
    assert regions["mask"].shape == (3, 2, 24) and regions["random_mask"][:].sum() == 12
    assert regions.attrs["langs"] == LANGS and regions.attrs["threshold"] == 1
    sklr = (base / "regions/z1_sklr.tsv").read_text().splitlines()
    assert sklr[0].split("\t") == ["layer", *LANGS, "all"] and sklr[-2].startswith("total")
    for figure in ("similarity", "lrds_sads", "regions_z1_layers", "regions_z1_sizes"):
        assert (base / f"figures/{figure}.png").read_bytes()[:4] == b"\x89PNG"
        assert (base / f"figures/{figure}.pdf").read_bytes()[:4] == b"%PDF"


def test_ablation_tables_have_the_right_labels(finished_run):
    workdir, *_ = finished_run
    folder = workdir / "results/tiny/main/held_out/ablation/z1"
    rows = [line.split("\t") for line in (folder / "perplexity.tsv").read_text().splitlines()]
    assert rows[0] == ["lang", "none", "random", *LANGS] and [r[0] for r in rows[1:]] == LANGS
    assert all(float(v) > 1 for r in rows[1:] for v in r[1:])
    increase = [line.split("\t") for line in (folder / "perplexity_increase.tsv").read_text().splitlines()]
    assert increase[0] == ["lang", "random", *LANGS]
    assert [r[0] for r in increase[1:]] == [*LANGS, "region_size", "region_percent"]
    assert increase[-2][1] == "12"  # the random control: 25% of 2 x 24 neurons
    dominance = (folder / "diagonal_dominance.tsv").read_text().splitlines()
    assert dominance[0] == "lang\town_increase\tmean_other_increase\tratio" and len(dominance) == 4
    assert (folder / "perplexity_increase.png").read_bytes()[:4] == b"\x89PNG"
    generations = [json.loads(line) for line in
                   (workdir / "results/tiny/main/toy/generations/z1.jsonl").read_text().splitlines()]
    assert {(g["lang"], g["condition"]) for g in generations} == {
        (lang, c) for lang in ("en", "zh") for c in ("none", "random", *LANGS)}


def test_threshold_change_reruns_regions_and_after_but_never_capture(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "threshold.yaml", lambda c: c["regions"].update(threshold=1.5))
    assert planned_jobs(workdir, code, other) == after_regions("1.5")


def test_a_param_change_reruns_regions_and_after(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "seed.yaml", lambda c: c["regions"].update(seed=7))
    assert planned_jobs(workdir, code, other) == after_regions()


def test_batch_size_changes_rounding_only_and_reruns_nothing(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "batch.yaml", lambda c: c["models"]["tiny"].update(batch_size=2))
    assert planned_jobs(workdir, code, other) == set()


def test_editing_plots_reruns_the_figures_only(finished_run, edited_code):
    workdir, config, _ = finished_run
    with open(edited_code / "linguafranca/plots.py", "a", encoding="utf-8") as module:
        module.write("\n# an edit\n")
    # ablation_tables draws the perplexity heatmap with plots.py too
    assert planned_jobs(workdir, edited_code, config) == {
        *figure_jobs(), job("ablation_tables", dataset="held_out", threshold="1")}


def test_editing_capture_reruns_capture_and_everything_after_it(finished_run, edited_code):
    workdir, config, _ = finished_run
    with open(edited_code / "linguafranca/capture.py", "a", encoding="utf-8") as module:
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
            *(job("ablation_condition", dataset="held_out", threshold="1", condition=c) for c in CONDITIONS),
            job("ablation_tables", dataset="held_out", threshold="1"),
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
            job("resolve_model"), *after_capture()}
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
