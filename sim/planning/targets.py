"""Service targets: a bound on the mean of a metric over replications, and their parsing.

A target is text such as ``phone.service_level>=0.8`` (the syntax is in
`sim.planning.headcount`). `Target` parses, checks and judges one, `parse_targets` reads a
list of them, and `check_replications` checks a search's replications per staffing. The
searches that use them are `sim.planning.headcount` (head counts) and
`sim.planning.intervals.optimize` (per interval, judged by `sim.planning.intervals.targets`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sim.config.schema import Scenario
from sim.metrics.contacts import CHANNEL_METRICS, GROUP_METRICS, PROPORTIONS
from sim.metrics.stats import Estimate

OPERATORS = (">=", "<=", ">", "<")
"""Comparison operators a target may use (two-character ones first, for parsing)."""

OVERALL = "overall"
"""The name of all agent groups together in group metrics."""

UNDEFINED_SHORTFALL = 1e12
"""Shortfall of a target whose metric is undefined (NaN in every replication, e.g. a
service level when no contact ended): larger than any real shortfall, so the search first
staffs whatever makes the metric measurable."""

_MIN_SHORTFALL = 1e-12
"""A missed target counts at least this much (a strict bound missed by equality)."""

_EXAMPLE = "phone.service_level>=0.8"

_TARGET_RE = re.compile(r"^\s*(?P<subject>[^<>=]*?)\s*(?P<op>>=|<=|>|<)\s*(?P<bound>[^<>=]*?)\s*$")


@dataclass(frozen=True)
class Target:
    """A bound on the mean of one metric over replications.

    Attributes:
        name: a channel (for channel metrics), or an agent group or ``"overall"`` (for
            group metrics).
        metric: a key of `CHANNEL_METRICS` or `GROUP_METRICS`.
        op: one of ``>=``, ``<=``, ``>``, ``<``.
        bound: the value the mean is compared with.
    """

    name: str
    metric: str
    op: str
    bound: float

    @property
    def scope(self) -> str:
        """``"channel"`` or ``"group"``: which table of results the metric lives in."""
        return "channel" if self.metric in CHANNEL_METRICS else "group"

    @property
    def wants_more(self) -> bool:
        """True for ``>=`` and ``>`` (the metric must reach up to the bound)."""
        return self.op in (">=", ">")

    def __str__(self) -> str:
        return f"{self.name}.{self.metric}{self.op}{self.bound:g}"

    @classmethod
    def parse(cls, text: str) -> Target:
        """Read ``NAME.METRIC OP VALUE``, e.g. ``phone.service_level>=0.8``.

        A value may end in ``%`` (``80%`` is 0.8).

        Raises:
            ValueError: malformed text, an unknown operator or metric, or a bound that is
                not a finite number; the message says what is allowed.
        """
        if not isinstance(text, str):
            raise ValueError(f"a target is text such as {_EXAMPLE!r}, not {text!r}")
        match = _TARGET_RE.match(text)
        if match is None:
            if "=" in text and not any(op in text for op in OPERATORS):
                raise ValueError(
                    f"target {text!r}: the operator must be one of {', '.join(OPERATORS)} (e.g. {_EXAMPLE})"
                )
            raise ValueError(
                f"target {text!r} must look like NAME.METRIC OP VALUE with OP one of "
                f"{', '.join(OPERATORS)}, e.g. {_EXAMPLE}"
            )
        subject, op, raw = match["subject"], match["op"], match["bound"]
        name, dot, metric = subject.rpartition(".")
        name, metric = name.strip(), metric.strip()
        if not dot or not name or not metric:
            raise ValueError(
                f"target {text!r}: name the channel (or group) and the metric as NAME.METRIC, "
                f"e.g. {_EXAMPLE} or {OVERALL}.occupancy<=0.9"
            )
        if metric not in CHANNEL_METRICS and metric not in GROUP_METRICS:
            raise ValueError(
                f"target {text!r}: unknown metric {metric!r}; channel metrics (CHANNEL.METRIC): "
                f"{', '.join(CHANNEL_METRICS)}; group metrics (GROUP.METRIC or {OVERALL}.METRIC): "
                f"{', '.join(GROUP_METRICS)}"
            )
        bound = _number(raw, text)
        if metric in PROPORTIONS and not 0.0 <= bound <= 1.0:
            hint = f"; write {bound / 100:g} or {bound:g}%" if 1.0 < bound <= 100.0 else ""
            raise ValueError(
                f"target {text!r}: {metric} is a proportion between 0 and 1, not {bound:g}{hint}"
            )
        if bound < 0:
            raise ValueError(
                f"target {text!r}: {metric} cannot be negative, so a bound of {bound:g} means nothing"
            )
        return cls(name.strip(), metric.strip(), op, bound)

    def check(self, scenario: Scenario) -> None:
        """Check that the target's channel or group exists in `scenario`.

        Raises:
            ValueError: naming the channels (or groups) the scenario has.
        """
        if self.scope == "channel":
            if self.name not in scenario.channels:
                raise ValueError(
                    f"target {self}: no channel {self.name!r} in scenario {scenario.name!r}; "
                    f"channels are: {', '.join(scenario.channels)}"
                )
        elif self.name != OVERALL and self.name not in scenario.agents:
            raise ValueError(
                f"target {self}: {self.metric} is a group metric and {scenario.name!r} has no agent "
                f"group {self.name!r}; groups are: {', '.join([*scenario.agents, OVERALL])}"
            )

    def met(self, value: float) -> bool:
        """Whether a mean `value` satisfies the target (NaN never does)."""
        if math.isnan(value):
            return False
        if self.op == ">=":
            return value >= self.bound
        if self.op == ">":
            return value > self.bound
        if self.op == "<=":
            return value <= self.bound
        return value < self.bound

    def judged(self, estimate: Estimate, confident: bool = False) -> float:
        """The value a search compares with the bound: the mean, or a 95 % CI end.

        With `confident`, it is the end of the CI nearer to failing (the lower end for
        ``>=``, the upper for ``<=``): the target is met only when the whole interval lies
        on the right side of the bound.
        """
        if not confident:
            return estimate.mean
        return estimate.ci_low if self.wants_more else estimate.ci_high

    def shortfall(self, value: float) -> float:
        """How far `value` misses the target, relative to the bound; 0 when met.

        Relative, so that targets in different units (a fraction, seconds) add up; a bound
        of 0 is taken as an absolute distance.
        """
        if math.isnan(value):
            return UNDEFINED_SHORTFALL
        if self.met(value):
            return 0.0
        gap = self.bound - value if self.wants_more else value - self.bound
        return max(gap / (abs(self.bound) or 1.0), _MIN_SHORTFALL)


def _number(raw: str, text: str) -> float:
    scale = 1.0
    value = raw.strip()
    if value.endswith("%"):
        value, scale = value[:-1].strip(), 0.01
    try:
        bound = float(value) * scale
    except ValueError:
        raise ValueError(f"target {text!r}: the bound must be a number, not {raw!r}") from None
    if not math.isfinite(bound):
        raise ValueError(f"target {text!r}: the bound must be a finite number, not {raw!r}")
    return bound


def check_replications(n: int, confident: bool) -> None:
    """Check a search's replications per staffing.

    Raises:
        ValueError: fewer than 1, or fewer than 2 when targets are judged by their CI.
    """
    if n < 1:
        raise ValueError(f"replications must be at least 1, not {n}")
    if confident and n < 2:
        raise ValueError("judging targets by their 95% CI (confident) needs at least 2 replications")


def parse_targets(items: Iterable[str | Target], scenario: Scenario | None = None) -> list[Target]:
    """Parse targets and, with a scenario, check that their channels and groups exist.

    Raises:
        ValueError: no targets, or a bad one (see `Target.parse`, `Target.check`).
    """
    out = [t if isinstance(t, Target) else Target.parse(t) for t in items]
    if not out:
        raise ValueError(f"give at least one target, e.g. {_EXAMPLE}")
    if scenario is not None:
        for t in out:
            t.check(scenario)
    return out
