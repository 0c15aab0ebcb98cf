"""The life of a contact, driven by SimPy events with callbacks (no process per contact).

The story, as the code tells it:

1. A customer arrives on a channel (`_on_arrival`). Their handle time and patience are
   drawn now, from the channel's own streams. They join the channel's queue, and every
   agent group skilled for the channel that has an idle agent is offered work.
2. Offering work (`_offer`) asks the routing policy which queue the group's free agent
   should serve; the agent takes that queue's oldest contact (`_start`).
3. A customer still waiting when their patience runs out leaves (`_on_abandon`); the
   abandonment is a scheduled event that does nothing if the contact was taken first.
4. When an agent finishes (`_on_complete`) it records the contact and asks the policy for
   its next one at once, so an agent is never idle while work it may take is waiting.

Agents pull work; the routing decision lives in one place, the policy. Every tally is
kept on the channel and group objects as the contact leaves; nothing is sampled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heappush
from typing import Any

from simpy import Environment
from simpy.events import NORMAL

from sim.model.entities import (
    ABANDONED,
    ANSWERED,
    IN_SERVICE,
    WAITING,
    ChannelState,
    Contact,
    GroupState,
)
from sim.model.policies import Policy

_INF = float("inf")

ContactSink = Callable[[Contact, float, int], None]
"""Receives each contact as it ends (or at the horizon): contact, end time, outcome."""


class Due:
    """A SimPy-compatible event that fires one callback at a set time, carrying a value.

    `Environment.step` needs only `callbacks`, `_ok` and `_value`; a slotted object with
    those three is several times cheaper to create than a `simpy.Timeout`, and there is
    one per arrival, service and abandonment.
    """

    __slots__ = ("_ok", "_value", "callbacks")

    def __init__(self, callback: Callable[[Any], None], value: Any) -> None:
        self.callbacks: list[Callable[[Any], None]] | None = [callback]
        self._value = value
        self._ok = True


class Centre:
    """A running support centre: channels, agent groups and a routing policy on one clock."""

    def __init__(
        self,
        env: Environment,
        channels: list[ChannelState],
        groups: list[GroupState],
        policy: Policy,
        warmup_s: float,
        sink: ContactSink | None = None,
    ) -> None:
        self.env = env
        self.channels = channels
        self.groups = groups
        self.policy = policy
        self.warmup_s = warmup_s
        self.sink = sink
        self.next_id = 0
        self.preemptive = bool(getattr(policy, "preemptive", False))
        """Phone contacts may interrupt interruptible work (see `_preempt`)."""
        self._queue: list[Any] = env._queue  # SimPy's event heap: (time, priority, id, event)
        self._eid = env._eid

    def at(self, when: float, callback: Callable[[Any], None], value: Any) -> None:
        """Fire `callback(event)` at time `when`, with `event._value` set to `value`."""
        heappush(self._queue, (when, NORMAL, next(self._eid), Due(callback, value)))

    # --- arrivals ---------------------------------------------------------------------

    def start_arrivals(
        self,
        channel: ChannelState,
        times: Iterator[float],
        handle: Iterator[float],
        patience: Iterator[float] | None,
    ) -> None:
        """Feed `channel` with arrivals at `times`, drawing each customer's durations."""
        first = next(times, None)
        if first is None:
            return
        self.at(first, self._on_arrival, _ArrivalFeed(channel, times, handle, patience))

    def _on_arrival(self, event: Due) -> None:
        feed: _ArrivalFeed = event._value
        now: float = self.env._now
        ch = feed.channel
        patience = next(feed.patience) if feed.patience is not None else float("inf")
        c = Contact(self.next_id, ch, now, next(feed.handle), patience)
        self.next_id += 1
        if now >= self.warmup_s:
            ch.offered += 1
        ch.queue.append(c)
        ch.n_waiting += 1
        level = ch.queue_level  # Level.add, inlined: this runs once per contact
        level.area += level.value * (now - level.last)
        level.last = now
        level.value += 1
        for group in ch.groups:
            if group.idle:
                target = self.policy.choose(group, now)
                if target is not None:
                    self._start(group, target, now)
                    if not ch.n_waiting:
                        break
        if c.state == WAITING:
            if patience != _INF:
                self.at(now + patience, self._on_abandon, c)
            for group, delay in ch.overflow:
                self.at(now + delay, self._on_overflow, group)
            if self.preemptive and ch.kind == "phone":
                self._preempt(ch, now)
        nxt = next(feed.times, None)
        if nxt is not None:
            self.at(nxt, self._on_arrival, feed)

    # --- service ----------------------------------------------------------------------

    def _start(self, group: GroupState, ch: ChannelState, now: float) -> None:
        """An idle agent of `group` takes the oldest contact waiting in `ch`."""
        group.idle -= 1
        group.busy_level.add(now, 1)
        self._take(group, ch, now)

    def _take(self, group: GroupState, ch: ChannelState, now: float) -> None:
        """An agent of `group`, already counted busy, takes the oldest contact in `ch`."""
        c = ch.head()
        assert c is not None, "policy chose an empty queue"
        ch.queue.popleft()
        ch.n_waiting -= 1
        level = ch.queue_level
        level.area += level.value * (now - level.last)
        level.last = now
        level.value -= 1
        c.state = IN_SERVICE
        if c.answered_at < 0:  # a resumed contact keeps its first answer time
            c.answered_at = now
        c.group = group
        end = now + c.remaining * group.mult[ch.index]
        c.service_end = end
        heappush(self._queue, (end, NORMAL, next(self._eid), Due(self._on_complete, c)))
        if self.preemptive and ch.interruptible:
            group.interruptible[c.id] = c

    def _on_complete(self, event: Due) -> None:
        c: Contact = event._value
        now: float = self.env._now
        if c.state != IN_SERVICE or c.service_end != now:
            return  # stale: the service was interrupted and rescheduled
        group = c.group
        assert group is not None
        c.state = ANSWERED
        group.served += 1
        ch = c.channel
        if self.preemptive and ch.interruptible:
            del group.interruptible[c.id]
        if c.arrived_at >= self.warmup_s:
            wait = c.answered_at - c.arrived_at
            ch.answered += 1
            ch.wait_answered_sum += wait
            if wait > 0:
                ch.waited += 1
            if wait <= ch.target_s:
                ch.within_target += 1
        if self.sink is not None:
            self.sink(c, now, ANSWERED)
        if group.leaving:  # the agent's shift has ended: off duty after the contact in hand
            group.leaving -= 1
            group.on_duty -= 1
            group.on_duty_level.add(now, -1)
            group.busy_level.add(now, -1)
            return
        # The agent is free: it asks for its next contact before anyone else can. While
        # the policy decides, the agent counts as idle; if it takes work at once, its
        # busy time simply continues.
        group.idle += 1
        target = self.policy.choose(group, now)
        if target is not None:
            group.idle -= 1
            self._take(group, target, now)
        else:
            group.busy_level.add(now, -1)

    def _fill(self, group: GroupState, now: float) -> None:
        """Idle agents of `group` take whatever the policy gives them."""
        while group.idle:
            target = self.policy.choose(group, now)
            if target is None:
                return
            self._start(group, target, now)

    def _on_overflow(self, event: Due) -> None:
        """A contact has waited long enough for an overflow group to take it."""
        group: GroupState = event._value
        if group.idle:
            self._fill(group, self.env._now)

    def _preempt(self, ch: ChannelState, now: float) -> None:
        """Interrupt interruptible work so a waiting phone contact is answered now.

        The agent most recently given interruptible work (an email) puts it back at the
        head of its queue with the work still to do, and takes the phone contact. The
        interrupted contact resumes later, from where it stopped.
        """
        for group in ch.groups:
            if not group.interruptible:
                continue
            victim = group.interruptible.pop(next(reversed(group.interruptible)))
            vch = victim.channel
            victim.remaining = (victim.service_end - now) / group.mult[vch.index]
            victim.service_end = -1.0
            victim.state = WAITING
            victim.preempted += 1
            vch.queue.appendleft(victim)
            vch.n_waiting += 1
            vch.queue_level.add(now, 1)
            self._take(group, ch, now)
            return

    # --- staffing over time -----------------------------------------------------------

    def start_roster(self, group: GroupState, steps: list[tuple[float, int]]) -> None:
        """Change the group's head count at each `(time, count)` step after time 0."""
        for when, count in steps:
            if when > 0:
                self.at(when, self._on_roster, (group, count))

    def _on_roster(self, event: Due) -> None:
        group, count = event._value
        self.set_staff(group, count, self.env._now)

    def set_staff(self, group: GroupState, count: int, now: float) -> None:
        """Bring the group's head count to `count`.

        New agents start idle and pull work at once. Agents leaving go idle ones first;
        busy ones finish the contact in hand, then go: no contact is lost or duplicated.
        """
        diff = count - group.count
        if diff > 0:
            stay = min(group.leaving, diff)  # agents about to leave stay on instead
            group.leaving -= stay
            diff -= stay
            if diff:
                group.on_duty += diff
                group.idle += diff
                group.on_duty_level.add(now, diff)
                self._fill(group, now)
        elif diff < 0:
            gone = min(group.idle, -diff)
            group.idle -= gone
            group.on_duty -= gone
            group.on_duty_level.add(now, -gone)
            group.leaving += -diff - gone

    def _on_abandon(self, event: Due) -> None:
        c: Contact = event._value
        if c.state != WAITING:
            return  # taken by an agent before patience ran out
        now = self.env._now
        c.state = ABANDONED
        ch = c.channel
        ch.n_waiting -= 1
        ch.queue_level.add(now, -1)
        if c.arrived_at >= self.warmup_s:
            ch.abandoned += 1
            ch.waited += 1
            ch.wait_abandoned_sum += now - c.arrived_at
        if self.sink is not None:
            self.sink(c, now, ABANDONED)

    # --- bookkeeping ------------------------------------------------------------------

    def open_contacts(self) -> tuple[list[Contact], list[Contact]]:
        """Contacts still waiting and still in service now (call at the horizon)."""
        waiting = [c for ch in self.channels for c in ch.queue if c.state == WAITING]
        # A contact in service is the value of its pending completion event. Its pending
        # abandonment event (if it had to wait) carries it too: count each contact once.
        in_service_by_id = {
            ev._value.id: ev._value
            for *_, ev in self.env._queue
            if isinstance(ev._value, Contact) and ev._value.state == IN_SERVICE
        }
        in_service = list(in_service_by_id.values())
        return waiting, in_service


class _ArrivalFeed:
    """What an arrival event carries: the channel and its iterators of times and draws."""

    __slots__ = ("channel", "handle", "patience", "times")

    def __init__(
        self,
        channel: ChannelState,
        times: Iterator[float],
        handle: Iterator[float],
        patience: Iterator[float] | None,
    ) -> None:
        self.channel = channel
        self.times = times
        self.handle = handle
        self.patience = patience
