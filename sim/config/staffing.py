"""Agents through the day: staffing tables, shifts with breaks, shrinkage, proficiency.

A group's on-duty head count may be constant (`count`), given per interval of the day or
week (`staffing`), or built from `shifts`. `shrinkage` is the share of paid time agents are
unavailable (meetings, training, absence): the on-duty count at any moment is the scheduled
count × (1 − shrinkage), rounded to the nearest agent. Day 0 of a run is a Monday.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.config.numbers import Number

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def clock_seconds(text: str) -> float:
    """Seconds after midnight of a `HH:MM` clock time (24:00 allowed for the end of a day).

    Raises:
        ValueError: not a valid clock time.
    """
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"'{text}' is not a clock time HH:MM")
    h, m = int(hours), int(minutes)
    if m >= 60 or h > 24 or (h == 24 and m > 0):
        raise ValueError(f"'{text}' is not a clock time between 00:00 and 24:00")
    return h * 3600.0 + m * 60.0


Clock = Annotated[str, Field(pattern=r"^\d{1,2}:\d{2}$")]


class Break(_Strict):
    """A break taken by every agent of a shift at once (stagger breaks with several shifts)."""

    start: Clock
    minutes: Annotated[float, Field(gt=0, le=600, allow_inf_nan=False), Number]

    @field_validator("start")
    @classmethod
    def _clock(cls, value: str) -> str:
        clock_seconds(value)
        return value


class Shift(_Strict):
    """`count` agents on duty from `start` to `end` on the given weekdays.

    An `end` at or before `start` runs past midnight into the next day.
    """

    start: Clock
    end: Clock
    count: Annotated[int, Field(ge=0, le=1_000_000), Number]
    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)] = list(WEEKDAYS)
    breaks: list[Break] = []

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        clock_seconds(value)
        return value

    @model_validator(mode="after")
    def _breaks_inside(self) -> Self:
        start, end = clock_seconds(self.start), clock_seconds(self.end)
        length = (end - start) % 86_400 or 86_400
        for b in self.breaks:
            offset = (clock_seconds(b.start) - start) % 86_400
            if offset + b.minutes * 60 > length:
                raise ValueError(
                    f"break at {b.start} for {b.minutes:g} min does not fit in the shift {self.start}–{self.end}"
                )
        return self


class StaffingTable(_Strict):
    """On-duty head counts per interval: one day (repeated daily) or one week (Monday first)."""

    interval_min: Literal[15, 30, 60] = 30
    counts: Annotated[list[Annotated[int, Field(ge=0, le=1_000_000), Number]], Field(min_length=1)]

    @model_validator(mode="after")
    def _length(self) -> Self:
        per_day = 1440 // self.interval_min
        if len(self.counts) not in (per_day, 7 * per_day):
            raise ValueError(
                f"counts needs {per_day} values (one day, repeated) or {7 * per_day} (a week, Monday first) "
                f"for interval_min {self.interval_min}, got {len(self.counts)}"
            )
        return self


class Proficiency(_Strict):
    """How well a group works a channel compared with a specialist."""

    handle_time: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False), Number] = 1.0
    """Multiplier of the contact's handle time (1.3: 30 % slower on a secondary channel)."""
    resolution: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False), Number] = 1.0
    """Multiplier of the probability of resolving the contact (used by the resolution model)."""
