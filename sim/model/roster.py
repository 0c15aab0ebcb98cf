"""On-duty head count of an agent group over time, as a list of change points.

Shifts, breaks and staffing tables all become the same thing: a step function
`[(time, count), ...]` over the run, starting at time 0. Shrinkage scales every step.
"""

from __future__ import annotations

import math
from collections import defaultdict

from sim.config.staffing import WEEKDAYS, Shift, StaffingTable, clock_seconds

DAY_S = 86_400.0


def roster(
    count: int | None,
    staffing: StaffingTable | None,
    shifts: list[Shift] | None,
    shrinkage: float,
    horizon_s: float,
) -> list[tuple[float, int]]:
    """The group's on-duty count as change points `(time, count)`, first at time 0.

    Consecutive equal counts are merged; times are before the horizon.
    """
    if staffing is not None:
        steps = _table_steps(staffing, horizon_s)
    elif shifts is not None:
        steps = _shift_steps(shifts, horizon_s)
    else:
        steps = [(0.0, count or 0)]
    out: list[tuple[float, int]] = []
    for t, n in steps:
        available = math.floor(n * (1.0 - shrinkage) + 0.5)
        if out and out[-1][1] == available:
            continue
        if out and out[-1][0] == t:
            out[-1] = (t, available)
        else:
            out.append((t, available))
    return out


def _table_steps(table: StaffingTable, horizon_s: float) -> list[tuple[float, int]]:
    length = table.interval_min * 60.0
    n = max(1, math.ceil(horizon_s / length))
    counts = table.counts
    return [(i * length, counts[i % len(counts)]) for i in range(n)]


def _shift_steps(shifts: list[Shift], horizon_s: float) -> list[tuple[float, int]]:
    """Sum the shifts (minus their breaks) into a step function."""
    delta: dict[float, int] = defaultdict(int)
    days = math.ceil(horizon_s / DAY_S)
    for day in range(-1, days):  # day −1: a shift of the day before may run past midnight
        weekday = WEEKDAYS[day % 7]
        for shift in shifts:
            if weekday not in shift.days or shift.count == 0:
                continue
            start = day * DAY_S + clock_seconds(shift.start)
            length = (clock_seconds(shift.end) - clock_seconds(shift.start)) % DAY_S or DAY_S
            _add(delta, start, start + length, shift.count)
            for b in shift.breaks:
                b_start = start + (clock_seconds(b.start) - clock_seconds(shift.start)) % DAY_S
                _add(delta, b_start, b_start + b.minutes * 60.0, -shift.count)
    steps: list[tuple[float, int]] = [(0.0, 0)]
    level = 0
    for t in sorted(delta):
        level += delta[t]
        if t >= horizon_s:
            break
        if t <= 0:
            steps[0] = (0.0, level)
        else:
            steps.append((t, level))
    return steps


def _add(delta: dict[float, int], start: float, end: float, n: int) -> None:
    delta[start] += n
    delta[end] -= n
