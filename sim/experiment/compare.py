"""Compare variants against the baseline on common random numbers.

Replication r of every variant uses the same random streams as replication r of the
baseline, so each variant sees the same customers: the same arrival times, handle times and
patience on every channel the two share. The effect of a variant is estimated from the
per-replication differences (variant − baseline), whose spread excludes most of the
customer-to-customer noise that two independent runs would carry.

What can be shared and what cannot: a variant that changes staffing or routing keeps every
customer identical. A variant that changes a channel's arrival rate or profile keeps the
same underlying random numbers but maps them to new times (inversion of the cumulative
rate), so that channel's customers change as little as the new rate allows; its handle
times and patience stay attached to the n-th arrival. A variant that adds a channel leaves
the other channels' customers untouched. Changing a distribution's family or parameters
changes those draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config.claims import Claim
from sim.config.variants import BASELINE, Experiment
from sim.experiment.claims import Verdict, judge_all
from sim.metrics.contacts import CHANNEL_METRICS, GROUP_METRICS
from sim.metrics.shown import COMPARE_ROWS, shown_metrics
from sim.metrics.stats import Estimate, metric_ci, paired_ci
from sim.report.output import manifest
from sim.results import RunResult, SavesItself
from sim.runner.atomic import write_json
from sim.runner.executors import Executor, SerialExecutor
from sim.runner.store import TaskStore
from sim.runner.tasks import Task, run_all

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiment.turning import TurningPoint


@dataclass(frozen=True)
class Precision:
    """Replicate until the 95 % CI half-width of `metric` is at most `half_width`.

    `metric` is ``"service_level"`` (every channel) or ``"phone.service_level"`` (one).
    """

    metric: str
    half_width: float

    @classmethod
    def parse(cls, text: str) -> Precision:
        """Read `METRIC=HALFWIDTH` as given on the command line.

        Raises:
            ValueError: malformed text, an unknown metric or a non-positive half-width.
        """
        metric, sep, value = text.partition("=")
        name = metric.rpartition(".")[2]
        if not sep or name not in CHANNEL_METRICS:
            raise ValueError(
                f"--precision takes METRIC=HALFWIDTH with METRIC one of {', '.join(CHANNEL_METRICS)} "
                f"(optionally CHANNEL.METRIC), not {text!r}"
            )
        try:
            half = float(value)
        except ValueError:
            raise ValueError(f"--precision half-width must be a number, not {value!r}") from None
        if not (half > 0 and math.isfinite(half)):
            raise ValueError(f"--precision half-width must be positive, not {value!r}")
        return cls(metric, half)

    def targets(self, channels: list[str]) -> list[tuple[str, str]]:
        """(channel, metric) pairs this precision applies to."""
        channel, _, name = self.metric.rpartition(".")
        return [(ch, name) for ch in channels if not channel or ch == channel]


@dataclass(frozen=True)
class PrecisionReached:
    """How a `--precision` run ended.

    Attributes:
        metric: the metric as given (``service_level`` or ``phone.service_level``).
        half_width: the half-width asked for.
        achieved: the widest half-width among the baseline's CIs and the paired differences.
        reached: whether `achieved` is at most `half_width`.
        max_replications: the cap that stopped it when not reached.
    """

    metric: str
    half_width: float
    achieved: float
    reached: bool
    max_replications: int

    def message(self, replications: int) -> str:
        """One line for the user when the precision was not reached (empty when it was)."""
        if self.reached:
            return ""
        return (
            f"--precision {self.metric}={self.half_width:g} not reached: stopped at --max-replications "
            f"{self.max_replications} ({replications} replications) with a 95% CI half-width of "
            f"{self.achieved:.3g}; raise --max-replications for a tighter answer"
        )

    def as_dict(self) -> dict[str, Any]:
        """The `precision` object of `compare --json`."""
        return {
            "metric": self.metric,
            "half_width": self.half_width,
            "achieved_half_width": self.achieved if math.isfinite(self.achieved) else None,
            "reached": self.reached,
            "max_replications": self.max_replications,
        }


@dataclass
class CompareResult(SavesItself):
    """A baseline and its variants, replication by replication on common random numbers.

    Attributes:
        baseline: the baseline's replications.
        variants: variant name → its replications (replication r on the same streams).
        overrides: variant name → its key-path overrides, as written (for the manifest).
        files: the scenario files read (for the manifest).
        precision: how a run with a precision goal ended (None without one).
    """

    baseline: RunResult
    variants: dict[str, RunResult]
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    precision: PrecisionReached | None = None
    claims: dict[str, Claim] = field(default_factory=dict)
    """What the file expects of its variants; `verdicts()` judges them."""
    turning: dict[str, TurningPoint] = field(default_factory=dict)
    """Claim name → where its verdict turns (`sim.experiment.turning.turning_points`)."""

    def verdicts(self) -> list[Verdict]:
        """The verdict on each claim of the file, from the paired replications."""
        return judge_all(self.claims, self.baseline, self.variants)

    @property
    def n(self) -> int:
        """Replications per side."""
        return self.baseline.n

    def diff(self, variant: str, channel: str, metric: str, scope: str = "channel") -> Estimate:
        """Mean and 95 % CI of the paired difference variant − baseline.

        Raises:
            KeyError: no such variant (the message lists the variants), or no such channel,
                group or metric.
        """
        if variant not in self.variants:
            raise KeyError(f"no variant '{variant}'; the variants are: {', '.join(self.variants)}")
        return paired_ci(
            self.variants[variant].values(scope, channel, metric),
            self.baseline.values(scope, channel, metric),
            metric=metric,
        )

    def table(self) -> pd.DataFrame:
        """One row per variant × (scope, name) × metric: both means and the paired difference.

        A channel or group that only the variant has (a newly opened channel, a new team)
        gets its variant mean, with NaN for the baseline and the difference.
        """
        import pandas as pd

        rows = []
        for v, result in self.variants.items():
            for scope, metrics, table in (
                ("channel", CHANNEL_METRICS, "channels"),
                ("group", GROUP_METRICS, "groups"),
            ):
                base_names = list(getattr(self.baseline.outputs[0], table))
                names = base_names + [n for n in getattr(result.outputs[0], table) if n not in base_names]
                for name in names:
                    if name not in getattr(result.outputs[0], table):
                        continue
                    shared = name in base_names
                    for metric in metrics:
                        m = metric_ci(result.values(scope, name, metric), metric)
                        if shared:
                            b = metric_ci(self.baseline.values(scope, name, metric), metric)
                            d = self.diff(v, name, metric, scope)
                        else:
                            b = d = Estimate(math.nan, math.nan, math.nan, 0)
                        excludes = d.n > 1 and (d.ci_low > 0 or d.ci_high < 0)
                        rows.append(
                            (v, scope, name, metric, b.mean, m.mean, d.mean, d.ci_low, d.ci_high, excludes)
                        )
        columns = [
            "variant", "scope", "name", "metric", "baseline_mean", "variant_mean",
            "diff_mean", "diff_ci_low", "diff_ci_high", "significant",
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `staffsim compare --json` prints."""
        base = self.baseline.to_dict()
        variants: dict[str, Any] = {}
        for v, result in self.variants.items():
            diff: dict[str, dict[str, dict[str, float | None]]] = {}
            for ch in self.baseline.scenario.channels:
                if ch in result.outputs[0].channels:
                    diff[ch] = {m: _clean(self.diff(v, ch, m).as_dict()) for m in CHANNEL_METRICS}
            variants[v] = {"channels": result.to_dict()["channels"], "diff": diff}
        out = {
            "baseline": self.baseline.scenario.name,
            "replications": self.n,
            "seed": self.baseline.seed,
            "channels": base["channels"],
            "variants": variants,
            "claims": [
                {**v.to_dict(), "turning": self.turning[v.name].to_dict() if v.name in self.turning else None}
                for v in self.verdicts()
            ],
        }
        if self.precision is not None:
            out["precision"] = self.precision.as_dict()
        return out

    def write(self, folder: Path) -> None:
        """Write the comparison's files into the existing `folder`.

        Files: `comparison.csv` (`table()`), `replications.csv` (every side, with a `variant`
        column), `result.json` (`to_dict()`) and `manifest.json`.
        """
        import pandas as pd

        self.table().to_csv(folder / "comparison.csv", index=False)
        frames = [self.baseline.replications().assign(variant=BASELINE)]
        frames += [r.replications().assign(variant=v) for v, r in self.variants.items()]
        pd.concat(frames, ignore_index=True).to_csv(folder / "replications.csv", index=False)
        write_json(folder / "result.json", self.to_dict())
        write_json(
            folder / "manifest.json",
            manifest(
                self.files,
                self.baseline.scenario.model_dump_json(),
                seed=self.baseline.seed,
                replications=self.n,
                variants=self.overrides,
                shown=shown_metrics(
                    [self.baseline.scenario, *(r.scenario for r in self.variants.values())], COMPARE_ROWS
                ),
            ),
        )


def _clean(d: dict[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in d.items()}


def compare(
    exp: Experiment,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    precision: Precision | None = None,
    max_replications: int = 200,
    store: TaskStore | None = None,
    progress: Callable[[int], object] | None = None,
    on_total: Callable[[int], object] | None = None,
) -> CompareResult:
    """Run the baseline and every variant on common random numbers.

    Args:
        exp: the baseline and its variants (`sim.api.load` turns a file or dict into one).
        replications: replications per side (the first round, with `precision`).
        seed: base seed; default the scenario's.
        executor: where tasks run; default in this process.
        precision: replicate until this CI half-width is reached (baseline mean and every
            paired difference), up to `max_replications`.
        max_replications: the most replications `precision` may ask for.
        store: keeps finished tasks so an interrupted comparison can resume.
        progress: called with the number of tasks finished.
        on_total: called with the total number of tasks whenever it grows.

    Returns:
        A `CompareResult`; `.table()` gives the paired differences as a DataFrame.
    """
    if not exp.variants:
        raise ValueError(f"{exp.baseline.name}: the scenario has no variants to compare")
    executor = executor or SerialExecutor()
    base_seed = exp.baseline.seed if seed is None else seed
    sides = {BASELINE: exp.baseline, **exp.variants}
    n = replications or exp.baseline.replications
    if precision is not None:
        n = max(n, 3)
    results: dict[str, Any] = {}
    while True:
        tasks = [
            Task(f"{side}-r{r}", scenario, base_seed, r)
            for r in range(n)
            for side, scenario in sides.items()
            if f"{side}-r{r}" not in results
        ]
        if on_total is not None:
            on_total(len(results) + len(tasks))
        results.update(run_all(tasks, executor, store, progress))
        comparison = CompareResult(
            RunResult(exp.baseline, base_seed, [results[f"{BASELINE}-r{r}"] for r in range(n)], "none"),
            {
                v: RunResult(sc, base_seed, [results[f"{v}-r{r}"] for r in range(n)], "none")
                for v, sc in exp.variants.items()
            },
            exp.overrides,
            exp.files,
            claims=exp.claims,
        )
        if precision is None:
            return comparison
        worst = _worst_half_width(comparison, precision)
        if worst <= precision.half_width or n >= max_replications:
            comparison.precision = PrecisionReached(
                precision.metric, precision.half_width, worst, worst <= precision.half_width, max_replications
            )
            return comparison
        # Half-widths shrink like 1/√n: ask for the n that would reach the target.
        wanted = math.ceil(n * (worst / precision.half_width) ** 2) if math.isfinite(worst) else 2 * n
        n = min(max_replications, max(wanted, n + 2))


def _worst_half_width(c: CompareResult, precision: Precision) -> float:
    worst = 0.0
    for ch, metric in precision.targets(list(c.baseline.scenario.channels)):
        widths = [c.baseline.estimate(ch, metric).half_width]
        widths += [
            c.diff(v, ch, metric).half_width for v in c.variants if ch in c.variants[v].outputs[0].channels
        ]
        finite = [w for w in widths if not math.isnan(w)]
        if finite:
            worst = max(worst, *finite)
    return worst
