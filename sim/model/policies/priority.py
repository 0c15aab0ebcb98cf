"""`priority`: a free agent serves its queues in a fixed channel order (phone before email)."""

from __future__ import annotations

from collections.abc import Sequence

from sim.model.entities import ChannelState, GroupState


class Priority:
    """Static priority: the first non-empty queue in `order` wins; ties go by file order.

    Within a channel, contacts are served in arrival order.
    """

    preemptive = False

    def __init__(self, order: Sequence[str] = ()) -> None:
        self.rank = {name: i for i, name in enumerate(order)}
        self._sorted: dict[int, tuple[list[ChannelState], list[ChannelState]]] = {}

    def _ordered(self, group: GroupState) -> list[ChannelState]:
        """The group's queues in priority order (recomputed when its queue list changes)."""
        cached = self._sorted.get(group.index)
        if cached is None or cached[0] is not group.queues:
            last = len(self.rank)
            ordered = sorted(group.queues, key=lambda q: (self.rank.get(q.name, last), q.index))
            cached = (group.queues, ordered)
            self._sorted[group.index] = cached
        return cached[1]

    def choose(self, group: GroupState, now: float) -> ChannelState | None:
        """The highest-ranked queue with someone waiting, or None."""
        for q in self._ordered(group):
            if q.n_waiting:
                return q
        return None
