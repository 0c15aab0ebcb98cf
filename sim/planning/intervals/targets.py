"""Judging targets per interval: which metrics can be judged, and how each table interval fares.

`interval_values` reads a target's metric per replication and table interval from the
interval tallies, `judge` turns them into an `IntervalJudgement`, and
`check_interval_targets` checks targets before a per-interval search
(`sim.planning.intervals.optimize`). The grid is in `sim.planning.intervals.grid`; the
targets themselves in `sim.planning.targets`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.config.schema import Scenario
from sim.metrics.stats import Estimate, metric_ci
from sim.planning.erlang_start import owner_group
from sim.planning.intervals.grid import Grid
from sim.planning.targets import OVERALL, Target
from sim.records import IntervalLevels, ReplicationOutput, interval_ratios

INTERVAL_CHANNEL_METRICS = ("service_level", "asa_s", "p_wait", "abandon_rate")
"""Channel metrics a per-interval target may use (computed from the interval tallies)."""

INTERVAL_GROUP_METRICS = ("occupancy",)
"""Group metrics a per-interval target may use (from busy and on-duty time per interval)."""


# --- judging targets per interval ---------------------------------------------------------


@dataclass(frozen=True)
class IntervalJudgement:
    """One target in every table interval, over the replications.

    Attributes:
        estimates: per table interval, the mean [95 % CI] over replications (NaN where
            undefined in every replication).
        active: per table interval, whether the target applies: contacts of the channel
            arrived there (channel metrics) or agents were on duty (occupancy).
        met: per table interval, whether the mean meets the target (True where inactive).
        shortfall: per table interval, the relative shortfall (`Target.shortfall`; 0 where met).
    """

    estimates: tuple[Estimate, ...]
    active: tuple[bool, ...]
    met: tuple[bool, ...]
    shortfall: tuple[float, ...]


def interval_values(
    outputs: Sequence[ReplicationOutput], target: Target, grid: Grid, threads: Mapping[str, int]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per replication × table interval, the target's metric and its denominator.

    The denominator is the contacts offered (channel metrics) or the on-duty time
    (occupancy); where it is 0 in every replication the target does not apply.
    `threads` gives each group's conversation slots per agent (for ``overall`` occupancy).
    """
    values, weights = [], []
    for out in outputs:
        iv = out.intervals
        if iv is None:
            raise ValueError("per-interval targets need records='summary'")
        levels = IntervalLevels.between(iv["areas"])
        n_run = len(levels.sentiment)
        if target.scope == "channel":
            i = iv["channels"].index(target.name)
            t = {
                k: np.asarray(v, dtype=np.float64).reshape(len(iv["channels"]), n_run)[i]
                for k, v in iv["tallies"].items()
            }
            f = {k: grid.fold_judged(v) for k, v in t.items()}
            values.append(interval_ratios(f)[target.metric])
            weights.append(f["offered"])
            continue
        names = iv["groups"]
        chosen = names if target.name == OVERALL else [target.name]
        busy = sum(grid.fold_judged(levels.busy[:, names.index(g)]) / threads[g] for g in chosen)
        duty = sum(grid.fold_judged(levels.on_duty[:, names.index(g)]) / threads[g] for g in chosen)
        with np.errstate(invalid="ignore", divide="ignore"):
            values.append(np.where(duty > 1e-9, busy / np.where(duty > 1e-9, duty, 1.0), np.nan))
        weights.append(np.asarray(duty, dtype=np.float64))
    return np.array(values), np.array(weights)


def judge(
    outputs: Sequence[ReplicationOutput],
    target: Target,
    grid: Grid,
    threads: Mapping[str, int],
    on_duty: Mapping[str, NDArray[np.float64]],
    confident: bool = False,
) -> IntervalJudgement:
    """Judge `target` in every table interval (see `sim.planning.intervals.optimize`).

    `on_duty` gives each group's scheduled agents per table interval (`scheduled`):
    occupancy applies where the groups it covers have someone scheduled. With `confident`,
    an interval meets the target only when its whole 95 % CI does (`Target.judged`).
    """
    values, weights = interval_values(outputs, target, grid, threads)
    active = weights.sum(axis=0) > 1e-9
    if target.scope == "group":
        covered = list(on_duty) if target.name == OVERALL else [target.name]
        active &= sum(on_duty[g] for g in covered) > 0
    estimates, met, shortfall = [], [], []
    for k in range(grid.n_knobs):
        e = metric_ci(values[:, k], target.metric)
        estimates.append(e)
        value = target.judged(e, confident)
        met.append(not active[k] or target.met(value))
        shortfall.append(target.shortfall(value) if active[k] else 0.0)
    return IntervalJudgement(tuple(estimates), tuple(bool(a) for a in active), tuple(met), tuple(shortfall))


def check_interval_targets(targets: Sequence[Target], scenario: Scenario, groups: Sequence[str]) -> None:
    """Check that every target can be judged per interval and has a searched group to staff.

    Raises:
        ValueError: a metric without per-interval tallies, a channel no searched group
            serves, or an occupancy target on a group not searched.
    """
    for t in targets:
        allowed = INTERVAL_CHANNEL_METRICS if t.scope == "channel" else INTERVAL_GROUP_METRICS
        if t.metric not in allowed:
            raise ValueError(
                f"target {t}: {t.metric} is not measured per interval; per-interval targets may use "
                f"channel metrics {', '.join(INTERVAL_CHANNEL_METRICS)} and group metric "
                f"{', '.join(INTERVAL_GROUP_METRICS)} (or search head counts without --per-interval)"
            )
        if t.scope == "channel" and owner_group(scenario, t.name, groups) is None:
            raise ValueError(
                f"target {t}: no searched group serves {t.name!r}; searched groups are: {', '.join(groups)}"
            )
        if t.scope == "group" and t.name != OVERALL and t.name not in groups:
            raise ValueError(
                f"target {t}: {t.name!r} is not among the searched groups ({', '.join(groups)}); "
                "a per-interval occupancy target needs its group's table searched"
            )


def targets_json(
    targets: Sequence[Target],
    intervals: Sequence[IntervalJudgement],
    overall: Sequence[Estimate],
    labels: Sequence[str],
) -> list[dict[str, object]]:
    """Each target as plain JSON values (NaN and ±inf as null).

    Per target: whether it is met, the missed intervals, the whole-run estimate and every
    interval's mean [CI].
    """

    def clean(e: Estimate) -> dict[str, float | None]:
        return {k: (v if math.isfinite(v) else None) for k, v in e.as_dict().items()}

    return [
        {
            "target": str(t),
            "met": all(j.met),
            "missed_intervals": [labels[k] for k, ok in enumerate(j.met) if not ok],
            "overall": clean(o),
            "intervals": [
                {"interval": labels[k], "active": j.active[k], "met": j.met[k], **clean(e)}
                for k, e in enumerate(j.estimates)
            ],
        }
        for t, j, o in zip(targets, intervals, overall, strict=True)
    ]
