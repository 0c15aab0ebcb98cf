"""Charts and HTML fragments of the app's answers: KPI cards, paired differences, the plan.

Pure functions of the plain mappings that the worker returns (`run --json`,
`compare` tables, `optimize --json`), so that what the page shows is exactly what the CLI
prints for the same scenario and seed. Every number carries a ``data-value`` attribute with
the full value, and its element a ``data-kpi`` / ``data-diff`` / ``data-plan`` key.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from sim.report.tables import duration_unit

PERCENT = {"service_level", "abandon_rate", "occupancy", "p_wait"}
KPI_CHANNEL = (("service_level", "Service level"), ("asa_s", "ASA"), ("abandon_rate", "Abandonment"))
KPI_OVERALL = (("occupancy", "Occupancy"), ("cost", "Cost"))
DIFF_CHANNEL = ("service_level", "asa_s", "abandon_rate")
DIFF_GROUP = ("occupancy", "cost")


def number(metric: str, value: float | None, signed: bool = False, unit: float | None = None) -> str:
    """A value as the page shows it: rates in %, costs whole, durations as `staffsim run` does.

    Durations are in seconds, minutes or hours, whichever fits.

    Args:
        metric: the metric's key; durations end in ``_s``.
        value: the value (seconds for durations); None or not finite shows ``—``.
        signed: a difference: with its sign, rates in percentage points.
        unit: for a duration, show it in the unit that fits this many seconds instead of
            `value` (a CI in the unit of its mean).
    """
    if value is None or not math.isfinite(value):
        return "—"
    sign = "+" if signed else ""
    if metric in PERCENT:
        return f"{value * 100:{sign}.1f} %" if not signed else f"{value * 100:+.1f} pp"
    if metric.endswith("_s"):
        name, size = duration_unit(value if unit is None or not math.isfinite(unit) else unit)
        return f"{value / size:{sign},.1f} {name}"
    return f"{value:{sign},.0f}"


def _ci(metric: str, est: Mapping[str, float | None], signed: bool = False) -> str:
    low, high, mean = est.get("ci_low"), est.get("ci_high"), est.get("mean")
    if low is None or high is None:
        return "95 % CI —"
    return f"95 % CI [{number(metric, low, signed, mean)}, {number(metric, high, signed, mean)}]"


def _card(key: str, title: str, metric: str, est: Mapping[str, float | None]) -> str:
    mean = est.get("mean")
    return (
        f'<div class="kpi" data-kpi="{html.escape(key)}">'
        f'<div class="kpi-title">{html.escape(title)}</div>'
        f'<div class="kpi-mean" data-value="{mean!r}">{number(metric, mean)}</div>'
        f'<div class="kpi-ci">{_ci(metric, est)}</div></div>'
    )


CARD_STYLE = (
    "<style>.kpis{display:flex;flex-wrap:wrap;gap:8px}.kpi{border:1px solid #ccd;border-radius:6px;"
    "padding:6px 10px;min-width:150px}.kpi-title{font-size:12px;color:#556}.kpi-mean{font-size:22px;"
    "font-weight:600}.kpi-ci{font-size:11px;color:#667}table.diff td,table.diff th{padding:2px 8px;"
    "border-bottom:1px solid #eee;text-align:right}table.diff td:first-child{text-align:left}"
    ".sig{font-weight:600}</style>"
)


def kpi_cards(result: Mapping[str, Any], priced: bool = True) -> str:
    """KPI cards of a `run --json` object: per channel, then occupancy and cost overall.

    Args:
        result: the `run --json` object.
        priced: whether some agent group has a cost per hour; without one there is no
            cost card (as `staffsim run` shows no cost column).
    """
    rows = []
    for channel, metrics in result["channels"].items():
        cards = [
            _card(f"{channel}.{m}", f"{channel} · {title}", m, metrics.get(m, {})) for m, title in KPI_CHANNEL
        ]
        rows.append(f'<div class="kpis">{"".join(cards)}</div>')
    overall = result["groups"].get("overall", {})
    cards = [
        _card(f"overall.{m}", f"all agents · {title}", m, overall.get(m, {}))
        for m, title in KPI_OVERALL
        if priced or m != "cost"
    ]
    rows.append(f'<div class="kpis">{"".join(cards)}</div>')
    head = f"<p>{html.escape(str(result['scenario']))}: {result['replications']} replications, seed {result['seed']}, mean and 95 % CI</p>"
    return CARD_STYLE + head + "".join(rows)


def diff_table(
    records: Sequence[Mapping[str, Any]], variants: Sequence[str] = ("move", "hire"), priced: bool = True
) -> str:
    """Paired differences (variant − today) with 95 % CIs, per channel and for cost and occupancy.

    Args:
        records: the rows of `sim.compare(...).table()`.
        variants: the variants' names, in the order of the columns.
        priced: whether some agent group, today or in a variant, has a cost per hour; without
            one there is no cost row (a hire would show as costing nothing).
    """
    cell: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    order: list[tuple[str, str]] = []
    for r in records:
        wanted = (r["scope"] == "channel" and r["metric"] in DIFF_CHANNEL) or (
            r["scope"] == "group"
            and r["name"] == "overall"
            and r["metric"] in DIFF_GROUP
            and (priced or r["metric"] != "cost")
        )
        if not wanted:
            continue
        cell[(r["variant"], r["name"], r["metric"])] = r
        if (r["name"], r["metric"]) not in order:
            order.append((r["name"], r["metric"]))
    head = "".join(f"<th>{html.escape(v)} − today [95 % CI]</th>" for v in variants)
    lines = [f'<table class="diff"><tr><th>what</th><th>today</th>{head}</tr>']
    for name, metric in order:
        first = next(cell[(v, name, metric)] for v in variants if (v, name, metric) in cell)
        tds = []
        for v in variants:
            found = cell.get((v, name, metric))
            if found is None:
                tds.append("<td>—</td>")
                continue
            r = found
            est = {"mean": r["diff_mean"], "ci_low": r["diff_ci_low"], "ci_high": r["diff_ci_high"]}
            mark = ' class="sig"' if r["significant"] else ""
            tds.append(
                f'<td data-diff="{html.escape(f"{v}.{name}.{metric}")}"{mark}>'
                f'<span class="diff-mean" data-value="{r["diff_mean"]!r}">{number(metric, r["diff_mean"], True)}</span>'
                f" {_ci(metric, est, True).removeprefix('95 % CI ')}{' *' if r['significant'] else ''}</td>"
            )
        label = f"{name} · {metric}" if name != "overall" else f"all agents · {metric}"
        lines.append(
            f"<tr><td>{html.escape(label)}</td><td>{number(metric, first['baseline_mean'])}</td>{''.join(tds)}</tr>"
        )
    lines.append("</table>")
    return CARD_STYLE + "".join(lines)


def plan_table(plan: Mapping[str, Any], current: Mapping[str, int | None]) -> str:
    """The optimiser's plan: agents per group today, at the Erlang start and in the plan; targets."""
    rows = ['<table class="diff"><tr><th>group</th><th>today</th><th>Erlang start</th><th>plan</th></tr>']
    for group, count in plan["agents"].items():
        today = current.get(group)
        rows.append(
            f"<tr><td>{html.escape(group)}</td><td>{'—' if today is None else today}</td>"
            f'<td>{plan["start"].get(group, "—")}</td><td data-plan="{html.escape(group)}" '
            f'data-value="{count}">{count}</td></tr>'
        )
    rows.append(
        f"<tr><td>total</td><td>{sum(c or 0 for c in current.values())}</td>"
        f"<td>{plan['start_total']}</td><td>{plan['total_agents']}</td></tr></table>"
    )
    rows.append('<table class="diff"><tr><th>target</th><th>achieved [95 % CI]</th><th>met</th></tr>')
    for t in plan["targets"]:
        metric = t["target"].split(".", 1)[-1].split("<")[0].split(">")[0].strip()
        rows.append(
            f"<tr><td>{html.escape(t['target'])}</td><td>{number(metric, t['mean'])} {_ci(metric, t).removeprefix('95 % CI ')}</td>"
            f"<td>{'yes' if t['met'] else 'no'}</td></tr>"
        )
    rows.append("</table>")
    notes = [plan["note"]] if plan.get("note") else []
    notes += list(plan.get("warnings", []))
    rows += [f"<p>{html.escape(str(n))}</p>" for n in notes]
    return CARD_STYLE + "".join(rows)


def plan_chart(plan: Mapping[str, Any], current: Mapping[str, int | None]) -> Figure:
    """Bars per group: agents today, at the Erlang start and in the plan."""
    fig = Figure(figsize=(6.0, 3.0), layout="constrained")
    ax = fig.subplots()
    groups = list(plan["agents"])
    width = 0.27
    series = (
        ("today", [current.get(g) or 0 for g in groups], "#bbbbbb"),
        ("Erlang start", [plan["start"].get(g, 0) for g in groups], "#8fb3d9"),
        ("plan", [plan["agents"][g] for g in groups], "#1f5fa8"),
    )
    for i, (label, values, colour) in enumerate(series):
        xs = [j + (i - 1) * width for j in range(len(groups))]
        bars = ax.bar(xs, values, width, label=label, color=colour)
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("agents")
    ax.set_title("Staffing plan: " + ("every target met" if plan["met"] else "not every target met"))
    ax.legend(fontsize=8)
    return fig


def _targets_met(plan: Mapping[str, Any]) -> str:
    """Each target of a per-interval or shift plan: met in every interval, or the intervals missed."""
    rows = [
        '<table class="diff"><tr><th>target</th><th>whole run [95 % CI]</th><th>met in every interval</th></tr>'
    ]
    for t in plan["targets"]:
        metric = t["target"].split(".", 1)[-1].split("<")[0].split(">")[0].strip()
        missed = ", ".join(t["missed_intervals"])
        rows.append(
            f"<tr><td>{html.escape(t['target'])}</td><td>{number(metric, t['overall'].get('mean'))} "
            f"{_ci(metric, t['overall']).removeprefix('95 % CI ')}</td>"
            f"<td>{'yes' if t['met'] else html.escape('no: ' + missed)}</td></tr>"
        )
    rows.append("</table>")
    notes = [plan["note"]] if plan.get("note") else []
    notes += list(plan.get("warnings", []))
    rows += [f"<p>{html.escape(str(n))}</p>" for n in notes]
    return "".join(rows)


def interval_table(plan: Mapping[str, Any]) -> str:
    """A per-interval plan (`optimize --per-interval --json`): agents per interval and group; targets.

    Each count's cell has ``data-plan="GROUP@INTERVAL"``.
    """
    groups = list(plan["tables"])
    head = "".join(f"<th>{html.escape(g)} (start)</th><th>{html.escape(g)} plan</th>" for g in groups)
    rows = [f'<table class="diff plan-intervals"><tr><th>interval</th>{head}</tr>']
    for k, label in enumerate(plan["labels"]):
        cells = "".join(
            f"<td>{plan['start'][g][k]}</td>"
            f'<td data-plan="{html.escape(f"{g}@{label}")}" data-value="{plan["tables"][g][k]}">'
            f"{plan['tables'][g][k]}</td>"
            for g in groups
        )
        rows.append(f"<tr><td>{html.escape(label)}</td>{cells}</tr>")
    hours = "".join(
        f"<td>{number('', plan['start_agent_hours']) if i == 0 else ''}</td><td>{number('', plan['agent_hours'][g])}</td>"
        for i, g in enumerate(groups)
    )
    rows.append(f"<tr><td>agent-hours</td>{hours}</tr></table>")
    return CARD_STYLE + "".join(rows) + _targets_met(plan)


def shift_table(plan: Mapping[str, Any]) -> str:
    """A shift plan (`optimize --shifts --json`): agents on each shift of each group; targets.

    Each count's cell has ``data-plan="GROUP#K"`` (K: the shift's place in the group, from 0).
    """
    rows = [
        '<table class="diff plan-shifts"><tr><th>group</th><th>shift</th><th>start</th><th>plan</th>'
        "<th>paid hours each</th></tr>"
    ]
    for group, shifts in plan["groups"].items():
        for k, s in enumerate(shifts):
            rows.append(
                f"<tr><td>{html.escape(group)}</td><td>{html.escape(s['shift'])}</td><td>{s['start']}</td>"
                f'<td data-plan="{html.escape(f"{group}#{k}")}" data-value="{s["count"]}">{s["count"]}</td>'
                f"<td>{number('', s['paid_hours_each'])}</td></tr>"
            )
    rows.append(
        f"<tr><td>agent-hours</td><td></td><td>{number('', plan['start_agent_hours'])}</td>"
        f"<td>{number('', plan['total_agent_hours'])}</td><td></td></tr></table>"
    )
    return CARD_STYLE + "".join(rows) + _targets_met(plan)


def shift_chart(plan: Mapping[str, Any]) -> Figure:
    """Bars per shift: agents at the Erlang start (greedy cover) and in the plan."""
    fig = Figure(figsize=(6.0, 3.0), layout="constrained")
    ax = fig.subplots()
    names = [f"{g}\n{s['shift']}" for g, shifts in plan["groups"].items() for s in shifts]
    start = [s["start"] for shifts in plan["groups"].values() for s in shifts]
    counts = [s["count"] for shifts in plan["groups"].values() for s in shifts]
    width = 0.4
    for i, (label, values, colour) in enumerate((("start", start, "#8fb3d9"), ("plan", counts, "#1f5fa8"))):
        bars = ax.bar(
            [j + (i - 0.5) * width for j in range(len(names))], values, width, label=label, color=colour
        )
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(names)), names, fontsize=7)
    ax.set_ylabel("agents")
    ax.set_title("Shift plan: " + ("every target met" if plan["met"] else "not every target met"))
    ax.legend(fontsize=8)
    return fig
