"""The routing protocol: an agent that becomes free asks its policy what to take next.

A policy is any object with a method, `choose(group, now)`, that returns the channel
queue the group's next free agent should serve from, or None to leave the agent idle, and
a flag, `preemptive`, that says whether phone contacts may interrupt email work. It
sees the group's eligible queues in `group.queues` (each with `n_waiting` and
`head_arrived_at()`), and is asked both when an agent finishes a contact and when a
contact arrives while agents of the group are idle. Policies are registered by name so a
scenario file can say `routing: {policy: priority}`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sim.model.entities import ChannelState, GroupState

if TYPE_CHECKING:
    from sim.config.schema import Routing


@runtime_checkable
class Policy(Protocol):
    """Routing plug-in: picks the queue a free agent of `group` serves next.

    Attributes:
        preemptive: True lets a phone contact that finds no idle agent interrupt an
            agent's interruptible work (email), which resumes later; most policies say False.
    """

    preemptive: bool

    def choose(self, group: GroupState, now: float) -> ChannelState | None:
        """Return a queue of `group.queues` with `n_waiting > 0`, or None to stay idle."""
        ...


PolicyFactory = Callable[[Sequence[str], Any], Policy]
"""Builds a policy from the channel order (`routing.order`, then the rest) and the
scenario's `routing` section (for options such as `reserve`)."""

_REGISTRY: dict[str, PolicyFactory] = {}


def register(name: str, factory: PolicyFactory) -> None:
    """Make a policy available to scenario files under `name`."""
    _REGISTRY[name] = factory


def policy_names() -> list[str]:
    """Names a scenario's `routing.policy` may use."""
    return sorted(_REGISTRY)


def make_policy(name: str, order: Sequence[str], routing: Routing | None = None) -> Policy:
    """Build the registered policy `name`.

    Raises:
        KeyError: no policy of that name is registered.
    """
    return _REGISTRY[name](order, routing)
