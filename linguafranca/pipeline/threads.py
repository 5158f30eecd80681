"""How many threads a job uses: the one place of the thread policy.

A job that loads a model gets half the cores Snakemake was given on this machine, so two run side by side, and
:data:`CLUSTER_MODEL_THREADS` on a cluster node; inside the job, :func:`set_threads` caps torch and the BLAS pools at
its share of the real CPUs when ``--cores`` promises more than the machine has. A thread count changes
floating-point rounding only, so this module is left out of the code hash.
"""

from __future__ import annotations

import logging

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


#: Threads of a job that loads a model on a cluster node (its cpus_per_task).
CLUSTER_MODEL_THREADS = 8


def local_model_threads(cores: int) -> int:
    """Threads of a job that loads a model when Snakemake runs the jobs on this machine: half of ``cores``, so that
    two run side by side (the workflow caps the jobs' summed ``mem_mb`` at the machine's memory, so two run
    together only where they fit).

    Why: each job spends about 10 s starting on one core (Python, torch and transformers, the tokenizer, the
    weights). Side by side, one job's start-up overlaps the other's work; and two one-thread jobs do as much
    perplexity as one two-thread job (on the 2-core reference machine, 9.8 s for one language at one thread against
    5.3 s at two).
    """
    return max(1, cores // 2)
