"""`fifo`: a free agent takes the contact that has waited longest across its queues."""

from __future__ import annotations

from collections.abc import Sequence

from sim.model.entities import ChannelState, GroupState


class Fifo:
    """Oldest first across every queue the agent is skilled for."""

    preemptive = False

    def __init__(self, order: Sequence[str] = ()) -> None:
        del order  # the order of channels does not matter to fifo

    def choose(self, group: GroupState, now: float) -> ChannelState | None:
        """The queue whose head arrived earliest, or None when all are empty."""
        queues = group.queues
        if len(queues) == 1:
            q = queues[0]
            return q if q.n_waiting else None
        best: ChannelState | None = None
        best_at = float("inf")
        for q in queues:
            if q.n_waiting:
                at = q.head_arrived_at()
                if at < best_at:
                    best, best_at = q, at
        return best
