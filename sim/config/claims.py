"""Claims in a scenario file: hypotheses about the variants that a comparison can check.

A file with `variants:` may state what it expects of them::

    claims:
      diverting_hurts:
        source: "Diverting agents to social without hiring makes service worse."
        variant: divert_3                # a variant, or `baseline`
        against: baseline                # default: the baseline; or another variant
        metric: phone.service_level      # CHANNEL.METRIC, GROUP.METRIC or overall.METRIC
        expect: lower                    # lower | higher | unchanged
        by_more_than: 0.05               # lower/higher: the effect must exceed this (default 0)
      hiring_is_harmless:
        variant: hire_3
        metric: phone.service_level
        expect: unchanged
        within: 0.01                     # unchanged: equivalence margin (required)
        turning: {path: channels.phone.arrivals.rate_per_hour, low: 150, high: 300}

The structure is checked by the pydantic models here (unknown keys refused, with the usual
file, key path and line); `check_references` then checks that each claim names variants the
file declares and a metric that both sides report. Verdicts are computed in
`sim.experiment.claims`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from sim.config.schema import Scenario, Strict
from sim.metrics.contacts import CHANNEL_METRICS, GROUP_METRICS, OVERALL_METRICS

EXPECTATIONS = ("lower", "higher", "unchanged")
OVERALL = "overall"


class Turning(Strict):
    """Sweep one scenario key between two values and find where the claim's verdict turns.

    Attributes:
        path: a dotted key path of the scenario (``channels.social.auto_reply.csat_penalty``).
        low: the first value tried.
        high: the last value tried.
        points: values of the first, even grid (then bisection refines the bracket).
        integer: round every value tried to a whole number (a head count).
    """

    path: str = Field(min_length=1)
    low: float
    high: float
    points: int = Field(default=5, ge=3, le=41)
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Turning:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


class Claim(Strict):
    """One checkable statement: `variant` moves `metric` in direction `expect` against `against`.

    Attributes:
        variant: the side the claim is about (a variant's name, or ``baseline``).
        against: the side it is compared with (default the baseline).
        metric: ``CHANNEL.METRIC``, ``GROUP.METRIC`` or ``overall.METRIC``.
        expect: ``lower``, ``higher`` or ``unchanged``.
        by_more_than: with lower/higher, the least effect (in the metric's units) that counts.
        within: with unchanged, the equivalence margin: |difference| below it.
        source: the sentence of the argument the claim tests, quoted in reports.
        says: the claim in the file's own words (default: generated from the fields).
        turning: a parameter to sweep for the value where the verdict turns.
    """

    variant: str = Field(min_length=1)
    against: str = "baseline"
    metric: str = Field(min_length=1)
    expect: Literal["lower", "higher", "unchanged"]
    by_more_than: float = Field(default=0.0, ge=0)
    within: float | None = Field(default=None, gt=0)
    source: str | None = None
    says: str | None = None
    turning: Turning | None = None

    @model_validator(mode="after")
    def _margins(self) -> Claim:
        if self.expect == "unchanged":
            if self.within is None:
                raise ValueError(
                    "expect: unchanged needs 'within' (the equivalence margin, e.g. within: 0.01)"
                )
            if self.by_more_than:
                raise ValueError("by_more_than goes with expect: lower or higher; unchanged takes 'within'")
        elif self.within is not None:
            raise ValueError(f"'within' goes with expect: unchanged; with {self.expect} use by_more_than")
        if self.variant == self.against:
            raise ValueError(f"variant and against are both '{self.variant}'; a claim compares two sides")
        return self

    def statement(self) -> str:
        """The claim in words: the file's `says`, or one built from the fields."""
        if self.says:
            return self.says
        against = "the baseline" if self.against == "baseline" else self.against
        if self.expect == "unchanged":
            return f"{self.variant} leaves {self.metric} unchanged within ±{self.within:g} against {against}"
        more = f" by more than {self.by_more_than:g}" if self.by_more_than else ""
        return f"{self.variant} {'lowers' if self.expect == 'lower' else 'raises'} {self.metric}{more} against {against}"

    def scope_of(self, scenario: Scenario) -> tuple[str, str, str]:
        """(scope, name, metric) of the claim's metric in `scenario`: channel or group."""
        name, _, metric = self.metric.rpartition(".")
        return ("channel" if name in scenario.channels else "group"), name, metric


class ClaimsSection(Strict):
    """The `claims:` section of a file: claim name → claim."""

    claims: dict[str, Claim]


def metric_problem(metric: str, scenario: Scenario, side: str) -> str | None:
    """Why `metric` cannot be read on `side` (None when it can)."""
    name, dot, what = metric.rpartition(".")
    if not dot or not name:
        return f"must be NAME.METRIC (a channel, agent group or '{OVERALL}', then a metric), not '{metric}'"
    if name in scenario.channels:
        allowed: dict[str, str] = CHANNEL_METRICS
    elif name in scenario.agents:
        allowed = GROUP_METRICS
    elif name == OVERALL:
        allowed = {**GROUP_METRICS, **OVERALL_METRICS}
    else:
        names = [*scenario.channels, *scenario.agents, OVERALL]
        return f"'{name}' is not a channel or agent group of {side}; allowed: {', '.join(names)}"
    if what not in allowed:
        return f"unknown metric '{what}' for '{name}'; allowed: {', '.join(allowed)}"
    return None


def check_references(
    claims: dict[str, Claim], sides: dict[str, Scenario], baseline_name: str = "baseline"
) -> list[tuple[tuple[str, ...], str]]:
    """Problems with what claims refer to: (key path under the file, message) pairs.

    Args:
        claims: the validated claims.
        sides: ``baseline`` and every variant → its scenario.
        baseline_name: the name that means the scenario itself.
    """
    out: list[tuple[tuple[str, ...], str]] = []
    known = ", ".join(sides)
    for name, claim in claims.items():
        for key in ("variant", "against"):
            side = getattr(claim, key)
            if side not in sides:
                out.append((("claims", name, key), f"unknown variant '{side}'; allowed: {known}"))
        if claim.variant in sides and claim.against in sides:
            for side in (claim.variant, claim.against):
                problem = metric_problem(claim.metric, sides[side], f"'{side}'")
                if problem:
                    out.append((("claims", name, "metric"), problem))
                    break
    return out


def describe(claim: Claim) -> dict[str, Any]:
    """The claim's fields as written, for JSON output."""
    return claim.model_dump(mode="json", exclude_none=True)
