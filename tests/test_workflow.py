"""End to end: the Snakemake workflow on a tiny model and tiny parallel text, in a temporary directory."""

import json
import subprocess
import sys
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
        "datasets": {"toy": {"loader": "table", "options": {"files": files}}},
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


def test_nothing_left_to_do_after_a_run(finished_run):
    workdir, config = finished_run
    dry = snakemake(workdir, "--configfile", str(config), "-n", "all")
    assert dry.returncode == 0, dry.stderr
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_no_temporary_outputs_survive(finished_run):
    workdir, _ = finished_run
    assert not [p for p in (workdir / "results").rglob(".*.tmp-*")]
