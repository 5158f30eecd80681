"""Send a workflow job's progress bars, warnings and tracebacks to its Snakemake log file.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from collections.abc import Iterator


@contextlib.contextmanager
def job_log(path: str | None) -> Iterator[None]:
    """Redirect stdout/stderr to ``path`` (when given) for the duration of a job; log the traceback on failure.

    Log records go to the log file; warnings also to the process's own stderr, so Snakemake's console shows them.

    The exception still propagates, so Snakemake marks the job failed and removes its outputs.
    """
    if not path:
        yield
        return
    with open(path, "w", encoding="utf-8") as log, contextlib.redirect_stderr(log), contextlib.redirect_stdout(log):
        logging.basicConfig(stream=log, level=logging.INFO, force=True)
        console = logging.StreamHandler(sys.__stderr__)  # warnings also reach Snakemake's console
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("linguafranca: warning: %(message)s"))
        logging.getLogger().addHandler(console)
        try:
            yield
        except BaseException:
            traceback.print_exc(file=log)
            raise
