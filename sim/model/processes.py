"""The life of a contact, driven by SimPy events with callbacks (no process per contact).

The story, as the code tells it:

1. A customer arrives on a channel (`_on_arrival`). Their handle time and patience are
   drawn now, from the channel's own streams (the handle time times the channel's
   time-of-day multiplier, if it has one). They join the channel's queue, and every
   agent group skilled for the channel that has an idle agent is offered work.
2. Offering work asks the routing policy (`Policy.choose`) which queue the group's free
   agent should serve; the agent takes that queue's oldest contact (`_start`).
3. A customer still waiting when their patience runs out leaves (`_on_abandon`); the
   abandonment is a scheduled event that does nothing if the contact was taken first.
4. When an agent finishes (`_on_complete`) it records the contact and asks the policy for
   its next one at once, so an agent is never idle while work it may take is waiting. On
   a channel with mechanics the customer's journey goes on (`sim.model.journey_flow`).

5. When the run stops, `close_books` tallies the contacts still open, judging those
   whose service-level outcome is already known.

Agents pull work; the routing decision lives in one place, the policy. Every tally is
kept on the channel and group objects as the contact leaves; nothing is sampled. A
journey's satisfaction is scored by `sim.model.outcomes.journey_csat`; events are filed
on the clock through `sim.model.engine`, the one module that reaches inside SimPy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from simpy import Environment

from sim.config.journeys import OutcomeModel
from sim.model.engine import pending, scheduler
from sim.model.entities import (
    ABANDONED,
    ANSWERED,
    IN_SERVICE,
    OPEN,
    SINK_BLOCK,
    WAITING,
    ChannelState,
    Contact,
    ContactSink,
    ExpLevel,
    GroupState,
)
from sim.model.journey_flow import PHONE, RETRIAL, SPAWN_REASONS, JourneyFlow
from sim.model.outcomes import open_at_horizon
from sim.model.policies import Policy

_INF = float("inf")
_LOG_FULL = 3 * SINK_BLOCK
"""Length of the sink's answered-contact log (three numbers a contact) at which it is tallied."""


class Centre(JourneyFlow):
    """A running support centre: channels, agent groups and a routing policy on one clock.

    The steps of customers' journeys across contacts live in `JourneyFlow`.
    """

    def __init__(
        self,
        env: Environment,
        channels: list[ChannelState],
        groups: list[GroupState],
        policy: Policy,
        warmup_s: float,
        sink: ContactSink | None = None,
        outcome: OutcomeModel | None = None,
    ) -> None:
        self.env = env
        self.outcome = outcome or OutcomeModel()
        self.visible = ExpLevel(self.outcome.sentiment_scale)
        """Open complaint journeys that started on a social channel (public sentiment)."""
        self.channels = channels
        self.groups = groups
        self.policy = policy
        self.warmup_s = warmup_s
        self.sink = sink
        self.answered_log = sink.answered_log if sink is not None else None
        """The sink's list of answered contacts, when it gathers them (see `ContactSink`)."""
        self.next_id = 0
        self.spawned = [0] * len(SPAWN_REASONS)
        """Contacts the model created, by reason (`SPAWN_REASONS`): what a runaway is made of."""
        self.guard: Any = None
        """Called as `guard(centre, now)` every `guard_every` contacts (see `sim.model.guard`)."""
        self.guard_at: float = _INF
        self.preemptive = bool(policy.preemptive)
        """Phone contacts may interrupt interruptible work (see `_preempt`)."""
        self.at = scheduler(env)
        """`at(when, callback, value)`: call `callback(when, value)` at `when` (see `sim.model.engine`)."""

    # --- arrivals ---------------------------------------------------------------------

    def start_arrivals(self, feed: ArrivalFeed) -> None:
        """Feed a channel with arrivals at `feed.times`, drawing each customer's durations."""
        first = next(feed.times, None)
        if first is None:
            return
        self.at(first, self._on_arrival, feed)

    def _on_arrival(self, now: float, feed: ArrivalFeed) -> None:
        ch = feed.channel
        patience = next(feed.patience) if feed.patience is not None else _INF
        handle = next(feed.handle)
        if feed.handle_mult is not None:
            handle *= feed.handle_mult[int(now % 86_400.0 // feed.handle_interval_s)]
        if ch.open or ch.kind is not PHONE:  # a closed phone line takes no calls
            c = Contact(self.next_id, ch, now, handle, patience)
            self.next_id += 1
            if self.next_id >= self.guard_at:
                self.guard(self, now)
            if ch.mech is None:
                self._arrive(c, now)
            else:
                self._new_customer(c, ch.mech, now)
        nxt = next(feed.times, None)
        if nxt is not None:
            self.at(nxt, self._on_arrival, feed)

    def _arrive(self, c: Contact, now: float) -> None:
        """File a contact in its channel's queue and offer it to idle agents."""
        ch = c.channel
        if now >= self.warmup_s:
            ch.offered += 1
        ch.queue.append(c)
        ch.n_waiting += 1
        level = ch.queue_level  # Level.add, inlined: this runs once per contact
        level.area += level.value * (now - level.last)
        level.last = now
        level.value += 1
        if ch.open:
            for group in ch.groups:
                if group.idle:
                    target = self.policy.choose(group, now)
                    if target is not None:
                        self._start(group, target, now)
                        if not ch.n_waiting:
                            break
        if c.state == WAITING:
            if c.patience != _INF:
                self.at(now + c.patience, self._on_abandon, c)
            for group, delay in ch.overflow:
                self.at(now + delay, self._on_overflow, group)
            if self.preemptive and ch.kind is PHONE:
                self._preempt(ch, now)

    # --- service ----------------------------------------------------------------------

    def _start(self, group: GroupState, ch: ChannelState, now: float) -> None:
        """An idle agent of `group` takes the oldest contact waiting in `ch`."""
        group.idle -= 1
        level = group.busy_level  # Level.add, inlined (once per contact when agents are idle)
        level.area += level.value * (now - level.last)
        level.last = now
        level.value += 1
        self._take(group, ch, now)

    def _take(self, group: GroupState, ch: ChannelState, now: float) -> None:
        """An agent of `group`, already counted busy, takes the oldest contact in `ch`."""
        queue = ch.queue
        c = queue.popleft()
        while c.state != WAITING:  # drop contacts that abandoned while queued (lazy deletion)
            c = queue.popleft()
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
        self.at(end, self._on_complete, c)
        if self.preemptive and ch.interruptible:
            group.interruptible[c.id] = c

    def _on_complete(self, now: float, c: Contact) -> None:
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
            ch.service_sum += now - c.answered_at
            if wait > 0:
                ch.waited += 1
            if wait <= ch.target_s:  # the service level's hit (see `close_books` for open ones)
                ch.within_target += 1
            else:  # late: the satisfaction model's wait penalty grows to 1 at twice the target
                ch.late_sum += min(1.0, wait / ch.target_s - 1.0)
        log = self.answered_log
        if log is not None:
            log.extend((ch.index, c.arrived_at, c.answered_at))
            if len(log) >= _LOG_FULL:
                assert self.sink is not None  # the log is the sink's
                self.sink.flush()
        elif self.sink is not None:
            self.sink(c, now, ANSWERED)
        if ch.mech is not None:  # without mechanics, journey tallies follow from the above
            self._after_answer(c, now)
        if ch.wrap is not None:  # after-call work: the agent stays busy, the contact is done
            wrap = next(ch.wrap)
            if wrap > 0.0:
                self.at(now + wrap, self._on_wrapped, group)
                return
        self._free(group, now)

    def _on_wrapped(self, now: float, group: GroupState) -> None:
        """An agent of the group carried has finished its after-call work."""
        self._free(group, now)

    def _free(self, group: GroupState, now: float) -> None:
        """An agent of `group`, counted busy, has finished a contact and its after-call work."""
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
            level = group.busy_level  # Level.add, inlined
            level.area += level.value * (now - level.last)
            level.last = now
            level.value -= 1

    def _fill(self, group: GroupState, now: float) -> None:
        """Idle agents of `group` take whatever the policy gives them."""
        while group.idle:
            target = self.policy.choose(group, now)
            if target is None:
                return
            self._start(group, target, now)

    def _on_overflow(self, now: float, group: GroupState) -> None:
        """A contact has waited long enough for an overflow group to take it."""
        if group.idle:
            self._fill(group, now)

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

    # --- opening hours --------------------------------------------------------------

    def start_hours(self, ch: ChannelState, steps: list[tuple[float, bool]]) -> None:
        """Open and close `ch` at each `(time, is_open)` step (the first is its state at 0)."""
        self.set_open(ch, steps[0][1], 0.0)
        for when, is_open in steps[1:]:
            self.at(when, self._on_hours, (ch, is_open))

    def _on_hours(self, now: float, value: tuple[ChannelState, bool]) -> None:
        ch, is_open = value
        self.set_open(ch, is_open, now)

    def set_open(self, ch: ChannelState, is_open: bool, now: float) -> None:
        """Open or close a channel: agents see only the queues of open channels."""
        ch.open = is_open
        for group in ch.groups:
            group.queues = [q for q in group.all_queues if q.open]
        if is_open:
            for group in ch.groups:
                if group.idle:
                    self._fill(group, now)

    # --- staffing over time -----------------------------------------------------------

    def start_roster(self, group: GroupState, steps: list[tuple[float, int]]) -> None:
        """Change the group's head count at each `(time, count)` step after time 0."""
        for when, count in steps:
            if when > 0:
                self.at(when, self._on_roster, (group, count))

    def _on_roster(self, now: float, value: tuple[GroupState, int]) -> None:
        group, count = value
        self.set_staff(group, count, now)

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

    def _on_abandon(self, now: float, c: Contact) -> None:
        if c.state != WAITING:
            return  # taken by an agent before patience ran out
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
        mech = ch.mech
        if mech is not None and not c.follow_up:
            root = c.root or c
            if root.j_state == OPEN:
                self._route_on(root, mech.retrial, mech, now, RETRIAL)

    # --- bookkeeping ------------------------------------------------------------------

    def open_contacts(self) -> tuple[list[Contact], list[Contact]]:
        """Contacts still waiting and still in service now (call at the horizon)."""
        waiting = [c for ch in self.channels for c in ch.queue if c.state == WAITING]
        # A contact in service is the value of its pending completion event. Its pending
        # abandonment event (if it had to wait) carries it too: count each contact once.
        in_service_by_id = {
            value.id: value
            for value in pending(self.env)
            if isinstance(value, Contact) and value.state == IN_SERVICE
        }
        in_service = list(in_service_by_id.values())
        return waiting, in_service

    def close_books(self, horizon: float) -> None:
        """Tally the contacts still open when the run stops, and hand them to the sink.

        For the service level, an open contact's outcome may already be known: one taken
        within the target is a hit, one taken late or still waiting past the target is a
        miss (`judged_open` counts both); one still waiting within the target is not judged
        (`sim.model.outcomes.open_at_horizon`).
        """
        waiting, in_service = self.open_contacts()
        for c in waiting + in_service:
            ch = c.channel
            if c.arrived_at >= self.warmup_s:
                if c.state == WAITING:
                    ch.waiting_end += 1
                else:
                    ch.in_service_end += 1
                waited, judged, hit = open_at_horizon(c, horizon, ch.target_s)
                ch.waited += waited
                ch.judged_open += judged
                ch.within_target += hit
            if self.sink is not None:
                self.sink(c, horizon, WAITING if c.state == WAITING else IN_SERVICE)


@dataclass(slots=True)
class ArrivalFeed:
    """A channel's arrivals: their times and each customer's handle time and patience draws.

    What an arrival event carries (see `Centre.start_arrivals`); patience is None on a
    channel where customers never give up. `handle_mult`, when set, scales each handle-time
    draw by the multiplier of the interval of the day (`handle_interval_s` long) the contact
    arrives in.
    """

    channel: ChannelState
    times: Iterator[float]
    handle: Iterator[float]
    patience: Iterator[float] | None
    handle_interval_s: float = 86_400.0
    handle_mult: list[float] | None = None
