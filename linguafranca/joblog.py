"""Send a workflow job's progress bars, warnings and tracebacks to its Snakemake log file."""

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


def set_threads(threads: int) -> None:
    """Use at most the job's threads, and never more than the machine has (Snakemake may promise more).

    Limits both torch's intra-op pool and the BLAS under numpy: oversubscribed BLAS threads on a busy machine
    made the similarity Gram step twice as slow.
    """
    import os

    import torch
    from threadpoolctl import threadpool_limits

    count = max(1, min(threads, os.cpu_count() or 1))
    torch.set_num_threads(count)
    threadpool_limits(count)
