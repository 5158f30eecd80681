"""The timing loop every bench shares: wall times of repeated calls, summarised by each bench as it needs."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def run_times(function: Callable[[], object], repeats: int, warm_up: bool = False) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``function``, after one untimed call when ``warm_up`` (first calls pay
    for allocation and kernel choice)."""
    if warm_up:
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def matmul_peak(dtype: str, size: int = 2048, repeats: int = 3) -> float:
    """GFLOP/s of numpy's ``[size, size] @ [size, size]`` product in ``dtype``, the best of ``repeats``: the peak
    that the analysis benches report their share of, measured in the same run because this machine drifts."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((size, size)).astype(dtype), rng.standard_normal((size, size)).astype(dtype)
    return 2 * size**3 / min(run_times(lambda: a @ b, repeats, warm_up=True)) / 1e9
