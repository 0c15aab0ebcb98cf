"""What a replication keeps: per-interval tallies and, on request, one record per contact.

Three levels, chosen by `records=`:

- ``"none"``: only the per-replication metrics (constant memory, fastest);
- ``"summary"`` (default): plus per-interval tallies by channel — contacts attributed to
  the interval they arrived in — and time-averaged queue length and busy agents per
  interval (memory grows with the number of intervals, not of contacts);
- ``"full"``: plus one flat record per contact, in columns (`CONTACT_COLUMNS`).

`ReplicationOutput` is what one replication hands back (`sim.runner.simulate`), in plain
data that crosses process and network boundaries unchanged; the time-weighted levels
(queue, busy and on-duty agents, public sentiment) travel as typed `LevelAreas`.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from sim.model.entities import ABANDONED, ANSWERED, NO_ACTION, SINK_BLOCK, Contact
from sim.model.outcomes import open_at_horizon

RECORD_MODES = ("none", "summary", "full")

CONTACT_COLUMNS: dict[str, str] = {
    "replication": "replication number (0-based)",
    "contact_id": "contact number within the replication, in order of arrival",
    "channel": "channel name",
    "arrived_at": "arrival time, seconds from the start of the run",
    "answered_at": "time an agent took the contact; NaN if never taken",
    "ended_at": "time the contact ended (answered: service finished; abandoned: customer left; no_action: arrival); NaN if open at the horizon",
    "outcome": "answered, abandoned, waiting (at the horizon), in_service (at the horizon) or no_action (needed no reply)",
    "wait_s": "time spent waiting: until taken, until abandoning, or until the horizon",
    "handle_time_s": "the agent work the contact needs (drawn at arrival)",
    "patience_s": "how long the customer would wait (inf: never abandons)",
    "group": "agent group that took it; empty if never taken",
    "counted": "True when the contact arrived after the warm-up and so enters the metrics",
}
"""Every field of the per-contact table, documented once (the README repeats this table)."""

INTERVAL_TALLIES = (
    "offered",
    "answered",
    "abandoned",
    "within_target",
    "judged_open",
    "waited",
    "wait_sum_s",
)
"""Per-interval tallies, by the interval in which contacts arrived; `wait_sum_s` sums the
waits of answered contacts (so ASA = wait_sum_s / answered)."""


def interval_ratios(t: Mapping[str, NDArray[np.float64]]) -> dict[str, NDArray[np.float64]]:
    """Service level, P(wait), ASA and abandonment from interval tallies.

    `t` holds arrays of one shape, keyed as `INTERVAL_TALLIES`; a ratio with nothing to
    count is NaN. The definitions are those of the whole-run metrics (`sim.metrics.contacts`), contacts
    attributed to the interval in which they arrived.
    """
    ended = t["answered"] + t["abandoned"]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "service_level": t["within_target"] / (ended + t["judged_open"]),
            "p_wait": t["waited"] / t["offered"],
            "asa_s": t["wait_sum_s"] / t["answered"],
            "abandon_rate": t["abandoned"] / ended,
        }


@dataclass
class ReplicationOutput:
    """What one replication hands back.

    Attributes:
        replication: replication number.
        channels: channel → metric → value (see `sim.metrics.contacts.CHANNEL_METRICS`).
        groups: group → metric → value, plus ``"overall"`` for all agents together.
        intervals: per-interval tallies and levels (records ``"summary"`` and ``"full"``).
        contacts: per-contact record columns (records ``"full"``).
    """

    replication: int
    channels: dict[str, dict[str, float]]
    groups: dict[str, dict[str, float]]
    intervals: dict[str, Any] | None = None
    contacts: dict[str, Any] | None = field(default=None, repr=False)


class LevelAreas(NamedTuple):
    """The time integrals, from time 0 to one moment, of the levels a centre keeps.

    The time average of a level over a window is the difference of its integrals at the
    window's ends divided by the window's length.

    Attributes:
        queue: per channel (scenario order), contacts waiting (contact-seconds).
        busy: per agent group (scenario order), busy conversation slots (slot-seconds).
        on_duty: per agent group, conversation slots on duty (slot-seconds).
        sentiment: the integral of exp(−V/scale), V the visible open complaints
            (`sim.model.entities.ExpLevel`); 100 × its time average is public sentiment.
    """

    queue: list[float]
    busy: list[float]
    on_duty: list[float]
    sentiment: float

    @classmethod
    def zero(cls, n_channels: int, n_groups: int) -> LevelAreas:
        """The integrals at time 0."""
        return cls([0.0] * n_channels, [0.0] * n_groups, [0.0] * n_groups, 0.0)


class IntervalLevels(NamedTuple):
    """The integrals of the levels over each interval: one row per interval.

    Attributes:
        queue: interval × channel.
        busy: interval × group.
        on_duty: interval × group.
        sentiment: one value per interval.
    """

    queue: NDArray[np.float64]
    busy: NDArray[np.float64]
    on_duty: NDArray[np.float64]
    sentiment: NDArray[np.float64]

    @classmethod
    def between(cls, snapshots: Sequence[LevelAreas]) -> IntervalLevels:
        """Integrals over the intervals between consecutive snapshots."""

        def diff(rows: Sequence[Any]) -> NDArray[np.float64]:
            return np.diff(np.asarray(rows, dtype=np.float64), axis=0)

        return cls(
            diff([s.queue for s in snapshots]),
            diff([s.busy for s in snapshots]),
            diff([s.on_duty for s in snapshots]),
            diff([s.sentiment for s in snapshots]),
        )


class IntervalSink:
    """Tallies contacts by channel and arrival interval as they end.

    The two common endings (answered, abandoned) are buffered and tallied a block at a
    time with numpy; the rare ones (no action, open at the horizon) one by one. Answered
    contacts come in `answered_log`, filled by the centre, the rest through calls. Waits of
    answered contacts are added with `np.add.at`, in the order the contacts ended, so the
    sums are the same floats as adding them one by one.
    """

    def __init__(self, n_channels: int, n_intervals: int, interval_s: float, targets: list[float]) -> None:
        self.interval_s = interval_s
        self.n_intervals = n_intervals
        self.targets = targets
        self.size = n_channels * n_intervals
        self.offered = np.zeros(self.size, dtype=np.int64)
        self.answered = np.zeros(self.size, dtype=np.int64)
        self.abandoned = np.zeros(self.size, dtype=np.int64)
        self.within_target = np.zeros(self.size, dtype=np.int64)
        self.judged_open = np.zeros(self.size, dtype=np.int64)
        self.waited = np.zeros(self.size, dtype=np.int64)
        self.wait_sum_s = np.zeros(self.size, dtype=np.float64)
        self.buffered_channel = array("q")
        self.buffered_arrived_at = array("d")
        self.buffered_wait = array("d")
        self.buffered_answered = array("b")
        self.answered_log: list[float] | None = []

    def __call__(self, c: Contact, now: float, outcome: int) -> None:
        """Tally one ended (or open-at-horizon) contact."""
        if outcome in (ANSWERED, ABANDONED):
            wait = c.answered_at - c.arrived_at if c.answered_at >= 0 else now - c.arrived_at
            self.buffered_channel.append(c.channel.index)
            self.buffered_arrived_at.append(c.arrived_at)
            self.buffered_wait.append(wait)
            self.buffered_answered.append(outcome == ANSWERED)
            if len(self.buffered_wait) >= SINK_BLOCK:
                self.flush()
            return
        ch = c.channel.index
        iv = int(c.arrived_at // self.interval_s)
        if iv >= self.n_intervals:
            iv = self.n_intervals - 1
        k = ch * self.n_intervals + iv
        self.offered[k] += 1
        if outcome == NO_ACTION:
            return
        waited, judged, hit = open_at_horizon(c, now, self.targets[ch])
        self.waited[k] += waited
        self.judged_open[k] += judged
        self.within_target[k] += hit

    def flush(self) -> None:
        """Tally the buffered answered and abandoned contacts."""
        log = self.answered_log
        if log:
            rows = np.array(log, dtype=np.float64).reshape(-1, 3)
            arrived = rows[:, 1]
            self._tally(
                rows[:, 0].astype(np.int64), arrived, rows[:, 2] - arrived, np.ones(len(rows), dtype=bool)
            )
            log.clear()
        if not self.buffered_wait:
            return
        self._tally(
            np.array(self.buffered_channel, dtype=np.int64),
            np.array(self.buffered_arrived_at, dtype=np.float64),
            np.array(self.buffered_wait, dtype=np.float64),
            np.array(self.buffered_answered, dtype=bool),
        )
        for buffer in (
            self.buffered_channel,
            self.buffered_arrived_at,
            self.buffered_wait,
            self.buffered_answered,
        ):
            del buffer[:]

    def _tally(
        self,
        ch: NDArray[np.int64],
        arrived_at: NDArray[np.float64],
        wait: NDArray[np.float64],
        answered: NDArray[np.bool_],
    ) -> None:
        """Add a block of ended contacts (channel, arrival, wait, answered?) to the tallies."""
        iv = np.minimum(np.floor_divide(arrived_at, self.interval_s), self.n_intervals - 1)
        k = ch * self.n_intervals + iv.astype(np.int64)
        size = self.size
        self.offered += np.bincount(k, minlength=size)
        self.waited += np.bincount(k[wait > 0], minlength=size)
        k_answered, wait_answered = k[answered], wait[answered]
        self.answered += np.bincount(k_answered, minlength=size)
        self.abandoned += np.bincount(k[~answered], minlength=size)
        on_time = wait_answered <= np.asarray(self.targets)[ch[answered]]
        self.within_target += np.bincount(k_answered[on_time], minlength=size)
        np.add.at(self.wait_sum_s, k_answered, wait_answered)

    def tallies(self) -> dict[str, Any]:
        """The tallies as flat lists, channel-major (channel × interval)."""
        self.flush()
        return {name: getattr(self, name).tolist() for name in INTERVAL_TALLIES}


class FullSink(IntervalSink):
    """Interval tallies plus one record per contact, in columns."""

    def __init__(
        self, n_channels: int, n_intervals: int, interval_s: float, targets: list[float], warmup_s: float
    ) -> None:
        super().__init__(n_channels, n_intervals, interval_s, targets)
        self.answered_log = None  # every ending is called, so the records keep the order of ending
        self.warmup_s = warmup_s
        self.contact_id = array("q")
        self.channel = array("h")
        self.arrived_at = array("d")
        self.answered_at = array("d")
        self.ended_at = array("d")
        self.outcome = array("b")
        self.handle_time_s = array("d")
        self.patience_s = array("d")
        self.group = array("h")

    def __call__(self, c: Contact, now: float, outcome: int) -> None:
        """Tally and record one contact."""
        super().__call__(c, now, outcome)
        self.contact_id.append(c.id)
        self.channel.append(c.channel.index)
        self.arrived_at.append(c.arrived_at)
        self.answered_at.append(c.answered_at if c.answered_at >= 0 else math.nan)
        self.ended_at.append(now if outcome in (ANSWERED, ABANDONED, NO_ACTION) else math.nan)
        self.outcome.append(outcome)
        self.handle_time_s.append(c.handle_time)
        self.patience_s.append(c.patience)
        self.group.append(c.group.index if c.group is not None else -1)

    def columns(self) -> dict[str, Any]:
        """The raw record columns (codes, not names); `sim.results` turns them into a table."""
        return {
            "contact_id": self.contact_id,
            "channel": self.channel,
            "arrived_at": self.arrived_at,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "outcome": self.outcome,
            "handle_time_s": self.handle_time_s,
            "patience_s": self.patience_s,
            "group": self.group,
        }
