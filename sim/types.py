"""Shared vocabulary of staffsim: time aliases and the enums that name channels and outcomes.

Everything inside the simulator measures time in seconds (`Seconds`, a float). Scenario
files may say minutes or hours; the loader converts once, at the edge.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import TypeAlias

Seconds: TypeAlias = float
"""A duration or a point in simulated time, in seconds from the start of the run."""


class ChannelKind(StrEnum):
    """How customers reach the centre; decides what waiting means on the channel.

    - ``phone``: real time; a caller hangs up when their patience runs out.
    - ``email``: deferrable; never abandons; targets are measured in hours.
    - ``social``: public posts and messages; long patience; targets in minutes.
    """

    PHONE = "phone"
    EMAIL = "email"
    SOCIAL = "social"


class Outcome(IntEnum):
    """How a contact's stay ended (or had not ended) when the run stopped.

    Stored as small integers in the per-contact records.
    """

    ANSWERED = 0
    """An agent took the contact and finished handling it before the horizon."""
    ABANDONED = 1
    """The customer gave up while waiting."""
    WAITING = 2
    """Still in the queue when the horizon was reached."""
    IN_SERVICE = 3
    """An agent had taken it but not finished when the horizon was reached."""
    NO_ACTION = 4
    """It needed no reply (an intent with `needs: nothing`, e.g. a joke); never queued."""


RecordsMode: TypeAlias = str
"""How much a replication keeps: ``"none"``, ``"summary"`` or ``"full"`` (see `sim.run`)."""
