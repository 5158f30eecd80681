"""End to end: the Snakemake workflow on a tiny model and tiny parallel text, in a temporary directory."""

import base64
import json
import os
import re
import signal
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

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
LANGS = ["en", "fr", "zh"]
TEXTS = {
    "en": ["In the beginning God created the heaven.", "And the earth was without form.", "Let there be light.",
           "And there was light.", "God saw the light, that it was good."],
    "fr": ["Au commencement, Dieu créa les cieux.", "La terre était informe et vide.", "Que la lumière soit!",
           "Et la lumière fut.", "Dieu vit que la lumière était bonne."],
    "zh": ["起初，神创造天地。", "地是空虚混沌。", "要有光。", "就有了光。", "神看光是好的。"],
}


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, "--directory", str(workdir), *args], capture_output=True, text=True)


def write_config(workdir: Path, model_dir: Path, **overrides) -> Path:
    files = {}
    for lang, texts in TEXTS.items():
        path = workdir / f"{lang}.jsonl"
        path.write_text("".join(json.dumps({"id": f"v{i}", "text": t}, ensure_ascii=False) + "\n"
                                for i, t in enumerate(texts)), encoding="utf-8")
        files[lang] = str(path)
    config = {
        "languages": LANGS,
        "samples": 4,
        "models": {"tiny": {"source": "local", "name": str(model_dir), "device": "cpu", "batch_size": 3}},
        "datasets": {
            "toy": {"loader": "table", "options": {"files": files}},
            "held_out": {"loader": "table", "options": {"files": files}, "samples": "all", "joiner": " "},
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


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One complete run of `all` on a tiny LLaMA; several tests read its outputs."""
    workdir = tmp_path_factory.mktemp("workflow")
    model_dir = save_tiny("llama", workdir / "tiny-llama")
    config = write_config(workdir, model_dir)
    run = snakemake(workdir, "--configfile", str(config), "--cores", "2", "all")
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir, config


def test_activation_stores_have_documented_layout(finished_run):
    workdir, _ = finished_run
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
    workdir, _ = finished_run
    for lang in LANGS:
        rows = [json.loads(line) for line in (workdir / f"resources/data/toy/{lang}.jsonl").read_text().splitlines()]
        assert [r["id"] for r in rows] == ["v0", "v1", "v2", "v3"]
        assert [r["text"] for r in rows] == TEXTS[lang][:4]


def test_similarity_metrics_and_regions(finished_run):
    import h5py

    workdir, _ = finished_run
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
    workdir, _ = finished_run
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


def test_threshold_change_reruns_regions_but_never_capture(finished_run):
    workdir, config = finished_run
    changed = yaml.safe_load(config.read_text())
    changed["regions"]["threshold"] = 1.5
    other = workdir / "threshold.yaml"
    other.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    dry = snakemake(workdir, "--configfile", str(other), "-n", "all")
    assert dry.returncode == 0, dry.stderr
    jobs = dry.stdout
    assert "rule regions:" in jobs or "regions " in jobs
    assert "z1.5.zarr" in jobs and "ablation_condition" in jobs
    for stage in ("capture", "prepare_dataset", "resolve_model", "similarity"):
        assert f"rule {stage}:" not in jobs and f"\n{stage} " not in jobs, jobs


def test_nothing_left_to_do_after_a_run(finished_run):
    workdir, config = finished_run
    dry = snakemake(workdir, "--configfile", str(config), "-n", "all")
    assert dry.returncode == 0, dry.stderr
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_no_temporary_outputs_survive(finished_run):
    workdir, _ = finished_run
    assert not [p for p in (workdir / "results").rglob(".*.tmp-*")]


FIGURES = ["similarity", "lrds_sads", "regions_z1_layers", "regions_z1_sizes"]


def report_results(html: str) -> tuple[dict, dict]:
    """The report's result records and its categories, from the JSON that Snakemake's HTML report embeds."""
    def embedded(name: str) -> dict:
        match = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', html, re.S)
        assert match, f"no {name} in the report"
        return json.loads(match.group(1))

    return embedded("results"), embedded("categories")


def test_html_report_holds_every_figure_and_table(finished_run):
    workdir, config = finished_run
    report = workdir / "report.html"
    run = snakemake(workdir, "--configfile", str(config), "--report", str(report))
    assert run.returncode == 0, run.stderr[-3000:]
    html = report.read_text(encoding="utf-8")
    results, categories = report_results(html)
    toy, held_out = "results/tiny/main/toy", "results/tiny/main/held_out/ablation/z1"
    expected = {
        **{f"{toy}/figures/{figure}.png": "figure" for figure in FIGURES},
        f"{held_out}/perplexity_increase.png": "figure",
        **{f"{toy}/{table}": "table" for table in ("metrics.tsv", "regions/z1_sklr.tsv", "generations/z1.md")},
        **{f"{held_out}/{table}.tsv": "table" for table in ("perplexity", "perplexity_increase", "diagonal_dominance")},
    }
    assert set(results) == set(expected)
    for path, entry in results.items():
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


def start_run(workdir: Path, config: Path) -> subprocess.Popen:
    """`snakemake all` in its own process group, so that one kill takes Snakemake and all its jobs."""
    log = (workdir / "killed_run.log").open("w")
    return subprocess.Popen([*SNAKEMAKE, "--directory", str(workdir), "--configfile", str(config), "--cores", "2",
                             "all"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def kill_during_capture(workdir: Path, config: Path) -> Path | None:
    """Start a run, SIGKILL its process group while a capture job is writing its store, and return that store's
    temporary folder; None when no capture was caught in the act (the run ended first, or the store was renamed
    into place between the look and the kill)."""
    process = start_run(workdir, config)
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
    reference, config = finished_run  # the same config: the same model and texts, by absolute path
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "snakemake --unlock" in readme and "rerun-incomplete: true" in (
        REPO / "profiles/default/config.yaml").read_text()
    for attempt in range(3):
        workdir = tmp_path / f"attempt{attempt}"
        workdir.mkdir()
        orphan = kill_during_capture(workdir, config)
        if orphan is not None:
            break
    else:
        pytest.fail("three runs ended, or renamed their store, before a capture job could be killed mid-write")
    store = orphan.parent / orphan.name[1:].split(".tmp-")[0]
    assert not store.exists(), "the killed job's store must not look finished"
    # A kill can also land after the store was renamed into place but before Snakemake recorded the job as done.
    # Stand in for that case: the store exists, and Snakemake's incomplete marker (set at job start) is on it.
    store.mkdir()

    stuck = snakemake(workdir, "--configfile", str(config), "--cores", "2", "all")
    assert stuck.returncode != 0 and "Directory cannot be locked" in stuck.stdout + stuck.stderr
    unlock = snakemake(workdir, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    without_profile = snakemake(workdir, "--configfile", str(config), "--workflow-profile", "none", "-n", "all")
    assert "IncompleteFilesException" in without_profile.stdout + without_profile.stderr  # what the profile fixes

    recovered = snakemake(workdir, "--configfile", str(config), "--cores", "2", "all")
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
    _, config = finished_run
    blocker = tmp_path / "results/tiny/main/toy/figures"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    run = snakemake(tmp_path, "--configfile", str(config), "--cores", "2", "all")
    assert run.returncode != 0
    assert re.search(r"^linguafranca: cannot write results/tiny/main/toy/figures/\S+: \S+/results/tiny/main/toy/"
                     r"figures is not a folder \(a file is in the way\); move it away$", run.stderr, re.M), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert not (tmp_path / "resources").exists() and blocker.read_text() == "not a folder"  # no job ran
    assert not list((tmp_path / ".snakemake" / "locks").glob("*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders, so chmod cannot make one here")
def test_a_read_only_results_folder_stops_the_run_with_one_message(finished_run, tmp_path):
    _, config = finished_run
    results = tmp_path / "results"
    results.mkdir()
    results.chmod(0o555)
    try:
        run = snakemake(tmp_path, "--configfile", str(config), "--cores", "2", "all")
    finally:
        results.chmod(0o755)
    assert run.returncode != 0
    assert re.search(rf"^linguafranca: cannot write results/\S+: the folder {re.escape(str(results))} is not writable",
                     run.stderr, re.M), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
