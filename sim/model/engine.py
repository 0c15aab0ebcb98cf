"""The clock under the centre: the one module that reaches inside SimPy.

The contact lifecycle (`sim.model.processes`) schedules several events per contact: an
arrival, a service completion, often an abandonment. A `simpy.Timeout` per event would
cost a good part of the run, so the centre files its own light events straight into
SimPy's event heap and lets `Environment.run` fire them in time order, interleaved with
any ordinary SimPy events, exactly as SimPy would.

Doing so relies on four SimPy internals, named here and checked by `tests/test_engine.py`
so that a SimPy release that changes them fails loudly rather than silently:

- `Environment._queue`: the event heap, a list of ``(time, priority, id, event)`` tuples;
- `Environment._eid`: the counter that numbers events, breaking ties in filing order;
- `simpy.events.NORMAL`: the priority of an ordinary event;
- `Environment.step` fires an event by calling each of its `callbacks` with the event,
  then reads its `_ok` flag (and its `_value` only when `_ok` is false).

`pyproject.toml` bounds SimPy below 5 for the same reason. Everything else in the project
uses SimPy's public interface, or none of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heappush
from typing import Any, cast

from simpy import Environment
from simpy.events import NORMAL, Event, Timeout

Callback = Callable[["Due"], None]
"""What a `Due` event calls when its time comes: a function of the event itself."""

Schedule = Callable[[float, Callback, Any], None]
"""`at(when, callback, value)`: fire `callback(Due)` at time `when`, carrying `value`."""


class Due:
    """A light event that fires one callback at a set time, carrying a value.

    `Environment.step` needs only `callbacks` and `_ok` of an event; a slotted object with
    those, the time it fires and the value it carries is several times cheaper to create
    than a `simpy.Timeout`, and there is one per arrival, service and abandonment.

    Attributes:
        at: the simulated time at which it fires (the clock's time when its callback runs).
        value: what it carries (a contact, a feed, a channel and a flag...).
    """

    __slots__ = ("_ok", "at", "callbacks", "value")

    def __init__(self, callback: Callback, value: Any, at: float) -> None:
        self.callbacks: list[Callback] | None = [callback]
        self.value = value
        self.at = at
        self._ok = True


def scheduler(env: Environment) -> Schedule:
    """A function that files `Due` events on `env`'s clock.

    The returned function is what the hot path calls for every event it schedules, so it
    keeps the heap and the id counter in local cells instead of looking them up.

    Args:
        env: the SimPy environment whose clock the events run on.

    Returns:
        `at(when, callback, value)`: fire `callback(event)` at `when`, with `event.value`
        set to `value` and `event.at` to `when`. Events due at the same time fire in the
        order they were scheduled, before or after ordinary SimPy events by the same rule.
    """
    queue = cast(list[Any], env._queue)  # it holds SimPy events; a `Due` passes for one
    eid: Iterator[int] = env._eid

    def at(when: float, callback: Callback, value: Any) -> None:
        heappush(queue, (when, NORMAL, next(eid), Due(callback, value, when)))

    return at


def pending(env: Environment) -> Iterator[Any]:
    """The values carried by `Due` events still waiting on `env`'s clock, in heap order."""
    for *_, event in cast(list[tuple[Any, ...]], env._queue):
        if type(event) is Due:
            yield event.value


def queued(env: Environment) -> int:
    """How many events wait on `env`'s clock (the running guard's measure of live work)."""
    return len(cast(list[Any], env._queue))


def after(env: Environment, delay: float, callback: Callable[[Event], None]) -> None:
    """Call `callback(event)` once `delay` seconds from now (SimPy's public interface).

    For the few events of a run that are not per contact (warm-up end, interval ends).
    """
    Timeout(env, delay).callbacks.append(callback)
