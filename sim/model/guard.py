"""The running guard: stop a replication whose work runs away from what was estimated.

The budget (`sim.runner.budget`) sizes a run before it starts, from the scenario's rates
and probabilities. An estimate can be wrong — a follow-up with probability 1 and no delay
makes contacts without end at one instant — so while a replication runs, the model checks
every `every` contacts it creates:

- **contacts**: how many it has created (arrivals and every follow-up, hand-off, return
  and retrial), against a limit well above the estimate;
- **events**: how many events wait in the schedule (each waiting customer holds one or
  two), against a limit of the same kind;
- **memory**: this process's resident memory, against the memory limit.

Past any of them the replication stops with `RunawayError`, whose message names what ran
away: the mechanism that made most of the contacts and the channel where they wait. The
check costs one comparison per contact; the counting is done every `every` contacts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sim.model.engine import queued
from sim.model.journey_flow import SPAWN_REASONS

GUARD_EVERY = 4096
"""Contacts between two checks."""


class RunawayError(RuntimeError):
    """A replication was stopped by the running guard; the message says which mechanism ran away."""


def resident_bytes() -> float:
    """This process's resident memory in bytes (0 when the system does not say)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[1])
        return float(pages * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError, AttributeError):  # pragma: no cover - not Linux
        return 0.0


@dataclass
class Guard:
    """Limits of one replication, checked as the model creates contacts.

    Attributes:
        contacts: the most contacts the replication may create.
        events: the most events that may wait in the schedule at once.
        memory_bytes: the most resident memory this process may use.
        expected: the estimate of contacts per replication (quoted in the message).
        label: what the message calls the replication (``"replication 3"``).
        induced: channels whose arrivals induced demand multiplies.
        how_to_allow: the sentence saying which limit to raise.
        every: contacts between checks.
    """

    contacts: float
    events: float
    memory_bytes: float
    expected: float = 0.0
    label: str = "a replication"
    induced: tuple[str, ...] = ()
    how_to_allow: str = ""
    every: int = GUARD_EVERY

    def install(self, centre: Any) -> None:
        """Have `centre` call this guard as it creates contacts."""
        centre.guard = self
        centre.guard_at = min(float(self.every), self.contacts + 1)

    def __call__(self, centre: Any, now: float) -> None:
        """Check the limits; schedule the next check.

        Raises:
            RunawayError: a limit is exceeded.
        """
        created = centre.next_id
        centre.guard_at = min(float(created + self.every), self.contacts + 1)
        if created > self.contacts:
            self._stop(centre, now, f"it created more than {_n(self.contacts)} contacts")
        pending = queued(centre.env)
        if pending > self.events:
            self._stop(centre, now, f"more than {_n(self.events)} events wait in its schedule")
        rss = resident_bytes()
        if rss > self.memory_bytes:
            self._stop(
                centre,
                now,
                f"it uses {rss / 1e9:.3g} GB of memory, above the limit of {self.memory_bytes / 1e9:.3g} GB",
            )

    def _stop(self, centre: Any, now: float, what: str) -> None:
        spawned = list(centre.spawned)
        reasons = SPAWN_REASONS
        arrivals = centre.next_id - sum(spawned)
        most = max(range(len(spawned)), key=lambda i: spawned[i]) if spawned else 0
        if spawned and spawned[most] > arrivals:
            cause = f"{reasons[most]} made {_n(spawned[most])} of them"
        elif self.induced:
            cause = (
                f"arrivals made {_n(arrivals)} of them; induced demand multiplies the rate of "
                + ", ".join(f"'{c}'" for c in self.induced)
            )
        else:
            cause = f"arrivals made {_n(arrivals)} of them"
        busiest = max(centre.channels, key=lambda ch: ch.n_waiting, default=None)
        where = (
            f"; {_n(busiest.n_waiting)} contacts wait on channel '{busiest.name}'"
            if busiest is not None and busiest.n_waiting
            else ""
        )
        raise RunawayError(
            f"{self.label} was stopped by the running guard at {now / 3600:.3g} h: {what} "
            f"(the estimate was about {_n(self.expected)} contacts per replication); {cause}{where}. "
            f"Check the probabilities and delays of that mechanism. {self.how_to_allow}".strip()
        )


def _n(x: float) -> str:
    return f"{x:,.0f}" if x < 1e12 else f"{x:.3g}"


__all__ = ["GUARD_EVERY", "Guard", "RunawayError", "resident_bytes"]
