"""Readable tables of results for the terminal: mean and 95 % CI per channel, group and metric.

Values are shown in the unit a planner reads them in: shares in percent, counts whole,
durations (metrics ending in ``_s``) in seconds, minutes or hours, whichever fits the mean
(raw seconds stay in JSON and CSV), costs whole. Only the figures a scenario configures are
shown: journey figures (first response, resolution time, FCR, CSAT, journeys) when some
channel has customer-journey mechanics or the file sets an `outcome` model, costs when some
group has a `cost_per_hour`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from sim.metrics.contacts import CHANNEL_METRICS
from sim.metrics.shown import JOURNEY_FIGURES as JOURNEY_FIGURES
from sim.metrics.shown import JOURNEY_METRICS as JOURNEY_METRICS
from sim.metrics.shown import channel_rows, compare_metrics, has_journeys, is_priced
from sim.metrics.shown import shown_metrics as shown_metrics
from sim.metrics.stats import Estimate, metric_ci
from sim.text import excerpt, visible

if TYPE_CHECKING:
    import pandas as pd

_PERCENT = {"service_level", "p_wait", "abandon_rate", "occupancy", "fcr", "resolution_rate", "csat"}
_COUNTS = {
    "offered", "answered", "abandoned", "waiting_end", "in_service_end", "backlog_end", "no_action",
    "journeys", "journeys_resolved", "journeys_gave_up", "journeys_open_end",
}  # fmt: skip
_MONEY = {"cost", "cost_per_resolved_journey"}
_AGENTS = {"busy_agents", "on_duty", "queue_length", "public_sentiment", "contacts_per_journey"}

GROUP_COLUMNS = ("occupancy", "busy_agents", "on_duty", "cost")
"""Columns of the agent-group table."""
MAX_TABLE_CHANNELS = 12
"""The most channels the terminal table shows (the title says how many more there are)."""
MAX_TABLE_GROUPS = 40
"""The most agent groups the terminal table shows."""
TITLE_MAX = 160
"""A table is made at least as wide as its title, up to this width, so the title stays on one line."""


def replications_text(n: int) -> str:
    """``1 replication`` or ``N replications``."""
    return f"{n} replication" if n == 1 else f"{n} replications"


def duration_unit(seconds: float) -> tuple[str, float]:
    """The unit a duration of `seconds` reads best in: (``s``, 1), (``min``, 60) or (``h``, 3600)."""
    size = abs(seconds)
    if size < 120:
        return "s", 1.0
    if size < 7200:
        return "min", 60.0
    return "h", 3600.0


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def fmt_value(metric: str, value: float, unit: str | None = None) -> str:
    """A value in the unit a planner reads it in (percent, count, s/min/h, money).

    Args:
        metric: the metric's key; durations end in ``_s``.
        value: the value (seconds for durations).
        unit: for a duration, ``"s"``, ``"min"`` or ``"h"``; default the one that fits `value`.
    """
    if not math.isfinite(value):
        return "—" if math.isnan(value) else ("∞" if value > 0 else "-∞")
    if metric in _PERCENT:
        return f"{100 * value:.1f}%"
    if metric in _COUNTS:
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"
    if metric in _MONEY:
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    if metric in _AGENTS:
        return f"{value:,.1f}"
    if metric.endswith("_s"):
        name, size = (
            duration_unit(value) if unit is None else (unit, {"s": 1.0, "min": 60.0, "h": 3600.0}[unit])
        )
        return f"{_number(value / size)} {name}"
    return _number(value)


def fmt_estimate(metric: str, e: Estimate) -> str:
    """`mean [low, high]`, or the mean alone when the interval is degenerate or unknown.

    A duration's interval is written in the unit of its mean.
    """
    unit = duration_unit(e.mean)[0] if metric.endswith("_s") and math.isfinite(e.mean) else None
    mean = fmt_value(metric, e.mean, unit)
    if e.n < 2 or not math.isfinite(e.ci_low) or not math.isfinite(e.ci_high) or e.ci_low == e.ci_high:
        return mean
    return f"{mean} [{fmt_value(metric, e.ci_low, unit)}, {fmt_value(metric, e.ci_high, unit)}]"


def fmt_difference(metric: str, e: Estimate) -> str:
    """A paired difference as `fmt_estimate` writes it, but a share's in percentage points.

    A difference of two shares (80.2 % − 56.7 %) is ``-23.4 pp``, not ``-23.4%``, which would
    read as a relative change.
    """
    if metric not in _PERCENT:
        return fmt_estimate(metric, e)

    def pp(value: float) -> str:
        return "—" if not math.isfinite(value) else f"{100 * value:+.1f}".replace("+0.0", "0.0")

    mean = f"{pp(e.mean)} pp"
    if e.n < 2 or not math.isfinite(e.ci_low) or not math.isfinite(e.ci_high) or e.ci_low == e.ci_high:
        return mean
    return f"{mean} [{pp(e.ci_low)}, {pp(e.ci_high)}]"


# --- tables ----------------------------------------------------------------------------------


def summary_table(
    title: str, channels: Mapping[str, Mapping[str, Estimate]], metrics: Sequence[str] | None = None
) -> Table:
    """Metrics as rows, channels as columns, each cell `mean [95% CI]`.

    Names are shown with control characters made visible (`sim.text.visible`). At most
    `MAX_TABLE_CHANNELS` channels are shown, the title saying how many were left out
    (`--json` and `--out` give them all): a table of thousands of columns would take
    minutes to lay out and could not be read anyway.
    """
    shown = list(channels)[:MAX_TABLE_CHANNELS]
    if len(channels) > len(shown):
        title += f" ({len(channels) - len(shown):,} more channels not shown; --json or --out give all)"
    title = visible(title)
    table = Table(
        title=title, title_justify="left", min_width=min(len(title), TITLE_MAX)
    )  # title on one line
    table.add_column("metric")
    for ch in shown:
        table.add_column(excerpt(ch, 40), justify="right")
    for metric in CHANNEL_METRICS if metrics is None else metrics:
        table.add_row(metric, *(fmt_estimate(metric, channels[ch][metric]) for ch in shown))
    return table


def group_table(groups: Mapping[str, Mapping[str, Estimate]], priced: bool = True) -> Table:
    """Agent groups (and ``overall``) as rows: occupancy, agents busy and on duty, cost."""
    table = Table(title="agent groups: mean [95% CI]", title_justify="left")
    table.add_column("group")
    columns = [c for c in GROUP_COLUMNS if priced or c != "cost"]
    heads = {"occupancy": "occupancy", "busy_agents": "busy agents", "on_duty": "on duty", "cost": "cost"}
    for c in columns:
        table.add_column(heads[c], justify="right")
    names = list(groups)
    if len(names) > MAX_TABLE_GROUPS:  # the first ones, then overall
        left = len(names) - MAX_TABLE_GROUPS
        names = [n for n in names if n != "overall"][: MAX_TABLE_GROUPS - 1] + ["overall"] * (
            "overall" in groups
        )
        table.title = (
            f"agent groups: mean [95% CI] ({left:,} more groups not shown; --json or --out give all)"
        )
    for name in names:
        metrics = groups[name]
        if name == "overall":
            table.add_section()
        table.add_row(
            excerpt(name, 40), *(fmt_estimate(c, metrics[c]) if c in metrics else "" for c in columns)
        )
    return table


def run_tables(result: Any) -> str:
    """What `staffsim run` prints: the channel table, then the agent-group table."""
    scenario = result.scenario
    title = f"{scenario.name}: {replications_text(result.n)}, seed {result.seed}, mean [95% CI]"
    text = render(summary_table(title, result.channel_estimates(), channel_rows([scenario])))
    groups = result.group_estimates()
    text += render(group_table(groups, is_priced(scenario)))
    overall = groups.get("overall", {})
    extra = []
    if is_priced(scenario) and has_journeys(scenario) and "cost_per_resolved_journey" in overall:
        extra.append(
            f"cost per resolved journey: {fmt_estimate('cost_per_resolved_journey', overall['cost_per_resolved_journey'])}"
        )
    if any(ch.kind is not None and ch.kind.value == "social" for ch in scenario.channels.values()) and (
        "public_sentiment" in overall
    ):
        extra.append(
            f"public sentiment (0-100): {fmt_estimate('public_sentiment', overall['public_sentiment'])}"
        )
    return text + "".join(f"{line}\n" for line in extra)


def comparison_table(comparison: Any, metrics: tuple[str, ...]) -> Table:
    """Per variant: baseline, variant and paired difference [95% CI]; * where the CI excludes 0.

    Rows: `metrics` per channel, the journey figures the scenarios configure, then
    occupancy (and cost, when priced) per agent group.
    """
    n = comparison.n
    scenarios = [comparison.baseline.scenario, *(r.scenario for r in comparison.variants.values())]
    channel, group = compare_metrics(scenarios, metrics)
    title = (
        f"{visible(comparison.baseline.scenario.name)}: variants vs baseline, {n} paired replication"
        f"{'' if n == 1 else 's'} (difference = variant − baseline, mean [95% CI]; pp: percentage points;"
        " * the CI excludes 0)"
    )
    table = Table(
        title=title, title_justify="left", min_width=min(len(title), TITLE_MAX)
    )  # title on one line
    for col in ("variant", "channel or group", "metric", "baseline", "variant mean", "difference", ""):
        table.add_column(col, justify="left" if col in ("variant", "channel or group", "metric") else "right")
    frame = comparison.table()
    frame = frame[
        ((frame.scope == "channel") & frame.metric.isin(channel))
        | ((frame.scope == "group") & frame.metric.isin(group))
    ]
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
            fmt_difference(row.metric, diff),
            "*" if row.significant else "",
        )
    return table


SWEEP_COLUMNS = ("service_level", "asa_s", "abandon_rate")
"""Channel metrics `staffsim sweep` prints per point."""


def sweep_table(frame: pd.DataFrame, dims: Sequence[str], metrics: Sequence[str] = SWEEP_COLUMNS) -> Table:
    """One row per grid point and channel: mean [95% CI] over the point's replications."""
    rows = frame[(frame["scope"] == "channel") & frame["metric"].isin(list(metrics))]
    n = int(frame["replication"].nunique()) if len(frame) else 0
    table = Table(title=f"mean [95% CI] over {replications_text(n)} per point", title_justify="left")
    for col in ("point", *dims, "channel"):
        table.add_column(col)
    for m in metrics:
        table.add_column(m, justify="right")
    last = None
    for key, sub in rows.groupby(["point", *dims, "name"], sort=True):
        if last is not None and key[0] != last:
            table.add_section()
        last = key[0]
        cells = {
            str(m): fmt_estimate(str(m), metric_ci(g["value"].to_numpy(dtype=float), str(m)))
            for m, g in sub.groupby("metric", sort=False)
        }
        table.add_row(*(excerpt(str(k), 40) for k in key), *(cells.get(m, "") for m in metrics))
    return table


def render(table: Table, width: int = 160) -> str:
    """Render a rich table to plain text (no colour codes)."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(table)
    return console.export_text()
