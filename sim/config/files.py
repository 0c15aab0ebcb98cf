"""Reading the data files a scenario points to (empirical samples, arrival traces).

Files are read with the standard `csv` module: nothing in them is executed. Errors are
`DataFileError`s (a `ValueError`) whose message names the file, the line and the column.

Reading is bounded: a data file must be a regular file (a named pipe or a device is refused
before it is read) of at most `MAX_DATA_BYTES`, with at most `MAX_ROWS` rows, `MAX_COLUMNS`
columns and `MAX_LINE_CHARS` characters per line, read line by line (a file without line
breaks is refused after one bounded read, not loaded whole). Messages quote at most a short
excerpt of a cell or header, control characters made visible, and only from files named as
data (`.csv`, `.tsv`, `.txt`): naming `/etc/passwd` or `/proc/self/environ` as a trace never
prints what is in it.
The loader reads every data file once when the scenario is loaded, so that a bad file is a
scenario error rather than a failure in the middle of a run; results are cached by path and
modification time, so the model's later reads cost nothing.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sim.text import excerpt

_SCALE = {"s": 1.0, "min": 60.0, "h": 3600.0}
MAX_DATA_BYTES = 200_000_000
"""The largest data file read (200 MB: about ten million rows of a few columns)."""
MAX_ROWS = 10_000_000
MAX_COLUMNS = 1_000
MAX_LINE_CHARS = 100_000
DATA_SUFFIXES = (".csv", ".tsv", ".txt")
"""Files named like data: only their content is ever quoted in a message."""
PSEUDO_ROOTS = ("/proc/", "/sys/", "/dev/")


class DataFileError(ValueError):
    """A data file is unreadable or malformed.

    Attributes:
        key: the scenario key the problem is about (``"column"``, ``"day_column"``), or
            None when it is the file's content.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def quotable(file: str | Path) -> bool:
    """True when `file` is named like a data file, so messages may quote a bounded excerpt of it."""
    return Path(file).suffix.lower() in DATA_SUFFIXES


def shown(file: str | Path, text: str) -> str:
    """A bounded, visible excerpt of `text` from `file`, or a placeholder if it is not a data file."""
    return excerpt(text, 40) if quotable(file) else "(not shown)"


def _bounded_lines(fh: io.TextIOBase, file: str | Path) -> Iterator[str]:
    """The lines of `fh`, each read with a bounded length; too long a line, or too many, is an error."""
    for count in range(MAX_ROWS + 2):
        line = fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            raise DataFileError(
                f"{file} line {count + 1} is longer than {MAX_LINE_CHARS:,} characters; is it a CSV file?"
            )
        yield line
    raise DataFileError(f"{file} has more than {MAX_ROWS:,} rows, the most a data file may have")


@contextmanager
def _open_csv(file: str | Path) -> Iterator[Iterator[str]]:
    """Open a CSV as UTF-8 text lines (a leading byte-order mark, as Excel writes, is skipped).

    Only a regular file of at most `MAX_DATA_BYTES` under no pseudo-file system is opened;
    it is opened without blocking and checked before anything is read.
    """
    real = os.path.realpath(file)
    if real.startswith(PSEUDO_ROOTS):
        raise DataFileError(f"{file} is a system file, not a data file; give a CSV file")
    try:
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        raise DataFileError(f"{file} is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataFileError(f"{file} cannot be read: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise DataFileError(f"{file} is a folder, not a CSV file")
        if not stat.S_ISREG(st.st_mode):
            raise DataFileError(f"{file} is a named pipe or a device, not a file; give a CSV file")
        if st.st_size > MAX_DATA_BYTES:
            raise DataFileError(
                f"{file} is {st.st_size / 1e6:,.0f} MB, larger than the {MAX_DATA_BYTES / 1e6:,.0f} MB a data file may be"
            )
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        with open(fd, newline="", encoding="utf-8-sig", closefd=False) as fh:
            yield _bounded_lines(fh, file)
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{file} is not UTF-8 text (byte {exc.start}); give a CSV text file") from None
    except csv.Error as exc:
        raise DataFileError(f"{file} is not a readable CSV file: {excerpt(str(exc), 80)}") from None
    except OSError as exc:
        raise DataFileError(f"{file} cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)


def _columns(file: str | Path, header: Sequence[str] | None) -> list[str]:
    """The header of a CSV, refused when it has more than `MAX_COLUMNS` columns."""
    fields = list(header or [])
    if len(fields) > MAX_COLUMNS:
        raise DataFileError(
            f"{file} has {len(fields):,} columns, more than the {MAX_COLUMNS:,} a data file may have"
        )
    return fields


def _missing_column(file: str | Path, column: str, fields: list[str], key: str) -> DataFileError:
    """`column 'x' not in FILE (columns: a, b, ...)`, listing at most ten, each cut short."""
    if not quotable(file):
        listed = "not shown: the file is not named as a data file (.csv, .tsv, .txt)"
    else:
        listed = ", ".join(excerpt(f, 30) for f in fields[:10]) or "none"
        if len(fields) > 10:
            listed += f", ... ({len(fields):,} in all)"
    return DataFileError(f"column '{excerpt(column, 40)}' not in {file} (columns: {listed})", key)


def _stat_key(file: str | Path) -> tuple[str, int, int]:
    path = os.path.abspath(file)
    try:
        st = os.stat(path)
    except OSError:
        return path, -1, -1
    return path, st.st_mtime_ns, st.st_size


def read_column(file: str | Path, column: str) -> NDArray[np.float64]:
    """Read one numeric column of a CSV file (header in the first row).

    Raises:
        DataFileError: the column is missing, empty or holds something that is not a number.
    """
    return _read_column(_stat_key(file), str(file), column).copy()


@functools.lru_cache(maxsize=16)
def _read_column(stat: tuple[str, int, int], file: str, column: str) -> NDArray[np.float64]:
    values = []
    with _open_csv(file) as lines:
        reader = csv.DictReader(lines)
        fields = _columns(file, reader.fieldnames)
        if column not in fields:
            raise _missing_column(file, column, fields, "column")
        for row_number, row in enumerate(reader, start=2):
            cell = (row.get(column) or "").strip()
            if cell == "":
                continue
            try:
                value = float(cell)
            except ValueError:
                raise DataFileError(
                    f"{file} line {row_number}: '{shown(file, cell)}' in column '{excerpt(column, 40)}' is not a number"
                ) from None
            if not math.isfinite(value):
                raise DataFileError(
                    f"{file} line {row_number}: '{shown(file, cell)}' in column '{excerpt(column, 40)}' is not finite"
                )
            values.append(value)
    if not values:
        raise DataFileError(f"column '{column}' of {file} holds no values", "column")
    return np.asarray(values, dtype=np.float64)


def read_trace(
    file: str | Path, column: str, unit: str = "s", day_column: str | None = None
) -> NDArray[np.float64]:
    """Read recorded arrival times (seconds from the start of the run) from a CSV file.

    Without `day_column`, `column` holds times since the start. With it, `column` holds the
    time of day and each distinct value of `day_column` (in order of first appearance) is
    the next day. Times must be non-negative and in order.

    Raises:
        DataFileError: a missing column, a malformed or negative time, or times out of order.
    """
    if unit not in _SCALE:
        raise DataFileError(f"unit must be one of {', '.join(_SCALE)}, not {unit!r}", "unit")
    return _read_trace(_stat_key(file), str(file), column, unit, day_column).copy()


@functools.lru_cache(maxsize=16)
def _read_trace(
    stat: tuple[str, int, int], file: str, column: str, unit: str, day_column: str | None
) -> NDArray[np.float64]:
    scale = _SCALE[unit]
    days: dict[str, int] = {}
    times: list[float] = []
    with _open_csv(file) as lines:
        reader = csv.DictReader(lines)
        fields = _columns(file, reader.fieldnames)
        for key, needed in (("column", column), ("day_column", day_column)):
            if needed is not None and needed not in fields:
                raise _missing_column(file, needed, fields, key)
        previous = -math.inf
        for row_number, row in enumerate(reader, start=2):
            cell = (row.get(column) or "").strip()
            try:
                value = float(cell) * scale
            except ValueError:
                raise DataFileError(
                    f"{file} line {row_number}: time '{shown(file, cell)}' in column "
                    f"'{excerpt(column, 40)}' is not a number"
                ) from None
            if not math.isfinite(value) or value < 0:
                raise DataFileError(
                    f"{file} line {row_number}: time '{shown(file, cell)}' must be a finite number >= 0"
                )
            if day_column is not None:
                if value >= 86_400:
                    raise DataFileError(
                        f"{file} line {row_number}: time of day {shown(file, cell)} is not below 24 h"
                    )
                day = days.setdefault((row.get(day_column) or "").strip(), len(days))
                value += 86_400.0 * day
            if value < previous:
                raise DataFileError(
                    f"{file} line {row_number}: arrival times are not in order "
                    f"({shown(file, cell)} comes after a later time)"
                )
            previous = value
            times.append(value)
    if not times:
        raise DataFileError(f"{file} holds no arrival times")
    return np.asarray(times, dtype=np.float64)
