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


#: Environment variable by which the workflow tells its local jobs how many cores Snakemake was given.
CORES_ENV = "LINGUAFRANCA_CORES"


def real_threads(threads: int, cpus: int, cores: int | None) -> int:
    """The threads a job may really use: its ``threads`` out of Snakemake's ``cores``, scaled to the ``cpus`` the
    machine has when Snakemake was promised more cores than that (``--cores 8`` on 2 CPUs), so that the jobs
    running side by side never together use more threads than there are CPUs; never more than ``cpus``."""
    share = threads * cpus // cores if cores and cores > cpus else threads
    return max(1, min(share, cpus))


def set_threads(threads: int) -> None:
    """Use the job's share of the machine (:func:`real_threads`), never more than it has.

    Limits both torch's intra-op pool and the BLAS under numpy: oversubscribed BLAS threads on a busy machine
    made the similarity Gram step twice as slow, and two model jobs side by side must split the CPUs between them.
    """
    import os

    import torch
    from threadpoolctl import threadpool_limits

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    count = real_threads(threads, cpus, int(os.environ.get(CORES_ENV, "0") or 0))
    logging.info("%d threads (the job's %d of Snakemake's cores, on %d CPUs)", count, threads, cpus)
    torch.set_num_threads(count)
    threadpool_limits(count)
