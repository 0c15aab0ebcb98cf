"""Executors: run independent replication tasks serially or on a local process pool.

A task's result depends only on its inputs (scenario, seed, replication number), never on
which worker runs it or in what order, so every executor gives identical numbers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def run_tasks(fn: Callable[[T], R], tasks: Iterable[T], workers: int = 1) -> Iterator[R]:
    """Apply `fn` to every task, in task order, on `workers` processes (1: in this process)."""
    items = list(tasks)
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield fn(item)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(items))) as pool:
        yield from pool.map(fn, items, chunksize=1)
