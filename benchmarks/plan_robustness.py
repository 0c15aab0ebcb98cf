"""Does a per-interval staffing plan hold on new customers? (A measurement, not a test.)

Plans the phone team of one day of `scenarios/baseline.yaml` for
``phone.service_level>=0.8`` in every half hour, judging targets by their mean and then by
their whole 95 % CI (`--confident`), each on 10 replications; then re-runs each plan on 10
replications with another seed and counts the half hours with calls that fall under 80 %.

    .venv/bin/python benchmarks/plan_robustness.py      # about 15 s on 2 cores
"""

from __future__ import annotations

import time
from pathlib import Path

import sim
from sim.planning.intervals.optimize import optimize_intervals
from sim.planning.settings import OptimizeSettings, RunContext
from sim.runner.executors import make_executor

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.8


def main() -> None:
    """Print agent-hours and fresh-seed misses of the mean-judged and the confident plan."""
    data = sim.load_experiment(ROOT / "scenarios" / "baseline.yaml").baseline.model_dump(
        mode="python", exclude_none=True
    )
    data["horizon_hours"] = 24
    executor = make_executor(2)
    try:
        for confident in (False, True):
            start = time.perf_counter()
            plan = optimize_intervals(
                data,
                [f"phone.service_level>={GOAL}"],
                settings=OptimizeSettings(groups=("phone_team",), replications=10, confident=confident),
                context=RunContext(executor=executor),
            )
            fresh = sim.run(plan.scenario, replications=10, seed=12345, records="summary", workers=2)
            phone = fresh.intervals().query("channel == 'phone'")
            level = phone.groupby("interval").service_level.mean()
            offered = phone.groupby("interval").offered.sum()
            busy = offered[offered > 0].index
            misses = sum(level[k] < GOAL for k in busy)
            print(
                f"{'confident' if confident else 'mean':>9}: met={plan.met} agent-hours {plan.agent_hours():.1f}, "
                f"{plan.evaluated} staffings, on new customers {misses} of {len(busy)} half hours "
                f"under {GOAL:.0%} ({time.perf_counter() - start:.0f} s)"
            )
    finally:
        executor.close()


if __name__ == "__main__":
    main()
