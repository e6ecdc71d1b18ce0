"""Shared timing helper for the bench scripts: medians of repeated runs."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def median_seconds(func: Callable[[], object], repeats: int, setup: Callable[[], object] | None = None) -> float:
    """Median wall time of ``func`` over ``repeats`` runs, GC collected before each."""
    samples = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        gc.collect()
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def paired_medians(ours: Callable[[], object], floor: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """Run ``ours`` and ``floor`` alternately (so machine noise hits both alike).

    Returns the median seconds of each and the median of the per-pair ratios.
    """
    ours_s, floor_s, ratios = [], [], []
    for _ in range(repeats):
        a = median_seconds(ours, 1)
        b = median_seconds(floor, 1)
        ours_s.append(a)
        floor_s.append(b)
        ratios.append(a / b)
    return statistics.median(ours_s), statistics.median(floor_s), statistics.median(ratios)
