"""A log's calendar span costs a fit nothing: agents busy and callers waiting are counted per day.

The reference is the plain per-second count over the whole span (an array of one cell per
second from the first day to the last), on a small log whose services cross midnight; a log
with one contact two centuries after the others must then fit in bounded memory.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.aftercall import after_call_gaps
from sim.calibrate.fitfile import FitOptions, fit_file
from sim.calibrate.log import ContactLog, read_log
from sim.calibrate.staffing import MIN_WAITING_S, infer_staffing
from tests.builders import bank_log_extract

DAY_S = 86_400


def _small_log(seed: int = 5) -> ContactLog:
    """Three days of 400 contacts each, many served or waiting across midnight, four agents."""
    rng = np.random.default_rng(seed)
    n = 1200
    day = np.repeat([0, 1, 3], n // 3)
    arrive = day * DAY_S + np.where(
        rng.random(n) < 0.3, rng.uniform(DAY_S - 3600, DAY_S, n), rng.uniform(0, DAY_S, n)
    )
    answered = rng.random(n) < 0.85
    frame = pd.DataFrame(
        {
            "arrived_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(arrive).round(), unit="s"),
            "channel": "phone",
            "class": "phone",
            "priority": 0,
            "outcome": np.where(answered, "answered", "abandoned"),
            "wait_s": rng.exponential(90, n).round(),
            "handle_s": np.where(answered, rng.exponential(400, n).round(), np.nan),
            "agent": pd.array(np.where(answered, rng.choice(["A", "B", "C", "D"], n), None), dtype="string"),
        }
    )
    return ContactLog(frame)


def _dense_counts(log: ContactLog) -> tuple[np.ndarray, np.ndarray]:
    """Agents busy and callers waiting at every second of the whole span, one cell per second."""
    f = log.frame
    origin = log.dates()[0]
    n = ((log.dates()[-1] - origin).days + 2) * DAY_S
    arrive = (f["arrived_at"] - origin).dt.total_seconds().to_numpy().round().astype(np.int64)
    wait = f["wait_s"].to_numpy().round().astype(np.int64)
    handle = np.nan_to_num(f["handle_s"].to_numpy()).round().astype(np.int64)
    answered = (f["outcome"] == "answered").to_numpy()
    busy = np.zeros(n + 1, dtype=np.int64)
    waiting = np.zeros(n + 1, dtype=np.int64)
    for a, w, h, ok in zip(arrive, wait, handle, answered, strict=True):
        waiting[a : a + w] += 1
        if ok:
            busy[a + w : a + w + h] += 1
    return busy[:n], waiting[:n] > 0


def test_agents_on_duty_equal_the_per_second_count_over_the_span() -> None:
    log = _small_log()
    busy, waiting = _dense_counts(log)
    origin = log.dates()[0]
    per_day = 48
    expected = []
    for day in log.dates():
        base = (day - origin).days * DAY_S
        b = busy[base : base + DAY_S].reshape(per_day, -1)
        w = waiting[base : base + DAY_S].reshape(per_day, -1)
        n_wait = w.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            expected.append(np.where(n_wait >= MIN_WAITING_S, (b * w).sum(axis=1) / n_wait, b.max(axis=1)))
    fitted = infer_staffing(log, 30)
    assert np.array_equal(np.asarray(fitted.means), np.mean(expected, axis=0))


def test_after_call_gaps_are_kept_only_while_callers_wait_per_second() -> None:
    log = _small_log()
    _, waiting = _dense_counts(log)
    f = log.frame[log.frame["outcome"] == "answered"]
    origin = log.dates()[0]
    start = (f["arrived_at"] - origin).dt.total_seconds() + f["wait_s"]
    end = start + f["handle_s"]
    expected = {}
    for _, calls in pd.DataFrame({"agent": f["agent"], "start": start, "end": end}).groupby("agent"):
        calls = calls.sort_values("start")
        for (i, now), after in zip(calls.iloc[:-1].iterrows(), calls["start"].iloc[1:], strict=True):
            gap = after - now["end"]
            if 0 <= gap <= 600 and waiting[round(now["end"]) + 1]:
                expected[i] = gap
    gaps = after_call_gaps(log.frame, longest_s=600)
    assert len(expected) > 50
    assert gaps.sort_index().to_dict() == dict(sorted(expected.items()))


def test_a_log_spanning_two_centuries_fits_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "far.csv"
    bank_log_extract(path)
    head, first, rest = path.read_text(encoding="utf-8").split("\n", 2)
    path.write_text(head + "\n" + first.replace("1999-02-01", "2199-02-01") + "\n" + rest, encoding="utf-8")
    assert len(read_log(path).dates()) == 3
    for staffing in ("logged-in", "busy"):
        tracemalloc.start()
        try:
            _, fit = fit_file(path, FitOptions(staffing_by=staffing))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert len(fit.dates) == 3
        assert peak < 300e6, f"{peak / 1e6:.0f} MB"  # one cell per second of the span would be 50 GB
