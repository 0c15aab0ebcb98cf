"""The back-test report: observed band and simulated line per figure over the day, as one page.

`backtest_figure` draws, for each back-tested figure (abandonment, P(wait), ASA, service
level), the log's value per interval with its 95 % band from the day-to-day variation
(shaded, red) and the simulated mean with its 95 % CI (a line with error bars, blue); an
interval where the simulated mean falls outside the observed band is marked with a cross.
`backtest_page` puts that figure and the tables on one self-contained HTML page, rendered
the same way as `staffsim report` pages (`sim.report.html`).

Both take the tidy table of a back-test (one row per interval start × metric, columns
`start`, `metric`, `observed`, `observed_low`, `observed_high`, `simulated`,
`simulated_low`, `simulated_high`, `inside`; a last `start` of ``all`` for the whole period),
not the back-test object, so this module never imports the calibration layer above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.report.html import Report, render_html
from sim.runner.atomic import replace_file

LABELS = {
    "abandon_rate": "abandonment",
    "p_wait": "P(wait > 0)",
    "asa_s": "ASA (s)",
    "service_level": "service level",
}
_FRACTIONS = {"abandon_rate", "p_wait", "service_level"}


def _hours(starts: pd.Series) -> np.ndarray:
    parts = starts.astype(str).str.split(":", expand=True).astype(int)
    return (parts[0] + parts[1] / 60).to_numpy(dtype=np.float64)


def backtest_figure(table: pd.DataFrame, interval_min: float, title: str = "") -> Figure:
    """Observed band and simulated mean per metric over the day, one panel per metric.

    Args:
        table: the back-test table (see the module docstring).
        interval_min: the interval length, minutes (the width of each step).
        title: the figure's title.
    """
    rows = table[table["start"] != "all"]
    metrics = [m for m in LABELS if m in set(rows["metric"])]
    fig = Figure(figsize=(11, 2.4 * ((len(metrics) + 1) // 2) + 0.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots((len(metrics) + 1) // 2, 2, squeeze=False).ravel())
    half = interval_min / 120
    for ax, metric in zip(axes, metrics, strict=False):
        m = rows[rows["metric"] == metric]
        x = _hours(m["start"]) + half
        obs = m["observed"].to_numpy(dtype=np.float64)
        lo = m["observed_low"].to_numpy(dtype=np.float64)
        hi = m["observed_high"].to_numpy(dtype=np.float64)
        ax.fill_between(x, lo, hi, color="tab:red", alpha=0.18, linewidth=0, label="observed 95% band")
        ax.plot(x, obs, "o", color="tab:red", markersize=3, label="observed")
        sim = m["simulated"].to_numpy(dtype=np.float64)
        err = np.vstack(
            [
                sim - m["simulated_low"].to_numpy(dtype=np.float64),
                m["simulated_high"].to_numpy(dtype=np.float64) - sim,
            ]
        )
        err = np.where(np.isfinite(err), err, 0.0)
        ax.errorbar(x, sim, yerr=err, color="tab:blue", marker=".", capsize=2, label="simulated (95% CI)")
        miss = (m["inside"] == False).to_numpy()  # noqa: E712 (None: not judged)
        if miss.any():
            ax.plot(x[miss], sim[miss], "x", color="black", markersize=7, label="outside the band")
        ax.set_title(LABELS[metric])
        if metric in _FRACTIONS:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylim(bottom=0)
        ax.set_xlim(max(0.0, float(np.nanmin(x)) - 1), min(24.0, float(np.nanmax(x)) + 1))
        ax.set_xlabel("time of day (h)")
        ax.grid(alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    if metrics:
        axes[0].legend(fontsize="small")
    fig.suptitle(title or "Back-test: observed band and simulated mean by interval")
    return fig


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """The table as strings: figures in percent or seconds, bands as [low, high]."""

    def fmt(metric: str, v: float) -> str:
        if not np.isfinite(v):
            return "—"
        return f"{100 * v:.1f} %" if metric in _FRACTIONS else f"{v:.1f}"

    out = []
    for r in table.to_dict("records"):
        metric = str(r["metric"])
        v = {k: float(r[k]) for k in ("observed", "observed_low", "observed_high", "simulated")}
        v.update(simulated_low=float(r["simulated_low"]), simulated_high=float(r["simulated_high"]))
        out.append(
            {
                "interval": r["start"],
                "figure": LABELS.get(metric, metric),
                "observed": fmt(metric, v["observed"]),
                "observed 95% band": f"[{fmt(metric, v['observed_low'])}, {fmt(metric, v['observed_high'])}]",
                "simulated": fmt(metric, v["simulated"]),
                "simulated 95% CI": f"[{fmt(metric, v['simulated_low'])}, {fmt(metric, v['simulated_high'])}]",
                "inside": {True: "yes", False: "NO"}.get(r["inside"], "—")
                if r["inside"] is not None
                else "—",
            }
        )
    return pd.DataFrame(out)


def backtest_page(
    title: str,
    facts: Sequence[tuple[str, str]],
    table: pd.DataFrame,
    interval_min: float,
    notes: Sequence[str],
) -> str:
    """The back-test as one self-contained HTML page (figure embedded).

    Args:
        title: the scenario's name.
        facts: (label, value) pairs shown first: the log, its days, replications, mode.
        table: the back-test table.
        interval_min: the interval length, minutes.
        notes: sentences under the tables (how many intervals are inside, which miss).
    """
    whole = table[table["start"] == "all"]
    report = Report(
        kind="backtest",
        title=title,
        facts=list(facts),
        tables=[
            ("Whole period", _shown(whole)),
            ("By interval of the day", _shown(table[table["start"] != "all"])),
        ],
        figures=[
            (
                "Observed value and 95 % band from the day-to-day variation of the log (red) and simulated "
                "mean with its 95 % CI (blue), by interval; a cross marks a simulated mean outside the band.",
                backtest_figure(table, interval_min, f"{title}: back-test"),
            )
        ],
        notes=list(notes),
    )
    return render_html(report, source="staffsim backtest")


def write_page(path: str | Path, page: str) -> Path:
    """Write a page atomically (a temporary file beside it, then a rename)."""
    return replace_file(Path(path), page)
