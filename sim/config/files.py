"""Reading the data files a scenario points to (empirical samples, arrival traces).

Files are read with the standard `csv` module: nothing in them is executed. Errors are
`ValueError`s whose message names the file, the line and the column.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def read_column(file: str | Path, column: str) -> NDArray[np.float64]:
    """Read one numeric column of a CSV file (header in the first row).

    Raises:
        ValueError: the column is missing, empty or holds something that is not a number.
    """
    with open(file, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or column not in reader.fieldnames:
            found = ", ".join(reader.fieldnames or [])
            raise ValueError(f"column '{column}' not in {file} (columns: {found})")
        values = []
        for row_number, row in enumerate(reader, start=2):
            cell = (row.get(column) or "").strip()
            if cell == "":
                continue
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(
                    f"{file} line {row_number}: '{cell}' in column '{column}' is not a number"
                ) from None
            if not math.isfinite(value):
                raise ValueError(f"{file} line {row_number}: '{cell}' in column '{column}' is not finite")
            values.append(value)
    if not values:
        raise ValueError(f"column '{column}' of {file} holds no values")
    return np.asarray(values, dtype=np.float64)


def read_trace(
    file: str | Path, column: str, unit: str = "s", day_column: str | None = None
) -> NDArray[np.float64]:
    """Read recorded arrival times (seconds from the start of the run) from a CSV file.

    Without `day_column`, `column` holds times since the start. With it, `column` holds the
    time of day and each distinct value of `day_column` (in order of first appearance) is
    the next day. Times must be non-negative and in order.

    Raises:
        ValueError: a missing column, a malformed or negative time, or times out of order.
    """
    scale = {"s": 1.0, "min": 60.0, "h": 3600.0}[unit]
    with open(file, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        for needed in (column, day_column):
            if needed is not None and needed not in fields:
                raise ValueError(f"column '{needed}' not in {file} (columns: {', '.join(fields)})")
        days: dict[str, int] = {}
        times: list[float] = []
        previous = -math.inf
        for row_number, row in enumerate(reader, start=2):
            cell = (row.get(column) or "").strip()
            try:
                value = float(cell) * scale
            except ValueError:
                raise ValueError(
                    f"{file} line {row_number}: time '{cell}' in column '{column}' is not a number"
                ) from None
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{file} line {row_number}: time '{cell}' must be a finite number >= 0")
            if day_column is not None:
                if value >= 86_400:
                    raise ValueError(f"{file} line {row_number}: time of day {cell} is not below 24 h")
                day = days.setdefault((row.get(day_column) or "").strip(), len(days))
                value += 86_400.0 * day
            if value < previous:
                raise ValueError(
                    f"{file} line {row_number}: arrival times are not in order ({cell} comes after a later time)"
                )
            previous = value
            times.append(value)
    if not times:
        raise ValueError(f"{file} holds no arrival times")
    return np.asarray(times, dtype=np.float64)
