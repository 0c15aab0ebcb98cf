"""The things in a support centre: contacts, channel queues, agent groups, levels over time.

A contact is a record, not a process: it is created when the customer arrives, filed in its
channel's queue, taken by an agent, and written out when it ends. Channel queues drop
abandoned contacts lazily (when they reach the head), so an abandonment costs O(1).
Agent groups hold interchangeable agents, so a group is described by how many are idle.
"""

from __future__ import annotations

from collections import deque

from sim.types import Outcome

WAITING = int(Outcome.WAITING)
ABANDONED = int(Outcome.ABANDONED)
IN_SERVICE = int(Outcome.IN_SERVICE)
ANSWERED = int(Outcome.ANSWERED)


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


class Contact:
    """One customer request on one channel.

    Handle time and patience are drawn when the customer arrives, from the channel's own
    streams, so they belong to the customer whatever the staffing (common random numbers).
    """

    __slots__ = (
        "answered_at",
        "arrived_at",
        "channel",
        "group",
        "handle_time",
        "id",
        "patience",
        "preempted",
        "remaining",
        "service_end",
        "state",
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


class ChannelState:
    """A channel during a run: its queue and its running tallies.

    Tallies count only contacts that arrived after the warm-up (`counted`).
    """

    __slots__ = (
        "abandoned",
        "answered",
        "groups",
        "index",
        "interruptible",
        "kind",
        "n_waiting",
        "name",
        "offered",
        "overflow",
        "queue",
        "queue_level",
        "target_s",
        "wait_abandoned_sum",
        "wait_answered_sum",
        "waited",
        "within_target",
    )

    def __init__(self, name: str, index: int, kind: str, target_s: float) -> None:
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
        self.offered = 0
        self.answered = 0
        self.abandoned = 0
        self.waited = 0
        self.within_target = 0
        self.wait_answered_sum = 0.0
        self.wait_abandoned_sum = 0.0

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
        "served",
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

    @property
    def count(self) -> int:
        """Agents on duty who are staying (the roster's current head count)."""
        return self.on_duty - self.leaving

    def __repr__(self) -> str:
        return f"GroupState({self.name!r}, idle={self.idle}/{self.on_duty})"
