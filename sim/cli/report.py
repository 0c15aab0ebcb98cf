"""`staffsim report`: one self-contained HTML page for a result folder.

Registered on the main command group with ``main.add_command(report)`` in `sim.cli`. The
command only parses and calls `sim.report.html.write_report`; the report module (and with
it matplotlib) is imported when the command runs, and `sim.cli._fail` too, so `sim.cli` may
import this module at its top without an import cycle or a slower start.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("outdir", type=click.Path(path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write (default: OUTDIR/report.html).",
)
def report(outdir: Path, output: Path | None) -> None:
    """Write an HTML report (tables with 95% CIs, figures) of OUTDIR.

    OUTDIR is a folder written by `staffsim run --out`, `compare --out` or `sweep --out`;
    which one is read from its files. The page is self-contained (figures embedded).
    """
    from sim.cli import _fail
    from sim.report.html import ReportError, write_report

    try:
        path = write_report(outdir, output)
    except ReportError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write the report: {exc}")
    click.echo(f"report written to {path}")
