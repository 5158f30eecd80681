"""A job's console shows what the user must act on; the rest, library notices and child programs' output, goes to
the job's log, each harmless notice once."""

import subprocess
import sys
import textwrap

from tests.helpers.paths import REPO

JOB = textwrap.dedent(
    """
    import logging, subprocess, sys
    from linguafranca.pipeline.joblog import job_log

    with job_log(sys.argv[1]):
        notice = logging.getLogger("lm-eval")
        for lang in ("en", "zh", "fr"):
            notice.warning(f"bible_xling_next_{lang}: Custom kwargs can be passed to `--metadata` in console")
        logging.warning("the region of en is empty")
        subprocess.run(["sh", "-c", "echo 'fatal: not a git repository' >&2; echo child output"])
        print("a progress bar")
        if sys.argv[2] == "fail":
            raise RuntimeError("the job failed")
    """
)


def _run(tmp_path, outcome):
    log = tmp_path / "job.log"
    run = subprocess.run([sys.executable, "-c", JOB, str(log), outcome], capture_output=True, text=True, cwd=REPO)
    return run, log.read_text()


def test_the_console_shows_only_warnings_and_the_log_the_rest_once(tmp_path):
    run, log = _run(tmp_path, "ok")
    assert run.returncode == 0, run.stderr
    assert run.stderr == "linguafranca: warning: the region of en is empty\n" and run.stdout == ""
    assert log.count("Custom kwargs can be passed") == 1 and "bible_xling_next_en: Custom kwargs" in log
    assert "fatal: not a git repository\n" in log and "child output\n" in log and "a progress bar\n" in log
    assert "the region of en is empty" in log


def test_a_failure_reaches_the_console_and_the_log(tmp_path):
    run, log = _run(tmp_path, "fail")
    assert run.returncode == 1
    assert run.stderr.startswith("linguafranca: warning: the region of en is empty\n")
    assert run.stderr.rstrip().endswith("RuntimeError: the job failed") and "fatal" not in run.stderr
    assert log.rstrip().endswith("RuntimeError: the job failed")
