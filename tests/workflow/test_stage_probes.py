"""The probes stage switched on in a finished run: its jobs, outputs and reruns."""

import json

import pytest
import zarr

from tests.helpers.html import cells
from tests.helpers.workflow import (
    changed_config,
    job,
    planned_jobs,
    probe_jobs,
    report_results,
    snakemake,
)


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


def test_the_report_holds_the_probe_figure_and_the_summary_as_a_table(probes_run, tmp_path):
    workdir, config, code, _ = probes_run
    point = "results/tiny/main/toy/probes"
    shown = cells((workdir / point / "summary.html").read_text(encoding="utf-8")).exact
    assert shown == [line.split("\t") for line in (workdir / point / "summary.tsv").read_text().splitlines()]
    report = tmp_path / "report.html"
    run = snakemake(workdir, code, "--configfile", str(config), "--report", str(report))
    assert run.returncode == 0, run.stderr[-3000:]
    results, categories = report_results(report.read_text(encoding="utf-8"))
    assert categories["6. Language-ID probes (Riemenschneider & Frank 2025)"] == {
        "Language-ID probe accuracy by depth": [f"{point}/language_id.png"],
        "Probe summary per layer": [f"{point}/summary.html"],
    }
    assert results[f"{point}/summary.html"]["mime_type"] == "text/html"


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
