"""Readable tables of results for the terminal: mean and 95 % CI per channel and metric."""

from __future__ import annotations

import io
import math
from typing import Any

from rich.console import Console
from rich.table import Table

from sim.metrics.contacts import CHANNEL_METRICS
from sim.metrics.stats import Estimate
from sim.text import excerpt, visible

MAX_TABLE_CHANNELS = 12
MAX_TABLE_GROUPS = 40

_PERCENT = {"service_level", "p_wait", "abandon_rate", "occupancy", "fcr", "resolution_rate"}
_COUNTS = {
    "offered", "answered", "abandoned", "waiting_end", "in_service_end", "backlog_end", "no_action",
    "journeys", "journeys_resolved", "journeys_gave_up", "journeys_open_end",
}  # fmt: skip


def fmt_value(metric: str, value: float) -> str:
    """A value in the unit a planner reads it in (percent, count, seconds)."""
    if not math.isfinite(value):
        return "—" if math.isnan(value) else ("∞" if value > 0 else "-∞")
    if metric in _PERCENT:
        return f"{100 * value:.1f}%"
    if metric in _COUNTS:
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def fmt_estimate(metric: str, e: Estimate) -> str:
    """`mean [low, high]`, or the mean alone when the interval is degenerate or unknown."""
    mean = fmt_value(metric, e.mean)
    if e.n < 2 or not math.isfinite(e.ci_low) or e.ci_low == e.ci_high:
        return mean
    return f"{mean} [{fmt_value(metric, e.ci_low)}, {fmt_value(metric, e.ci_high)}]"


def summary_table(
    title: str,
    channels: dict[str, dict[str, Estimate]],
    groups: dict[str, dict[str, Estimate]],
) -> Table:
    """One table: metrics as rows, channels as columns; then occupancy per group.

    Names are shown with control characters made visible (`sim.text.visible`). At most
    `MAX_TABLE_CHANNELS` channels and `MAX_TABLE_GROUPS` groups are shown, the title saying
    how many were left out (`--json` and `--out` give them all): a table of thousands of
    columns would take minutes to lay out and could not be read anyway.
    """
    shown = list(channels)[:MAX_TABLE_CHANNELS]
    shown_groups = list(groups)[:MAX_TABLE_GROUPS]
    left_out = []
    if len(channels) > len(shown):
        left_out.append(f"{len(channels) - len(shown):,} more channels")
    if len(groups) > len(shown_groups):
        left_out.append(f"{len(groups) - len(shown_groups):,} more groups")
    if left_out:
        title += f" ({' and '.join(left_out)} not shown; --json or --out give all)"
    table = Table(title=visible(title), title_justify="left")
    table.add_column("metric")
    for ch in shown:
        table.add_column(excerpt(ch, 40), justify="right")
    for metric in CHANNEL_METRICS:
        table.add_row(metric, *(fmt_estimate(metric, channels[ch][metric]) for ch in shown))
    table.add_section()
    for group in shown_groups:
        cells = [fmt_estimate("occupancy", groups[group]["occupancy"])] + [""] * (len(shown) - 1)
        table.add_row(f"occupancy: {excerpt(group, 40)}", *cells)
    return table


def comparison_table(comparison: Any, metrics: tuple[str, ...]) -> Table:
    """Per variant: baseline, variant and paired difference [95% CI]; * where the CI excludes 0."""
    n = comparison.n
    table = Table(
        title=f"{visible(comparison.baseline.scenario.name)}: variants vs baseline, {n} paired replications "
        "(difference = variant − baseline, mean [95% CI]; * the CI excludes 0)",
        title_justify="left",
    )
    for col in ("variant", "channel", "metric", "baseline", "variant mean", "difference", ""):
        table.add_column(col, justify="left" if col in ("variant", "channel", "metric") else "right")
    frame = comparison.table()
    frame = frame[(frame.scope == "channel") & frame.metric.isin(metrics)]
    last = None
    for row in frame.itertuples(index=False):
        if last is not None and row.variant != last:
            table.add_section()
        last = row.variant
        diff = Estimate(row.diff_mean, row.diff_ci_low, row.diff_ci_high, n)
        table.add_row(
            excerpt(str(row.variant), 40),
            excerpt(str(row.name), 40),
            row.metric,
            fmt_value(row.metric, row.baseline_mean),
            fmt_value(row.metric, row.variant_mean),
            fmt_estimate(row.metric, diff),
            "*" if row.significant else "",
        )
    return table


def render(table: Table, width: int = 160) -> str:
    """Render a rich table to plain text (no colour codes)."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(table)
    return console.export_text()
