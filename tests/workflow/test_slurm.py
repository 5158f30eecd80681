"""The workflow through a real SLURM scheduler: `snakemake --profile slurm`, typed in the repository root.

tests/slurm/start.sh starts a one-node cluster on this machine (Debian's slurm-wlm and munge, installed when missing;
munged, slurmctld and slurmd started by hand); the tiny workflow is submitted through the repository's SLURM profile
and the SLURM executor plugin, and its outputs must equal those of the local run of tests/test_workflow.py. It needs
root, so elsewhere it skips and says why; CI runs as root, and there it runs.

Accounting is off (accounting_storage/none, no slurmdbd and database to install and start): the run passes the
plugin's squeue status command, which the cluster's MinJobAge of 600 s makes reliable, and jobcomp/filetxt records
every finished job in the cluster's state folder, which is what shows that the jobs ran under SLURM.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from linguafranca.model.parameters import parameter_count
from linguafranca.pipeline.job_resources import model_job_resources
from tests.helpers.paths import REPO
from tests.helpers.workflow import LANGS, REGION_CONDITIONS, arrays, copy_code

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

START, STOP = REPO / "tests/slurm/start.sh", REPO / "tests/slurm/stop.sh"
#: A hard limit on the whole SLURM run: a hang (a job that never ends, a status query that never answers) fails the
#: test instead of blocking CI. The SLURM run took about 7 minutes on 2 busy cores, the whole test 12.
RUN_TIMEOUT_S = 1800
MODEL_RULES = ["capture", "ablation_baseline", "ablation_random", "ablation_condition", "ablation_method", "generations",
               "forced_generations", "reasoning_baseline", "reasoning_random", "reasoning_condition"]
#: Every job the tiny workflow submits; resolve_model, prepare_language and check_languages
#: are local rules and stay off SLURM.
SUBMITTED = {
    "capture": len(LANGS), "similarity": 1, "regions": 1, "figure_similarity": 1, "figure_lrds_sads": 1,
    "figure_region_layers": 1, "figure_region_sizes": 1, "ablation_baseline": 1, "ablation_random": 1,
    "ablation_condition": len(REGION_CONDITIONS), "ablation_tables": 1, "generations": 1,
    # the methods (LAPE, AP experts): their store, the comparison, one perplexity job each, median forcing
    "methods": 1, "methods_table": 1, "ablation_method": 2, "forced_generations": 1,
    # the reasoning baseline, the 10% random control, and each language's region and its size-matched control
    "reasoning_baseline": 1, "reasoning_random": 1, "reasoning_condition": 2 * len(LANGS), "reasoning_table": 1,
}


def why_no_slurm() -> str | None:
    """Why this machine cannot start the test cluster, or None where it can."""
    if os.geteuid() != 0:
        return "starting SLURM needs root (it installs slurm-wlm and munge and runs their daemons); CI runs as root"
    if not shutil.which("slurmctld") and not shutil.which("apt-get"):
        return "SLURM is not installed and there is no apt-get to install Debian's slurm-wlm"
    return None


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A running one-node SLURM cluster: the environment that reaches it. Stopped, with any job left, at the end."""
    if reason := why_no_slurm():
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm")
    try:
        started = subprocess.run(["bash", str(START), str(state)], capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        subprocess.run(["bash", str(STOP), str(state)])
        pytest.fail("tests/slurm/start.sh did not finish within 900 s (apt-get, or a daemon that hangs)")
    if started.returncode != 0:
        pytest.fail(f"the SLURM scheduler did not come up:\n{started.stderr[-4000:]}")
    env = {**os.environ, "SLURM_CONF": str(state / "conf/slurm.conf")}
    try:
        yield state, env
    finally:
        subprocess.run(["scancel", "--user", "root"], env=env, capture_output=True, timeout=60)
        subprocess.run(["bash", str(STOP), str(state)], timeout=120)


def run_bounded(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """Run ``command`` in its own process group; past ``timeout`` seconds kill the whole group and fail."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, **kwargs)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{' '.join(command[:3])} ... ran past its {timeout} s limit:\n{output[-4000:]}")
    return subprocess.CompletedProcess(command, process.returncode, output, "")


def test_the_workflow_through_slurm_equals_the_local_run(slurm, finished_run, tmp_path):
    state, env = slurm
    reference, config, _ = finished_run
    # The repository as a user has it: the code, and ./slurm, the profile's name in the root. The model asks for a
    # GPU, which this cluster does not have: the command line takes the requests away, as the README says.
    code = copy_code(REPO, tmp_path / "linguafranca")
    (code / "slurm").symlink_to("profiles/slurm")
    assert (REPO / "slurm").resolve() == (REPO / "profiles/slurm").resolve()
    values = yaml.safe_load(config.read_text())
    values["models"]["tiny"]["gpus"] = 1
    gpu_config = tmp_path / "gpu.yaml"
    gpu_config.write_text(yaml.safe_dump(values, allow_unicode=True), encoding="utf-8")
    workdir = tmp_path / "run"  # the config names the model and the texts by absolute path
    no_gpus = [f"{rule}:gpu=0" for rule in MODEL_RULES]
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    command = [
        snakemake, "--profile", "slurm", "--directory", str(workdir), "--configfile", str(gpu_config),
        "--set-resources", *no_gpus,
        # Threads as in the local run (--cores 2: model jobs take half, one thread; the others two), so that every
        # number is the same: a float32 sum over another thread count rounds differently.
        "--max-threads", "2", "--set-threads", *[f"{rule}=1" for rule in MODEL_RULES],
        # Fast checks for a test: the first status check after 1 s instead of 40, no retries, and squeue (no
        # accounting database here).
        "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "1",
        "--slurm-status-command", "squeue", "--retries", "0", "--latency-wait", "5",
        "--slurm-keep-successful-logs",
    ]
    run = run_bounded(command, RUN_TIMEOUT_S, cwd=code, env={**env, "PYTHONPATH": str(code)})
    assert run.returncode == 0, run.stdout[-5000:]
    assert re.search(r"Using profiles slurm and workflow specific profile \S*profiles/default", run.stdout), run.stdout

    # Under SLURM: the scheduler's own record has every submitted job, completed, run from the run's folder, and the
    # plugin kept one SLURM log per job.
    done = [line for line in (state / "jobcomp.log").read_text().splitlines() if f"WorkDir={workdir} " in line]
    assert len(done) == sum(SUBMITTED.values()) and all("JobState=COMPLETED" in line for line in done), done
    logs = workdir / ".snakemake/slurm_logs"
    per_rule = {rule: len(list((logs / f"rule_{rule}").rglob("*.log"))) for rule in SUBMITTED}
    assert per_rule == SUBMITTED
    assert not any((logs / f"rule_{rule}").exists() for rule in ("resolve_model", "prepare_language", "check_languages"))
    # The model jobs asked SLURM for the memory the model's size gives, one CPU each (as set), and no GPU (overridden).
    manifest = json.loads((workdir / "resources/models/tiny/main/manifest.json").read_text())
    expected = model_job_resources(parameter_count(manifest["path"]), values["models"]["tiny"],
                                   {"gpu_memory_gb": 80, "gpus_per_node": 8, "gpu_model": None})
    assert expected["gpu"] == 1  # what the model asks for without the override
    model_jobs = [line for line in done if f"Tres=cpu=1,mem={expected['mem_mb']}M,node=1," in line]
    assert len(model_jobs) == sum(SUBMITTED[rule] for rule in MODEL_RULES)
    assert not [line for line in done if "gpu" in line.split("Tres=")[1].split()[0]]

    # The same outputs as the local run, bit for bit.
    expected_arrays, got = arrays(reference / "results"), arrays(workdir / "results")
    assert sorted(got) == sorted(expected_arrays) and len(expected_arrays) >= 10
    for name, (array, attrs) in expected_arrays.items():
        assert np.array_equal(got[name][0], array, equal_nan=array.dtype.kind == "f"), name
        assert got[name][1] == attrs, name
    tables = sorted(p.relative_to(reference / "results") for p in (reference / "results").rglob("*.tsv")
                    if "benchmarks" not in p.parts)
    assert tables
    for table in tables:
        assert (workdir / "results" / table).read_text() == (reference / "results" / table).read_text(), table
    assert (workdir / "results/tiny/main/toy/generations/z1.jsonl").read_text() == (
        reference / "results/tiny/main/toy/generations/z1.jsonl").read_text()
