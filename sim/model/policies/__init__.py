"""Routing policies: who a free agent serves next. See `base` for the protocol."""

from __future__ import annotations

from sim.model.policies.base import Policy, PolicyFactory, make_policy, policy_names, register
from sim.model.policies.blending import (
    LongestWaitFirst,
    Overflow,
    Preemptive,
    Threshold,
    longest_wait_first,
    threshold,
)
from sim.model.policies.fifo import Fifo
from sim.model.policies.priority import Priority

register("fifo", lambda order, routing: Fifo(order))
register("priority", lambda order, routing: Priority(order))
register("threshold", threshold)
register("longest_wait_first", longest_wait_first)
register("preemptive", lambda order, routing: Preemptive(order))
register("overflow", lambda order, routing: Overflow(order))

__all__ = [
    "Fifo",
    "LongestWaitFirst",
    "Overflow",
    "Policy",
    "PolicyFactory",
    "Preemptive",
    "Priority",
    "Threshold",
    "make_policy",
    "policy_names",
    "register",
]
