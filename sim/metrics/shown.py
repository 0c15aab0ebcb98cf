"""Which figures a scenario configures, so that tables and reports show those and only those.

Journey figures (first response, resolution time, FCR, CSAT, journeys) mean something only
when some channel models customers' journeys (`intents`, `resolution`, `handoff`,
`retrial`, `follow_up`, `auto_reply`) or the file sets an `outcome` model; `no_action` only
with `intents`; costs only when some agent group has a `cost_per_hour`. Result folders keep
the choice in their manifest (``shown``), so a report drawn later from the files shows the
same rows as the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sim.config.schema import Scenario
from sim.metrics.contacts import CHANNEL_METRICS

JOURNEY_METRICS = (
    "journeys", "journeys_resolved", "journeys_gave_up", "journeys_open_end", "first_response_s",
    "resolution_time_s", "contacts_per_journey", "fcr", "resolution_rate", "csat",
)  # fmt: skip
"""Channel metrics of customers' journeys: shown only when a scenario configures journeys."""

JOURNEY_FIGURES = ("first_response_s", "resolution_time_s", "fcr", "csat")
"""The journey figures `compare` shows when configured."""

COMPARE_ROWS = (
    "service_level",
    "asa_s",
    "mean_wait_s",
    "abandon_rate",
    "p_wait",
    "queue_length",
    "backlog_end",
)
"""The channel metrics `compare` always shows."""

_JOURNEY_KEYS = ("intents", "resolution", "handoff", "retrial", "follow_up", "auto_reply")


def has_journeys(scenario: Scenario) -> bool:
    """Whether the scenario models customers' journeys (some channel's mechanics, or an outcome model)."""
    if "outcome" in scenario.model_fields_set:
        return True
    return any(
        getattr(ch, key, None) is not None for ch in scenario.channels.values() for key in _JOURNEY_KEYS
    )


def is_priced(scenario: Scenario) -> bool:
    """Whether some agent group has a cost per hour."""
    return any(g.cost_per_hour > 0 for g in scenario.agents.values())


def channel_rows(scenarios: Iterable[Scenario]) -> list[str]:
    """The channel metrics worth a row for these scenarios (see the module notes)."""
    scenarios = list(scenarios)
    journeys = any(has_journeys(s) for s in scenarios)
    intents = any(ch.intents is not None for s in scenarios for ch in s.channels.values())
    return [
        m for m in CHANNEL_METRICS if (journeys or m not in JOURNEY_METRICS) and (intents or m != "no_action")
    ]


def compare_metrics(scenarios: Iterable[Scenario], base: Sequence[str]) -> tuple[list[str], list[str]]:
    """The channel and group metrics `compare` shows.

    They are `base`, plus the journey figures and cost when the scenarios configure them.
    """
    scenarios = list(scenarios)
    channel = list(base)
    if any(has_journeys(s) for s in scenarios):
        channel += [m for m in JOURNEY_FIGURES if m not in channel]
    group = ["occupancy", *(["cost"] if any(is_priced(s) for s in scenarios) else [])]
    return channel, group


def shown_metrics(scenarios: Iterable[Scenario], base: Sequence[str] = ()) -> dict[str, list[str]]:
    """What reports show, kept in a result folder's manifest (``shown``).

    That is the channel metric rows (`channel_rows`) and, for a comparison, its channel and
    group metrics (`compare_metrics`).
    """
    scenarios = list(scenarios)
    channel, group = compare_metrics(scenarios, base)
    return {"rows": channel_rows(scenarios), "channel": channel, "group": group}
