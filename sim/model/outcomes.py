"""How customers feel about their journey: the satisfaction score, defined once.

A journey ends resolved or given up. Its satisfaction (CSAT, 0–1) starts at 1 and loses
`wait_penalty` as the first response runs late (nothing at the target, all of it at twice
the target or with no response at all), `extra_contact_penalty` for every contact beyond
the first, `unresolved_penalty` if the customer gave up, and any penalty of the channel's
own (an auto-reply on a social channel); the result is clipped to [0, 1]. The weights are
the scenario's `outcome` settings (`sim.config.journeys.OutcomeModel`).

`journey_csat` scores one journey as it ends (`sim.model.processes`); `plain_journeys`
turns the contact tallies of a channel without mechanics, where every contact is a whole
journey, into the same journey tallies with the same score.

`open_at_horizon` says, once for the whole-run metrics (`Centre.close_books`) and for the
per-interval tallies (`sim.records.IntervalSink`), what a contact still open when the run
stops counts for: whether it waited, and whether its service-level outcome is known.
"""

from __future__ import annotations

from sim.config.journeys import OutcomeModel
from sim.model.entities import ChannelState, Contact


def journey_csat(
    outcome: OutcomeModel, late: float, contacts: int, resolved: bool, penalty: float = 0.0
) -> float:
    """Satisfaction (0–1) of one ended journey.

    Args:
        outcome: the scenario's satisfaction weights.
        late: first response time ÷ the channel's target − 1 (1 when nobody responded);
            its penalty grows from 0 at the target to the full `wait_penalty` at twice it.
        contacts: contacts the journey took (the first one included).
        resolved: whether the journey ended with the problem resolved.
        penalty: a channel's own extra penalty (an auto-reply on a social channel).
    """
    csat = (
        1.0 - outcome.wait_penalty * min(1.0, max(0.0, late)) - outcome.extra_contact_penalty * (contacts - 1)
    )
    if not resolved:
        csat -= outcome.unresolved_penalty
    csat -= penalty
    return min(1.0, max(0.0, csat))


def plain_journeys(ch: ChannelState, outcome: OutcomeModel) -> dict[str, float]:
    """Journey tallies of a channel without mechanics.

    Every contact is one customer's whole journey, resolved when answered, given up when
    abandoned, so the tallies follow from the contact tallies. An answered journey took
    one contact, so its score is 1 − `wait_penalty` × min(1, lateness), never clipped (the
    weights are at most 1): their sum is the answered count less `wait_penalty` × the
    channel's `late_sum`. An abandoned one had no response: `journey_csat(late=1)`.
    """
    answered_csat = ch.answered * journey_csat(outcome, 0.0, 1, True) - outcome.wait_penalty * ch.late_sum
    return {
        "j_started": ch.offered,
        "j_resolved": ch.answered,
        "j_gave_up": ch.abandoned,
        "j_nothing_needed": 0,
        "j_first_responses": ch.answered,
        "j_first_response_sum": ch.wait_answered_sum,
        "j_resolution_time_sum": ch.wait_answered_sum + ch.service_sum,
        "j_contacts_sum": ch.answered + ch.abandoned,
        "j_first_contact_resolved": ch.answered,
        "j_csat_sum": answered_csat + ch.abandoned * journey_csat(outcome, 1.0, 1, False),
    }


def open_at_horizon(c: Contact, now: float, target_s: float) -> tuple[bool, bool, bool]:
    """What a contact still open at `now` (the horizon) counts for.

    Its wait runs to its first answer if an agent has taken it (a contact whose service
    was interrupted keeps its first answer time, as an answered one does), else to `now`.
    Its service-level outcome is known when that wait is past the target (a miss) or when
    it was taken within the target (a hit); one still waiting within the target is not
    judged.

    Args:
        c: the contact, waiting or in service.
        now: when the run stops.
        target_s: the channel's answer-within target.

    Returns:
        ``(waited, judged, hit)``: it waited at all; its outcome is known; it is a hit.
    """
    taken = c.answered_at >= 0
    wait = (c.answered_at if taken else now) - c.arrived_at
    if wait > target_s:
        return wait > 0, True, False
    return wait > 0, taken, taken
