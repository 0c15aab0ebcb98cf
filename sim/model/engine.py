"""The clock under the centre: the one module that reaches inside SimPy.

The contact lifecycle (`sim.model.processes`) schedules several events per contact: an
arrival, a service completion, often an abandonment. A `simpy.Timeout` per event, fired by
`Environment.step`, would cost a good part of the run, so the centre files its own light
entries straight into SimPy's event heap, and `run` fires them itself, in time order,
interleaved with any ordinary SimPy events (which it hands to SimPy's own `step`).

A light entry is the 5-tuple ``(time, NORMAL, id, callback, value)``: it sorts among
SimPy's ``(time, priority, id, event)`` entries exactly as a SimPy event filed at the same
moment would (the ids are unique, so no comparison ever reaches the fourth item), and
firing it is one call, ``callback(time, value)``.

Doing so relies on these SimPy internals, named here and checked by
`tests/unit/test_engine.py` so that a SimPy release that changes them fails loudly rather
than silently:

- `Environment._queue`: the event heap, a list of ``(time, priority, id, event)`` tuples;
- `Environment._eid`: the counter that numbers events, breaking ties in filing order;
- `Environment._now`: the clock's time, set by whoever fires an event;
- `simpy.events.NORMAL` / `URGENT`: the priorities of an ordinary event and of the event
  that ends a run (`Environment.run(until=...)` files it URGENT, before ordinary events due
  at the same time);
- `Environment.step` pops the heap's first entry and fires it.

Because SimPy's own `step` cannot fire a light entry, a centre's clock must be run with
`run` below, never with `Environment.run`. `pyproject.toml` bounds SimPy below 5 for the
same reason. Everything else in the project uses SimPy's public interface, or none of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from typing import Any, cast

from simpy import Environment
from simpy.core import StopSimulation
from simpy.events import NORMAL, URGENT, Event, Timeout

Callback = Callable[[float, Any], None]
"""What a light event calls when its time comes: ``callback(time, value)``."""

Schedule = Callable[[float, Callback, Any], None]
"""`at(when, callback, value)`: call ``callback(when, value)`` at time `when`."""


def scheduler(env: Environment) -> Schedule:
    """A function that files light events on `env`'s clock.

    The returned function is what the hot path calls for every event it schedules, so it
    keeps the heap and the id counter in local cells instead of looking them up.

    Args:
        env: the SimPy environment whose clock the events run on.

    Returns:
        `at(when, callback, value)`: call ``callback(when, value)`` when the clock reaches
        `when`. Events due at the same time fire in the order they were scheduled, before
        or after ordinary SimPy events by the same rule.
    """
    queue = cast(list[Any], env._queue)
    eid: Iterator[int] = env._eid

    def at(when: float, callback: Callback, value: Any) -> None:
        heappush(queue, (when, NORMAL, next(eid), callback, value))

    return at


def run(env: Environment, until: float) -> None:
    """Run `env`'s clock up to time `until`, as `Environment.run(until=until)` would.

    Light events (filed by `scheduler`) are fired here, one call each; ordinary SimPy
    events go through `Environment.step`. The run stops at `until` before any event due
    then, exactly as SimPy's own `run` does (its stop event is URGENT), and leaves the
    clock at `until`.

    Raises:
        ValueError: `until` is not later than the clock's time.
    """
    if until <= env.now:
        raise ValueError(f"until ({until}) must be greater than the current simulation time")
    stop = Event(env)
    stop._ok = True
    stop._value = None
    stop.callbacks.append(StopSimulation.callback)
    queue = cast(list[Any], env._queue)
    heappush(queue, (until, URGENT, next(env._eid), stop))
    step = env.step
    try:
        while True:
            entry = heappop(queue)
            if len(entry) == 5:
                when = entry[0]
                env._now = when
                entry[3](when, entry[4])
            else:  # a SimPy event: back on top of the heap, for SimPy's own step to fire
                heappush(queue, entry)
                step()
    except StopSimulation:
        return


def pending(env: Environment) -> Iterator[Any]:
    """The values carried by light events still waiting on `env`'s clock, in heap order."""
    for entry in cast(list[tuple[Any, ...]], env._queue):
        if len(entry) == 5:
            yield entry[4]


def queued(env: Environment) -> int:
    """How many events wait on `env`'s clock (the running guard's measure of live work)."""
    return len(cast(list[Any], env._queue))


def after(env: Environment, delay: float, callback: Callable[[Event], None]) -> None:
    """Call `callback(event)` once `delay` seconds from now (SimPy's public interface).

    For the few events of a run that are not per contact (warm-up end, interval ends).
    """
    Timeout(env, delay).callbacks.append(callback)
