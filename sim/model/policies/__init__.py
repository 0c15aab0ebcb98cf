"""Routing policies: who a free agent serves next. See `base` for the protocol."""

from __future__ import annotations

from sim.model.policies.base import Policy, make_policy, policy_names, register
from sim.model.policies.fifo import Fifo
from sim.model.policies.priority import Priority

register("fifo", Fifo)
register("priority", Priority)

__all__ = ["Fifo", "Policy", "Priority", "make_policy", "policy_names", "register"]
