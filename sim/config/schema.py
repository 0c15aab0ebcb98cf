"""What a scenario file may say: channels, their demand and handling, agents, routing.

Every model is frozen and forbids unknown keys, so a typo is an error rather than a silently
ignored setting. Units are part of the key (`mean_s`, `mean_min`, `rate_per_hour`); each
model exposes the value converted once to seconds (or to a rate per second), which is all
the simulator ever reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from sim.config.journeys import (
    AutoReply,
    Concurrency,
    FollowUp,
    Handoff,
    Hours,
    Induced,
    Needs,
    OutcomeModel,
    Probability,
    Resolution,
    Route,
)
from sim.config.numbers import Number
from sim.config.staffing import Proficiency, Shift, StaffingTable
from sim.config.yaml_lines import LineMap, Loc
from sim.types import ChannelKind

_UNIT_S = {"s": 1.0, "min": 60.0, "h": 3600.0}

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False), Number]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False), Number]

CROSS_CHECK_SEPARATOR = "\n"
"""Cross-field problems are raised as one ValueError, one `key.path: message` per line, so
that the loader can point at each key's line."""


class Strict(BaseModel):
    """Base of every scenario model: frozen, keyword-only, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_of(model: BaseModel, stem: str) -> float | None:
    """Return the single `stem_s|stem_min|stem_h` value given, in seconds, or None."""
    given = [(u, getattr(model, f"{stem}_{u}")) for u in _UNIT_S]
    given = [(u, v) for u, v in given if v is not None]
    if len(given) > 1:
        keys = ", ".join(f"{stem}_{u}" for u, _ in given)
        raise ValueError(f"give the {stem} in one unit only, not {keys}")
    if not given:
        return None
    unit, value = given[0]
    return float(value) * _UNIT_S[unit]


# --- distributions -------------------------------------------------------------------


class _WithMean(Strict):
    mean_s: PositiveFloat | None = None
    mean_min: PositiveFloat | None = None
    mean_h: PositiveFloat | None = None

    @model_validator(mode="after")
    def _check_mean(self) -> Self:
        if _one_of(self, "mean") is None:
            raise ValueError("a mean is required: mean_s, mean_min or mean_h")
        return self

    @property
    def mean_seconds(self) -> float:
        """The mean in seconds."""
        value = _one_of(self, "mean")
        assert value is not None
        return value


class Exponential(_WithMean):
    """Exponential durations: memoryless, coefficient of variation 1."""

    dist: Literal["exponential"]


class Deterministic(_WithMean):
    """Every duration equals the mean."""

    dist: Literal["deterministic"]


class LogNormal(_WithMean):
    """Log-normal durations given by their mean and coefficient of variation."""

    dist: Literal["lognormal"]
    cv: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False), Number]


class Gamma(_WithMean):
    """Gamma durations given by their mean and coefficient of variation (shape 1/cv²)."""

    dist: Literal["gamma"]
    cv: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False), Number]


class Uniform(Strict):
    """Durations uniform between `low` and `high`, in one unit."""

    dist: Literal["uniform"]
    low_s: NonNegativeFloat | None = None
    low_min: NonNegativeFloat | None = None
    low_h: NonNegativeFloat | None = None
    high_s: PositiveFloat | None = None
    high_min: PositiveFloat | None = None
    high_h: PositiveFloat | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        low, high = _one_of(self, "low"), _one_of(self, "high")
        if low is None or high is None:
            raise ValueError("uniform needs low_* and high_* (e.g. low_s: 30, high_s: 90)")
        if not low < high:
            raise ValueError(f"uniform needs low < high, got {low:g} s and {high:g} s")
        return self

    @property
    def bounds_seconds(self) -> tuple[float, float]:
        """(low, high) in seconds."""
        low, high = _one_of(self, "low"), _one_of(self, "high")
        assert low is not None and high is not None
        return low, high

    @property
    def mean_seconds(self) -> float:
        """The mean in seconds."""
        low, high = self.bounds_seconds
        return (low + high) / 2


class Empirical(Strict):
    """Durations resampled from observed values, inline or from a CSV column."""

    dist: Literal["empirical"]
    values: Annotated[list[NonNegativeFloat], Field(min_length=1, max_length=10_000_000)] | None = None
    file: str | None = None
    column: str | None = None
    unit: Literal["s", "min", "h"] = "s"

    @model_validator(mode="after")
    def _check_source(self) -> Self:
        if (self.values is None) == (self.file is None):
            raise ValueError(
                "empirical needs exactly one of values: [...] or file: (a CSV with column:)"
                + (", not both" if self.values is not None else "")
            )
        if self.file is not None and self.column is None:
            raise ValueError("empirical with a file needs column: the CSV column to read")
        if self.values is not None and not any(v > 0 for v in self.values):
            raise ValueError("empirical values must not all be zero")
        return self


Distribution = Annotated[
    Exponential | LogNormal | Gamma | Deterministic | Uniform | Empirical,
    Field(discriminator="dist"),
]
"""A duration distribution; `dist` names the family."""


# --- arrivals ------------------------------------------------------------------------


class Profile(Strict):
    """Arrival rates per interval of the day, repeating every day."""

    interval_min: Literal[15, 30, 60] = 30
    rates_per_hour: Annotated[list[NonNegativeFloat], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_length(self) -> Self:
        expected = 1440 // self.interval_min
        if len(self.rates_per_hour) != expected:
            raise ValueError(
                f"rates_per_hour needs {expected} values for interval_min {self.interval_min} "
                f"(one per interval of a day), got {len(self.rates_per_hour)}"
            )
        if not any(r > 0 for r in self.rates_per_hour):
            raise ValueError("rates_per_hour are all zero: the channel would get no contacts")
        return self


class Overdispersion(Strict):
    """Random rate multipliers (Poisson–gamma), each gamma with mean 1.

    `daily_cv`: one multiplier per day (volumes vary from day to day). `interval_cv`: one more
    per interval of the day, drawn independently (counts vary within the day beyond Poisson:
    an interval's count then has variance/mean = 1 + mean × interval_cv²). The intervals are
    `interval_min` long, by default the profile's intervals (30 min for a constant rate).
    """

    daily_cv: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False), Number] = 0.0
    interval_cv: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False), Number] = 0.0
    interval_min: Literal[15, 30, 60] | None = None


class Trace(Strict):
    """Arrival times read from a CSV file (replayed identically in every replication)."""

    file: str
    column: str
    unit: Literal["s", "min", "h"] = "s"
    day_column: str | None = None
    """Optional column of dates; each distinct date becomes the next simulated day, and
    `column` is then the time of day."""


class Arrivals(Strict):
    """How contacts arrive: a constant rate, a daily profile, or a recorded trace."""

    rate_per_hour: NonNegativeFloat | None = None
    rate_per_min: NonNegativeFloat | None = None
    rate_per_day: NonNegativeFloat | None = None
    profile: Profile | None = None
    trace: Trace | None = None
    day_of_week: Annotated[list[NonNegativeFloat], Field(min_length=7, max_length=7)] | None = None
    """Seven multipliers; day 0 of the run uses the first."""
    overdispersion: Overdispersion | None = None

    @model_validator(mode="after")
    def _check_source(self) -> Self:
        rates = [k for k in ("rate_per_hour", "rate_per_min", "rate_per_day") if getattr(self, k) is not None]
        sources = rates + [k for k in ("profile", "trace") if getattr(self, k) is not None]
        if len(sources) != 1:
            raise ValueError(
                "give exactly one of rate_per_hour, rate_per_min, rate_per_day, profile or trace"
                + (f" (got {', '.join(sources)})" if sources else "")
            )
        if self.trace is not None and (self.day_of_week or self.overdispersion):
            raise ValueError("a trace replays recorded times: day_of_week and overdispersion do not apply")
        return self

    @property
    def base_rate_per_s(self) -> float | None:
        """The constant rate per second, or None for profiles and traces."""
        for key, per in (("rate_per_hour", 3600.0), ("rate_per_min", 60.0), ("rate_per_day", 86400.0)):
            value = getattr(self, key)
            if value is not None:
                return float(value) / per
        return None


class Target(Strict):
    """The service-level target: answered within this time."""

    answer_within_s: PositiveFloat | None = None
    answer_within_min: PositiveFloat | None = None
    answer_within_h: PositiveFloat | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if _one_of(self, "answer_within") is None:
            raise ValueError("give answer_within_s, answer_within_min or answer_within_h")
        return self

    @property
    def seconds(self) -> float:
        """The target in seconds."""
        value = _one_of(self, "answer_within")
        assert value is not None
        return value


DEFAULT_TARGET_S = {ChannelKind.PHONE: 20.0, ChannelKind.EMAIL: 86_400.0, ChannelKind.SOCIAL: 3_600.0}
"""Targets when a channel gives none: 80/20 phone (ICMI), email within 24 h, social within 1 h."""


class Intent(Strict):
    """One kind of contact on a channel: a complaint, a query, feedback, a joke, ..."""

    share: Probability
    handle_time: Distribution | None = None
    """Its own handle time; omitted: the channel's."""
    needs: Needs = "resolution"
    """`resolution` (default): the problem must be solved; `acknowledgement`: any reply
    closes it; `nothing`: no reply is needed (recorded, never queued)."""
    resolution: Probability | None = None
    """Overrides the channel's resolution probability for this intent."""


class HandleTimeProfile(Strict):
    """Handle time by time of day.

    A contact's handle time is the channel's handle-time draw × the multiplier of the
    interval of the day in which it arrives (1 = the distribution as given).
    """

    interval_min: Literal[15, 30, 60] = 60
    multipliers: Annotated[list[PositiveFloat], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_length(self) -> Self:
        expected = 1440 // self.interval_min
        if len(self.multipliers) != expected:
            raise ValueError(
                f"multipliers needs {expected} values for interval_min {self.interval_min} "
                f"(one per interval of a day), got {len(self.multipliers)}"
            )
        return self


class Channel(Strict):
    """One way in for customers, with its own demand, handling and target."""

    kind: ChannelKind | None = None
    """phone, email or social; defaults to the channel's key when that is one of those."""
    arrivals: Arrivals
    handle_time: Distribution
    handle_time_profile: HandleTimeProfile | None = None
    """Handle time varying by time of day (multipliers of `handle_time` per interval)."""
    wrap_up: Distribution | None = None
    """After-call work: after each answered contact its agent stays busy this long before
    taking the next one (the contact itself is answered and done); omitted: none."""
    patience: Distribution | None = None
    """Time a waiting customer stays before giving up; omitted: never abandons."""
    target: Target | None = None
    intents: dict[str, Intent] | None = None
    resolution: Resolution | None = None
    handoff: Handoff | None = None
    retrial: Route | None = None
    """Where customers who abandon go next (omitted: they give up)."""
    hours: Hours | None = None
    induced: Induced | None = None
    auto_reply: AutoReply | None = None
    follow_up: FollowUp | None = None

    @model_validator(mode="after")
    def _mechanics(self) -> Self:
        if self.intents is not None:
            total = sum(i.share for i in self.intents.values())
            if abs(total - 1) > 1e-6:
                raise ValueError(f"intents: shares must add up to 1 (got {total:g})")
        if self.retrial is not None and self.patience is None:
            raise ValueError("retrial needs a patience: only customers who abandon retry")
        if self.auto_reply is not None and self.kind is ChannelKind.PHONE:
            raise ValueError("auto_reply is for email and social channels, not phone")
        return self


class AgentGroup(Strict):
    """Interchangeable agents sharing one skill set, and when they are on duty.

    The head count is one of: `count` (constant), `staffing` (a table per interval) or
    `shifts`; `shrinkage` removes a share of it (see `sim.config.staffing`).
    """

    count: Annotated[int, Field(ge=0, le=1_000_000), Number] | None = None
    staffing: StaffingTable | None = None
    shifts: Annotated[list[Shift], Field(min_length=1)] | None = None
    shrinkage: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False), Number] = 0.0
    skills: Annotated[list[str], Field(min_length=1)]
    proficiency: dict[str, Proficiency] = {}
    """Per skill: handle-time and resolution multipliers (slower on a secondary channel)."""
    overflow_after_s: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False), Number]] = {}
    """Channels outside `skills` this group takes once a contact has waited this long
    (needs `routing.policy: overflow`)."""
    concurrency: Concurrency | None = None
    """Written channels only: an agent holds several conversations at once."""
    cost_per_hour: Annotated[float, Field(ge=0, allow_inf_nan=False), Number] = 0.0
    """Cost of an agent hour on duty, in any currency."""

    @field_validator("skills")
    @classmethod
    def _unique(cls, skills: list[str]) -> list[str]:
        if len(set(skills)) != len(skills):
            raise ValueError("skills are listed more than once")
        return skills

    @model_validator(mode="after")
    def _one_head_count(self) -> Self:
        given = [k for k in ("count", "staffing", "shifts") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of count, staffing or shifts"
                + (f" (got {', '.join(given)})" if given else "")
            )
        for skill in self.proficiency:
            if skill not in self.skills:
                raise ValueError(f"proficiency names '{skill}', which is not one of this group's skills")
        for skill in self.overflow_after_s:
            if skill in self.skills:
                raise ValueError(
                    f"overflow_after_s names '{skill}', which is already one of this group's skills"
                )
        return self


class Routing(Strict):
    """Which waiting contact an agent that becomes free takes next."""

    policy: str = "fifo"
    """A registered policy name: `fifo`, `priority`, `threshold`, `longest_wait_first`,
    `preemptive` or `overflow` (see the README)."""
    order: list[str] | None = None
    """Channel order for `priority`, `threshold` and `preemptive`; channels left out come
    last, in file order."""
    reserve: Annotated[int, Field(ge=0, le=1_000_000), Number] = 1
    """`threshold`: email and social are taken only while more than this many agents of
    the group are idle."""
    relative_to_target: bool = False
    """`longest_wait_first`: compare waits as a share of each channel's target."""


class Scenario(Strict):
    """A support centre and how long to watch it."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63), Number] = 0
    replications: Annotated[int, Field(ge=1, le=100_000), Number] = 10
    horizon_hours: Annotated[float, Field(gt=0, le=24 * 366 * 10, allow_inf_nan=False), Number]
    warmup_hours: Annotated[float, Field(ge=0, allow_inf_nan=False), Number] = 0.0
    interval_min: Literal[15, 30, 60] = 30
    """Length of the intervals for per-interval statistics."""
    channels: Annotated[dict[str, Channel], Field(min_length=1)]
    agents: Annotated[dict[str, AgentGroup], Field(min_length=1)]
    routing: Routing = Routing()
    outcome: OutcomeModel = OutcomeModel()
    """Weights of the satisfaction score and the public-sentiment index."""
    _lines: LineMap = PrivateAttr(default_factory=LineMap)
    """Where each key path was written in the scenario file (see `line_of`)."""

    @model_validator(mode="before")
    @classmethod
    def _default_kinds(cls, data: Any) -> Any:
        """Let a channel keyed `phone`, `email` or `social` omit its `kind`."""
        if isinstance(data, dict) and isinstance(data.get("channels"), dict):
            channels = {}
            for key, ch in data["channels"].items():
                if isinstance(ch, dict) and "kind" not in ch and key in ChannelKind._value2member_map_:
                    ch = {**ch, "kind": key}
                channels[key] = ch
            data = {**data, "channels": channels}
        return data

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        problems: list[str] = []
        if self.warmup_hours >= self.horizon_hours:
            problems.append(
                f"warmup_hours: warm-up ({self.warmup_hours:g} h) must be shorter than horizon_hours "
                f"({self.horizon_hours:g})"
            )
        names = list(self.channels)
        for key, ch in self.channels.items():
            if ch.kind is None:
                problems.append(
                    f"channels.{key}.kind: required (phone, email or social) because "
                    f"'{key}' is not one of those names"
                )
            elif ch.kind is ChannelKind.EMAIL and ch.patience is not None:
                problems.append(f"channels.{key}.patience: email never abandons; remove patience")
        served: set[str] = set()
        for gname, group in self.agents.items():
            for i, skill in enumerate(group.skills):
                if skill not in self.channels:
                    problems.append(
                        f"agents.{gname}.skills[{i}]: unknown channel '{skill}'; "
                        f"channels are: {', '.join(names)}"
                    )
                served.add(skill)
            for skill in group.overflow_after_s:
                if skill not in self.channels:
                    problems.append(
                        f"agents.{gname}.overflow_after_s.{skill}: unknown channel '{skill}'; "
                        f"channels are: {', '.join(names)}"
                    )
            if group.overflow_after_s and self.routing.policy != "overflow":
                problems.append(
                    f"agents.{gname}.overflow_after_s: needs routing.policy: overflow "
                    f"(the policy is {self.routing.policy})"
                )
        for key, ch in self.channels.items():
            refs: list[tuple[str, str]] = []
            if ch.resolution is not None and ch.resolution.returns is not None:
                refs += [(f"channels.{key}.resolution.returns.to.{t}", t) for t in ch.resolution.returns.to]
            if ch.handoff is not None:
                refs.append((f"channels.{key}.handoff.to", ch.handoff.to))
            if ch.retrial is not None:
                refs += [(f"channels.{key}.retrial.to.{t}", t) for t in ch.retrial.to]
            if ch.induced is not None:
                refs += [(f"channels.{key}.induced.moved_from.{t}", t) for t in ch.induced.moved_from]
            for where, target in refs:
                if target not in self.channels:
                    problems.append(f"{where}: unknown channel '{target}'; channels are: {', '.join(names)}")
        for gname, group in self.agents.items():
            if group.concurrency is not None:
                phones = [
                    s
                    for s in group.skills
                    if s in self.channels and self.channels[s].kind is ChannelKind.PHONE
                ]
                if phones:
                    problems.append(
                        f"agents.{gname}.concurrency: only for groups of written channels; "
                        f"this group also takes {', '.join(phones)}"
                    )
        for key in names:
            if key not in served:
                problems.append(f"channels.{key}: no agent group has this skill; add it to a group's skills")
        if self.routing.order is not None:
            for i, ch_name in enumerate(self.routing.order):
                if ch_name not in self.channels:
                    problems.append(
                        f"routing.order[{i}]: unknown channel '{ch_name}'; channels are: {', '.join(names)}"
                    )
        if problems:
            raise ValueError(CROSS_CHECK_SEPARATOR.join(problems))
        return self

    @property
    def horizon_s(self) -> float:
        """The run length in seconds."""
        return self.horizon_hours * 3600.0

    @property
    def warmup_s(self) -> float:
        """The warm-up in seconds; contacts arriving before it are not counted."""
        return self.warmup_hours * 3600.0

    def kind_of(self, channel: str) -> ChannelKind:
        """The kind of a channel (always set after validation)."""
        kind = self.channels[channel].kind
        assert kind is not None
        return kind

    def target_s(self, channel: str) -> float:
        """The channel's answer-within target in seconds (its kind's default if not given)."""
        target = self.channels[channel].target
        return target.seconds if target is not None else DEFAULT_TARGET_S[self.kind_of(channel)]

    def located(self, lines: Mapping[Loc, int]) -> Scenario:
        """This scenario, remembering the line where each key path was written."""
        located = self.model_copy()
        located._lines = LineMap(lines)
        return located

    def line_of(self, loc: Loc) -> int | None:
        """The line of the scenario file that wrote key path `loc` (None: not from a file)."""
        return self._lines.line_of(loc)


__all__ = [
    "AgentGroup",
    "Arrivals",
    "Channel",
    "Distribution",
    "HandleTimeProfile",
    "Overdispersion",
    "Profile",
    "Routing",
    "Scenario",
    "Target",
    "Trace",
]
