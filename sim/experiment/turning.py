"""Where a claim turns: the value of one parameter at which its verdict changes.

A claim such as "auto-replies lower social satisfaction" may hold for some customers and not
for others; the question is then *where* it turns. `find_turning` sweeps one scenario key
(a penalty, an elasticity, a share, a head count) between two values:

1. it runs both sides of the claim at an even grid of values, every value on the same
   customers (common random numbers: replication r has the same seed at every value);
2. it finds the first pair of neighbouring values between which the mean paired difference
   crosses the claim's bound (for `unchanged`, where its size crosses the margin), and
   **bisects** that bracket a few times, running the midpoint each time;
3. the turning value is the linear interpolation of the bound crossing between the last
   bracket's ends; its 95 % CI is a **bootstrap over replications**: replications are drawn
   with replacement (the same draw at every value, so pairs and common random numbers are
   kept), the mean curve is recomputed and its crossing nearest the estimate found; the
   2.5 and 97.5 percentiles of those crossings are the interval. A crossing that leaves the
   swept range is counted at the range's end, and the interval then says it reaches it.

The key is set on every side of the claim whose scenario already has the mapping that holds
it (`channels.social.auto_reply.csat_penalty` only changes a side that has an auto-reply); a
key neither side has is an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.config.claims import Claim, Turning
from sim.config.variants import Experiment
from sim.experiment.claims import decide, margin
from sim.metrics.stats import mean_ci
from sim.runner.executors import Executor, SerialExecutor
from sim.runner.tasks import Task, run_all

BOOTSTRAP = 2000
"""Bootstrap resamples of the replications for the turning value's CI."""


@dataclass
class TurningPoint:
    """The sweep of one claim along one parameter, and where its verdict turns.

    Attributes:
        claim_name: the claim.
        claim: the claim as written.
        path: the swept key.
        values: every value run, sorted.
        diffs: per value, the per-replication paired differences (claim side − against).
        value: the turning value (None when the verdict does not turn in the range).
        ci: its 95 % bootstrap CI (None with `value`).
        ci_at_edge: the CI reaches an end of the range (the crossing may lie beyond it).
        before: the verdict on the point estimate below the turning value.
        after: the verdict on the point estimate above it.
        integer: the key takes whole numbers.
    """

    claim_name: str
    claim: Claim
    path: str
    values: list[float]
    diffs: list[np.ndarray]
    value: float | None = None
    ci: tuple[float, float] | None = None
    ci_at_edge: bool = False
    before: str = ""
    after: str = ""
    integer: bool = False

    def verdicts(self) -> list[str]:
        """The verdict at each value run (from the 95 % CI; 90 % for unchanged)."""
        level = 0.90 if self.claim.expect == "unchanged" else 0.95
        out = []
        for d in self.diffs:
            e = mean_ci(d, level)
            out.append(decide(self.claim, e.ci_low, e.ci_high))
        return out

    def sentence(self) -> str:
        """The turning point in words."""
        lo, hi = self.values[0], self.values[-1]
        if self.value is None:
            states = sorted(set(self.verdicts()))
            return (
                f"{self.claim_name}: along {self.path} from {lo:g} to {hi:g} the point estimate does not "
                f"cross the bound; verdicts seen: {', '.join(states)}"
            )
        assert self.ci is not None
        edge = " (the CI reaches the end of the range)" if self.ci_at_edge else ""
        return (
            f"{self.claim_name}: {self.before} below and {self.after} above {self.path} = {self.value:.4g} "
            f"[{self.ci[0]:.4g}, {self.ci[1]:.4g}] (95 % CI, bootstrap over {len(self.diffs[0])} "
            f"replications){edge}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The turning point as JSON (undefined numbers as null)."""
        return {
            "path": self.path,
            "value": self.value,
            "ci_low": self.ci[0] if self.ci else None,
            "ci_high": self.ci[1] if self.ci else None,
            "ci_at_edge": self.ci_at_edge,
            "before": self.before or None,
            "after": self.after or None,
            "method": "bisection on the mean paired difference (common random numbers); "
            "CI: bootstrap over replications",
            "points": [
                {
                    "value": x,
                    "diff": _finite(float(np.nanmean(d)) if np.isfinite(d).any() else math.nan),
                    "verdict": v,
                }
                for x, d, v in zip(self.values, self.diffs, self.verdicts(), strict=True)
            ],
            "sentence": self.sentence(),
        }


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def parse_turning(text: str) -> Turning:
    """Read `PATH=LOW:HIGH` (optionally `:POINTS`) as given to `compare --turning`.

    Raises:
        ValueError: malformed text.
    """
    path, sep, rng = text.partition("=")
    parts = rng.split(":")
    if not sep or not path or len(parts) not in (2, 3):
        raise ValueError(f"--turning takes PATH=LOW:HIGH or PATH=LOW:HIGH:POINTS, not {text!r}")
    try:
        low, high = float(parts[0]), float(parts[1])
        points = int(parts[2]) if len(parts) == 3 else 5
    except ValueError:
        raise ValueError(f"--turning: LOW, HIGH (and POINTS) must be numbers, not {rng!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"--turning: LOW must be below HIGH, not {rng!r}")
    if not 3 <= points <= 41:
        raise ValueError(f"--turning: POINTS must be 3 to 41, not {points}")
    integer = all(float(p).is_integer() for p in parts[:2]) and path.endswith(".count")
    return Turning(path=path, low=low, high=high, points=points, integer=integer)


def _holds_key(data: dict[str, Any], parts: list[str]) -> bool:
    node: Any = data
    for part in parts[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            return False
        node = node[part]
    return isinstance(node, dict)


def find_turning(
    exp: Experiment,
    name: str,
    claim: Claim,
    turning: Turning,
    *,
    replications: int,
    seed: int | None = None,
    executor: Executor | None = None,
    steps: int = 4,
    progress: Callable[[int], object] | None = None,
) -> TurningPoint:
    """Sweep `turning.path` and find where the claim's verdict turns (see the module notes).

    Args:
        exp: the experiment the claim belongs to.
        name: the claim's name.
        claim: the claim.
        turning: the key and its range.
        replications: replications per side and value.
        seed: base seed (default the scenario's).
        executor: where tasks run.
        steps: bisection steps after the grid.
        progress: called with the number of tasks finished.

    Raises:
        ValueError: neither side of the claim has the mapping that holds the key.
        ScenarioError: a value is invalid for the scenario.
    """
    executor = executor or SerialExecutor()
    base_seed = exp.baseline.seed if seed is None else seed
    parts = turning.path.split(".")
    sides = [s for s in dict.fromkeys([claim.variant, claim.against])]
    changed = [s for s in sides if _holds_key(exp.side_data(s), parts)]
    if not changed:
        raise ValueError(
            f"{exp.label}: claim '{name}': neither {' nor '.join(sides)} has "
            f"'{'.'.join(parts[:-1])}', so '{turning.path}' cannot be swept"
        )
    scope_name_metric = claim.scope_of(exp.side(claim.variant))
    runs: dict[float, np.ndarray] = {}
    done: dict[str, Any] = {}  # task name → output; a side the key does not change runs once

    def run(x: float) -> np.ndarray:
        value: float | int = round(x) if turning.integer else x
        key = float(value)
        if key in runs:
            return runs[key]
        names = {s: (f"{s}@{key!r}" if s in changed else s) for s in sides}
        tasks = [
            Task(
                f"{names[s]}-r{r}", exp.side(s, {turning.path: value} if s in changed else None), base_seed, r
            )
            for s in sides
            if f"{names[s]}-r0" not in done
            for r in range(replications)
        ]
        done.update(run_all(tasks, executor, None, progress))
        scope, nm, metric = scope_name_metric
        table = "channels" if scope == "channel" else "groups"

        def values(side: str) -> np.ndarray:
            return np.array(
                [getattr(done[f"{names[side]}-r{r}"], table)[nm][metric] for r in range(replications)],
                dtype=np.float64,
            )

        runs[key] = values(claim.variant) - values(claim.against)
        return runs[key]

    grid = np.linspace(turning.low, turning.high, turning.points)
    for x in grid:
        run(float(x))

    def scores(
        table: dict[float, np.ndarray], rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        xs = np.array(sorted(table))
        means = np.array([np.nanmean(table[x] if rows is None else table[x][rows]) for x in xs])
        return xs, np.array([margin(claim, m) for m in means])

    xs, s = scores(runs)
    bracket = _first_change(s)
    result = TurningPoint(name, claim, turning.path, [], [], integer=turning.integer)
    if bracket is not None:
        a, b = float(xs[bracket]), float(xs[bracket + 1])
        sa = s[bracket]
        for _ in range(steps):
            mid = (a + b) / 2
            if turning.integer:
                mid = float(math.floor(mid))
                if mid <= a:
                    break
            sm = margin(claim, float(np.nanmean(run(mid))))
            if (sm > 0) == (sa > 0):
                a, sa = mid, sm
            else:
                b = mid
        sb = margin(claim, float(np.nanmean(runs[float(b)])))
        estimate = a + (b - a) * sa / (sa - sb) if sa != sb else (a + b) / 2
        xs, s = scores(runs)
        result.value = estimate
        result.before = "holds" if s[0] > 0 else "does not hold"
        result.after = "holds" if s[-1] > 0 else "does not hold"
        result.ci, result.ci_at_edge = _bootstrap(runs, claim, estimate, replications, base_seed)
    result.values = [float(x) for x in xs]
    result.diffs = [runs[float(x)] for x in xs]
    return result


def _first_change(s: np.ndarray) -> int | None:
    """Index i of the first pair (i, i + 1) whose scores differ in sign."""
    for i in range(len(s) - 1):
        if np.isfinite(s[i]) and np.isfinite(s[i + 1]) and (s[i] > 0) != (s[i + 1] > 0):
            return i
    return None


def _crossings(xs: np.ndarray, s: np.ndarray) -> list[float]:
    out = []
    for i in range(len(s) - 1):
        if (s[i] > 0) != (s[i + 1] > 0):
            out.append(float(xs[i] + (xs[i + 1] - xs[i]) * s[i] / (s[i] - s[i + 1])))
    return out


def _bootstrap(
    runs: dict[float, np.ndarray], claim: Claim, estimate: float, n: int, seed: int
) -> tuple[tuple[float, float], bool]:
    """Percentile CI of the crossing, resampling replications (the same rows at every value)."""
    xs = np.array(sorted(runs))
    diffs = np.vstack([runs[float(x)] for x in xs])  # values × replications
    rng = np.random.default_rng([seed, 0x7E12])
    rows = rng.integers(0, n, size=(BOOTSTRAP, n))
    found = np.empty(BOOTSTRAP)
    edge = 0
    for b in range(BOOTSTRAP):
        means = np.nanmean(diffs[:, rows[b]], axis=1)
        s = np.array([margin(claim, float(m)) for m in means])
        crossings = _crossings(xs, s)
        if crossings:
            found[b] = min(crossings, key=lambda c: abs(c - estimate))
        else:  # the resampled curve stays on one side: its crossing is beyond the range
            edge += 1
            found[b] = xs[0] if abs(s[0]) < abs(s[-1]) else xs[-1]
    low, high = (float(v) for v in np.percentile(found, [2.5, 97.5]))
    at_edge = edge > 0.025 * BOOTSTRAP and (low <= xs[0] or high >= xs[-1])
    return (low, high), at_edge


def turning_points(
    exp: Experiment,
    *,
    replications: int,
    override: Turning | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int], object] | None = None,
) -> dict[str, TurningPoint]:
    """Turning points of every claim with a `turning:` key (or of every claim, with `override`)."""
    out: dict[str, TurningPoint] = {}
    for name, claim in exp.claims.items():
        turning = override or claim.turning
        if turning is not None:
            out[name] = find_turning(
                exp, name, claim, turning, replications=replications, seed=seed, executor=executor,
                progress=progress,
            )  # fmt: skip
    return out


def figure(tp: TurningPoint) -> Any:
    """The turning point's figure (see `sim.report.turning.turning_figure`)."""
    from sim.report.turning import turning_figure  # matplotlib only when a figure is drawn

    estimates = [mean_ci(d) for d in tp.diffs]
    claim = tp.claim
    if claim.expect == "unchanged":
        bounds = [float(claim.within or 0.0), -float(claim.within or 0.0)]
    else:
        bounds = [-claim.by_more_than if claim.expect == "lower" else claim.by_more_than]
    return turning_figure(
        tp.values, [e.mean for e in estimates], [e.ci_low for e in estimates], [e.ci_high for e in estimates],
        bounds=bounds, turning=tp.value, ci=tp.ci, xlabel=tp.path,
        ylabel=f"{claim.metric}: {claim.variant} − {claim.against}",
        title=f"{tp.claim_name}: {claim.statement()}",
    )  # fmt: skip
