"""What each job asks a scheduler for."""

import json
import re

import yaml

from tests.helpers.workflow import (
    changed_config,
    planned_jobs,
    snakemake,
)


def test_model_jobs_ask_for_what_the_model_needs_and_no_other_job_asks_for_a_gpu(finished_run):
    """Resources of every job from one dry run: GPUs, memory and time of the jobs that load the model follow from
    its size (linguafranca.pipeline.job_resources), and the analysis jobs ask for no GPU. Changing these settings reruns nothing."""
    from linguafranca.model.parameters import parameter_count
    from linguafranca.pipeline.job_resources import model_job_resources

    workdir, config, code = finished_run
    cluster = {"gpu_memory_gb": 40, "gpus_per_node": 8, "gpu_model": "a100"}
    other = changed_config(config, "gpus.yaml", lambda c: (c["models"]["tiny"].update(gpus=2), c.update(cluster=cluster)))
    assert planned_jobs(workdir, code, other) == set()
    dry = snakemake(workdir, code, "--configfile", str(other), "-n", "--forceall", "all")
    assert dry.returncode == 0, dry.stderr[-3000:]
    resources = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry.stdout):
        if header := re.match(r"(local)?rule (\w+):", block):
            listed = re.search(r"^\s+resources: (.*)$", block, re.M)
            items = dict(item.split("=", 1) for item in listed[1].split(", ")) if listed else {}
            resources.setdefault((bool(header[1]), header[2]), []).append(items)
    manifest = json.loads((workdir / "resources/models/tiny/main/manifest.json").read_text())
    spec = {**yaml.safe_load(other.read_text())["models"]["tiny"]}
    expected = model_job_resources(parameter_count(manifest["path"]), spec, cluster)
    assert expected["gpu"] == 2 and expected["gpu_model"] == "a100"
    model_rules = ("capture", "ablation_baseline", "ablation_random", "ablation_condition", "ablation_method",
                   "generations", "forced_generations", "reasoning_baseline", "reasoning_random", "reasoning_condition")
    for rule in model_rules:
        for items in resources[False, rule]:
            assert {key: items.get(key) for key in expected} == {k: str(v) for k, v in expected.items()}, rule
    others = {rule for (local, rule) in resources if not local} - {*model_rules, "all"}
    assert others >= {"similarity", "regions", "ablation_tables", "figure_similarity"}
    assert not [rule for rule in others for items in resources[False, rule] if "gpu" in items or "gpu_model" in items]
