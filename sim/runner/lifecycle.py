"""How a running command is stopped, and how it says where it has got to.

- **SIGTERM is handled like Ctrl-C**: `handle_terminate` makes it raise `Terminated` (a
  `KeyboardInterrupt`), so the same code that stops workers and keeps finished
  replications runs; the command then exits with status 143 (128 + 15) instead of 130.
- **Workers die with their parent**: `die_with_parent`, called first thing in a worker,
  asks Linux to kill the worker when its parent dies (`prctl(PR_SET_PDEATHSIG)`), even if
  the parent was killed with SIGKILL and could not stop them itself.
- **Readiness points**: when the environment names a file in `STAFFSIM_READY_FILE`, the
  command appends one line per stage it enters (`started`, `command`, `simulating`), so a
  script (or a test) can signal it at a known point instead of guessing from the clock.

This module imports nothing but the standard library: it runs before anything else does.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

READY_FILE_ENV = "STAFFSIM_READY_FILE"
EXIT_TERMINATED = 143
"""The exit status of a command stopped by SIGTERM (128 + 15), as shells report it."""
PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled everywhere as an interrupt, reported with status 143."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


def handle_terminate() -> Any:
    """Make SIGTERM raise `Terminated` in the main thread (no-op elsewhere).

    Returns:
        The handler it replaced (to restore with `signal.signal`), or None when nothing
        was changed.
    """
    try:
        return signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: leave the handling to the host
        return None


def ready(stage: str) -> None:
    """Append `stage` (and this process id) to the file named by `STAFFSIM_READY_FILE`, if any."""
    path = os.environ.get(READY_FILE_ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{stage} {os.getpid()}\n")
    except OSError:  # a readiness file is a courtesy; it never stops a run
        pass


def die_with_parent(parent: int) -> None:
    """Have this process killed when `parent` ends (Linux); exit now if it has already ended.

    Elsewhere this does nothing: the parent stops its workers itself when it can.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl
            return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def worker_start(parent: int) -> None:
    """Initializer of a pool worker: Ctrl-C is for the parent; SIGTERM ends it; dies with its parent.

    A terminal sends SIGINT to every process of the foreground group; workers that took it
    would die with tracebacks of their own, and their deaths would look like crashes. The
    parent stops its workers itself (with SIGTERM), and if it cannot, the kernel does.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)


__all__ = [
    "EXIT_TERMINATED",
    "READY_FILE_ENV",
    "Terminated",
    "die_with_parent",
    "handle_terminate",
    "ready",
    "worker_start",
]
