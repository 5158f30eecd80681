"""The timing loop every bench shares: wall times of repeated calls, summarised by each bench as it needs."""

from __future__ import annotations

import time
from collections.abc import Callable


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
