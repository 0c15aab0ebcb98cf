"""The argument's mechanics: what customers want, whether it gets resolved, what they do next.

Every block here is optional and neutral when absent: a scenario without them runs exactly
as the plain queueing model, draw for draw.

- `intents`: what contacts are about (complaint, query, feedback, joke, ...), each with a
  share, its own handle time and whether it needs resolution.
- `resolution`: the chance an answered contact resolves the customer's problem; an
  unresolved customer comes back after a delay, on a channel drawn from `returns`.
- `handoff`: a share of answered contacts is told "please call us" and comes back on
  another channel.
- `retrial`: customers who abandon may try again (same or another channel) or give up.
- `hours`: opening hours; deferrable channels queue overnight, phone is closed.
- `induced`: opening a channel (or promising faster replies) draws volume, part new and
  part moved from other channels.
- `auto_reply`: an instant automated acknowledgement: a first response, not a resolution.
- `follow_up`: customers still waiting after a delay write again.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.config.numbers import Bool, Number
from sim.config.staffing import WEEKDAYS, Clock, Weekday, clock_seconds

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), Number]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Delay(_Strict):
    """A delay drawn from an exponential distribution with this mean (one unit)."""

    mean_s: Annotated[float, Field(ge=0, allow_inf_nan=False), Number] | None = None
    mean_min: Annotated[float, Field(ge=0, allow_inf_nan=False), Number] | None = None
    mean_h: Annotated[float, Field(ge=0, allow_inf_nan=False), Number] | None = None
    fixed: Annotated[bool, Bool] = False
    """True: always exactly the mean (deterministic)."""

    @model_validator(mode="after")
    def _one_unit(self) -> Self:
        given = [v for v in (self.mean_s, self.mean_min, self.mean_h) if v is not None]
        if len(given) != 1:
            raise ValueError("give the mean delay in one unit: mean_s, mean_min or mean_h")
        return self

    @property
    def mean_seconds(self) -> float:
        """The mean delay in seconds."""
        if self.mean_s is not None:
            return self.mean_s
        if self.mean_min is not None:
            return self.mean_min * 60.0
        assert self.mean_h is not None
        return self.mean_h * 3600.0


Needs = Literal["resolution", "acknowledgement", "nothing"]


class Route(_Strict):
    """Where a customer goes next: channel name → probability; the rest give up."""

    to: dict[str, Probability]
    delay: Delay

    @model_validator(mode="after")
    def _sum(self) -> Self:
        total = sum(self.to.values())
        if total > 1 + 1e-9:
            raise ValueError(f"probabilities add up to {total:g}, more than 1 (the rest give up)")
        return self


class Resolution(_Strict):
    """Chance that an answered contact resolves the problem, and what unresolved customers do."""

    probability: Probability
    returns: Route | None = None
    """Where an unresolved customer comes back (omitted: they give up)."""


class Handoff(_Strict):
    """A share of answered contacts is redirected to another channel ("please call us")."""

    share: Probability
    to: str
    delay: Delay


class Hours(_Strict):
    """Opening hours. Closed phone lines take no calls; written channels queue until opening."""

    open: Clock
    close: Clock
    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)] = list(WEEKDAYS)

    @model_validator(mode="after")
    def _order(self) -> Self:
        if not clock_seconds(self.open) < clock_seconds(self.close):
            raise ValueError(f"open ({self.open}) must be before close ({self.close}) on the same day")
        return self


class Induced(_Strict):
    """Volume drawn by the channel: an elasticity to its promised response, new vs moved demand.

    The channel's effective rate is its given rate × (reference ÷ target)^elasticity, where
    target is the channel's answer-within target. Of that volume, `new_share` is new demand;
    the rest is taken from the channels in `moved_from` (shares of the moved volume).
    """

    elasticity: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False), Number] = 0.0
    reference_response_min: Annotated[float, Field(gt=0, allow_inf_nan=False), Number] = 60.0
    new_share: Probability = 1.0
    moved_from: dict[str, Probability] = {}

    @model_validator(mode="after")
    def _sum(self) -> Self:
        total = sum(self.moved_from.values())
        if self.new_share < 1 and abs(total - 1) > 1e-9:
            raise ValueError(f"moved_from shares must add up to 1 (got {total:g})")
        return self


class AutoReply(_Strict):
    """An instant automated acknowledgement: a first response, not a resolution."""

    follow_up_increase: Probability = 0.0
    """Added to the follow-up probability (customers told "we'll get back to you" chase)."""
    csat_penalty: Probability = 0.0
    """Subtracted from the journey's satisfaction (on social, a canned public reply)."""


class FollowUp(_Strict):
    """Customers still unanswered after a delay write again (a new contact, same journey)."""

    probability: Probability
    delay: Delay


class Concurrency(_Strict):
    """An agent holds up to `threads` written conversations at once, each slower by `stretch`."""

    threads: Annotated[int, Field(ge=1, le=20), Number]
    stretch: Annotated[float, Field(ge=1, le=20, allow_inf_nan=False), Number] = 1.0


class OutcomeModel(_Strict):
    """Weights of the satisfaction score and the public-sentiment index (see README)."""

    unresolved_penalty: Probability = 0.4
    extra_contact_penalty: Probability = 0.1
    wait_penalty: Probability = 0.3
    sentiment_scale: Annotated[float, Field(gt=0, allow_inf_nan=False), Number] = 5.0
