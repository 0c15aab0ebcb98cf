"""`staffsim app`: serve the planner's browser app on this machine.

Registered in `sim.cli.COMMANDS` as ``"app": "sim.cli.app:app"``. The command only parses and calls `sim.app.server.serve`; Panel (the optional ``app``
dependencies) is imported when the command runs, and a missing install is one message
with exit status 2.
"""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli._common import fail, load_scenario_file


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8765,
    show_default=True,
    help="TCP port (0: any free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything else than 127.0.0.1 lets other machines reach the app.",
)
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
def app(scenario: Path | None, port: int, host: str, no_browser: bool) -> None:
    """Serve the planner's app: open SCENARIO (default: the shipped baseline), edit, run, compare, plan.

    Every tab gets its own scenario and results; runs happen in worker processes. Stop the
    server with Ctrl-C.
    """
    if scenario is not None:
        load_scenario_file(scenario)  # a bad file fails here, as `staffsim run` would, before serving
    try:
        from sim.app.server import serve
    except ImportError as exc:
        fail(f"the app needs its optional dependencies: pip install 'staffsim[app]' ({exc})")
    if host not in ("127.0.0.1", "localhost"):
        click.echo(
            f"staffsim: warning: serving on {host}: anyone who can reach this address can use the app "
            "and run simulations on this machine",
            err=True,
        )
    serve(scenario, port=port, host=host, open_browser=not no_browser)
