"""Every kind of config error stops the run before any job, with one message naming the key and what is allowed."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from linguafranca.config import PLACEHOLDER, validate
from linguafranca.errors import LinguaFrancaError

DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def broken(edit):
    config = copy.deepcopy(DEFAULT)
    edit(config)
    return config


def test_default_config_is_valid_and_gets_defaults():
    config = validate(copy.deepcopy(DEFAULT))
    model = config["models"]["gemma3-270m"]
    assert model["revisions"] == ["main"] and model["bos"] is None and model["trust_remote_code"] is False
    assert config["languages"] == ["en", "zh", "fr", "es", "pt", "ar", "vi", "hi", "id"]
    assert config["samples"] == 100 and config["regions"]["threshold"] == 2


def test_minimal_config_gets_every_default():
    config = validate({"models": {"m": {"source": "hf", "name": "org/m"}}, "datasets": {"d": {"loader": "bible"}}})
    assert config["languages"][0] == "en" and config["models"]["m"]["batch_size"] == 16
    assert config["datasets"]["d"]["options"]["books"] == [1] and config["capture"]["datasets"] == []


CASES = {
    "unknown top-level key": (lambda c: c.update(sampels=5), r"\(top level\).*'sampels' was unexpected.*allowed keys"),
    "unknown model key": (lambda c: c["models"]["gemma3-270m"].update(batchsize=4),
                          r"models\.gemma3-270m.*'batchsize' was unexpected.*batch_size"),
    "wrong type": (lambda c: c.update(samples="many"), r"samples: 'many' is not of type 'integer'"),
    "unknown language": (lambda c: c["languages"].append("de"),
                         r"languages\.9: 'de' is not allowed; allowed values: en, zh, fr, es, pt, ar, vi, hi, id"),
    "unknown loader": (lambda c: c["datasets"]["bible"].update(loader="csv"),
                       r"datasets\.bible\.loader: 'csv' is not allowed; allowed values: bible, textfiles, table, hf"),
    "unknown model source": (lambda c: c["models"]["gemma3-270m"].update(source="s3"),
                             r"models\.gemma3-270m\.source: 's3' is not allowed; allowed values: hf, local, pypi_gguf"),
    "bad dtype": (lambda c: c["models"]["gemma3-270m"].update(dtype="int8"), r"dtype: 'int8' is not allowed"),
    "unknown dataset reference": (lambda c: c["capture"].update(datasets=["ntrex"]),
                                  r"capture\.datasets: unknown dataset 'ntrex'; defined datasets: bible"),
    "unknown loader option": (lambda c: c["datasets"]["bible"]["options"].update(book=3),
                              r"datasets\.bible\.options: .*'book' was unexpected.*allowed keys here: books, clean"),
    "missing loader option": (lambda c: c["datasets"].update(n={"loader": "textfiles"}),
                              r"datasets\.n\.options: 'root' is a required property"),
    "regions from a perplexity dataset": (lambda c: c["ablation"].update(regions_from="bible_matthew"),
                                          r"ablation\.regions_from: 'bible_matthew' is not an analysis dataset"),
    "generation language not analysed": (lambda c: (c.update(languages=["en", "fr"]),
                                                    c["ablation"]["generation"].update(languages=["zh"])),
                                         r"ablation\.generation\.languages: zh not in languages \(en, fr\)"),
    "missing models": (lambda c: c.pop("models"), r"'models' is a required property"),
    "threshold type": (lambda c: c["regions"].update(threshold="two"), r"regions\.threshold: 'two' is not of type"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_names_the_key(case):
    edit, message = CASES[case]
    with pytest.raises(LinguaFrancaError, match=message):
        validate(broken(edit))


def test_bad_config_stops_snakemake_before_any_job(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(broken(lambda c: c["languages"].append("xx"))))
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                          str(tmp_path), "--configfile", str(config), "-n"], capture_output=True, text=True)
    assert run.returncode != 0
    assert "linguafranca: config error at languages.9: 'xx' is not allowed" in run.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "resources").exists()


def test_snakemake_lint_is_clean():
    run = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_conda_env_pins_match_pyproject():
    import tomllib

    pins = set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
    env = yaml.safe_load((REPO / "envs" / "linguafranca.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pins == {p for p in pip if not p.startswith("-e")}


EXAMPLES = sorted((REPO / "config" / "examples").glob("*.yaml"))


def fill_in(value, replacement):
    """``value`` with every example placeholder replaced, as a user would fill it in."""
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        return replacement
    if isinstance(value, dict):
        return {key: fill_in(child, replacement) for key, child in value.items()}
    if isinstance(value, list):
        return [fill_in(child, replacement) for child in value]
    return value


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_are_valid_once_filled_in(example, tmp_path):
    validate(fill_in(yaml.safe_load(example.read_text()), str(tmp_path)))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_point_at_no_local_data_that_users_lack(example):
    """Every local path in an example is a placeholder the user fills in (or null: a default that ships)."""
    for name, dataset in yaml.safe_load(example.read_text())["datasets"].items():
        options = dataset.get("options", {})
        paths = [options.get("root"), options.get("db")]
        if dataset["loader"] == "table":  # textfiles' files are relative to root; hf's data_files are hf:// URLs
            paths += list(options["files"].values())
        for path in paths:
            assert path is None or str(path).startswith(PLACEHOLDER), f"{example.name}: {name}: {path}"


def test_the_ntrex_example_says_where_to_get_ntrex():
    with pytest.raises(LinguaFrancaError, match=r"^config error at datasets\.ntrex\.options\.root: fill in this "
                       r"setting \(FILL IN: the NTREX-128 folder of https://github\.com/MicrosoftTranslator/NTREX\)$"):
        validate(yaml.safe_load((REPO / "config" / "examples" / "ntrex.yaml").read_text()))


def test_a_placeholder_anywhere_is_refused_with_its_key():
    config = broken(lambda c: c["models"]["gemma3-270m"].update(revisions=["main", "FILL IN: a checkpoint"]))
    with pytest.raises(LinguaFrancaError, match=r"^config error at models\.gemma3-270m\.revisions\.1: fill in this "
                       r"setting \(FILL IN: a checkpoint\)$"):
        validate(config)


def test_the_ntrex_example_runs_with_its_root_on_the_command_line(ntrex_dir, tmp_path):
    """The README's command: the example as shipped, its data folder given with --config (a dry run)."""
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                          str(tmp_path), "--configfile", str(REPO / "config" / "examples" / "ntrex.yaml"),
                          "--config", f"datasets={{ntrex: {{options: {{root: {ntrex_dir}}}}}}}", "-n", "all"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "resources/data/ntrex/en.jsonl" in run.stdout and "resources/data/bible_matthew/en.jsonl" in run.stdout
    assert "results/gemma3-270m/main/bible_matthew/ablation/z2/perplexity.tsv" in run.stdout
