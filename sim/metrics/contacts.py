"""Per-channel and per-group service metrics of one replication (definitions live here).

All contact metrics count contacts that arrived after the warm-up ("offered"). A contact
"ended" when it was answered or abandoned; contacts still waiting or in service at the
horizon count as offered but not as ended.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

CHANNEL_METRICS: dict[str, str] = {
    "offered": "contacts that arrived after the warm-up",
    "answered": "offered contacts an agent finished handling before the horizon",
    "abandoned": "offered contacts whose customer gave up while waiting",
    "waiting_end": "offered contacts still waiting at the horizon",
    "in_service_end": "offered contacts taken but not finished at the horizon",
    "service_level": "answered within the channel's target ÷ contacts whose outcome is known; abandoned and still-waiting-past-target count as misses",
    "p_wait": "fraction of offered contacts that waited at all (wait > 0)",
    "asa_s": "mean wait of answered contacts (average speed of answer), seconds",
    "mean_wait_s": "mean wait of ended contacts, answered or abandoned, seconds",
    "abandon_rate": "abandoned ÷ (answered + abandoned)",
    "queue_length": "time-average number waiting, over the measured window",
    "backlog_end": "offered contacts still open at the horizon (waiting + in service)",
    "no_action": "offered contacts whose intent needs no reply (never queued)",
    "journeys": "customers whose journey started on this channel after the warm-up",
    "journeys_resolved": "of those, journeys that ended with the problem resolved",
    "journeys_gave_up": "of those, journeys that ended unresolved (abandoned or gave up after an unresolved answer)",
    "journeys_open_end": "of those, journeys still open at the horizon (waiting, in service or due back)",
    "first_response_s": "mean time from the start of a journey to its first response (an agent's answer or an auto-reply)",
    "resolution_time_s": "mean time from the start of a journey to its resolution, across repeat contacts",
    "contacts_per_journey": "mean contacts per ended journey (repeats, hand-offs, retrials and follow-ups included)",
    "fcr": "first-contact resolution: journeys resolved at their first contact ÷ journeys resolved",
    "resolution_rate": "journeys resolved ÷ journeys ended (resolved or gave up)",
    "csat": "mean satisfaction (0–1) of ended journeys; see the README's outcome model",
}
"""Every per-channel metric, documented once (the README repeats this table)."""

GROUP_METRICS: dict[str, str] = {
    "occupancy": "agent busy time ÷ agent time on duty, over the measured window",
    "busy_agents": "time-average number of busy agents",
    "on_duty": "time-average number of agents on duty (rostered, plus any finishing a contact after their shift)",
    "cost": "agent hours on duty × the group's cost_per_hour, over the measured window",
}

OVERALL_METRICS: dict[str, str] = {
    "cost_per_resolved_journey": "total cost ÷ journeys resolved (all channels)",
    "public_sentiment": "time-average of 100·exp(−V/scale), V = open complaint journeys that started on social channels",
}
"""Extra metrics of the whole centre, reported under the group name `overall`."""


PROPORTIONS: frozenset[str] = frozenset(
    {"service_level", "p_wait", "abandon_rate", "fcr", "resolution_rate", "csat", "occupancy"}
)
"""Metrics that are shares between 0 and 1 (their confidence intervals stay inside [0, 1])."""

NON_NEGATIVE: frozenset[str] = frozenset(
    (set(CHANNEL_METRICS) | set(GROUP_METRICS) | set(OVERALL_METRICS)) - PROPORTIONS
)
"""Every other metric is a count, a time, a level or a cost: never below 0 (public
sentiment, 0–100, is one of them)."""


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def channel_metrics(t: Mapping[str, float], window_s: float) -> dict[str, float]:
    """Metrics of one channel from its tallies.

    Args:
        t: tallies with keys offered, answered, abandoned, waiting_end, in_service_end,
            waited, within_target, wait_answered_sum, wait_abandoned_sum, queue_area.
        window_s: length of the measured window (horizon − warm-up), seconds.
    """
    ended = t["answered"] + t["abandoned"]
    j_ended = t["j_resolved"] + t["j_gave_up"]
    return {
        "offered": t["offered"],
        "answered": t["answered"],
        "abandoned": t["abandoned"],
        "waiting_end": t["waiting_end"],
        "in_service_end": t["in_service_end"],
        "service_level": _ratio(t["within_target"], ended + t.get("judged_open", 0)),
        "p_wait": _ratio(t["waited"], t["offered"]),
        "asa_s": _ratio(t["wait_answered_sum"], t["answered"]),
        "mean_wait_s": _ratio(t["wait_answered_sum"] + t["wait_abandoned_sum"], ended),
        "abandon_rate": _ratio(t["abandoned"], ended),
        "queue_length": t["queue_area"] / window_s,
        "backlog_end": t["waiting_end"] + t["in_service_end"],
        "no_action": t["no_action"],
        "journeys": t["j_started"],
        "journeys_resolved": t["j_resolved"],
        "journeys_gave_up": t["j_gave_up"],
        "journeys_open_end": t["j_started"] - j_ended - t["j_nothing_needed"],
        "first_response_s": _ratio(t["j_first_response_sum"], t["j_first_responses"]),
        "resolution_time_s": _ratio(t["j_resolution_time_sum"], t["j_resolved"]),
        "contacts_per_journey": _ratio(t["j_contacts_sum"], j_ended),
        "fcr": _ratio(t["j_first_contact_resolved"], t["j_resolved"]),
        "resolution_rate": _ratio(t["j_resolved"], j_ended),
        "csat": _ratio(t["j_csat_sum"], j_ended),
    }


def group_metrics(
    busy_area: float, on_duty_area: float, window_s: float, cost_per_hour: float = 0.0
) -> dict[str, float]:
    """Occupancy, mean busy and mean on-duty agents of one group (or of all groups).

    Args:
        busy_area: integral of busy agents over the window (agent-seconds).
        on_duty_area: integral of agents on duty over the window (agent-seconds).
        window_s: length of the window, seconds.
        cost_per_hour: cost of an agent hour on duty.
    """
    return {
        "occupancy": _ratio(busy_area, on_duty_area),
        "busy_agents": busy_area / window_s,
        "on_duty": on_duty_area / window_s,
        "cost": on_duty_area / 3600.0 * cost_per_hour,
    }
