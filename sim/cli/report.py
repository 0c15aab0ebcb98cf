"""`staffsim report`: one self-contained HTML page for a result folder.

Listed in `sim.cli.COMMANDS`. The command only parses and calls
`sim.report.html.write_report`; the report module (and with it matplotlib) is imported
when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli._common import fail, overwrite_needs


@click.command()
@click.argument("outdir", type=click.Path(path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write (default: OUTDIR/report.html, rewritten each time).",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing --output file.")
def report(outdir: Path, output: Path | None, overwrite: bool) -> None:
    """Write an HTML report (tables with 95% CIs, figures) of OUTDIR.

    OUTDIR is a folder written by `staffsim run --out`, `compare --out` or `sweep --out`;
    which one is read from its files. The page is self-contained (figures embedded).
    An existing --output file is replaced only with --overwrite; the default
    OUTDIR/report.html belongs to the result folder and is rewritten.
    """
    from sim.report.html import ReportError, write_report

    overwrite_needs(overwrite, output, "--output", "file")
    if output is not None and output.exists() and not overwrite:
        fail(f"{output} exists; choose another --output or pass --overwrite")

    try:
        path = write_report(outdir, output)
    except ReportError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the report: {exc}")
    click.echo(f"report written to {path}")
