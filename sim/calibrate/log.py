"""A centre's contact log: one row per contact, read, checked and held as a typed table.

The format (README, "Contact logs") is one CSV row per contact that asked for an agent:

==============  =========  ===================================================================
column          required   meaning
==============  =========  ===================================================================
``arrived_at``  yes        ISO 8601 date-time the contact joined the queue, with or without a
                           time zone (``1999-02-01T09:52:05``, ``2017-10-31T21:45:10Z``)
``channel``     yes        ``phone``, ``email``, ``social``, ... (the scenario's channel name)
``class``       no         call type or intent; the channel's name where absent
``priority``    no         integer, larger = served first; 0 where absent
``outcome``     yes        ``answered`` or ``abandoned``
``wait_s``      yes        seconds from arrival to answer (answered) or to hanging up
                           (abandoned); for a social post, the first reply time
``handle_s``    see below  seconds of the agent's handling; empty for abandoned contacts
``agent``       no         the agent who answered, any label
==============  =========  ===================================================================

``handle_s`` may be left out as a column when the log holds no handle times at all (a social
export with first reply times only); when the column is there, every answered contact needs one.

`read_log` maps a user's own column names (``{"class": "CallType"}``, the CLI's
``--column class=CallType``), reads the file in bounded chunks (row, column and byte limits)
and checks every row; any problem raises `LogError`, whose text is the one-screen message
the CLI prints before exiting with status 2: the file, then for each problem the row (1 is
the first row after the header), the column and what is allowed.

Time stamps without a zone are the centre's local clock time. Time stamps with a zone are
converted to the zone `read_log` is given (``tz``, default UTC) and then read as local clock
time, so that intervals of the day mean the same thing in both cases.

Interface for the commands built on it (``staffsim fit``, ``staffsim backtest``):

- ``read_log(path, columns=None, tz="UTC", limits=LogLimits()) -> ContactLog``
- ``parse_column_options(["class=CallType", ...]) -> dict``  (raises `LogError`)
- ``parse_days("weekdays" | "all" | "Sun,Mon,...") -> frozenset[int]``  (Monday = 0)
- ``log_from_contacts(result.contacts(), first_day)``: a simulated run as a log;
  ``write_log(log.frame, path)`` writes one
- ``ContactLog.frame``: a pandas DataFrame with exactly the columns of `COLUMNS`, typed
  (``arrived_at`` naive datetime64, ``priority`` int, ``wait_s``/``handle_s`` float,
  ``handle_s`` NaN for abandoned contacts, ``agent`` string or NA), sorted by arrival;
- ``ContactLog.on_days(days)``, ``.only(channel=..., cls=...)``, ``.dates()``,
  ``.interval_of_day(interval_min)``, ``.tally(interval_min, answer_within_s)`` (observed
  offered / answered / abandoned / waited / ASA figures per day, interval and channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.checks import (
    COLUMNS,
    MAX_SHOWN,
    OUTCOMES,
    REQUIRED,
    LogError,
    LogLimits,
    LogProblem,
    check_chunk,
    parse_column_options,
    read_header,
    resolve_columns,
)

__all__ = [
    "COLUMNS",
    "DAY_NAMES",
    "OUTCOMES",
    "REQUIRED",
    "ContactLog",
    "LogError",
    "LogLimits",
    "LogProblem",
    "log_from_contacts",
    "parse_column_options",
    "parse_days",
    "read_log",
    "write_log",
]

DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
"""Day names accepted by `parse_days` (Monday = 0, as in pandas and `datetime.weekday`)."""


def parse_days(text: str) -> frozenset[int]:
    """The days of the week a ``--days`` value selects (Monday = 0).

    ``all`` is every day, ``weekdays`` Monday to Friday, ``weekends`` Saturday and Sunday;
    otherwise a comma-separated list of day names (``Sun,Mon,Tue,Wed,Thu`` for a centre whose
    working week runs Sunday to Thursday), case-insensitive, three letters or in full.

    Raises:
        LogError: an unknown day name or an empty list.
    """
    key = text.strip().lower()
    named = {"all": range(7), "weekdays": range(5), "weekends": range(5, 7)}
    if key in named:
        return frozenset(named[key])
    days = set()
    for part in filter(None, (p.strip()[:3].lower() for p in key.split(","))):
        matches = [i for i, name in enumerate(DAY_NAMES) if name.lower() == part]
        if not matches:
            allowed = "all, weekdays, weekends or day names such as Sun,Mon,Tue,Wed,Thu"
            raise LogError("--days", [LogProblem(f"{text!r}: unknown day {part!r}; allowed: {allowed}")])
        days.add(matches[0])
    if not days:
        raise LogError("--days", [LogProblem(f"{text!r} names no day")])
    return frozenset(days)


@dataclass(frozen=True)
class ContactLog:
    """A checked contact log.

    Attributes:
        frame: one row per contact with the columns of `COLUMNS` (see the module docstring),
            sorted by ``arrived_at``; treat it as read-only.
        source: the file it was read from, for messages.
    """

    frame: pd.DataFrame
    source: str = "(log)"
    _days: frozenset[int] = field(default=frozenset(range(7)), repr=False)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def channels(self) -> list[str]:
        """Channel names in the log, sorted."""
        return sorted(self.frame["channel"].unique().tolist())

    @property
    def classes(self) -> list[tuple[str, str]]:
        """``(channel, class)`` pairs in the log, sorted."""
        pairs = self.frame[["channel", "class"]].drop_duplicates()
        return sorted((str(c), str(k)) for c, k in pairs.itertuples(index=False))

    @property
    def weekdays(self) -> frozenset[int]:
        """The days of the week this log was restricted to by `on_days` (all seven if never)."""
        return self._days

    def _with(self, frame: pd.DataFrame, days: frozenset[int] | None = None) -> ContactLog:
        return ContactLog(frame.reset_index(drop=True), self.source, self._days if days is None else days)

    def on_days(self, days: frozenset[int] | str) -> ContactLog:
        """The contacts that arrived on the given days of the week (a set, or a ``--days`` value)."""
        chosen = parse_days(days) if isinstance(days, str) else frozenset(days)
        keep = self.frame["arrived_at"].dt.day_of_week.isin(sorted(chosen))
        return self._with(self.frame[keep], chosen & self._days)

    def only(self, channel: str | None = None, cls: str | None = None) -> ContactLog:
        """The contacts of one channel and/or class."""
        keep = pd.Series(True, index=self.frame.index)
        if channel is not None:
            keep &= self.frame["channel"] == channel
        if cls is not None:
            keep &= self.frame["class"] == cls
        return self._with(self.frame[keep])

    def between(self, first: str | pd.Timestamp, last: str | pd.Timestamp) -> ContactLog:
        """The contacts that arrived on the calendar days ``first`` to ``last`` (both included)."""
        day = self.frame["arrived_at"].dt.normalize()
        keep = (day >= pd.Timestamp(first).normalize()) & (day <= pd.Timestamp(last).normalize())
        return self._with(self.frame[keep])

    def dates(self) -> list[pd.Timestamp]:
        """The calendar days with at least one contact, sorted (midnight time stamps)."""
        return sorted(pd.DatetimeIndex(self.frame["arrived_at"].dt.normalize().unique()))

    def seconds_of_day(self) -> pd.Series:
        """Each contact's arrival as seconds since its day's midnight (float)."""
        t = self.frame["arrived_at"]
        seconds: pd.Series = (t - t.dt.normalize()).dt.total_seconds()
        return seconds

    def interval_of_day(self, interval_min: float) -> pd.Series:
        """Each contact's interval of the day: 0 for the first ``interval_min`` minutes after midnight."""
        if not 0 < interval_min <= 1440 or 1440 % interval_min:
            raise ValueError(f"interval_min must divide a day (1440 min), got {interval_min}")
        return (self.seconds_of_day() // (interval_min * 60.0)).astype(int)

    def tally(self, interval_min: float = 30, answer_within_s: float = 20.0) -> pd.DataFrame:
        """Observed figures per day, interval of the day and channel.

        Returns:
            A frame indexed by ``(date, interval, channel)`` with columns ``offered``,
            ``answered``, ``abandoned``, ``waited`` (wait > 0), ``answered_within``
            (answered with wait ≤ `answer_within_s`), ``wait_answered_s`` (sum of the
            answered contacts' waits) and ``handle_s`` (sum of handle times). Rates are ratios
            of these sums (abandon rate = abandoned / offered, ASA = wait_answered_s /
            answered, service level = answered_within / offered), so that they can be summed
            over days before dividing.
        """
        f = self.frame
        answered = f["outcome"] == "answered"
        parts = pd.DataFrame(
            {
                "date": f["arrived_at"].dt.normalize(),
                "interval": self.interval_of_day(interval_min),
                "channel": f["channel"],
                "offered": 1,
                "answered": answered.astype(int),
                "abandoned": (~answered).astype(int),
                "waited": (f["wait_s"] > 0).astype(int),
                "answered_within": (answered & (f["wait_s"] <= answer_within_s)).astype(int),
                "wait_answered_s": f["wait_s"].where(answered, 0.0),
                "handle_s": f["handle_s"].fillna(0.0),
            }
        )
        return parts.groupby(["date", "interval", "channel"]).sum()


def read_log(
    path: str | Path,
    columns: Mapping[str, str] | None = None,
    tz: str = "UTC",
    limits: LogLimits | None = None,
) -> ContactLog:
    """Read and check a contact log.

    Args:
        path: the CSV file.
        columns: our column name → the file's, for the columns named differently
            (``--column class=CallType`` gives ``{"class": "CallType"}``).
        tz: the zone that time stamps carrying a zone are converted to before they are
            read as local clock time; stamps without a zone are local already.
        limits: file size, row and column bounds (`LogLimits` defaults).

    Returns:
        The log, sorted by arrival.

    Raises:
        LogError: the file is missing, unreadable, too large, lacks a required column, or
            has rows that break the format (every such row is listed, up to a screenful).
    """
    path = Path(path)
    source = str(path)
    limits = limits or LogLimits()
    names = read_header(path, source, limits)
    found = resolve_columns(names, dict(columns or {}), source)
    theirs_to_ours = {theirs: ours for ours, theirs in found.items()}
    problems: list[LogProblem] = []
    parts: list[pd.DataFrame] = []
    seen = 0
    try:
        with pd.read_csv(
            path,
            usecols=list(theirs_to_ours),
            dtype=str,
            keep_default_na=False,
            chunksize=limits.chunk_rows,
            encoding="utf-8-sig",
            skipinitialspace=True,
        ) as reader:
            for chunk in reader:
                chunk.columns = [c.strip() for c in chunk.columns]
                chunk = chunk.rename(columns=theirs_to_ours)
                if seen + len(chunk) > limits.max_rows:
                    raise LogError(source, [LogProblem(f"more than the limit of {limits.max_rows:,} rows")])
                typed, found_problems = check_chunk(chunk, seen + 1, tz)
                seen += len(chunk)
                problems.extend(found_problems)
                if len(problems) > MAX_SHOWN:
                    break
                parts.append(typed)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise LogError(source, [LogProblem(f"not a readable CSV file: {str(exc).splitlines()[0]}")]) from None
    if problems:
        raise LogError(source, problems)
    if not parts or seen == 0:
        raise LogError(source, [LogProblem("no contacts: the file has a header but no rows")])
    frame = pd.concat(parts, ignore_index=True).sort_values("arrived_at", kind="stable", ignore_index=True)
    return ContactLog(frame, source)


def log_from_contacts(
    contacts: pd.DataFrame,
    first_day: str = "2024-01-01",
    channels: Mapping[str, tuple[str, str]] | None = None,
    source: str = "(simulated)",
) -> ContactLog:
    """A contact log from a simulation's per-contact records (``RunResult.contacts()``).

    Simulated seconds count from midnight of `first_day`. Only contacts that ended answered or
    abandoned are kept (the ones still waiting or in service at the horizon have no outcome
    yet). ``handle_s`` is the service the agent gave (end − answer); ``agent`` is the group.

    Args:
        contacts: the records, one replication or several (replication r is placed after the
            days of replications 0..r−1, so each replication is a new run of days).
        first_day: the calendar day of simulated time 0.
        channels: scenario channel → (log channel, class); default: (channel, channel).
        source: a name for messages.
    """
    done = contacts[contacts["outcome"].isin(OUTCOMES)].copy()
    if "replication" in done and done["replication"].nunique() > 1:
        span = float(np.ceil(contacts["arrived_at"].max() / 86_400.0)) * 86_400.0
        done["arrived_at"] = done["arrived_at"] + done["replication"] * span
    mapping = dict(channels or {})
    names = done["channel"].astype(str)
    answered = done["outcome"] == "answered"
    frame = pd.DataFrame(
        {
            "arrived_at": pd.Timestamp(first_day) + pd.to_timedelta(done["arrived_at"].to_numpy(), unit="s"),
            "channel": [mapping.get(n, (n, n))[0] for n in names],
            "class": [mapping.get(n, (n, n))[1] for n in names],
            "priority": 0,
            "outcome": done["outcome"].astype(str).to_numpy(),
            "wait_s": done["wait_s"].to_numpy(dtype=float),
            "handle_s": (done["ended_at"] - done["answered_at"]).where(answered).to_numpy(dtype=float),
            "agent": done["group"].astype("string").where(answered).to_numpy(),
        }
    )
    frame["arrived_at"] = frame["arrived_at"].astype("datetime64[ns]")
    frame["agent"] = frame["agent"].astype("string")
    frame = frame.sort_values("arrived_at", kind="stable", ignore_index=True)
    return ContactLog(frame[list(COLUMNS)], source)


def write_log(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a frame with the columns of `COLUMNS` as a contact log CSV (ISO time stamps)."""
    out = frame[list(COLUMNS)].copy()
    stamps = pd.to_datetime(out["arrived_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    out["arrived_at"] = stamps.str.rstrip("0").str.rstrip(".")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    out.to_csv(tmp, index=False)
    tmp.replace(path)
