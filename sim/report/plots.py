"""Figures of results: queues and agents through the day, service by interval, waits, comparisons.

Every function takes the tables that staffsim's results already are — `RunResult.intervals()`,
`RunResult.contacts()`, `CompareResult.table()`, the sweep table, or the same tables read back
from a result folder — and returns a matplotlib `Figure`. None of them sees the model;
`staffing_plan` draws an `IntervalPlan`, whose offered load the plan computes itself
(`IntervalPlan.offered_load`), so this module imports nothing above it.

Figures are built with the object-oriented API on an Agg canvas, never through pyplot: no
global figure list to close, no window, safe in worker processes and web servers. Save one
with ``fig.savefig("queue.png")``; in a notebook, ``display(fig)`` after ``%matplotlib inline``.

Across replications, every band and error bar is a 95 % Student-t interval of the
per-replication values (replications are independent); with one replication there is no
band. Channels keep the same colour in every figure.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.metrics.stats import bounded_ci, scale_of

if TYPE_CHECKING:
    from sim.planning.intervals.plan import IntervalPlan

__all__ = [
    "axis_values",
    "comparison_bars",
    "groups_over_day",
    "queue_and_busy_over_day",
    "scaling_curves",
    "service_level_by_interval",
    "staffing_plan",
    "sweep_heatmap",
    "wait_cdf",
]

_DAY_S = 86_400.0
_RATES = {"service_level", "p_wait", "abandon_rate", "occupancy"}
"""Metrics that are fractions: drawn as percentages (differences as percentage points)."""
_HIGHER_IS_BETTER = {"service_level", "answered", "occupancy"}
_LOWER_IS_BETTER = {"asa_s", "mean_wait_s", "abandon_rate", "p_wait", "queue_length", "backlog_end"}
_KNOWN_COLOURS = {"phone": "tab:blue", "email": "tab:orange", "social": "tab:green", "overall": "black"}
_CYCLE = ["tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray"]
_MAX_CDF_POINTS = 4_000
_TICK_MINUTES = (15, 30, 60, 120, 180, 240, 360, 480, 720, 1440)
"""Spacings of labelled ticks along a staffing table, the shortest that keeps them few."""
_MAX_TICKS = 14


F = TypeVar("F", bound=Callable[..., Any])


def _literal_text(fn: F) -> F:
    """Make every text of the plot literal, so a `$` in a name is not a formula.

    A `$` in a channel, group or variant name would otherwise start a matplotlib formula,
    which fails to parse and loses the report. The setting is read as each text is created,
    so the figure is drawn once inside it too: that creates the tick labels now.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context({"text.parse_math": False}):
            fig = fn(*args, **kwargs)
            if isinstance(fig, Figure):
                fig.canvas.draw()
            return fig

    return cast(F, wrapper)


def _figure(rows: int, cols: int, width: float, height: float, sharex: bool = False) -> tuple[Figure, Any]:
    """A figure on an Agg canvas with a grid of axes (a 2-D array, even for one axes)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=sharex)
    return fig, axes


def _colour(name: str, names: Sequence[str]) -> str:
    """Stable colour: fixed for phone, email, social and overall; others by position."""
    if name in _KNOWN_COLOURS:
        return _KNOWN_COLOURS[name]
    others = [n for n in names if n not in _KNOWN_COLOURS]
    return _CYCLE[others.index(name) % len(_CYCLE)] if name in others else _CYCLE[0]


def _mean_ci(frame: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Mean and 95 % interval of `value` over the rows of each `by` group (NaN ignored).

    The interval is the one tables and JSON show (`sim.metrics.stats.bounded_ci`, on the
    scale of the metric `value`: inside [0, 1] for a proportion, above 0 for a count); with
    one row it is left undefined (no band).
    """
    g = frame.groupby(by, observed=True, sort=True)[value]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.count()})
    n = out["n"].to_numpy(dtype=np.float64)
    lo, hi = bounded_ci(
        out["mean"].to_numpy(dtype=np.float64), out["sd"].to_numpy(dtype=np.float64), n, scale_of(value)
    )
    out["ci_low"] = np.where(n > 1, lo, np.nan)
    out["ci_high"] = np.where(n > 1, hi, np.nan)
    return out.reset_index()


def _channels(frame: pd.DataFrame) -> list[str]:
    """Channel names in order of first appearance."""
    return [str(c) for c in pd.unique(frame["channel"].astype(str))]


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")


def _band(ax: Axes, x: np.ndarray, stats: pd.DataFrame, colour: str, label: str, scale: float = 1.0) -> None:
    """A step line of interval means with its CI band; `x` holds the left edges plus one end."""
    if stats.empty:
        return
    y = np.append(stats["mean"].to_numpy(dtype=np.float64), np.nan) * scale
    lo = np.append(stats["ci_low"].to_numpy(dtype=np.float64), np.nan) * scale
    hi = np.append(stats["ci_high"].to_numpy(dtype=np.float64), np.nan) * scale
    y[-1], lo[-1], hi[-1] = y[-2], lo[-2], hi[-2]
    ax.step(x, y, where="post", color=colour, label=label)
    if np.isfinite(lo).any():
        ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.2, linewidth=0)


def _edges(starts: np.ndarray, width: float) -> np.ndarray:
    return np.append(starts, starts[-1] + width) if len(starts) else starts


def _interval_width(intervals: pd.DataFrame) -> float:
    starts = np.unique(intervals["start_s"].to_numpy(dtype=np.float64))
    return float(np.min(np.diff(starts))) if len(starts) > 1 else 1800.0


@_literal_text
def queue_and_busy_over_day(intervals: pd.DataFrame, group_intervals: pd.DataFrame | None = None) -> Figure:
    """Mean queue length per channel, and busy and on-duty agents, by time of day.

    One panel per channel (time-average number waiting) and, given `group_intervals`, a last
    panel with busy agents and agents on duty summed over all groups. Days of a multi-day run
    are averaged within each replication; the band is the 95 % CI across replications.

    Args:
        intervals: the table of `RunResult.intervals()` (or `intervals.csv` of `run --out`):
            columns `replication`, `channel`, `start_s`, `queue_length`.
        group_intervals: the table of `RunResult.group_intervals()` (or `group_intervals.csv`):
            columns `replication`, `group`, `start_s`, `busy_agents`, `on_duty`; without it
            the agents panel is left out.

    Returns:
        The figure.
    """
    channels = _channels(intervals)
    width = _interval_width(intervals)
    frame = intervals.assign(tod_s=intervals["start_s"].to_numpy(dtype=np.float64) % _DAY_S)
    per_rep = frame.groupby(["replication", "channel", "tod_s"], observed=True, sort=True)[
        ["queue_length"]
    ].mean()
    per_rep = per_rep.reset_index()
    n_rep = frame["replication"].nunique()
    panels = len(channels) + (group_intervals is not None)
    fig, axes = _figure(panels, 1, 8.0, 1.9 * panels + 0.6, sharex=True)
    for ax, ch in zip(axes[: len(channels), 0], channels, strict=True):
        stats = _mean_ci(per_rep[per_rep["channel"].astype(str) == ch], ["tod_s"], "queue_length")
        x = _edges(stats["tod_s"].to_numpy(dtype=np.float64), width) / 3600.0
        _band(ax, x, stats, _colour(ch, channels), ch)
        ax.set_ylabel(f"{ch}\nwaiting")
        ax.set_ylim(bottom=0)
    if group_intervals is not None:
        agents = (
            group_intervals.groupby(["replication", "start_s"], sort=True)[["busy_agents", "on_duty"]]
            .sum(min_count=1)
            .reset_index()
        )
        agents["tod_s"] = agents["start_s"].to_numpy(dtype=np.float64) % _DAY_S
        agents = agents.groupby(["replication", "tod_s"], sort=True)[["busy_agents", "on_duty"]].mean()
        agents = agents.reset_index()
        ax = axes[-1, 0]
        for column, colour, label in (("on_duty", "0.55", "on duty"), ("busy_agents", "tab:red", "busy")):
            stats = _mean_ci(agents, ["tod_s"], column)
            x = _edges(stats["tod_s"].to_numpy(dtype=np.float64), width) / 3600.0
            _band(ax, x, stats, colour, label)
        ax.set_ylabel("agents\n(all groups)")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", fontsize="small")
    axes[-1, 0].set_xlabel("time of day (h)")
    axes[-1, 0].set_xlim(0, 24)
    axes[-1, 0].set_xticks(range(0, 25, 3))
    what = "Queue length and agents" if group_intervals is not None else "Queue length"
    fig.suptitle(f"{what} by time of day (mean of {n_rep} replications, 95% CI)")
    return fig


@_literal_text
def groups_over_day(group_intervals: pd.DataFrame) -> Figure:
    """Per agent group: agents on duty, agents busy and occupancy by time of day.

    One panel per group: on-duty and busy agents (left axis) and occupancy (right axis,
    percent). Days of a multi-day run are averaged within each replication; bands are the
    95 % CI across replications (occupancy's inside 0-100 %).

    Args:
        group_intervals: the table of `RunResult.group_intervals()` (or `group_intervals.csv`
            of `run --out`): columns `replication`, `group`, `start_s`, `busy_agents`,
            `on_duty`, `occupancy`.

    Returns:
        The figure.
    """
    groups = [str(g) for g in pd.unique(group_intervals["group"].astype(str))]
    width = _interval_width(group_intervals)
    frame = group_intervals.assign(tod_s=group_intervals["start_s"].to_numpy(dtype=np.float64) % _DAY_S)
    per_rep = (
        frame.groupby(["replication", "group", "tod_s"], observed=True, sort=True)[["busy_agents", "on_duty"]]
        .mean()
        .reset_index()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        per_rep["occupancy"] = np.where(
            per_rep["on_duty"] > 0, per_rep["busy_agents"] / per_rep["on_duty"], np.nan
        )
    n_rep = frame["replication"].nunique()
    fig, axes = _figure(len(groups), 1, 8.0, 1.9 * len(groups) + 0.6, sharex=True)
    for ax, g in zip(axes[:, 0], groups, strict=True):
        rows = per_rep[per_rep["group"].astype(str) == g]
        for column, colour, label in (("on_duty", "0.55", "on duty"), ("busy_agents", "tab:red", "busy")):
            stats = _mean_ci(rows, ["tod_s"], column)
            _band(ax, _edges(stats["tod_s"].to_numpy(dtype=np.float64), width) / 3600.0, stats, colour, label)
        ax.set_ylabel(f"{g}\nagents")
        ax.set_ylim(bottom=0)
        right = ax.twinx()
        stats = _mean_ci(rows, ["tod_s"], "occupancy")
        _band(
            right,
            _edges(stats["tod_s"].to_numpy(dtype=np.float64), width) / 3600.0,
            stats,
            "tab:blue",
            "occupancy",
            100.0,
        )
        right.set_ylim(0, 100)
        right.yaxis.set_major_formatter(PercentFormatter())
    axes[0, 0].legend(loc="upper left", fontsize="small")
    axes[-1, 0].set_xlabel("time of day (h)")
    axes[-1, 0].set_xlim(0, 24)
    axes[-1, 0].set_xticks(range(0, 25, 3))
    fig.suptitle(f"Agents and occupancy per group by time of day (mean of {n_rep} replications, 95% CI)")
    return fig


@_literal_text
def service_level_by_interval(intervals: pd.DataFrame, goal: float | None = None) -> Figure:
    """Service level per channel in every interval of the run, with the contacts offered.

    The service level of an interval counts the contacts that arrived in it (answered within
    target ÷ answered and abandoned). Light bars (right axis) show the mean number offered,
    so a noisy level in a quiet interval reads as such.

    Args:
        intervals: the table of `RunResult.intervals()`: columns `replication`, `channel`,
            `start_s`, `offered`, `service_level`.
        goal: a target service level (say 0.8) to draw as a dashed line.

    Returns:
        The figure, one panel per channel, time in hours (days past two days) from the start.
    """
    channels = _channels(intervals)
    width = _interval_width(intervals)
    horizon = float(intervals["start_s"].max()) + width
    unit, div = ("day", _DAY_S) if horizon > 2 * _DAY_S else ("h", 3600.0)
    n_rep = intervals["replication"].nunique()
    fig, axes = _figure(len(channels), 1, 9.0, 2.2 * len(channels) + 0.6, sharex=True)
    for ax, ch in zip(axes[:, 0], channels, strict=True):
        rows = intervals[intervals["channel"].astype(str) == ch]
        offered = rows.groupby("start_s", sort=True)["offered"].mean()
        twin = ax.twinx()
        twin.bar(
            offered.index.to_numpy(dtype=np.float64) / div,
            offered.to_numpy(dtype=np.float64),
            width=width / div,
            align="edge",
            color="0.85",
            zorder=0,
        )
        twin.set_ylabel("offered", color="0.5")
        twin.tick_params(axis="y", colors="0.5")
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
        stats = _mean_ci(rows, ["start_s"], "service_level")
        if stats["mean"].notna().any():
            x = _edges(stats["start_s"].to_numpy(dtype=np.float64), width) / div
            _band(ax, x, stats, _colour(ch, channels), ch)
        else:
            _empty(ax, "no contact ended")
        if goal is not None:
            ax.axhline(goal, color="0.3", linestyle="--", linewidth=1)
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel(f"{ch}\nservice level")
    axes[-1, 0].set_xlabel(f"time from the start ({unit})")
    axes[-1, 0].set_xlim(0, horizon / div)
    fig.suptitle(f"Service level by interval (mean of {n_rep} replications, 95% CI; bars: offered)")
    return fig


def _wait_unit(reference_s: float) -> tuple[str, float]:
    if reference_s <= 300:
        return "s", 1.0
    if reference_s <= 5 * 3600:
        return "min", 60.0
    return "h", 3600.0


@_literal_text
def wait_cdf(contacts: pd.DataFrame, targets: Mapping[str, float] | None = None) -> Figure:
    """Empirical distribution of waits per channel, pooled over replications.

    Only counted contacts (arrived after the warm-up) enter. The solid line is every counted
    contact (answered: wait until taken; abandoned: until giving up; open at the horizon:
    until the horizon), the dashed line answered contacts only. The height at zero is the
    share that did not wait.

    Args:
        contacts: the table of `RunResult.contacts()` (or `contacts.parquet` of `run --out`):
            columns `channel`, `wait_s`, `outcome`, `counted`.
        targets: channel → answer-within target in seconds; each is drawn as a vertical line
            with the share of contacts that waited at most that long.

    Returns:
        The figure, one panel per channel; the time unit (s, min, h) suits each channel.
    """
    counted = contacts[contacts["counted"].astype(bool)]
    channels = [str(c) for c in pd.unique(contacts["channel"].astype(str))]
    cols = min(3, max(1, len(channels)))
    rows = math.ceil(len(channels) / cols) if channels else 1
    fig, axes = _figure(rows, cols, 4.0 * cols, 3.2 * rows)
    for ax in axes.flat[len(channels) :]:
        ax.set_visible(False)
    for ax, ch in zip(axes.flat, channels, strict=False):
        sel = counted[counted["channel"].astype(str) == ch]
        waits = np.sort(sel["wait_s"].to_numpy(dtype=np.float64))
        target = None if targets is None else targets.get(ch)
        if len(waits) == 0:
            _empty(ax, "no counted contacts")
            ax.set_title(ch)
            continue
        # The axis follows the waits; a target far beyond them is written, not drawn.
        spread = float(np.quantile(waits, 0.995))
        right_s = 1.05 * spread if spread > 0 else 1.5 * (target or 1.0)
        if target is not None and target <= 2 * right_s:
            right_s = max(right_s, 1.3 * target)
        unit, div = _wait_unit(right_s)
        right = right_s / div
        answered = np.sort(sel.loc[sel["outcome"].astype(str) == "answered", "wait_s"].to_numpy(np.float64))
        for values, style, label in ((waits, "-", "all counted"), (answered, "--", "answered")):
            if len(values):
                idx = np.unique(np.linspace(0, len(values) - 1, _MAX_CDF_POINTS).astype(np.int64))
                ax.step(
                    np.append(0.0, values[idx] / div),
                    np.append(0.0, (idx + 1) / len(values)),
                    where="post",
                    linestyle=style,
                    color=_colour(ch, channels),
                    label=label,
                )
        if target is not None:
            share = float(np.mean(waits <= target))
            t_unit, t_div = _wait_unit(target)
            text = f"target {target / t_div:g} {t_unit}: {share:.0%} within"
            if target / div <= right:
                ax.axvline(target / div, color="0.3", linestyle=":", linewidth=1)
                ax.annotate(
                    text, xy=(target / div, min(share, 0.9)), xytext=(6, -14),
                    textcoords="offset points", fontsize="small",
                )  # fmt: skip
            else:
                ax.text(
                    0.97, 0.5, text + " (off the axis)", ha="right", transform=ax.transAxes, fontsize="small"
                )
        ax.set_xlim(0, right)
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel(f"wait ({unit})")
        ax.set_title(f"{ch} ({len(waits):,} contacts)")
        ax.legend(loc="lower right", fontsize="small")
    axes[0, 0].set_ylabel("share waited at most")
    fig.suptitle("Distribution of waits (counted contacts, all replications)")
    return fig


@_literal_text
def comparison_bars(comparison_table: pd.DataFrame, metric: str, scope: str = "channel") -> Figure:
    """Paired difference (variant − baseline) of one metric per variant and channel, with 95 % CIs.

    A bar marked ``*`` has a CI that excludes zero. Channels that only a variant has (no
    baseline to pair with) are left out. Rates are drawn in percentage points.

    Args:
        comparison_table: the table of `CompareResult.table()` (`sim.compare`, `comparison.csv`):
            columns `variant`, `scope`, `name`, `metric`, `diff_mean`, `diff_ci_low`,
            `diff_ci_high`, `significant`.
        metric: a channel metric (``"service_level"``, ``"asa_s"``…) or, with
            ``scope="group"``, a group metric (``"occupancy"``).
        scope: ``"channel"`` or ``"group"``.

    Returns:
        The figure: one row of bars per variant, one bar per channel (or group).
    """
    t = comparison_table
    rows = t[(t["metric"] == metric) & (t["scope"] == scope) & np.isfinite(t["diff_mean"].astype(float))]
    variants = [str(v) for v in pd.unique(t["variant"].astype(str))]
    names = [str(n) for n in pd.unique(rows["name"].astype(str))]
    scale, unit = (100.0, " (percentage points)") if metric in _RATES else (1.0, "")
    fig, axes = _figure(1, 1, 8.0, 1.0 + 0.45 * max(1, len(variants)) * max(1, len(names)) ** 0.5)
    ax = axes[0, 0]
    if rows.empty:
        _empty(ax, f"no paired differences for {metric}")
    height = 0.8 / max(1, len(names))
    for j, name in enumerate(names):
        sub = rows[rows["name"].astype(str) == name]
        sub = sub.set_index(sub["variant"].astype(str)).reindex(variants)
        y = np.arange(len(variants)) - 0.4 + height * (j + 0.5)
        mean = sub["diff_mean"].to_numpy(dtype=np.float64) * scale
        lo = sub["diff_ci_low"].to_numpy(dtype=np.float64) * scale
        hi = sub["diff_ci_high"].to_numpy(dtype=np.float64) * scale
        err = np.vstack([mean - lo, hi - mean])
        err = np.where(np.isfinite(err), err, 0.0)
        ax.barh(y, mean, height=height * 0.9, color=_colour(name, names), label=name, alpha=0.85)
        # A tick marks the mean, so a difference of exactly zero still shows.
        ax.errorbar(mean, y, xerr=err, fmt="|", color=_colour(name, names), ecolor="0.15", capsize=3, lw=1)
        for yi, mi, lo_i, hi_i, sig in zip(y, mean, lo, hi, sub["significant"].to_numpy(), strict=True):
            if isinstance(sig, (bool, np.bool_)) and sig and np.isfinite(mi):
                far = lo_i if mi < 0 else hi_i  # beyond the end of the interval, away from zero
                edge = far if np.isfinite(far) else mi
                ax.text(edge, yi, " * ", ha="left" if mi >= 0 else "right", va="center", fontsize="large")
    ax.axvline(0, color="0.2", linewidth=1)
    ax.set_yticks(np.arange(len(variants)), labels=variants)
    ax.invert_yaxis()
    ax.set_xlabel(f"{metric}: variant − baseline{unit}")
    if names:
        ax.legend(loc="best", fontsize="small", title=scope)
    fig.suptitle(f"{metric}: paired difference with 95% CI (* the CI excludes 0)")
    return fig


def axis_values(values: pd.Series) -> list[Any]:
    """Distinct values of a grid column: sorted when they can be, else in order of appearance."""
    distinct = list(pd.unique(values))
    try:
        return sorted(distinct)
    except TypeError:
        return distinct


@_literal_text
def sweep_heatmap(sweep_table: pd.DataFrame, x: str, y: str, channel: str, metric: str) -> Figure:
    """Mean of one metric over replications at every (x, y) point of a sweep.

    Grid columns other than `x` and `y` are averaged over. Colours run from red (bad) to
    green (good) for metrics with a known good direction, and cells are annotated with their
    value when the grid is small enough to read.

    Args:
        sweep_table: the tidy table of `sim.sweep` (`sweep.csv`): columns `point`, one per
            grid key path, `replication`, `scope`, `name`, `metric`, `value`.
        x: the grid column along the horizontal axis.
        y: the grid column along the vertical axis.
        channel: the channel (or agent group, or ``"overall"``) in the `name` column.
        metric: the metric, e.g. ``"service_level"``.

    Returns:
        The figure.

    Raises:
        ValueError: `x` or `y` is not a column, or no row has that channel and metric.
    """
    for col in (x, y):
        if col not in sweep_table.columns:
            raise ValueError(f"{col!r} is not a column of the sweep table")
    rows = sweep_table[(sweep_table["name"].astype(str) == channel) & (sweep_table["metric"] == metric)]
    if rows.empty:
        raise ValueError(f"the sweep table has no rows for {channel} {metric}")
    means = rows.groupby([y, x], sort=False)["value"].mean()
    xs, ys = axis_values(rows[x]), axis_values(rows[y])
    grid = np.array([[means.get((yv, xv), np.nan) for xv in xs] for yv in ys], dtype=np.float64)
    scale = 100.0 if metric in _RATES else 1.0
    cmap = (
        "RdYlGn" if metric in _HIGHER_IS_BETTER else ("RdYlGn_r" if metric in _LOWER_IS_BETTER else "viridis")
    )
    fig, axes = _figure(1, 1, 1.6 + min(12.0, 0.8 * len(xs) + 2.5), 1.4 + min(9.0, 0.5 * len(ys) + 1.5))
    ax = axes[0, 0]
    image = ax.imshow(grid * scale, cmap=cmap, aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label=f"{metric}{' (%)' if scale != 1 else ''}")
    ax.set_xticks(range(len(xs)), labels=[f"{v:g}" if isinstance(v, float) else str(v) for v in xs])
    ax.set_yticks(range(len(ys)), labels=[f"{v:g}" if isinstance(v, float) else str(v) for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if len(xs) * len(ys) <= 150:
        for (i, j), value in np.ndenumerate(grid * scale):
            if np.isfinite(value):
                ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize="small")
    n_rep = rows["replication"].nunique() if "replication" in rows.columns else 1
    fig.suptitle(f"{channel} {metric} (mean of {n_rep} replications per point)")
    return fig


@_literal_text
def scaling_curves(
    frame: pd.DataFrame,
    x: str,
    ys: Sequence[str],
    *,
    ylabel: str | None = None,
    title: str | None = None,
    logx: bool = False,
    logy: bool = False,
) -> Figure:
    """Several series against one x column, each with an optional CI band.

    A generic line chart for studies that tabulate means already (the scalability study,
    a one-dimensional sweep). For each series ``s`` in `ys` the frame holds:

    - the mean, in column ``s`` or ``s_mean``;
    - optionally the interval, in columns ``s_ci_low`` and ``s_ci_high`` (drawn as a band).

    For example, columns ``agents, phone, phone_ci_low, phone_ci_high, email_mean`` with
    ``x="agents", ys=["phone", "email"]``.

    Args:
        frame: one row per x value.
        x: the column along the horizontal axis.
        ys: series names (see above).
        ylabel: label of the vertical axis.
        title: figure title.
        logx: logarithmic horizontal axis (numeric x only; other values are spaced evenly).
        logy: logarithmic vertical axis.

    Returns:
        The figure.

    Raises:
        ValueError: a column is missing.
    """
    if x not in frame.columns:
        raise ValueError(f"{x!r} is not a column of the frame")
    numeric = pd.api.types.is_numeric_dtype(frame[x])
    data = frame.sort_values(x) if numeric else frame
    # Non-numeric x values (policy names, say) are placed evenly in the frame's order.
    xs = data[x].to_numpy(dtype=np.float64) if numeric else np.arange(len(data), dtype=np.float64)
    fig, axes = _figure(1, 1, 7.0, 4.2)
    ax = axes[0, 0]
    if not numeric:
        ax.set_xticks(xs, labels=[str(v) for v in data[x]])
    for s in ys:
        column = s if s in data.columns else f"{s}_mean"
        if column not in data.columns:
            raise ValueError(f"series {s!r} needs a column {s!r} or {s + '_mean'!r}")
        colour = _colour(s, list(ys))
        ax.plot(xs, data[column].to_numpy(dtype=np.float64), marker="o", color=colour, label=s)
        if f"{s}_ci_low" in data.columns and f"{s}_ci_high" in data.columns:
            lo = data[f"{s}_ci_low"].to_numpy(dtype=np.float64)
            hi = data[f"{s}_ci_high"].to_numpy(dtype=np.float64)
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(xs, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan), color=colour, alpha=0.2)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(x)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def _tick_step(n: int, interval_min: int) -> int:
    """Intervals between labelled ticks: a round span of the clock giving at most `_MAX_TICKS`."""
    for minutes in _TICK_MINUTES:
        if minutes % interval_min == 0 and math.ceil(n / (minutes // interval_min)) <= _MAX_TICKS:
            return minutes // interval_min
    return max(1, math.ceil(n / _MAX_TICKS))


def _steps(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Per-interval values as the heights of a post step line over edges 0..n (last repeated)."""
    y = np.asarray(values, dtype=np.float64)
    return np.append(y, y[-1]) if len(y) else y


@_literal_text
def staffing_plan(plan: IntervalPlan, current: Mapping[str, int | Sequence[int]] | None = None) -> Figure:
    """A per-interval staffing plan: load and agents per interval, and each target in every interval.

    The top panel shows, against the table's intervals, the offered load in Erlangs (mean
    arrival rate × mean handle time; bars stacked per channel a searched group serves), the
    plan's agents per searched group (solid step line) and the per-interval Erlang start
    (dashed; the search's `start=` when one was given), each with its agent-hours;
    optionally the current staffing (dotted). Below,
    one panel per target: the mean over replications in each interval (step line) with its
    95 % CI (band; none with one replication), the bound (dashed line), and ``x`` on every
    interval that misses it. Gaps are intervals where the target does not apply (no contact
    of the channel arrived). Tick labels are thinned to a round span of the clock (every 2 h
    for a day of half hours, every 12 h for a week).

    Args:
        plan: what `optimize_intervals` (or ``sim.optimize(..., mode="intervals")``) returns.
        current: searched group → the staffing to compare with: one count for every interval
            (a constant head count) or one per table interval.

    Returns:
        The figure.

    Raises:
        ValueError: `current` names a group that was not searched, or has the wrong length.
    """
    groups = list(plan.tables)
    n = len(plan.labels)
    compare: dict[str, list[int]] = {}
    for g, value in (current or {}).items():
        if g not in plan.tables:
            raise ValueError(f"current names {g!r}, not among the groups searched ({', '.join(groups)})")
        counts = [value] * n if isinstance(value, int) else list(value)
        if len(counts) != n:
            raise ValueError(f"current for {g!r} must be one count or {n} of them (one per interval)")
        compare[g] = counts
    hours = np.asarray(plan.hours, dtype=np.float64)
    edges = np.arange(n + 1, dtype=np.float64)
    loads = plan.offered_load()
    channels = list(plan.scenario.channels)
    n_rep = plan.replications

    fig, axes = _figure(
        1 + len(plan.targets), 1, 9.0 if n <= 96 else 13.0, 3.4 + 2.2 * len(plan.targets), True
    )
    ax = axes[0, 0]
    bottom = np.zeros(n)
    for ch, load in loads.items():
        ax.bar(
            edges[:-1], load, width=1.0, bottom=bottom, align="edge", color=_colour(ch, channels),
            alpha=0.3, linewidth=0, label=f"{ch} offered load (Erlangs)",
        )  # fmt: skip
        bottom = bottom + load
    for g in groups:
        colour = _colour(g, groups)
        styles = [("plan", plan.tables[g], "-", 2.0), ("Erlang start", plan.start[g], "--", 1.2)]
        if g in compare:
            styles.append(("current", compare[g], ":", 1.5))
        for what, counts, style, width in styles:
            line = ax.step(
                edges, _steps(counts), where="post", color=colour, linestyle=style, linewidth=width,
                label=f"{g}: {what} ({float(np.dot(counts, hours)):,.0f} agent-h)",
            )[0]  # fmt: skip
            line.set_gid(f"{what}:{g}")
    ax.set_ylabel("agents / Erlangs")
    ax.set_ylim(bottom=0)
    weekly = n * plan.interval_min > 1440
    # Out of the way: over the night (a day's table) or the quiet weekend (a week's).
    ax.legend(
        loc="upper right" if weekly else "upper left",
        fontsize="small",
        ncol=2 if len(groups) + len(loads) > 3 else 1,
    )
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(f"agents per {plan.interval_min}-min interval: {plan.agent_hours():,.0f} agent-h planned")

    target_names = [t.name for t in plan.targets]
    for ax, target, judgement in zip(axes[1:, 0], plan.targets, plan.intervals, strict=True):
        colour = _colour(target.name, channels if target.scope == "channel" else target_names)
        est = judgement.estimates
        mean = np.array([e.mean for e in est], dtype=np.float64)
        lo = np.array([e.ci_low for e in est], dtype=np.float64)
        hi = np.array([e.ci_high for e in est], dtype=np.float64)
        bounded = np.isfinite(lo) & np.isfinite(hi)
        lo, hi = np.where(bounded, lo, np.nan), np.where(bounded, hi, np.nan)
        ax.step(edges, _steps(mean), where="post", color=colour, label="mean")[0].set_gid(f"mean:{target}")
        if bounded.any():
            ax.fill_between(edges, _steps(lo), _steps(hi), step="post", color=colour, alpha=0.2, linewidth=0)
        ax.axhline(
            target.bound,
            color="0.3",
            linestyle="--",
            linewidth=1,
            label=f"bound {target.op} {target.bound:g}",
        ).set_gid(f"bound:{target}")
        missed = [k for k in range(n) if judgement.active[k] and not judgement.met[k]]
        if missed:
            y = [mean[k] if np.isfinite(mean[k]) else target.bound for k in missed]
            ax.plot(
                np.asarray(missed, dtype=np.float64) + 0.5, y, linestyle="none", marker="x", color="tab:red",
                label=f"missed ({len(missed)})",
            )[0].set_gid(f"missed:{target}")  # fmt: skip
        # The axis follows the means and the bound: CIs of few replications may reach far beyond.
        top = 1.3 * max([abs(target.bound), *mean[np.isfinite(mean)].tolist()])
        if target.metric in _RATES:
            ax.set_ylim(0, min(1.05, top) if top > 0 else 1.05)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        else:
            ax.set_ylim(0, top if top > 0 else 1.0)
        active = sum(judgement.active)
        ax.set_title(
            f"{target}: met in {active - len(missed)} of the {active} intervals where it applies",
            fontsize="medium",
        )
        ax.set_ylabel(f"{target.name}\n{target.metric}")
        ax.legend(loc="lower right", fontsize="small")
        ax.grid(True, axis="x", alpha=0.3)

    last = axes[-1, 0]
    step = _tick_step(n, plan.interval_min)
    ticks = list(range(0, n, step))
    last.set_xticks(ticks, labels=[plan.labels[k] for k in ticks])
    if any(" " in plan.labels[k] for k in ticks):
        last.tick_params(axis="x", labelrotation=30)
    last.set_xlim(0, n)
    last.set_xlabel(f"interval ({'week' if weekly else 'day'} table, start of interval)")
    fig.suptitle(
        f"Per-interval staffing plan for {plan.scenario.name} ({n_rep} replications per staffing, 95% CI)"
    )
    return fig
