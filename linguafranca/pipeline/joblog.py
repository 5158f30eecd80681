"""Send a workflow job's progress bars, warnings and tracebacks to its Snakemake log file.

The console shows what a user must act on: this package's warnings and the job's failure. Notices that libraries
print on every run and that ask nothing of the user (:data:`HARMLESS`) stay in the job's log, once; output of
programs the job starts (lm-eval runs ``git describe``, which prints ``fatal: not a git repository`` outside a
checkout) goes to the log too, because the job's file descriptors 1 and 2 point there while it runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterator
from typing import TextIO

#: Library notices that ask nothing of the user: in the job's log once, never on the console.
HARMLESS = (
    # lm-eval, for every task built by a Python function (each language of the reasoning tasks)
    re.compile(r"Custom kwargs can be passed to `--metadata`"),
)


class _Harmless(logging.Filter):
    """Drops :data:`HARMLESS` notices: all of them on the console, repeats of each in the log."""

    def __init__(self, console: bool) -> None:
        super().__init__()
        self.console = console
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        pattern = next((p.pattern for p in HARMLESS if p.search(message)), None)
        if pattern is None:
            return True
        if self.console or pattern in self.seen:
            return False
        self.seen.add(pattern)
        return True


@contextlib.contextmanager
def _descriptors_to(log: TextIO) -> Iterator[TextIO]:
    """Point file descriptors 1 and 2 at ``log`` for the duration; yield a stream to the console's stderr."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    console = os.fdopen(os.dup(saved[2]), "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        for fd in saved:
            os.dup2(log.fileno(), fd)
        yield console
    finally:
        log.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        console.close()


@contextlib.contextmanager
def job_log(path: str | None) -> Iterator[None]:
    """Redirect stdout/stderr to ``path`` (when given) for the duration of a job; log the traceback on failure.

    Log records go to the log file; warnings also to the console, so Snakemake's output shows them.

    The exception still propagates, so Snakemake marks the job failed and removes its outputs.
    """
    if not path:
        yield
        return
    with (
        open(path, "w", encoding="utf-8", buffering=1) as log,
        _descriptors_to(log) as console_stream,
        contextlib.redirect_stderr(log),
        contextlib.redirect_stdout(log),
    ):
        logging.basicConfig(stream=log, level=logging.INFO, force=True)
        root = logging.getLogger()
        for handler in root.handlers:
            handler.addFilter(_Harmless(console=False))
        console = logging.StreamHandler(console_stream)
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("linguafranca: warning: %(message)s"))
        console.addFilter(_Harmless(console=True))
        root.addHandler(console)
        try:
            yield
        except BaseException:
            traceback.print_exc(file=log)
            raise
        finally:
            root.removeHandler(console)
