"""Executors: where independent replication tasks run — here, on local processes, or on Dask.

A task's result depends only on its inputs (scenario, seed, replication number), never on
which worker runs it or in what order, so every executor gives identical numbers. Each
executor yields `(index, result)` pairs as tasks finish, so callers can store finished work
at once (a killed sweep loses nothing done) and show progress.

- `SerialExecutor`: in this process, in order.
- `PoolExecutor`: a local process pool (`--workers N`).
- `DaskExecutor`: a Dask distributed cluster: ``"local"`` starts a `LocalCluster` of
  worker processes on loopback; ``"tcp://host:port"`` joins a running scheduler.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol
from urllib.parse import urlsplit

from sim.runner.lifecycle import worker_start
from sim.text import excerpt

_log = logging.getLogger(__name__)


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class Executor(Protocol):
    """Runs `fn` over tasks and yields `(index, result)` as each finishes."""

    name: str

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Yield `(i, fn(tasks[i]))` for every task, in completion order."""
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


class SerialExecutor:
    """Runs every task in this process, in order."""

    name = "serial"

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Yield results in task order."""
        for i, task in enumerate(tasks):
            yield i, fn(task)

    def close(self) -> None:
        """Nothing to release."""


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's workers now instead of waiting for their tasks (interrupt, error)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


class PoolExecutor:
    """A local process pool; a task whose worker dies is run again on a fresh pool.

    A worker's death (killed, out of memory) is logged as a warning naming how many tasks
    are rerun; after `retries` fresh pools the `BrokenProcessPool` is raised. When the
    caller stops early (Ctrl-C, an error in a task, the generator closed), the workers are
    terminated at once rather than left to finish their tasks.
    """

    name = "pool"

    def __init__(self, workers: int, retries: int = 2) -> None:
        self.workers = workers
        self.retries = retries
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Yield results as workers finish them."""
        pending = list(range(len(tasks)))
        attempts = 0
        while pending:
            pool = ProcessPoolExecutor(
                max_workers=min(self.workers, len(pending)),
                mp_context=self._context,
                initializer=worker_start,
                initargs=(os.getpid(),),
            )
            done: set[int] = set()
            stopped = True  # until the tasks are all done, or the pool broke by itself
            try:
                futures: dict[Future[Any], int] = {pool.submit(fn, tasks[i]): i for i in pending}
                while futures:
                    finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        i = futures.pop(fut)
                        result = fut.result()
                        done.add(i)
                        yield i, result
                pending = []
                stopped = False
            except BrokenProcessPool:
                # A worker died (killed, out of memory): rerun what it had not finished.
                stopped = False
                attempts += 1
                pending = [i for i in pending if i not in done]
                if attempts > self.retries:
                    _log.error(
                        "worker processes died %d times; giving up with %d unfinished tasks",
                        attempts,
                        len(pending),
                    )
                    raise
                _log.warning(
                    "a worker process died; rerunning %d unfinished task%s on a fresh pool (retry %d of %d)",
                    len(pending),
                    "" if len(pending) == 1 else "s",
                    attempts,
                    self.retries,
                )
            finally:
                if stopped:
                    _terminate_workers(pool)
                pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Pools are closed after each map."""


DASK_SCHEMES = ("tcp", "tls")
DEFAULT_DASK_TIMEOUT_S = 10.0


def dask_address(text: str) -> str:
    """Check a `--dask` address: ``local``, or ``tcp://HOST:PORT`` (or ``tls://``).

    Returns:
        The address, stripped.

    Raises:
        ValueError: anything else, with what is allowed (no connection is tried).
    """
    address = text.strip()
    if address == "local":
        return address
    allowed = "give 'local' or tcp://HOST:PORT (for example tcp://scheduler:8786)"
    shown = excerpt(text, 60)
    scheme, sep, rest = address.partition("://")
    if not sep:
        raise ValueError(f"--dask {shown!r} is not an address; {allowed}")
    if scheme.lower() not in DASK_SCHEMES:
        raise ValueError(
            f"--dask {shown!r}: the scheme {excerpt(scheme, 20)!r} is not one Dask serves; {allowed}"
        )
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError(f"--dask {shown!r} has no valid port (1-65535); {allowed}") from None
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"--dask {shown!r} needs a host and nothing after the port; {allowed}")
    if port is None or not 0 < port < 65536:
        raise ValueError(f"--dask {shown!r} has no port (1-65535); {allowed}")
    return f"{scheme.lower()}://{parts.netloc}"


class DaskExecutor:
    """Tasks on a Dask distributed cluster (a local one on loopback, or a running scheduler)."""

    name = "dask"

    def __init__(
        self, address: str = "local", workers: int | None = None, timeout: float = DEFAULT_DASK_TIMEOUT_S
    ) -> None:
        from distributed import Client, LocalCluster

        address = dask_address(address)

        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(
                n_workers=workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # its HTTP server (health checks) on any free loopback port, not 8787 with a warning
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                # Dask's own log (a worker restarted, keys forgotten on shutdown) is not the user's:
                # lost work is rerun, and a task's error reaches the caller through its future
                silence_logs=logging.CRITICAL,
            )
            self.client = Client(self._cluster)
        else:
            self.client = Client(address, timeout=timeout)

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Yield results as the cluster finishes them (Dask reruns tasks of lost workers)."""
        from distributed import as_completed

        futures = self.client.map(fn, list(tasks), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            yield index[fut.key], fut.result()

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this executor started it."""
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(
    workers: int | None = 1, dask: str | None = None, timeout: float = DEFAULT_DASK_TIMEOUT_S
) -> Executor:
    """The executor for `--workers` / `--dask` (Dask wins when given; `timeout` seconds to connect).

    Raises:
        ValueError: a malformed Dask address (`dask_address`).
        OSError: the Dask scheduler cannot be reached in time.
    """
    if dask:
        return DaskExecutor(dask, workers, timeout)
    n = default_workers() if workers is None else workers
    return SerialExecutor() if n <= 1 else PoolExecutor(n)
