"""Reading the data files a scenario points to (empirical samples, arrival traces).

Files are read with the standard `csv` module: nothing in them is executed. Errors are
`DataFileError`s (a `ValueError`) whose message names the file, the line and the column.
The loader reads every data file once when the scenario is loaded, so that a bad file is a
scenario error rather than a failure in the middle of a run; results are cached by path and
modification time, so the model's later reads cost nothing.
"""

from __future__ import annotations

import csv
import functools
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import numpy as np
from numpy.typing import NDArray

_SCALE = {"s": 1.0, "min": 60.0, "h": 3600.0}


class DataFileError(ValueError):
    """A data file is unreadable or malformed.

    Attributes:
        key: the scenario key the problem is about (``"column"``, ``"day_column"``), or
            None when it is the file's content.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@contextmanager
def _open_csv(file: str | Path) -> Iterator[TextIO]:
    """Open a CSV as UTF-8 text (a leading byte-order mark, as Excel writes, is skipped)."""
    try:
        with open(file, newline="", encoding="utf-8-sig") as fh:
            yield fh
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{file} is not UTF-8 text (byte {exc.start}); give a CSV text file") from None
    except csv.Error as exc:
        raise DataFileError(f"{file} is not a readable CSV file: {exc}") from None
    except IsADirectoryError:
        raise DataFileError(f"{file} is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataFileError(f"{file} cannot be read: {exc.strerror}") from None


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
    with _open_csv(file) as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or column not in reader.fieldnames:
            found = ", ".join(reader.fieldnames or [])
            raise DataFileError(f"column '{column}' not in {file} (columns: {found or 'none'})", "column")
        for row_number, row in enumerate(reader, start=2):
            cell = (row.get(column) or "").strip()
            if cell == "":
                continue
            try:
                value = float(cell)
            except ValueError:
                raise DataFileError(
                    f"{file} line {row_number}: '{cell}' in column '{column}' is not a number"
                ) from None
            if not math.isfinite(value):
                raise DataFileError(f"{file} line {row_number}: '{cell}' in column '{column}' is not finite")
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
    with _open_csv(file) as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        for key, needed in (("column", column), ("day_column", day_column)):
            if needed is not None and needed not in fields:
                raise DataFileError(
                    f"column '{needed}' not in {file} (columns: {', '.join(fields) or 'none'})", key
                )
        previous = -math.inf
        for row_number, row in enumerate(reader, start=2):
            cell = (row.get(column) or "").strip()
            try:
                value = float(cell) * scale
            except ValueError:
                raise DataFileError(
                    f"{file} line {row_number}: time '{cell}' in column '{column}' is not a number"
                ) from None
            if not math.isfinite(value) or value < 0:
                raise DataFileError(f"{file} line {row_number}: time '{cell}' must be a finite number >= 0")
            if day_column is not None:
                if value >= 86_400:
                    raise DataFileError(f"{file} line {row_number}: time of day {cell} is not below 24 h")
                day = days.setdefault((row.get(day_column) or "").strip(), len(days))
                value += 86_400.0 * day
            if value < previous:
                raise DataFileError(
                    f"{file} line {row_number}: arrival times are not in order ({cell} comes after a later time)"
                )
            previous = value
            times.append(value)
    if not times:
        raise DataFileError(f"{file} holds no arrival times")
    return np.asarray(times, dtype=np.float64)
