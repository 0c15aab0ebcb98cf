"""Checking a contact log's text: its columns, time stamps, outcomes, waits and handle times.

The format itself is described in `sim.calibrate.log` (and the README, "Contact logs"). This
module holds the pieces `sim.calibrate.log.read_log` is built from: the columns of the
format, the limits on what is read, the error a bad log raises, and the checks of the
header and of each chunk of rows, which turn strings into typed columns and name every bad
row by its number (1 = the first row after the header) and column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS: tuple[str, ...] = (
    "arrived_at",
    "channel",
    "class",
    "priority",
    "outcome",
    "wait_s",
    "handle_s",
    "agent",
)
"""Every column of the format, in the order of `ContactLog.frame`."""
REQUIRED: tuple[str, ...] = ("arrived_at", "channel", "outcome", "wait_s")
"""Columns a log must have (after `--column` mapping); the others are optional. A log without
``handle_s`` holds no handle times at all (a social export with reply times only); a log with
it must give one for every answered contact."""
OUTCOMES: tuple[str, ...] = ("answered", "abandoned")
MAX_SHOWN = 12
"""Problems listed in one message (a screenful)."""


@dataclass(frozen=True, slots=True)
class LogLimits:
    """Bounds on what `read_log` accepts, so that a wrong file fails fast instead of filling memory.

    Attributes:
        max_bytes: largest file size, bytes.
        max_rows: most data rows.
        max_columns: most columns in the header.
        chunk_rows: rows read and checked at a time.
    """

    max_bytes: int = 2_000_000_000
    max_rows: int = 20_000_000
    max_columns: int = 500
    chunk_rows: int = 200_000


@dataclass(frozen=True, slots=True)
class LogProblem:
    """One thing wrong in a contact log: the row (1 = first after the header) and column, or neither."""

    message: str
    row: int | None = None
    column: str | None = None


class LogError(Exception):
    """A contact log could not be read or is not valid.

    ``str(error)`` is the one-screen message for the user (file, rows, columns, what is
    allowed); `problems` holds the `LogProblem` list for Python callers.
    """

    def __init__(self, source: str, problems: Sequence[LogProblem], what: str = "contact log") -> None:
        self.source = source
        self.problems = list(problems)
        self.what = what
        super().__init__(self._render())

    def _render(self) -> str:
        if self.source.startswith("--"):  # a bad command-line option, not a bad file
            return "\n".join(
                [f"invalid {self.source}:"] + [f"  {p.message}" for p in self.problems[:MAX_SHOWN]]
            )
        lines = [f"invalid {self.what} {self.source}:"]
        for p in self.problems[:MAX_SHOWN]:
            where = []
            if p.row is not None:
                where.append(f"row {p.row}")
            if p.column is not None:
                where.append(f"column {p.column}")
            lines.append(f"  {', '.join(where) or '(file)'}: {p.message}")
        if len(self.problems) > MAX_SHOWN:
            lines.append(f"  ... and {len(self.problems) - MAX_SHOWN} more")
        return "\n".join(lines)


def parse_column_options(options: Iterable[str], source: str = "--column") -> dict[str, str]:
    """Turn ``["class=CallType", ...]`` into ``{"class": "CallType"}``.

    Raises:
        LogError: an option without ``=``, or a name that is not a column of the format.
    """
    mapping: dict[str, str] = {}
    problems = []
    for option in options:
        ours, sep, theirs = option.partition("=")
        ours, theirs = ours.strip(), theirs.strip()
        if not sep or not ours or not theirs:
            problems.append(LogProblem(f"{option!r}: expected NAME=THEIRS, e.g. class=CallType"))
        elif ours not in COLUMNS:
            problems.append(LogProblem(f"{ours!r} is not a log column; allowed: {', '.join(COLUMNS)}"))
        else:
            mapping[ours] = theirs
    if problems:
        raise LogError(source, problems)
    return mapping


def check_size(size: int, source: str, limits: LogLimits) -> None:
    """Refuse a log of `size` bytes over the limit, before anything of it is read.

    Raises:
        LogError: more than ``limits.max_bytes``.
    """
    if size > limits.max_bytes:
        raise LogError(
            source, [LogProblem(f"{size:,} bytes is more than the limit of {limits.max_bytes:,} bytes")]
        )


def read_header(path: Path, source: str, limits: LogLimits) -> list[str]:
    """The column names of the file's first line, after checking its size and encoding.

    Raises:
        LogError: missing, a folder, too large, not UTF-8, empty or too many columns.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise LogError(source, [LogProblem(f"file not found: {path}")]) from None
    except OSError as exc:
        raise LogError(source, [LogProblem(f"cannot read the file: {exc.strerror}")]) from None
    if path.is_dir():
        raise LogError(source, [LogProblem("is a folder, not a CSV file")])
    check_size(size, source, limits)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = handle.readline(1_000_000)
    except UnicodeDecodeError:
        raise LogError(source, [LogProblem("not UTF-8 text; save the log as a UTF-8 CSV file")]) from None
    except OSError as exc:
        raise LogError(source, [LogProblem(f"cannot read the file: {exc.strerror}")]) from None
    if not first.strip():
        raise LogError(source, [LogProblem("empty file: expected a header row and one row per contact")])
    names = [n.strip() for n in next(csv.reader([first]))]
    if len(names) > limits.max_columns:
        message = f"{len(names)} columns is more than the limit of {limits.max_columns}"
        raise LogError(source, [LogProblem(message)])
    return names


SEPARATORS: dict[str, str] = {";": "';'", "\t": "tabs", "|": "'|'"}
"""Separators that a log saved by a spreadsheet in another locale may use instead of commas."""


def separator_problem(
    names: Sequence[str],
    what: str = "a contact log",
    required: Sequence[str] = REQUIRED,
    optional: Sequence[str] | None = None,
) -> LogProblem | None:
    """The problem of a header that is one column which another separator splits, else None.

    A file exported with ';' (a spreadsheet in a locale whose decimal mark is a comma) reads
    as one column named after the whole header; saying so once beats listing every
    required column as missing beside that header.

    Args:
        names: the header's columns as read with ','.
        what: what the file is, as the message names it.
        required: its required columns.
        optional: its other columns (default: a contact log's).
    """
    if len(names) != 1:
        return None
    others = [c for c in COLUMNS if c not in REQUIRED] if optional is None else list(optional)
    for sep, said in SEPARATORS.items():
        if sep in names[0]:
            return LogProblem(
                f"the columns seem to be separated by {said}; {what} is comma-separated (CSV) "
                f"with the required columns {', '.join(required)} (optional: "
                f"{', '.join(others)}); save it with ',' as the separator"
            )
    return None


def resolve_columns(names: list[str], mapping: Mapping[str, str], source: str) -> dict[str, str]:
    """Ours → theirs for every column of the format present in the file.

    Raises:
        LogError: the header is one column split by another separator than ',', a mapping
            names an unknown column or one the file lacks, or a required column is missing.
    """
    wrong_separator = separator_problem(names)
    if wrong_separator is not None:
        raise LogError(source, [wrong_separator])
    problems = []
    for ours, theirs in mapping.items():
        if ours not in COLUMNS:
            allowed = ", ".join(COLUMNS)
            problems.append(
                LogProblem(f"--column {ours}=...: {ours!r} is not a log column; allowed: {allowed}")
            )
        elif theirs not in names:
            message = f"--column {ours}={theirs}: the file has no such column; it has {', '.join(names)}"
            problems.append(LogProblem(message, column=theirs))
    found = {c: mapping.get(c, c) for c in COLUMNS if mapping.get(c, c) in names}
    absent = [c for c in REQUIRED if c not in found and c not in mapping]
    for missing in absent:
        problems.append(
            LogProblem(f"missing required column; map yours with --column {missing}=YOURS", column=missing)
        )
    if absent:  # the file's own columns, once
        problems.append(LogProblem(f"the file's columns are {', '.join(names)}"))
    if problems:
        raise LogError(source, problems)
    return found


def parse_times(raw: pd.Series, tz: str) -> pd.Series:
    """ISO 8601 strings → naive local datetimes; NaT where unparsable."""
    text = raw.fillna("").astype(str).str.strip()
    zoned = text.str.contains(r"(?:Z|[+-]\d\d(?::?\d\d)?)$", regex=True) & text.str.contains(
        "T| ", regex=True
    )
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if (~zoned).any():
        out[~zoned] = pd.to_datetime(text[~zoned], format="ISO8601", errors="coerce").astype("datetime64[ns]")
    if zoned.any():
        aware = pd.to_datetime(text[zoned], format="ISO8601", errors="coerce", utc=True)
        out[zoned] = aware.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[ns]")
    return out


def check_chunk(raw: pd.DataFrame, first_row: int, tz: str) -> tuple[pd.DataFrame, list[LogProblem]]:
    """Type one chunk of string columns (named as ours); problems name file rows from `first_row`.

    Returns:
        The typed chunk with the columns of `COLUMNS`, and the problems found in it.
    """
    problems: list[LogProblem] = []
    rows = np.arange(first_row, first_row + len(raw))

    def flag(mask: pd.Series | np.ndarray, column: str, message: str) -> None:
        for i in np.flatnonzero(np.asarray(mask))[:MAX_SHOWN]:
            value = raw[column].iloc[i] if column in raw else None
            shown = "empty" if value is None or pd.isna(value) or str(value).strip() == "" else repr(value)
            problems.append(LogProblem(f"{shown}: {message}", row=int(rows[i]), column=column))

    out = pd.DataFrame(index=raw.index)
    out["arrived_at"] = parse_times(raw["arrived_at"], tz)
    flag(out["arrived_at"].isna(), "arrived_at", "not an ISO 8601 date-time such as 1999-02-01T09:52:05")
    channel = raw["channel"].fillna("").astype(str).str.strip()
    flag(channel == "", "channel", "every contact needs a channel such as phone, email or social")
    out["channel"] = channel
    cls = (
        raw["class"].fillna("").astype(str).str.strip() if "class" in raw else pd.Series("", index=raw.index)
    )
    out["class"] = cls.where(cls != "", channel)
    if "priority" in raw:
        text = raw["priority"].fillna("").astype(str).str.strip()
        number = pd.to_numeric(text.where(text != "", "0"), errors="coerce")
        whole = number.notna() & (number == number.round())
        flag(~whole, "priority", "priority must be a whole number (larger = first)")
        out["priority"] = number.fillna(0).round().astype(int)
    else:
        out["priority"] = 0
    outcome = raw["outcome"].fillna("").astype(str).str.strip().str.lower()
    flag(~outcome.isin(OUTCOMES), "outcome", f"outcome must be one of {', '.join(OUTCOMES)}")
    out["outcome"] = outcome
    answered = outcome == "answered"
    wait = pd.to_numeric(raw["wait_s"], errors="coerce")
    flag(wait.isna() | ~np.isfinite(wait), "wait_s", "wait_s must be a number of seconds ≥ 0")
    flag(wait < 0, "wait_s", "a wait cannot be negative (seconds ≥ 0)")
    out["wait_s"] = wait.astype(float)
    if "handle_s" in raw:
        handle = pd.to_numeric(raw["handle_s"], errors="coerce")
        text = raw["handle_s"].fillna("").astype(str).str.strip()
        flag(answered & (text == ""), "handle_s", "an answered contact needs its handle time in seconds")
        bad = answered & (text != "") & (handle.isna() | ~np.isfinite(handle))
        flag(bad, "handle_s", "handle_s must be a number of seconds ≥ 0")
        flag(answered & (handle < 0), "handle_s", "a handle time cannot be negative (seconds ≥ 0)")
        out["handle_s"] = handle.where(answered).astype(float)
    else:
        out["handle_s"] = np.nan
    if "agent" in raw:
        agent = raw["agent"].astype("string").str.strip()
        out["agent"] = agent.where(agent != "")
    else:
        out["agent"] = pd.Series(pd.NA, index=raw.index, dtype="string")
    return out[list(COLUMNS)], problems
