"""One self-contained HTML page for a result folder: how it was made, the tables, the figures.

A result folder is what `staffsim run --out` (summary.csv, intervals.csv, contacts.parquet,
result.json, manifest.json), `staffsim compare --out` (comparison.csv, result.json,
manifest.json) or `staffsim sweep --out` (sweep.csv, manifest.json) writes; which one it is
is read from the files. The page opens with the scenario summary from manifest.json (name,
seed, replications, command, package versions), then the metric tables with their 95 %
confidence intervals, then every figure that applies, embedded as base64 PNG so the page
needs nothing beside it. It reads only those files: never the scenario, never the model.

This module renders a `Report` as that page and writes it (`render_html`, `write_report`).
Reading the folder and assembling the `Report` is in `sim.report.content`, re-exported here.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.report.content import Report, ReportError, build_report, detect_kind
from sim.runner.atomic import replace_file

__all__ = ["Report", "ReportError", "build_report", "detect_kind", "render_html", "write_report"]


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #222; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #eee; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
table.facts td { text-align: left; } table.facts th { text-align: left; width: 10rem; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
figure { margin: 1rem 0 2rem; } figure img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9rem; } .note { color: #666; font-size: 0.9rem; }
footer { margin-top: 3rem; color: #888; font-size: 0.8rem; }
"""


def _table_html(caption: str, frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return (
        f'<table class="metrics"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def render_html(report: Report, source: str = "") -> str:
    """The report as one HTML page; figures are embedded as base64 PNG images."""
    kind = {"run": "run", "compare": "comparison", "sweep": "sweep", "backtest": "back-test"}[report.kind]
    title = f"{report.title}: {kind} report"
    facts = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in report.facts)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        '<section id="scenario"><h2>Scenario</h2>',
        f'<table class="facts"><tbody>{facts}</tbody></table></section>',
        '<section id="tables"><h2>Metrics</h2>',
        *(_table_html(caption, frame) for caption, frame in report.tables),
        *(f'<p class="note">{html.escape(note)}</p>' for note in report.notes),
        "</section>",
        '<section id="figures"><h2>Figures</h2>',
    ]
    for i, (caption, fig) in enumerate(report.figures, start=1):
        parts.append(
            f'<figure id="figure-{i}"><img alt="{html.escape(caption)}" src="data:image/png;base64,{_png(fig)}">'
            f"<figcaption>Figure {i}. {html.escape(caption)}</figcaption></figure>"
        )
    if not report.figures:
        parts.append('<p class="note">No figure applies to this folder.</p>')
    stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    parts += [
        "</section>",
        f"<footer>Written by staffsim report at {stamp}{' from ' + html.escape(source) if source else ''}.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(outdir: str | Path, output: str | Path | None = None) -> Path:
    """Write the HTML report of a result folder, atomically (a temporary file, then a rename).

    Args:
        outdir: a folder written by `staffsim run`, `compare` or `sweep` with `--out`.
        output: the page to write; default ``OUTDIR/report.html``.

    Returns:
        The path of the page written.

    Raises:
        ReportError: the folder is missing or not a result folder, or a file is unreadable.
        OSError: the page cannot be written.
    """
    folder = Path(outdir)
    report = build_report(folder)
    page = render_html(report, source=str(folder))
    target = Path(output) if output is not None else folder / "report.html"
    return replace_file(target, page)
