"""The SimPy internals `sim.model.engine` relies on, named one by one.

If a SimPy release changes one of them, the test that names it fails with a message
saying what changed and where the project depends on it, instead of the simulator
quietly giving wrong numbers.
"""

from __future__ import annotations

import itertools

import pytest
import simpy
from simpy.events import NORMAL, URGENT, Timeout

from sim.model.engine import after, pending, queued, run, scheduler

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


def test_clock_time_is_the_now_attribute() -> None:
    """`Environment.now` reads `Environment._now`, which whoever fires an event sets."""
    env = simpy.Environment()
    assert getattr(env, "_now", None) == 0, f"SimPy has no Environment._now; {WHERE}"
    env._now = 12.5
    assert env.now == 12.5, f"Environment.now no longer reads Environment._now; {WHERE}"


def test_priorities_order_urgent_before_normal() -> None:
    """`NORMAL` is the ordinary priority and sorts after `URGENT` at the same time."""
    assert isinstance(NORMAL, int) and isinstance(URGENT, int)
    assert URGENT < NORMAL, f"simpy.events.URGENT no longer sorts before NORMAL; {WHERE}"


def test_step_pops_the_first_entry_and_fires_it() -> None:
    """`Environment.step` fires the heap's first entry, sets the clock, and leaves the rest."""
    env = simpy.Environment()
    fired: list[float] = []
    after(env, 2.0, lambda e: fired.append(env.now))
    after(env, 1.0, lambda e: fired.append(env.now))
    env.step()
    assert fired == [1.0] and env.now == 1.0, f"Environment.step no longer fires the earliest event; {WHERE}"
    assert len(env._queue) == 1, f"Environment.step does not pop exactly one entry; {WHERE}"


def test_light_events_fire_with_time_and_value() -> None:
    """A light event calls its callback with its time and its value, the clock set to it."""
    env = simpy.Environment()
    at = scheduler(env)
    fired: list[tuple[float, float, str]] = []
    at(2.5, lambda now, value: fired.append((env.now, now, value)), "x")
    run(env, 10.0)
    assert fired == [(2.5, 2.5, "x")]
    assert env.now == 10.0


def test_light_events_interleave_with_simpy_events_in_filing_order() -> None:
    """At equal times, light events and SimPy timeouts fire in the order they were filed."""
    env = simpy.Environment()
    at = scheduler(env)
    order: list[str] = []
    at(1.0, lambda now, v: order.append("due-a"), None)
    after(env, 1.0, lambda e: order.append("timeout"))
    at(1.0, lambda now, v: order.append("due-b"), None)
    at(0.5, lambda now, v: order.append("early"), None)
    run(env, 2.0)
    assert order == ["early", "due-a", "timeout", "due-b"]


def test_run_stops_where_simpy_run_stops() -> None:
    """`run(env, t)` fires what `Environment.run(until=t)` fires: nothing due at t or later.

    The same SimPy timeouts, run both ways, fire at the same times and leave the same
    number of entries on the heap.
    """

    def timeline(use_engine: bool) -> tuple[list[float], float, int]:
        env = simpy.Environment()
        seen: list[float] = []
        for t in (1.0, 3.0, 4.0, 4.0, 6.0):
            after(env, t, lambda e: seen.append(env.now))
        if use_engine:
            run(env, 4.0)
        else:
            env.run(until=4.0)
        return seen, env.now, len(env._queue)

    # left: the two timeouts at 4, the one at 6, and SimPy's stop event (filed again, fired)
    assert timeline(True) == timeline(False) == ([1.0, 3.0], 4.0, 4)


def test_run_leaves_later_light_events_pending() -> None:
    """`run(env, t)` leaves later light events pending; `pending` lists what they carry."""
    env = simpy.Environment()
    at = scheduler(env)
    seen: list[str] = []
    at(1.0, lambda now, v: seen.append(v), "a")
    at(5.0, lambda now, v: seen.append(v), "b")
    at(7.0, lambda now, v: seen.append(v), "c")
    after(env, 6.0, lambda e: None)
    run(env, 4.0)
    assert seen == ["a"]
    assert env.now == 4.0
    assert sorted(pending(env)) == ["b", "c"]
    assert queued(env) == 4  # b, c, the timeout at 6 and the stop event (filed again, fired)


def test_run_refuses_a_time_already_past() -> None:
    env = simpy.Environment()
    run(env, 3.0)
    with pytest.raises(ValueError, match="greater than the current simulation time"):
        run(env, 2.0)


def test_a_failed_simpy_event_still_crashes_the_run() -> None:
    """SimPy events go through SimPy's own `step`: a failure nobody handles is raised."""
    env = simpy.Environment()
    ev = env.event()
    ev.fail(RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        run(env, 5.0)
