"""Analytic queueing benchmarks for staffing decisions.

Pure NumPy/SciPy implementations of the Erlang B, Erlang C and Erlang A (M/M/c+M)
formulas together with square-root and exact minimum-staffing rules. They give planners
quick closed-form answers and serve as ground truth for validating the discrete-event
simulation in exponential settings.
"""

from __future__ import annotations

from sim.analytic.erlang import (
    ErlangAResult,
    beta_for_service_level,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_asa,
    erlang_c_service_level,
    min_agents_erlang_a,
    min_agents_erlang_c,
    sqrt_staffing,
)

__all__ = [
    "ErlangAResult",
    "beta_for_service_level",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_asa",
    "erlang_c_service_level",
    "min_agents_erlang_a",
    "min_agents_erlang_c",
    "sqrt_staffing",
]
