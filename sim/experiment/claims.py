"""Verdicts on a file's claims, from the paired differences of a comparison.

Every claim compares two sides replication by replication on common random numbers: the
difference d = claim side − `against` side is computed per replication, and its mean gets a
Student-t interval. The verdict is read off that interval:

- **lower / higher by more than m** (m = `by_more_than`, default 0): the claim *holds* when
  the whole 95 % CI is beyond the bound (below −m, or above +m); it *does not hold* when the
  whole CI is on the other side (at or above −m, at or below +m); otherwise it is
  *undecided*. This is a one-sided test at the 2.5 % level in each direction.
- **unchanged within ±m**: two one-sided tests (TOST) at 5 %: the claim *holds* when the
  90 % CI lies inside (−m, +m); it *does not hold* when the 90 % CI lies wholly outside
  [−m, +m] (the effect is shown to exceed the margin); otherwise *undecided*.

An undecided verdict says how many replications would likely decide it: the CI half-width
shrinks like t·s/√n, with s the paired standard deviation, so the n at which the half-width
falls below the distance from the estimate to the nearest decision bound (the same
estimate `--precision` makes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from sim.config.claims import Claim
from sim.config.variants import BASELINE
from sim.metrics.stats import Estimate, paired_ci
from sim.metrics.student_t import t_quantile
from sim.results import RunResult

HOLDS = "holds"
FAILS = "does not hold"
UNDECIDED = "undecided"
MAX_SUGGESTED = 100_000
"""Above this many replications an undecided claim is reported as practically undecidable."""


@dataclass(frozen=True)
class Verdict:
    """The verdict on one claim, with its evidence.

    Attributes:
        name: the claim's name in the file.
        claim: the claim as written.
        verdict: ``holds``, ``does not hold`` or ``undecided``.
        diff: mean of the paired difference (claim side − against side) with its 95 % CI.
        judged: the interval the verdict was read from (95 %, or 90 % for unchanged).
        level: that interval's level.
        sd: standard deviation of the per-replication differences.
        side_mean: mean of the metric on the claim's side.
        against_mean: mean of the metric on the side it is compared with.
        needed: when undecided, about how many replications would decide it (None when
            no number would: the estimate sits on the bound, or the spread is unknown).
    """

    name: str
    claim: Claim
    verdict: str
    diff: Estimate
    judged: tuple[float, float]
    level: float
    sd: float
    side_mean: float
    against_mean: float
    needed: int | None

    def evidence(self) -> str:
        """One line: the means, the paired difference with its CI, and what decides it."""
        d = self.diff
        text = (
            f"{self.claim.metric}: {self.claim.variant} {_fmt(self.side_mean)} vs {self.claim.against} "
            f"{_fmt(self.against_mean)}; paired difference {_fmt(d.mean, True)} "
            f"[{_fmt(d.ci_low, True)}, {_fmt(d.ci_high, True)}] (95 % CI, {d.n} replications)"
        )
        if self.claim.expect == "unchanged":
            lo, hi = self.judged
            text += f"; 90 % CI [{_fmt(lo, True)}, {_fmt(hi, True)}] against ±{self.claim.within:g} (TOST)"
        elif self.claim.by_more_than:
            sign = "−" if self.claim.expect == "lower" else "+"
            text += f"; bound {sign}{self.claim.by_more_than:g}"
        if self.verdict == UNDECIDED:
            if self.needed is None:
                text += "; no number of replications would decide it (the estimate is on the bound)"
            elif self.needed > MAX_SUGGESTED:
                text += f"; more than {MAX_SUGGESTED:,} replications would be needed"
            else:
                text += f"; about {self.needed:,} replications would decide it (--replications {self.needed})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The verdict as `compare --json` writes it (undefined numbers as null)."""
        return {
            "name": self.name,
            "claim": self.claim.statement(),
            "source": self.claim.source,
            "variant": self.claim.variant,
            "against": self.claim.against,
            "metric": self.claim.metric,
            "expect": self.claim.expect,
            "by_more_than": self.claim.by_more_than,
            "within": self.claim.within,
            "verdict": self.verdict,
            "diff": {k: _json(v) for k, v in self.diff.as_dict().items()},
            "judged_interval": {
                "level": self.level,
                "low": _json(self.judged[0]),
                "high": _json(self.judged[1]),
            },
            "sd": _json(self.sd),
            "variant_mean": _json(self.side_mean),
            "against_mean": _json(self.against_mean),
            "replications": self.diff.n,
            "replications_to_decide": self.needed,
            "evidence": self.evidence(),
        }


def _json(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _fmt(v: float, signed: bool = False) -> str:
    if not math.isfinite(v):
        return "—"
    digits = 4 if abs(v) < 10 else 1
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def claim_values(claim: Claim, sides: dict[str, RunResult]) -> tuple[np.ndarray, np.ndarray]:
    """Per-replication values of the claim's metric on its side and on the `against` side.

    Args:
        claim: the claim.
        sides: ``baseline`` and each variant → its results (replication r paired across sides).
    """
    side = sides[claim.variant]
    other = sides[claim.against]
    scope, name, metric = claim.scope_of(side.scenario)
    return side.values(scope, name, metric), other.values(scope, name, metric)


def judge(name: str, claim: Claim, sides: dict[str, RunResult]) -> Verdict:
    """The verdict on `claim` from the replications of `sides` (see `claim_values`)."""
    side, other = claim_values(claim, sides)
    return judge_values(name, claim, side, other)


def judge_values(name: str, claim: Claim, side: np.ndarray, other: np.ndarray) -> Verdict:
    """The verdict from per-replication values of the two sides (paired by position)."""
    diffs = np.asarray(side, dtype=np.float64) - np.asarray(other, dtype=np.float64)
    diffs = diffs[~np.isnan(diffs)]
    metric = claim.metric.rpartition(".")[2]  # a share's change is cut to [-1, 1], as in `compare`
    d95 = paired_ci(side, other, metric=metric)
    n = d95.n
    sd = float(diffs.std(ddof=1)) if n > 1 else math.nan
    if claim.expect == "unchanged":
        level = 0.90
        d = paired_ci(side, other, level, metric=metric)
        judged = (d.ci_low, d.ci_high)
    else:
        level = 0.95
        judged = (d95.ci_low, d95.ci_high)
    verdict = decide(claim, judged[0], judged[1]) if n > 0 else UNDECIDED
    needed = replications_to_decide(claim, d95.mean, sd, level) if verdict == UNDECIDED else None
    return Verdict(
        name, claim, verdict, d95, judged, level, sd,
        float(np.nanmean(side)) if len(side) else math.nan,
        float(np.nanmean(other)) if len(other) else math.nan,
        needed,
    )  # fmt: skip


def decide(claim: Claim, low: float, high: float) -> str:
    """The verdict given the interval [low, high] of the paired difference."""
    if math.isnan(low) or math.isnan(high):
        return UNDECIDED
    if claim.expect == "lower":
        bound = -claim.by_more_than
        return HOLDS if high < bound else FAILS if low >= bound else UNDECIDED
    if claim.expect == "higher":
        bound = claim.by_more_than
        return HOLDS if low > bound else FAILS if high <= bound else UNDECIDED
    m = float(claim.within or 0.0)
    if -m < low and high < m:
        return HOLDS
    if low > m or high < -m:
        return FAILS
    return UNDECIDED


def margin(claim: Claim, mean: float) -> float:
    """Signed distance of a mean difference from the claim's bound: > 0 where the claim holds."""
    if claim.expect == "lower":
        return -claim.by_more_than - mean
    if claim.expect == "higher":
        return mean - claim.by_more_than
    return float(claim.within or 0.0) - abs(mean)


def replications_to_decide(claim: Claim, mean: float, sd: float, level: float) -> int | None:
    """About how many replications put the interval clear of the nearest decision bound.

    The half-width is t(n − 1)·sd/√n; the answer is the least n at which it is below the
    distance from `mean` to the bound, assuming the mean and the spread stay as observed.
    """
    distance = abs(margin(claim, mean))
    if not (math.isfinite(sd) and sd > 0 and distance > 0):
        return None
    z = NormalDist().inv_cdf(0.5 + level / 2)
    n = max(2, math.ceil((z * sd / distance) ** 2))  # the t quantile is larger: start below
    if n > MAX_SUGGESTED:
        return n

    def half(k: int) -> float:
        return t_quantile(0.5 + level / 2, k - 1) * sd / math.sqrt(k)

    while half(n) >= distance:
        n += 1
    while n > 2 and half(n - 1) < distance:
        n -= 1
    return n


def judge_all(claims: dict[str, Claim], baseline: RunResult, variants: dict[str, RunResult]) -> list[Verdict]:
    """Verdicts on every claim, in the file's order."""
    sides = {BASELINE: baseline, **variants}
    return [judge(name, claim, sides) for name, claim in claims.items()]


def verdict_lines(verdicts: list[Verdict]) -> str:
    """The verdicts as `staffsim compare` prints them after its table."""
    if not verdicts:
        return ""
    lines = ["Claims (paired on common random numbers):"]
    for v in verdicts:
        lines.append(f"  [{v.verdict}] {v.name}: {v.claim.statement()}")
        if v.claim.source:
            lines.append(f"      source: “{v.claim.source}”")
        lines.append(f"      {v.evidence()}")
    return "\n".join(lines) + "\n"
