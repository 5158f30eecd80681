"""Exactly the jobs a change reruns (config values, input files, package modules), by dry runs; and nothing after a run."""

import base64
import json
from contextlib import contextmanager

import pytest
import yaml

from linguafranca.io.tsv import read_tsv
from linguafranca.pipeline.codehash import code_hash
from tests.helpers.workflow import (
    CONDITIONS,
    LANGS,
    REGION_CONDITIONS,
    THRESHOLD_FREE_RULES,
    after_capture,
    after_regions,
    changed_config,
    copy_of_run,
    figure_jobs,
    job,
    method_store_jobs,
    methods_jobs,
    planned_jobs,
    random_jobs,
    reasoning_jobs,
    snakemake,
)


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
    z1 = reasoning / "regions-toy/z1"
    assert sorted(p.stem for p in (reasoning / "bible").glob("*.json")) == ["none", "random"]
    assert sorted(p.stem for p in (z1 / "bible").glob("*.json")) == sorted(REGION_CONDITIONS)
    none = json.loads((reasoning / "bible/none.json").read_text())
    assert sorted(none["results"]) == [f"bible_xling_next_{lang}" for lang in sorted(LANGS)]
    assert list(json.loads((z1 / "bible/random_zh.json").read_text())["results"]) == ["bible_xling_next_zh"]
    rows = read_tsv(z1 / "accuracy.tsv")
    assert [(r["task"], r["language"], r["available"], r["n"]) for r in rows] == [
        ("bible", lang, "yes", "2") for lang in LANGS]
    assert rows[0]["acc_fr"] == "" and rows[1]["acc_fr"] != "" and rows[0]["compute"] == "float32"
    assert (z1 / "accuracy.png").stat().st_size > 0


@pytest.mark.parametrize("change, conditions", [
    ({"limit": 3}, CONDITIONS),
    ({"bible": {"books": [42]}}, CONDITIONS),
    ({"full_matrix": True}, REGION_CONDITIONS),  # the regions and controls now run on every language
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
    region = {"regions_dataset": "toy", "threshold": "1"}
    assert planned_jobs(workdir, code, other) == {
        job("reasoning_baseline", task="xstorycloze"), job("reasoning_random", task="xstorycloze"),
        *(job("reasoning_condition", task="xstorycloze", condition=c, **region) for c in stories[2:]),
        job("reasoning_table", **region)}


def test_threshold_change_reruns_regions_and_after_but_never_capture(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "threshold.yaml", lambda c: c["regions"].update(threshold=0.69559666))
    assert planned_jobs(workdir, code, other) == after_regions("0.69559666")


def test_a_threshold_change_reruns_neither_none_nor_random(finished_run):
    """none switches nothing off and random's mask depends on the model's shape, fraction and seed only: another
    threshold reruns neither, in perplexity or reasoning, and its tables read the results that exist."""
    workdir, config, code = finished_run
    other = changed_config(config, "threshold.yaml", lambda c: c["regions"].update(threshold=0.69559666))
    planned = planned_jobs(workdir, code, other)
    assert not {rule for rule, _ in planned} & THRESHOLD_FREE_RULES
    assert not [wildcards for _, wildcards in planned if dict(wildcards).get("condition") in ("none", "random")]


def test_another_threshold_writes_its_tables_beside_the_first(finished_run, tmp_path):
    """A second threshold's accuracy table and Table 1 go to their own folders; the first threshold's stay, and
    none's and random's results are read, not rewritten."""
    workdir = copy_of_run(finished_run, tmp_path)
    _, config, code = finished_run
    other = changed_config(config, "threshold.yaml", lambda c: c["regions"].update(threshold=0.69559666))
    results = workdir / "results/tiny/main"
    first = {path: path.read_bytes() for path in [
        results / "reasoning/regions-toy/z1/accuracy.tsv", results / "held_out/ablation/regions-toy/z1/perplexity.tsv",
        results / "reasoning/bible/none.json", results / "reasoning/bible/random.json",
        results / "held_out/ablation/none.tsv", results / "held_out/ablation/random.tsv"]}
    times = {path: path.stat().st_mtime_ns for path in first}
    second = [results / "reasoning/regions-toy/z0.69559666/accuracy.tsv",
              results / "held_out/ablation/regions-toy/z0.69559666/perplexity.tsv"]
    run = snakemake(workdir, code, "--configfile", str(other), "--cores", "2",
                    *(str(path.relative_to(workdir)) for path in second))
    assert run.returncode == 0, run.stderr[-3000:]
    assert all(path.is_file() for path in second)
    assert {path: path.read_bytes() for path in first} == first
    assert {path: path.stat().st_mtime_ns for path in first} == times
    both = [read_tsv(results / f"reasoning/regions-toy/{z}/accuracy.tsv") for z in ("z1", "z0.69559666")]
    assert [[row["acc_none"] for row in rows] for rows in both] == [[row["acc_none"] for row in both[0]]] * 2


def test_a_seed_change_reruns_regions_after_and_random_but_not_none(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "seed.yaml", lambda c: c["regions"].update(seed=7))
    # The seed also draws the methods' null shuffles and controls.
    assert planned_jobs(workdir, code, other) == {*after_regions(), *random_jobs(), *method_store_jobs()}


def test_a_random_fraction_change_reruns_regions_after_and_random_but_not_none(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "fraction.yaml", lambda c: c["regions"].update(random_fraction=0.5))
    assert planned_jobs(workdir, code, other) == {*after_regions(), *random_jobs()}


@pytest.mark.parametrize(("change", "methods"), [({"null_permutations": 5}, True), ({"significance_permutations": 50}, False),
                                                 ({"fdr_q": 0.1}, False), ({"significance_statistic": "contribution"}, False)])
def test_a_chance_setting_reruns_regions_and_after(finished_run, change, methods):
    """Every method's null has the same shuffles, so their number reruns the methods too; significance does not."""
    workdir, config, code = finished_run
    other = changed_config(config, "chance.yaml", lambda c: c["regions"].update(change))
    assert planned_jobs(workdir, code, other) == {*after_regions(), *(method_store_jobs() if methods else ())}


@pytest.mark.parametrize("change", [{"lape": {"top_rate": 0.5}}, {"ap": {"experts": 3}}])
def test_a_method_setting_reruns_the_methods_and_their_readers_only(finished_run, change):
    """LAPE's and AP's settings change neither the z-score regions nor their conditions."""
    workdir, config, code = finished_run
    other = changed_config(config, "method.yaml", lambda c: c["regions"].update(change))
    assert planned_jobs(workdir, code, other) == {
        *method_store_jobs(), *methods_jobs(),
        job("ablation_tables", dataset="held_out", regions_dataset="toy", threshold="1")}


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
        job("ablation_baseline", dataset="held_out"), *reasoning_jobs(["none"]), *random_jobs(), *after_capture()}


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
    # ablation_tables draws the perplexity heatmap in the same style, reasoning_table the accuracy figure,
    # methods_table the methods figure
    assert planned_jobs(workdir, edited_code, config) == {
        *figure_jobs(), job("ablation_tables", dataset="held_out", regions_dataset="toy", threshold="1"),
        job("reasoning_table", regions_dataset="toy", threshold="1"),
        job("methods_table", dataset="toy", threshold="1")}


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


@contextmanager
def edited_text(path, old, new):
    """``path`` with its first ``old`` replaced by ``new`` inside the block, restored after it."""
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace(old, new, 1), encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(original, encoding="utf-8")


def test_editing_one_languages_perplexity_text_reruns_what_reads_it(finished_run):
    """The held-out English text: its preparation, the set's check, and the perplexity jobs that evaluate English
    (the baseline, random, the regions and en's control); not fr's and zh's controls, which read only their own."""
    workdir, config, code = finished_run
    with edited_text(workdir / "held_en.jsonl", "God", "Dieu"):
        assert planned_jobs(workdir, code, config) == {
            job("prepare_language", dataset="held_out", lang="en"),
            job("check_languages", dataset="held_out"),
            job("ablation_baseline", dataset="held_out"),
            job("ablation_random", dataset="held_out"),
            *(job("ablation_condition", dataset="held_out", regions_dataset="toy", threshold="1", condition=c)
              for c in REGION_CONDITIONS if c not in ("random_fr", "random_zh")),
            # one job per method evaluates all of its conditions, English among them
            *(job("ablation_method", dataset="held_out", regions_dataset="toy", method=m) for m in ("lape", "ap")),
            job("ablation_tables", dataset="held_out", regions_dataset="toy", threshold="1"),
        }
    assert planned_jobs(workdir, code, config) == set()  # newer, but the same checksum: nothing to do


def test_editing_one_languages_text_recaptures_that_language_only(finished_run):
    workdir, config, code = finished_run
    with edited_text(workdir / "fr.jsonl", "Dieu", "Le Seigneur"):
        assert planned_jobs(workdir, code, config) == {
            job("prepare_language", dataset="toy", lang="fr"),
            job("check_languages", dataset="toy"),
            job("capture", dataset="toy", lang="fr"),
            job("similarity", dataset="toy"),
            *figure_jobs(),
            *after_regions(),
            *method_store_jobs(),
        }


def _with_german(workdir, config):
    """The run's config with de added to both datasets, its texts a copy of the English ones with one word changed."""
    def add(values):
        for dataset, prefix in (("toy", ""), ("held_out", "held_")):
            path = workdir / f"{prefix}de.jsonl"
            path.write_text((workdir / f"{prefix}en.jsonl").read_text(encoding="utf-8").replace("God", "Gott"),
                            encoding="utf-8")
            values["datasets"][dataset]["options"]["files"]["de"] = str(path)
        values["languages"] = [*LANGS, "de"]
    return changed_config(config, "german.yaml", add)


def _by_rule(planned):
    rules = {}
    for rule, wildcards in planned:
        rules.setdefault(rule, set()).add(dict(wildcards).get("lang"))
    return rules


def test_a_new_language_captures_that_language_only(finished_run):
    """A fourth language: its own preparation and capture, then every job that combines languages; no old capture."""
    workdir, config, code = finished_run
    planned = _by_rule(planned_jobs(workdir, code, _with_german(workdir, config)))
    assert planned["prepare_language"] == planned["capture"] == {"de"}
    assert planned.keys() >= {"check_languages", "similarity", "regions", "ablation_baseline", "reasoning_table"}


def test_a_reordered_language_list_reruns_no_capture(finished_run):
    workdir, config, code = finished_run
    other = changed_config(config, "reordered.yaml", lambda c: c.update(languages=LANGS[::-1]))
    planned = _by_rule(planned_jobs(workdir, code, other))
    assert "capture" not in planned and "prepare_language" not in planned
    assert planned.keys() >= {"check_languages", "similarity", "regions"}


def test_editing_a_model_file_reruns_resolve_model_and_after(finished_run):
    workdir, config, code = finished_run
    model_config = workdir / "tiny-llama" / "config.json"
    original = model_config.read_text(encoding="utf-8")
    try:
        model_config.write_text(original + "\n", encoding="utf-8")
        assert planned_jobs(workdir, code, config) == {
            job("resolve_model"), job("ablation_baseline", dataset="held_out"), *reasoning_jobs(["none"]),
            *random_jobs(), *after_capture()}
    finally:
        model_config.write_text(original, encoding="utf-8")


def test_the_code_hash_is_recorded_in_the_metadata(finished_run):
    workdir, _, code = finished_run
    key = base64.b64encode(b"results/tiny/main/toy/activations/en.zarr/zarr.json").decode()
    record = json.loads((workdir / ".snakemake/metadata" / key).read_text())
    assert repr(code_hash(code / "workflow/scripts/capture.py", code / "linguafranca")) in record["params"]


def test_nothing_left_to_do_after_a_run(finished_run):
    workdir, config, code = finished_run
    assert planned_jobs(workdir, code, config) == set()


def test_no_temporary_outputs_survive(finished_run):
    workdir, *_ = finished_run
    assert not [p for p in (workdir / "results").rglob(".*.tmp-*")]


def test_a_named_language_set_sits_beside_the_default_one(finished_run):
    """language_set: the four-language results go under results/sets/four/, beside the three-language ones, and
    share their captures: only de is captured."""
    workdir, config, code = finished_run
    named = changed_config(_with_german(workdir, config), "four.yaml", lambda c: c.update(language_set="four"))
    assert _by_rule(planned_jobs(workdir, code, named))["capture"] == {"de"}
    dry = snakemake(workdir, code, "--configfile", str(named), "-n", "all")
    outputs = {path for line in dry.stdout.splitlines() if line.strip().startswith("output: ")
               for path in line.split("output: ")[1].split(", ")}
    assert "results/sets/four/tiny/main/toy/similarity.h5" in outputs
    assert "resources/data/toy/sets/four/languages.json" in outputs
    assert not any(path.startswith("results/tiny/main/") and "/activations/" not in path for path in outputs), outputs
    assert planned_jobs(workdir, code, config) == set()  # the default set's results are still there, complete
