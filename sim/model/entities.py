"""The things in a support centre: contacts, channel queues, agent groups, levels over time.

A contact is a record, not a process: it is created when the customer arrives, filed in its
channel's queue, taken by an agent, and written out when it ends. Channel queues drop
abandoned contacts lazily (when they reach the head), so an abandonment costs O(1).
Agent groups hold interchangeable agents, so a group is described by how many are idle.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from typing import Any, Protocol

from sim.types import ChannelKind, Outcome

WAITING = int(Outcome.WAITING)
ABANDONED = int(Outcome.ABANDONED)
IN_SERVICE = int(Outcome.IN_SERVICE)
ANSWERED = int(Outcome.ANSWERED)
NO_ACTION = int(Outcome.NO_ACTION)

OPEN, RESOLVED, GAVE_UP, NOTHING_NEEDED = 0, 1, 2, 3
"""States of a customer's journey (kept on its first contact)."""


class Level:
    """A quantity that changes at events, integrated over time (queue length, busy agents).

    `area` is the integral since time 0; the time average over a window is the difference
    of the areas at its ends divided by its length.
    """

    __slots__ = ("area", "last", "value")

    def __init__(self, now: float = 0.0, value: float = 0.0) -> None:
        self.value = value
        self.last = now
        self.area = 0.0

    def add(self, now: float, delta: float) -> None:
        """Change the level by `delta` at time `now`."""
        self.area += self.value * (now - self.last)
        self.last = now
        self.value += delta

    def advance(self, now: float) -> float:
        """Bring the integral up to `now` and return it."""
        self.area += self.value * (now - self.last)
        self.last = now
        return self.area


class ExpLevel(Level):
    """A level integrated through exp(−value / scale): the public-sentiment index.

    With `value` the number of visible open complaints, 100·exp(−value/scale) is 100 when
    none is visible and falls as they pile up; `area` integrates exp(−value/scale).
    """

    __slots__ = ("scale",)

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def add(self, now: float, delta: float) -> None:
        """Change the number of visible complaints by `delta` at `now`."""
        self.area += math.exp(-self.value / self.scale) * (now - self.last)
        self.last = now
        self.value += delta

    def advance(self, now: float) -> float:
        """Bring the integral up to `now` and return it."""
        self.area += math.exp(-self.value / self.scale) * (now - self.last)
        self.last = now
        return self.area


class Contact:
    """One customer request on one channel.

    Handle time and patience are drawn when the customer arrives, from the channel's own
    streams, so they belong to the customer whatever the staffing (common random numbers).
    """

    __slots__ = (
        "answered_at",
        "arrived_at",
        "autoreplied",
        "channel",
        "follow_up",
        "group",
        "handle_time",
        "id",
        "intent",
        "j_contacts",
        "j_first_response_at",
        "j_state",
        "j_visible",
        "patience",
        "preempted",
        "remaining",
        "root",
        "service_end",
        "state",
        "u_handoff",
        "u_resolve",
    )

    def __init__(
        self, cid: int, channel: ChannelState, arrived_at: float, handle_time: float, patience: float
    ) -> None:
        self.id = cid
        self.channel = channel
        self.arrived_at = arrived_at
        self.handle_time = handle_time
        self.patience = patience
        self.answered_at = -1.0
        self.state = WAITING
        self.group: GroupState | None = None
        self.remaining = handle_time
        """Work still to do, in the channel's standard time (before proficiency)."""
        self.service_end = -1.0
        """When the current service ends; an older completion event is stale."""
        self.preempted = 0
        """How many times the contact's service was interrupted."""
        self.root: Contact | None = None
        """The first contact of the customer's journey; None for that first contact itself
        (read it as ``c.root or c``), so that a contact never refers to itself and is freed
        as soon as nothing holds it, without waiting for Python's cycle collector."""
        self.intent = -1
        """Index into the channel's intents (−1: none declared)."""
        self.u_resolve = 0.0
        self.u_handoff = 1.0
        """Uniform draws made at arrival that decide resolution and hand-off."""
        self.autoreplied = False
        self.follow_up = False
        """A chaser ("any news?"): it takes agent time but cannot resolve the journey."""
        # Journey fields, used on the root contact only.
        self.j_first_response_at = -1.0
        self.j_contacts = 1
        self.j_state = OPEN
        self.j_visible = False


JOURNEY_TALLIES = (
    "started",
    "resolved",
    "gave_up",
    "nothing_needed",
    "first_responses",
    "first_response_sum",
    "resolution_time_sum",
    "contacts_sum",
    "first_contact_resolved",
    "csat_sum",
)


class ChannelState:
    """A channel during a run: its queue and its running tallies.

    Tallies count only contacts that arrived after the warm-up (`counted`). They are kept
    by `sim.model.processes.Centre` as contacts end, and for contacts still open when the
    run stops by `Centre.close_books`; `sim.metrics.contacts` turns them into metrics.
    """

    __slots__ = (
        "abandoned",
        "answered",
        "groups",
        "in_service_end",
        "index",
        "interruptible",
        "j",
        "judged_open",
        "kind",
        "late_sum",
        "mech",
        "n_waiting",
        "name",
        "no_action",
        "offered",
        "open",
        "overflow",
        "queue",
        "queue_level",
        "service_sum",
        "target_s",
        "wait_abandoned_sum",
        "wait_answered_sum",
        "waited",
        "waiting_end",
        "within_target",
        "wrap",
    )

    def __init__(self, name: str, index: int, kind: ChannelKind, target_s: float) -> None:
        self.name = name
        self.index = index
        self.kind = kind
        self.target_s = target_s
        self.queue: deque[Contact] = deque()
        self.n_waiting = 0
        self.queue_level = Level()
        self.groups: list[GroupState] = []
        self.interruptible = False
        """Its service may be interrupted by phone contacts (preemptive routing)."""
        self.overflow: list[tuple[GroupState, float]] = []
        """Groups that take this channel's contacts only after they waited a delay."""
        self.wrap: Iterator[float] | None = None
        """Draws of the after-call work that follows each answered contact, or None."""
        self.mech: Any = None
        """The channel's mechanics at run time (`sim.model.journeys.ChannelMechanics`), or None."""
        self.open = True
        """False while the channel is closed (opening hours): agents do not take its contacts."""
        self.no_action = 0
        self.j: dict[str, float] = dict.fromkeys(JOURNEY_TALLIES, 0.0)
        """Tallies of the journeys that started on this channel (after the warm-up)."""
        self.offered = 0
        self.answered = 0
        self.abandoned = 0
        self.waited = 0
        self.within_target = 0
        """Contacts answered within the target, and those in service at the horizon that were."""
        self.judged_open = 0
        """Contacts open at the horizon whose service-level outcome is already known."""
        self.waiting_end = 0
        self.in_service_end = 0
        self.wait_answered_sum = 0.0
        self.wait_abandoned_sum = 0.0
        self.service_sum = 0.0
        """Time from answer to end of answered contacts (service, with any interruptions)."""
        self.late_sum = 0.0
        """Sum over answered contacts of min(1, wait ÷ target − 1) where the wait exceeded the target."""

    def head(self) -> Contact | None:
        """The oldest contact still waiting, dropping abandoned ones from the front."""
        queue = self.queue
        while queue:
            c = queue[0]
            if c.state == WAITING:
                return c
            queue.popleft()
        return None

    def head_arrived_at(self) -> float:
        """Arrival time of the oldest waiting contact (infinity when none waits)."""
        c = self.head() if self.n_waiting else None
        return c.arrived_at if c is not None else float("inf")

    def __repr__(self) -> str:
        return f"ChannelState({self.name!r}, waiting={self.n_waiting})"


class GroupState:
    """An agent group during a run: how many agents are on duty, idle, or leaving.

    Agents of a group are interchangeable, so counts describe it. When the roster lowers
    the head count, idle agents go off duty at once and busy ones finish the contact in hand
    first (`leaving`).
    """

    __slots__ = (
        "all_queues",
        "busy_level",
        "idle",
        "index",
        "interruptible",
        "leaving",
        "mult",
        "name",
        "on_duty",
        "on_duty_level",
        "overflow",
        "queues",
        "resolve_mult",
        "served",
        "threads",
    )

    def __init__(self, name: str, index: int, count: int, n_channels: int = 0) -> None:
        self.name = name
        self.index = index
        self.on_duty = count
        self.idle = count
        self.leaving = 0
        self.busy_level = Level()
        self.on_duty_level = Level(0.0, count)
        self.queues: list[ChannelState] = []
        self.overflow: dict[int, float] = {}
        """Channel index → delay: queues taken only once their head has waited that long."""
        self.mult = [1.0] * n_channels
        """Handle-time multiplier per channel index (proficiency)."""
        self.interruptible: dict[int, Contact] = {}
        """Interruptible contacts in service, oldest first (preemptive routing only)."""
        self.served = 0
        self.all_queues: list[ChannelState] = []
        """Every queue the group may take, open or closed (see `queues`)."""
        self.resolve_mult = [1.0] * n_channels
        """Resolution-probability multiplier per channel index (proficiency)."""
        self.threads = 1
        """Conversations an agent holds at once (concurrency); counts are in threads."""

    @property
    def count(self) -> int:
        """Agents on duty who are staying (the roster's current head count)."""
        return self.on_duty - self.leaving

    def __repr__(self) -> str:
        return f"GroupState({self.name!r}, idle={self.idle}/{self.on_duty})"


class ContactSink(Protocol):
    """Receives each contact as it ends (or is still open at the horizon).

    Attributes:
        answered_log: where the centre writes each answered contact as it ends, as three
            numbers (channel index, arrival time, answer time), for the sink to tally a
            block at a time (`flush`); None to have every ending called.
    """

    answered_log: list[float] | None

    def __call__(self, c: Contact, now: float, outcome: int) -> None:
        """Take one contact that ended at `now` with `outcome` (or is open at the horizon)."""

    def flush(self) -> None:
        """Tally the contacts gathered in `answered_log`, and empty it."""


SINK_BLOCK = 8192
"""Answered contacts gathered before the sink tallies them (bounded memory, numpy speed)."""
