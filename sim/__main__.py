"""`python -m sim` and the `staffsim` command: one entry point for both.

It imports nothing heavy itself: the command-line module (and with it pandas, scipy and
the model) is imported inside `main`, so a Ctrl-C during the second or two of start-up
ends with exit status 130 and one line on stderr, as it does later, not with a traceback.
"""

from __future__ import annotations

import sys

from sim.runner.lifecycle import EXIT_TERMINATED, Terminated, handle_terminate, ready

TYPE_CHECKING = False  # importing typing before the guard would lengthen the unguarded start
if TYPE_CHECKING:
    from typing import NoReturn

EXIT_INTERRUPTED = 130
"""The exit status of an interrupted command (as `sim.cli.EXIT_INTERRUPTED`)."""


def main() -> None:
    """Import the command-line interface and run it; an interrupt while importing exits 130.

    SIGTERM is handled like Ctrl-C from here on (exit 143); the readiness point `started`
    is reported once both are guarded (see `sim.runner.lifecycle`).
    """
    try:
        handle_terminate()
        ready("started")
        from sim.cli import main as cli
    except KeyboardInterrupt as exc:
        sys.stderr.write("\nstaffsim: interrupted; no results were written\n")
        _exit_interrupted(EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED)
    try:
        cli()
    except SystemExit as exc:
        if exc.code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
            _exit_interrupted(exc.code)
        raise


def _exit_interrupted(code: int) -> NoReturn:
    """Exit 130 (143 after SIGTERM) now, the message already printed.

    Not `sys.exit`: under `python -m`, CPython 3.11 turns the exit status into death by
    SIGINT (-2) whenever a KeyboardInterrupt once escaped an `exec` of a string during the
    run, even one that was caught later, and scipy runs such an `exec` while it imports.
    """
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
