"""The SimPy internals `sim.model.engine` relies on, named one by one.

If a SimPy release changes one of them, the test that names it fails with a message
saying what changed and where the project depends on it, instead of the simulator
quietly giving wrong numbers.
"""

from __future__ import annotations

import itertools

import simpy
from simpy.events import NORMAL, URGENT, Timeout

from sim.model.engine import Due, after, pending, scheduler

WHERE = "sim/model/engine.py relies on it; adapt the engine (and the simpy bound in pyproject.toml)"


def test_environment_has_an_event_heap_of_four_tuples() -> None:
    """`Environment._queue` is a list of (time, priority, id, event), a heap on that order."""
    env = simpy.Environment()
    assert isinstance(getattr(env, "_queue", None), list), f"SimPy has no list Environment._queue; {WHERE}"
    ev = Timeout(env, 3.0)
    assert len(env._queue) == 1, f"Timeout no longer files itself in Environment._queue; {WHERE}"
    entry = env._queue[0]
    assert isinstance(entry, tuple) and len(entry) == 4, f"heap entries are not 4-tuples: {entry!r}; {WHERE}"
    when, priority, eid, event = entry
    assert (when, priority, event) == (3.0, NORMAL, ev), (
        f"heap entry is not (time, priority, id, event); {WHERE}"
    )
    assert isinstance(eid, int)


def test_environment_numbers_events_with_a_counter() -> None:
    """`Environment._eid` is an iterator of increasing ints shared by every scheduled event."""
    env = simpy.Environment()
    eid = getattr(env, "_eid", None)
    assert isinstance(eid, itertools.count), f"Environment._eid is no longer an itertools.count; {WHERE}"
    Timeout(env, 1.0)
    first = env._queue[0][2]
    assert next(env._eid) > first, f"Environment._eid does not number the heap's entries; {WHERE}"


def test_priorities_order_urgent_before_normal() -> None:
    """`NORMAL` is the ordinary priority and sorts after `URGENT` at the same time."""
    assert isinstance(NORMAL, int) and isinstance(URGENT, int)
    assert URGENT < NORMAL, f"simpy.events.URGENT no longer sorts before NORMAL; {WHERE}"


def test_step_fires_callbacks_and_reads_only_ok() -> None:
    """`Environment.step` calls an event's callbacks with it and needs nothing but `_ok`.

    A `Due` has no `_value`, `_defused` or `env`: if `step` starts reading any of them,
    this run fails.
    """
    env = simpy.Environment()
    at = scheduler(env)
    fired: list[tuple[float, float, str]] = []
    at(2.5, lambda e: fired.append((env.now, e.at, e.value)), "x")
    env.run()
    assert fired == [(2.5, 2.5, "x")], f"Environment.step no longer fires a light event; {WHERE}"
    assert not hasattr(Due(print, None, 0.0), "_value")


def test_due_events_interleave_with_simpy_events_in_filing_order() -> None:
    """At equal times, `Due` events and SimPy timeouts fire in the order they were filed."""
    env = simpy.Environment()
    at = scheduler(env)
    order: list[str] = []
    at(1.0, lambda e: order.append("due-a"), None)
    after(env, 1.0, lambda e: order.append("timeout"))
    at(1.0, lambda e: order.append("due-b"), None)
    at(0.5, lambda e: order.append("early"), None)
    env.run()
    assert order == ["early", "due-a", "timeout", "due-b"]


def test_run_until_stops_before_later_due_events() -> None:
    """`run(until=t)` leaves later `Due` events pending; `pending` lists what they carry."""
    env = simpy.Environment()
    at = scheduler(env)
    seen: list[str] = []
    at(1.0, lambda e: seen.append(e.value), "a")
    at(5.0, lambda e: seen.append(e.value), "b")
    at(7.0, lambda e: seen.append(e.value), "c")
    after(env, 6.0, lambda e: None)
    env.run(until=4.0)
    assert seen == ["a"]
    assert env.now == 4.0
    assert sorted(pending(env)) == ["b", "c"]
