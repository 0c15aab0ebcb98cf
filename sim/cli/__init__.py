"""The `staffsim` command: parse arguments, call the Python API, print. No model logic here.

Each command lives in its own module (`sim.cli.run`, `compare`, `sweep`, `optimize`,
`study`, `report`, `erlang`, `check`, `fit`, `backtest`) and shares helpers from `sim.cli._common` (failing with
exit 2, progress bars, budgets, executors, result stores). This package only holds the
command group and the table of commands, which are imported when invoked (or when `--help`
lists them), so `staffsim erlang` never loads the simulator.

To add a command: write `sim/cli/NAME.py` with a `@click.command()` function, then add one
line to `COMMANDS` below: ``"NAME": "sim.cli.NAME:function"``. A command module imports from
`sim.cli._common` and the API, never from this package.

Exit codes: 0 success; 2 a bad scenario, bad arguments, a run over budget (see
`sim.runner.budget`; `--force` runs it anyway), a replication stopped by the running guard, or
an output folder that cannot be used (see `sim.runner.outdir`) (with a one-screen message on
stderr, no traceback, no partial output); 1 worker processes that kept dying; 130 interrupted
(Ctrl-C) and 143 terminated (SIGTERM), saying how to resume.
"""

from __future__ import annotations

import importlib
import signal
import sys
from typing import Any

import click

from sim.cli._common import EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED, after_stop
from sim.runner.lifecycle import EXIT_TERMINATED, Terminated, handle_terminate, ready
from sim.runner.outdir import release_all

__all__ = ["COMMANDS", "EXIT_FAILED", "EXIT_INPUT", "EXIT_INTERRUPTED", "main"]

COMMANDS: dict[str, str] = {
    "app": "sim.cli.app:app",
    "backtest": "sim.cli.backtest:backtest",
    "check": "sim.cli.check:check",
    "compare": "sim.cli.compare:compare",
    "erlang": "sim.cli.erlang:erlang",
    "fit": "sim.cli.fit:fit",
    "optimize": "sim.cli.optimize:optimize",
    "report": "sim.cli.report:report",
    "run": "sim.cli.run:run",
    "study": "sim.cli.study:study",
    "sweep": "sim.cli.sweep:sweep",
}
"""Command name → ``"module:function"`` of its click command, imported on first use."""


class Main(click.Group):
    """The command group: imports a command's module on first use.

    It also ends Ctrl-C and dying workers with one line, not a traceback.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, in alphabetical order (as `--help` lists them)."""
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called `cmd_name`, importing its module the first time."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, name = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), name)
            if not isinstance(command, click.Command):
                raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; turn an interrupt or a broken worker pool into a message."""
        previous = handle_terminate()
        try:
            ready("command")
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            what = "terminated" if terminated else "interrupted"
            click.echo(f"\nstaffsim: {what}; {after_stop(ctx)}", err=True)
            sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
        except Exception as exc:
            # imported here, not above the `try`: an interrupt must never land outside it
            from concurrent.futures.process import BrokenProcessPool

            from sim.model.guard import RunawayError
            from sim.runner.budget import BudgetError
            from sim.runner.outdir import OutputError

            if isinstance(exc, OutputError | BudgetError | RunawayError):
                click.echo(f"staffsim: {exc.cli if isinstance(exc, OutputError) else exc}", err=True)
                sys.exit(EXIT_INPUT)
            if not isinstance(exc, BrokenProcessPool):
                raise
            click.echo(f"staffsim: worker processes kept dying ({exc}); {after_stop(ctx)}", err=True)
            sys.exit(EXIT_FAILED)
        finally:
            release_all()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="staffsim")
def main() -> None:
    """staffsim: simulate customer-support staffing across phone, email and social channels."""
