"""Every kind of config error stops the run before any job, with one message naming the key and what is allowed."""

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from linguafranca.config import language_pattern, validate
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
    "not a language code": (lambda c: c["languages"].append("pt_BR"),
                            r"languages\.9: 'pt_BR' is not allowed: A language code: ISO 639-1 \(2 letters\)"),
    "not a language code in a map": (lambda c: c["datasets"]["bible"]["options"].update(translations={"German": "s"}),
                                     r"datasets\.bible\.options\.translations: 'German' is not allowed: A language"),
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
    config.write_text(yaml.safe_dump(broken(lambda c: c["languages"].append("x"))))
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                          str(tmp_path), "--configfile", str(config), "-n"], capture_output=True, text=True)
    assert run.returncode != 0
    assert "linguafranca: config error at languages.9: 'x' is not allowed" in run.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "resources").exists()


LANGUAGE_CODES = {
    "en": True, "fil": True, "zh-Hant": True, "pt-BR": True, "es-419": True, "sr-Latn-RS": True,
    "EN": False, "e": False, "engl": False, "pt_BR": False, "pt-br": False, "zh-hant": False, "zh-HANT": False,
    "en-": False, "de-DEU": False, "sr-RS-Latn": False, "en ": False, "../en": False,
}


@pytest.mark.parametrize(("code", "valid"), sorted(LANGUAGE_CODES.items()))
def test_language_code_rule(code, valid):
    """ISO 639-1/639-3, optional script and region subtags; the schema and the {lang} wildcard pattern agree."""
    config = {"languages": ["en", code] if code != "en" else ["en", "fr"],
              "models": {"m": {"source": "hf", "name": "org/m"}}, "datasets": {"d": {"loader": "bible"}},
              "ablation": {"generation": {"languages": [code]}}}
    if valid:
        validate(config)
    else:
        with pytest.raises(LinguaFrancaError, match=r"is not allowed: A language code"):
            validate(config)
    assert (re.fullmatch(language_pattern(), code) is not None) == valid


def test_lang_wildcard_is_the_schema_pattern():
    """The rule files constrain {lang} with the schema's pattern itself (read at parse time), not a copy."""
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    constraints = re.search(r"wildcard_constraints:\n((?:    .*\n)+)", common)[1]
    assert re.search(r"^    lang=language_pattern\(Path\(workflow\.basedir\) / \"config\" / \"schema\.yaml\"\),$",
                     constraints, re.M)
    assert language_pattern() == "[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|[0-9]{3}))?"


def test_snakemake_lint_is_clean():
    run = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_conda_env_pins_match_pyproject():
    import tomllib

    pins = set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
    env = yaml.safe_load((REPO / "envs" / "linguafranca.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pins == {p for p in pip if not p.startswith("-e")}


@pytest.mark.parametrize("example", sorted((REPO / "config" / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_example_configs_are_valid(example):
    validate(yaml.safe_load(example.read_text()))
