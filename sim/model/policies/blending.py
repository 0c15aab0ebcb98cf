"""Routing rules for blended and pooled teams: thresholds, waits, preemption, overflow.

- `threshold` (call blending): phone first; email and social only while more than
  `reserve` agents of the group are idle, so `reserve` agents stay free for calls
  (Bhulai & Koole 2003).
- `longest_wait_first`: the queue whose head has waited longest — optionally as a share of
  the channel's target, so a 24 h email target does not compete with a 20 s phone target
  on raw seconds.
- `preemptive`: static priority, and a phone contact that finds no idle agent interrupts
  email work, which resumes later with its remaining work.
- `overflow`: oldest first across the group's own channels; a channel the group takes by
  overflow (`overflow_after_s`) only once its head has waited that long.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sim.model.entities import ChannelState, GroupState
from sim.model.policies.fifo import Fifo
from sim.model.policies.priority import Priority
from sim.types import ChannelKind

if TYPE_CHECKING:
    from sim.config.schema import Routing


class Threshold(Priority):
    """Phone first; deferrable channels only while more than `reserve` agents are idle."""

    def __init__(self, order: Sequence[str] = (), reserve: int = 1) -> None:
        super().__init__(order)
        self.reserve = reserve

    def choose(self, group: GroupState, now: float) -> ChannelState | None:
        """A phone queue with someone waiting; else a deferrable one if enough agents are idle."""
        deferred: ChannelState | None = None
        for q in self._ordered(group):
            if q.n_waiting:
                if q.kind is ChannelKind.PHONE:
                    return q
                if deferred is None:
                    deferred = q
        if deferred is not None and group.idle > self.reserve:
            return deferred
        return None


class LongestWaitFirst:
    """The queue whose oldest contact has waited longest (optionally relative to its target)."""

    preemptive = False

    def __init__(self, order: Sequence[str] = (), relative_to_target: bool = False) -> None:
        del order
        self.relative = relative_to_target

    def choose(self, group: GroupState, now: float) -> ChannelState | None:
        """The queue with the largest head wait (÷ target when relative)."""
        best: ChannelState | None = None
        best_score = -1.0
        for q in group.queues:
            if q.n_waiting:
                wait = now - q.head_arrived_at()
                score = wait / q.target_s if self.relative else wait
                if score > best_score:
                    best, best_score = q, score
        return best


class Preemptive(Priority):
    """Static priority; the centre lets phone contacts interrupt email work."""

    preemptive = True


class Overflow(Fifo):
    """Oldest first on the group's own channels; overflow channels once their delay has passed."""

    def choose(self, group: GroupState, now: float) -> ChannelState | None:
        """The oldest eligible head across own and (delayed) overflow queues."""
        best: ChannelState | None = None
        best_at = float("inf")
        for q in group.queues:
            if q.n_waiting:
                at = q.head_arrived_at()
                delay = group.overflow.get(q.index)
                if delay is not None and now - at < delay:
                    continue
                if at < best_at:
                    best, best_at = q, at
        return best


def threshold(order: Sequence[str], routing: Routing) -> Threshold:
    """Build `threshold` from the scenario's routing section."""
    return Threshold(order, routing.reserve)


def longest_wait_first(order: Sequence[str], routing: Routing) -> LongestWaitFirst:
    """Build `longest_wait_first` from the scenario's routing section."""
    return LongestWaitFirst(order, routing.relative_to_target)
