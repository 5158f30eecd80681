"""Fixtures of the workflow tests: one finished run of the tiny workflow for the whole session, read by every
file here (each test that changes something works on a copy)."""


import pytest

from tests.helpers.paths import REPO
from tests.helpers.tiny import save_tiny
from tests.helpers.workflow import (
    PROBES,
    changed_config,
    copy_code,
    planned_jobs,
    snakemake,
    write_config,
)


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """One complete run of `all` on a tiny LLaMA, from a copy of the code; several tests read its outputs."""
    workdir = tmp_path_factory.mktemp("workflow")
    code = copy_code(REPO, tmp_path_factory.mktemp("code"))
    model_dir = save_tiny("llama", workdir / "tiny-llama")
    config = write_config(workdir, model_dir)
    run = snakemake(workdir, code, "--configfile", str(config), "--cores", "2", "all")
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir, config, code


@pytest.fixture
def edited_code(finished_run, tmp_path):
    """A fresh copy of the run's code; the test edits it, and the run's own code stays as it was."""
    return copy_code(finished_run[2], tmp_path / "code")


@pytest.fixture(scope="session")
def probes_run(finished_run):
    """The finished run with the probes stage switched on for the toy dataset, run to the end."""
    workdir, config, code = finished_run
    other = changed_config(config, "probes.yaml", lambda c: c.update(probes=PROBES))
    planned = planned_jobs(workdir, code, other)
    run = snakemake(workdir, code, "--configfile", str(other), "--cores", "2", "all")
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir, other, code, planned
