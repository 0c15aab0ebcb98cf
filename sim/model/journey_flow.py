"""A customer's journey across contacts: intent, fates, follow-ups, hand-offs, returns.

A channel with mechanics (`sim.model.journeys.ChannelMechanics`) treats a contact as one
step of a customer's journey, which may take several contacts on several channels:

1. A new customer (`_new_customer`) has an intent drawn (complaint, question...), and the
   draws that decide their fate are made now (`_fates`), so they belong to the customer
   whatever the staffing: whether an answer resolves, hands off, or whether they chase.
2. A customer unanswered for a while may write again (`_on_follow_up`): a chaser takes
   agent time but cannot resolve anything.
3. When an agent answers (`_after_answer`), the journey is resolved, handed off to
   another channel, or the customer comes back later (`_route_on`, `_on_repeat`,
   `_spawn`); one who abandoned may retry elsewhere.
4. A journey ends resolved or given up (`_close`), and is tallied on the channel where it
   started, with its satisfaction (`sim.model.outcomes.journey_csat`).

`JourneyFlow` is a part of `sim.model.processes.Centre`, kept in its own module so that
the contact lifecycle reads on its own; it uses the centre's clock, queues and tallies.
"""

from __future__ import annotations

from typing import Any

from sim.config.journeys import OutcomeModel
from sim.model.engine import Schedule
from sim.model.entities import (
    GAVE_UP,
    NO_ACTION,
    NOTHING_NEEDED,
    OPEN,
    RESOLVED,
    WAITING,
    ChannelState,
    Contact,
    ContactSink,
    ExpLevel,
)
from sim.model.journeys import ChannelMechanics, delay_draw
from sim.model.outcomes import journey_csat
from sim.types import ChannelKind

_INF = float("inf")
PHONE, SOCIAL = ChannelKind.PHONE, ChannelKind.SOCIAL
FOLLOW_UP, HANDOFF, RETURN, RETRIAL = range(4)
SPAWN_REASONS = ("follow-ups", "hand-offs", "returns of unresolved customers", "retrials after abandoning")
"""What makes the model create a contact besides an arrival, indexed as above."""


class JourneyFlow:
    """The journey steps of a support centre (mixed into `sim.model.processes.Centre`)."""

    at: Schedule
    warmup_s: float
    sink: ContactSink | None
    outcome: OutcomeModel
    visible: ExpLevel
    next_id: int
    spawned: list[int]
    guard: Any
    guard_at: float

    def _arrive(self, c: Contact, now: float) -> None:
        """File a contact in its channel's queue (the centre's own step)."""
        raise NotImplementedError

    def _new_customer(self, c: Contact, mech: ChannelMechanics, now: float) -> None:
        """A new customer on a channel with mechanics: intent, fate draws, auto-reply."""
        ch = c.channel
        if now >= self.warmup_s:
            ch.j["started"] += 1
        if mech.intent_u is not None:
            u = next(mech.intent_u)
            k = 0
            while mech.intent_cum[k] <= u:
                k += 1
            c.intent = k
            handle = mech.intents[k].handle
            if handle is not None:
                c.handle_time = c.remaining = next(handle)
        self._fates(c, mech, mech.fate, now)
        if ch.kind is SOCIAL and c.intent >= 0 and c.intent == mech.complaint:
            c.j_visible = True
            self.visible.add(now, 1)
        if c.intent >= 0 and mech.intents[c.intent].needs == "nothing":
            c.state = NO_ACTION
            if now >= self.warmup_s:
                ch.offered += 1
                ch.no_action += 1
            self._close(c, now, NOTHING_NEEDED)
            if self.sink is not None:
                self.sink(c, now, NO_ACTION)
            return
        self._arrive(c, now)

    def _fates(self, c: Contact, mech: ChannelMechanics, fate: Any, now: float) -> None:
        """Draw what decides this contact's fate, now, so it belongs to the customer."""
        c.u_resolve = next(fate)
        c.u_handoff = next(fate)
        u_follow = next(fate)
        if mech.auto_reply is not None:
            c.autoreplied = True
            root = c.root or c
            if root.j_first_response_at < 0:
                root.j_first_response_at = now
        if mech.follow_up is not None:
            p = mech.follow_up.probability
            if c.autoreplied and mech.auto_reply is not None:
                p = min(1.0, p + mech.auto_reply.follow_up_increase)
            if u_follow < p:
                assert mech.route_rng is not None
                self.at(now + delay_draw(mech.follow_up.delay, mech.route_rng), self._on_follow_up, c)

    def _on_follow_up(self, now: float, c: Contact) -> None:
        """A customer still unanswered writes again on the same channel."""
        root = c.root or c
        if c.state == WAITING and root.j_state == OPEN:
            self._spawn(root, c.channel, now, FOLLOW_UP)

    def _on_repeat(self, now: float, value: tuple[Contact, ChannelState, int]) -> None:
        root, ch, reason = value
        self._spawn(root, ch, now, reason)

    def _spawn(self, root: Contact, ch: ChannelState, now: float, reason: int) -> None:
        """The same customer contacts `ch` again (repeat, hand-off, retrial or follow-up)."""
        mech = ch.mech
        assert mech is not None and mech.repeat_handle is not None
        patience = next(mech.repeat_patience) if mech.repeat_patience is not None else _INF
        handle = next(mech.repeat_handle)
        if not ch.open and ch.kind is PHONE:
            self._close(root, now, GAVE_UP)  # the line is closed: the customer gives up
            return
        c = Contact(self.next_id, ch, now, handle, patience)
        self.next_id += 1
        self.spawned[reason] += 1
        if self.next_id >= self.guard_at:
            self.guard(self, now)
        c.root = root
        c.follow_up = reason == FOLLOW_UP
        root.j_contacts += 1
        if root.intent >= 0:
            root_mech = root.channel.mech
            assert root_mech is not None
            c.intent = mech.intent_index(root_mech.intents[root.intent].name)
        self._fates(c, mech, mech.repeat_fate, now)
        self._arrive(c, now)

    def _after_answer(self, c: Contact, now: float) -> None:
        """An agent has finished a contact: resolved, handed off, or back later?"""
        root = c.root or c
        if root.j_first_response_at < 0:
            root.j_first_response_at = c.answered_at
        if root.j_state != OPEN or c.follow_up:
            return  # a chaser, or a contact of a journey already closed: nothing to decide
        ch = c.channel
        mech = ch.mech
        assert mech is not None
        intent = mech.intents[c.intent] if c.intent >= 0 else None
        if intent is not None and intent.needs == "acknowledgement":
            self._close(root, now, RESOLVED)
            return
        assert mech.route_rng is not None
        if mech.handoff is not None and c.u_handoff < mech.handoff.share:
            assert mech.handoff_target is not None
            later = now + delay_draw(mech.handoff.delay, mech.route_rng)
            self.at(later, self._on_repeat, (root, mech.handoff_target, HANDOFF))
            return
        p = intent.resolution if intent is not None and intent.resolution is not None else mech.resolution_p
        group = c.group
        if group is not None:
            p *= group.resolve_mult[ch.index]
        if c.u_resolve < p:
            self._close(root, now, RESOLVED)
            return
        self._route_on(root, mech.returns, mech, now, RETURN)

    def _route_on(self, root: Contact, route: Any, mech: ChannelMechanics, now: float, reason: int) -> None:
        """Send the customer on along `route` (returns or retrial), or let them give up."""
        if route is None:
            self._close(root, now, GAVE_UP)
            return
        target = route.choose(mech.route_rng)
        if target is None:
            self._close(root, now, GAVE_UP)
        else:
            self.at(now + route.wait(mech.route_rng), self._on_repeat, (root, target, reason))

    def _close(self, root: Contact, now: float, state: int) -> None:
        """End a customer's journey and tally it on the channel where it started."""
        if root.j_state != OPEN:
            return
        root.j_state = state
        if root.j_visible:
            self.visible.add(now, -1)
        if root.arrived_at < self.warmup_s:
            return
        t = root.channel.j
        if state == NOTHING_NEEDED:
            t["nothing_needed"] += 1
            return
        start = root.arrived_at
        first = root.j_first_response_at
        if first >= 0:
            t["first_responses"] += 1
            t["first_response_sum"] += first - start
            late = (first - start) / root.channel.target_s - 1.0
        else:
            late = 1.0
        resolved = state == RESOLVED
        if resolved:
            t["resolved"] += 1
            t["resolution_time_sum"] += now - start
            if root.j_contacts == 1:
                t["first_contact_resolved"] += 1
        else:
            t["gave_up"] += 1
        penalty = 0.0
        if root.autoreplied and root.channel.kind is SOCIAL:
            mech = root.channel.mech
            if mech is not None and mech.auto_reply is not None:
                penalty = mech.auto_reply.csat_penalty
        t["contacts_sum"] += root.j_contacts
        t["csat_sum"] += journey_csat(self.outcome, late, root.j_contacts, resolved, penalty)
