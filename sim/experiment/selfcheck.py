"""Two textbook results the scalability study reproduces before it is believed.

1. **Square-root staffing**: the fewest agents that answer 80 % of calls within 20 s in an
   M/M/c queue (Erlang C, exact) and the square-root rule R + β√R with the Halfin–Whitt β,
   per Erlang of load R, from 1 to 1,000 Erlangs: both fall towards 1 as load grows.
2. **Divert versus hire on an Erlang C centre**: the phone service level of an M/M/c centre
   when 0, 1, 2 or 3 of its agents are moved to a new channel (diverted) or the new channel
   gets new agents (hired): simulated mean with its 95 % CI beside the Erlang C value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analytic.erlang import (
    beta_for_service_level,
    erlang_c_service_level,
    min_agents_erlang_c,
    sqrt_staffing,
)
from sim.config.validate import validate
from sim.metrics.stats import Estimate, mean_ci
from sim.runner.executors import Executor, SerialExecutor
from sim.runner.tasks import Task, run_all

LOADS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
AHT_S = 180.0
TARGET_S = 20.0
GOAL = 0.8


@dataclass(frozen=True)
class SqrtRow:
    """Agents per Erlang at one load."""

    load: float
    exact_agents: int
    sqrt_agents: int
    beta: float

    @property
    def exact_per_erlang(self) -> float:
        """Erlang C minimum ÷ load."""
        return self.exact_agents / self.load

    @property
    def sqrt_per_erlang(self) -> float:
        """Square-root rule ÷ load."""
        return self.sqrt_agents / self.load


def square_root_table(loads: tuple[float, ...] = LOADS) -> list[SqrtRow]:
    """Agents per Erlang at 80/20 for each load: exact Erlang C and the square-root rule."""
    rows = []
    for load in loads:
        beta = beta_for_service_level(load, AHT_S, TARGET_S, GOAL)
        rows.append(
            SqrtRow(load, min_agents_erlang_c(load, AHT_S, TARGET_S, GOAL), sqrt_staffing(load, beta), beta)
        )
    return rows


@dataclass(frozen=True)
class DivertRow:
    """Phone service level with k agents diverted or hired."""

    k: int
    how: str
    agents: int
    simulated: Estimate
    erlang_c: float


def centre(agents: int, extra: int, *, hours: float, replications: int, seed: int) -> dict[str, Any]:
    """An Erlang C phone centre (M/M/c, no abandonment) plus a new channel with `extra` agents."""
    data: dict[str, Any] = {
        "name": f"erlang-c-{agents}+{extra}",
        "seed": seed,
        "replications": replications,
        "horizon_hours": hours,
        "warmup_hours": 1,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": 140},  # 140/h × 180 s = 7 Erlangs
                "handle_time": {"dist": "exponential", "mean_s": AHT_S},
                "target": {"answer_within_s": TARGET_S},
            }
        },
        "agents": {"phone_team": {"count": agents, "skills": ["phone"]}},
    }
    if extra:
        data["channels"]["social"] = {
            "arrivals": {"rate_per_hour": 10 * extra},
            "handle_time": {"dist": "exponential", "mean_min": 4},
            "target": {"answer_within_min": 60},
        }
        data["agents"]["social_team"] = {"count": extra, "skills": ["social"]}
    return data


PHONE_AGENTS = 11
PHONE_LOAD = 7.0


def divert_vs_hire(
    *, hours: float = 40.0, replications: int = 5, seed: int = 7, executor: Executor | None = None
) -> list[DivertRow]:
    """Phone service level with 0–3 agents diverted to a new channel or hired for it."""
    executor = executor or SerialExecutor()
    specs = []
    for k in range(4):
        specs.append((k, "diverted", PHONE_AGENTS - k))
        if k:
            specs.append((k, "hired", PHONE_AGENTS))
    tasks = []
    for k, how, agents in specs:
        scenario = validate(
            centre(agents, k, hours=hours, replications=replications, seed=seed),
            label="self-check",
            lines={},
            base_dir=Path.cwd(),
        )
        tasks += [Task(f"{how}{k}-r{r}", scenario, seed, r) for r in range(replications)]
    out = run_all(tasks, executor)
    rows = []
    for k, how, agents in specs:
        values = [out[f"{how}{k}-r{r}"].channels["phone"]["service_level"] for r in range(replications)]
        exact = erlang_c_service_level(agents, PHONE_LOAD, AHT_S, TARGET_S)
        rows.append(DivertRow(k, how, agents, mean_ci(values), exact))
    return rows


def report(sqrt_rows: list[SqrtRow], divert_rows: list[DivertRow]) -> str:
    """Both checks as text, printed with the study."""
    lines = [
        "Self-check 1: agents per Erlang at 80 % within 20 s, M/M/c (Erlang C exact; square-root rule R + β√R)",
        f"  {'load':>6} {'exact':>6} {'per Erlang':>10} {'β':>6} {'sqrt rule':>9} {'per Erlang':>10}",
    ]
    for r in sqrt_rows:
        lines.append(
            f"  {r.load:>6g} {r.exact_agents:>6d} {r.exact_per_erlang:>10.3f} {r.beta:>6.3f} "
            f"{r.sqrt_agents:>9d} {r.sqrt_per_erlang:>10.3f}"
        )
    lines.append(
        f"Self-check 2: phone service level of an Erlang C centre ({PHONE_LOAD:g} Erlangs, {PHONE_AGENTS} agents),"
        " k agents diverted to a new channel vs hired for it (simulated mean [95% CI] | Erlang C)"
    )
    for d in divert_rows:
        e = d.simulated
        inside = "✓" if e.ci_low <= d.erlang_c <= e.ci_high else "✗"
        lines.append(
            f"  k={d.k} {d.how:<8} {d.agents:>3} phone agents: {e.mean:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]"
            f" | {d.erlang_c:.3f} {inside}"
        )
    return "\n".join(lines)
