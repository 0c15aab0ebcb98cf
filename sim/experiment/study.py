"""The study: is good customer service scalable, and what does diverting staff cost?

Demand is scaled ×1, ×2, ×4, ×8, ×16 on a three-channel centre whose customers need their
problems resolved (unresolved ones come back). At each scale the centre is staffed to the
same targets by the optimiser, once as one pooled multi-skill team and once as split
channel teams. Then, at the base scale, k agents are moved from phone to social with no
hire, against hiring k. The conclusions are computed from the results, never written in:

1. waiting has economies of scale — agents per Erlang of load fall as demand grows
   (square-root staffing);
2. work does not — busy agent time per resolved journey is the same at every scale;
3. split teams lose pooling — they need more agents than one pooled team;
4. diverting agents hurts the channel they leave, hiring does not.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.schema import Scenario
from sim.config.validate import validate
from sim.config.variants import load_experiment
from sim.experiment.compare import compare
from sim.metrics.stats import mean_ci
from sim.model.distributions import make_sampler
from sim.planning.headcount import optimize
from sim.results import RunResult, SavesItself
from sim.runner.atomic import write_json
from sim.runner.executors import Executor, SerialExecutor
from sim.runner.tasks import run_replications

TARGETS = ["phone.service_level>=0.8", "email.service_level>=0.9", "social.service_level>=0.8"]
"""80/20 on the phone (ICMI), 90 % of emails within 2 h, 80 % of social posts within 60 min."""

FULL_SCALES = (1, 2, 4, 8, 16)
QUICK_SCALES = (1, 2, 4)


def base_centre(horizon_hours: float, replications: int, seed: int = 2026) -> dict[str, Any]:
    """The study's centre at scale ×1: about 11 Erlangs across phone, email and social."""
    return {
        "name": "scalability",
        "seed": seed,
        "replications": replications,
        "horizon_hours": horizon_hours,
        "warmup_hours": 1,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": 60},  # 60/h × 300 s = 5 Erlangs
                "handle_time": {"dist": "lognormal", "mean_s": 300, "cv": 1.1},  # PARAMETERS.md
                "patience": {"dist": "exponential", "mean_s": 350},  # PARAMETERS.md
                "target": {"answer_within_s": 20},
                "resolution": {
                    "probability": 0.75,
                    "returns": {"to": {"phone": 0.8}, "delay": {"mean_h": 2}},
                },
            },
            "email": {
                "arrivals": {"rate_per_hour": 20},  # 20/h × 8 min = 2.7 Erlangs
                "handle_time": {"dist": "exponential", "mean_min": 8},
                "target": {"answer_within_h": 2},
                "resolution": {"probability": 0.7, "returns": {"to": {"email": 0.7}, "delay": {"mean_h": 2}}},
            },
            "social": {
                "arrivals": {"rate_per_hour": 15},  # 15/h × 4 min = 1 Erlang
                "handle_time": {"dist": "exponential", "mean_min": 4},
                "patience": {"dist": "exponential", "mean_h": 6},
                "target": {"answer_within_min": 60},
                "intents": {
                    "complaint": {"share": 0.62, "resolution": 0.6},  # PARAMETERS.md
                    "query": {"share": 0.33},
                    "joke": {"share": 0.05, "needs": "nothing"},
                },
                "resolution": {
                    "probability": 0.75,
                    "returns": {"to": {"phone": 0.5, "social": 0.3}, "delay": {"mean_h": 1}},
                },
            },
        },
        "agents": {},
        "routing": {"policy": "priority", "order": ["phone", "social", "email"]},
    }


DESIGNS = ("pooled", "pooled_preemptive", "split")
"""Team designs: one pooled team (phone, then social, then email), the same with calls
interrupting email work, and one team per channel."""


def scaled(base: dict[str, Any], scale: int, design: str) -> dict[str, Any]:
    """The centre at `scale` × demand with a team design (counts set by the optimiser)."""
    data = copy.deepcopy(base)
    data["name"] = f"scalability-x{scale}-{design}"
    for ch in data["channels"].values():
        ch["arrivals"]["rate_per_hour"] *= scale
    if design == "pooled_preemptive":
        data["routing"] = {**data["routing"], "policy": "preemptive"}
    if design == "split":
        data["agents"] = {
            f"{ch}_team": {"count": 1, "skills": [ch], "cost_per_hour": 30} for ch in data["channels"]
        }
    else:
        data["agents"] = {"pooled": {"count": 1, "skills": list(data["channels"]), "cost_per_hour": 30}}
    return data


@dataclass
class Conclusion:
    """One part of the argument, whether it holds, and the numbers that say so."""

    claim: str
    holds: bool
    evidence: str


@dataclass
class StudyResult(SavesItself):
    """Tables and computed conclusions of the scalability study."""

    scaling: pd.DataFrame
    """One row per scale × team design × replication of the optimised staffing."""
    diversion: pd.DataFrame
    """Paired differences (variant − baseline) of the diversion experiment."""
    conclusions: list[Conclusion] = field(default_factory=list)
    quick: bool = False
    """Whether this is the quick study (fewer scales, shorter runs)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `staffsim study scalability --json` prints: the conclusions."""
        return {
            "study": "scalability",
            "quick": self.quick,
            "conclusions": [
                {"claim": c.claim, "holds": c.holds, "evidence": c.evidence} for c in self.conclusions
            ],
        }

    def write(self, folder: Path) -> None:
        """Write the study's tables, conclusions and figures into the existing `folder`.

        Files: `scaling.csv`, `summary.csv`, `diversion.csv`, `conclusions.json` and the
        figures of `sim.experiment.study_figures` (PNG).
        """
        from sim.experiment.study_figures import study_figures  # matplotlib: only when saving

        self.scaling.to_csv(folder / "scaling.csv", index=False)
        self.summary().to_csv(folder / "summary.csv", index=False)
        self.diversion.to_csv(folder / "diversion.csv", index=False)
        write_json(folder / "conclusions.json", self.to_dict())
        for fname, fig in study_figures(self.summary(), DESIGNS).items():
            fig.savefig(folder / fname, dpi=110, bbox_inches="tight")

    def summary(self) -> pd.DataFrame:
        """Mean and 95 % CI per scale and design of the study's measures."""
        rows = []
        measures = ["agents", "agents_per_erlang", "agents_per_1000_contacts", "cost_per_resolved_journey",
                    "busy_hours_per_resolved_journey", "phone_service_level", "csat"]  # fmt: skip
        for (scale, design), g in self.scaling.groupby(["scale", "design"], sort=True):
            row: dict[str, Any] = {"scale": scale, "design": design}
            for m in measures:
                e = mean_ci(g[m].to_numpy())
                row[m] = e.mean
                row[f"{m}_ci_low"], row[f"{m}_ci_high"] = e.ci_low, e.ci_high
            rows.append(row)
        return pd.DataFrame(rows)


def _measures(result: RunResult, counts: dict[str, int], scale: int, design: str) -> list[dict[str, Any]]:
    """Per replication: staffing intensity, cost and quality of an optimised plan."""
    agents = sum(counts.values())
    scenario = result.scenario
    load = 0.0
    for spec in scenario.channels.values():
        load += (spec.arrivals.base_rate_per_s or 0.0) * make_sampler(spec.handle_time).mean
    window_h = (scenario.horizon_s - scenario.warmup_s) / 3600.0
    rows = []
    for out in result.outputs:
        offered = sum(m["offered"] for m in out.channels.values())
        resolved = sum(m["journeys_resolved"] for m in out.channels.values())
        busy_h = out.groups["overall"]["busy_agents"] * window_h
        journeys = sum(m["journeys"] for m in out.channels.values())
        csat = (
            sum(m["csat"] * m["journeys"] for m in out.channels.values() if not math.isnan(m["csat"]))
            / journeys
        )
        rows.append(
            {
                "scale": scale,
                "design": design,
                "replication": out.replication,
                "agents": agents,
                "agents_per_erlang": agents / load,
                "agents_per_1000_contacts": agents / (offered / window_h) * 1000.0,
                "cost_per_resolved_journey": out.groups["overall"]["cost_per_resolved_journey"],
                "busy_hours_per_resolved_journey": busy_h / resolved,
                "phone_service_level": out.channels["phone"]["service_level"],
                "csat": csat,
            }
        )
    return rows


def _plan(quick: bool) -> tuple[tuple[int, ...], dict[str, Any]]:
    """The scales and the ×1 centre of the quick or the full study."""
    horizon, reps = (8.0, 3) if quick else (24.0, 6)
    return (QUICK_SCALES if quick else FULL_SCALES), base_centre(horizon, reps)


def _scenario(data: dict[str, Any]) -> Scenario:
    return validate(data, label=data["name"], lines={}, base_dir=Path.cwd())


def search_runs(groups: int) -> int:
    """About how many staffings the optimiser simulates to staff `groups` agent groups.

    The analytic start, a few steps up or down, and a failed removal from each group at the
    end: 2 + 3 per group. The quick study measures 2 to 7 for one group and 9 to 20 for
    three, 63 in all against the 63 this gives; more demand moves the start further from
    the answer, so larger scales tend to need more.
    """
    return 2 + 3 * groups


def study_scenarios(quick: bool = False) -> list[Scenario]:
    """Every scenario the study simulates, once for each time it runs it (all its replications).

    For each scale and design: the staffings the optimiser tries (`search_runs`; their
    number is only known once it has run) and the final run of its plan. Then the diversion
    experiment: the baseline and its two variants. Staffing does not change how many
    contacts arrive, so every staffing of a scale and design counts as one scenario, and
    `sim.runner.budget.estimate` of this list sizes the study.
    """
    scales, base = _plan(quick)
    out: list[Scenario] = []
    for scale in scales:
        for design in DESIGNS:
            scenario = _scenario(scaled(base, scale, design))
            out += [scenario] * (search_runs(len(scenario.agents)) + 1)
    out += [_scenario(scaled(base, 1, "split"))] * 3  # the baseline, divert and hire
    return out


def run_study(
    *,
    quick: bool = False,
    executor: Executor | None = None,
    progress: Callable[[str], object] | None = None,
    divert: int = 2,
) -> StudyResult:
    """Run the scalability study (``quick``: fewer scales, shorter runs, for tests).

    Args:
        quick: scales ×1, ×4, ×16 with short horizons and few replications.
        executor: where simulations run; default in this process.
        progress: called with a short message before each step.
        divert: agents moved (or hired) in the diversion experiment.
    """
    executor = executor or SerialExecutor()
    say = progress or (lambda _msg: None)
    scales, base = _plan(quick)
    rows: list[dict[str, Any]] = []
    plans: dict[tuple[int, str], Any] = {}
    for scale in scales:
        for design in DESIGNS:
            say(f"×{scale} {design}: optimising staffing")
            scenario = _scenario(scaled(base, scale, design))
            plan = optimize(scenario, TARGETS, executor=executor)
            plans[(scale, design)] = plan
            final = _run(plan.scenario, executor)
            rows.extend(_measures(final, plan.counts, scale, design))
    scaling = pd.DataFrame(rows)
    say(f"diversion: move {divert} phone agents to social vs hire {divert}")
    diversion = _diversion(base, plans[(scales[0], "split")].counts, divert, executor)
    result = StudyResult(scaling, diversion, quick=quick)
    result.conclusions = conclude(result, scales)
    return result


def _run(scenario: Scenario, executor: Executor) -> RunResult:
    outputs = run_replications(scenario, scenario.replications, scenario.seed, executor)
    return RunResult(scenario, scenario.seed, outputs, "none")


def _diversion(base: dict[str, Any], counts: dict[str, int], k: int, executor: Executor) -> pd.DataFrame:
    """At ×1 with split teams sized by the optimiser: divert k phone agents vs hire k."""
    data = scaled(base, 1, "split")
    for group, n in counts.items():
        data["agents"][group]["count"] = n
    phone, social = counts["phone_team"], counts["social_team"]
    data["variants"] = {
        f"divert_{k}_phone_to_social": {
            "agents.phone_team.count": phone - k,
            "agents.social_team.count": social + k,
        },
        f"hire_{k}_for_social": {"agents.social_team.count": social + k},
    }
    comparison = compare(load_experiment(data), executor=executor)
    table = comparison.table()
    return table[table.scope == "channel"].reset_index(drop=True)


def conclude(result: StudyResult, scales: tuple[int, ...]) -> list[Conclusion]:
    """Compute which parts of the argument hold, from the study's numbers and CIs."""
    s = result.summary()
    pooled = s[s.design == "pooled"].set_index("scale")
    split = s[s.design == "split"].set_index("scale")
    first, last = scales[0], scales[-1]
    out: list[Conclusion] = []

    ape = pooled["agents_per_erlang"]
    falls = bool(ape[last] < 0.9 * ape[first])
    out.append(
        Conclusion(
            "Waiting has economies of scale: agents per Erlang of load fall as demand grows.",
            falls,
            "pooled team, agents per Erlang: " + ", ".join(f"×{sc}: {v:.2f}" for sc, v in ape.items()) + ".",
        )
    )

    work = result.scaling[result.scaling.design == "pooled"]
    lo = mean_ci(work[work.scale == first]["busy_hours_per_resolved_journey"].to_numpy())
    hi = mean_ci(work[work.scale == last]["busy_hours_per_resolved_journey"].to_numpy())
    ratio = hi.mean / lo.mean
    flat = bool(abs(ratio - 1) < 0.05)
    out.append(
        Conclusion(
            "Work does not scale away: agent time per resolved journey is the same at every scale.",
            flat,
            f"busy agent-minutes per resolved journey: {60 * lo.mean:.2f} [{60 * lo.ci_low:.2f}, {60 * lo.ci_high:.2f}] "
            f"at ×{first}, {60 * hi.mean:.2f} [{60 * hi.ci_low:.2f}, {60 * hi.ci_high:.2f}] at ×{last} "
            f"(ratio {ratio:.3f}).",
        )
    )

    preempt = s[s.design == "pooled_preemptive"].set_index("scale")
    best_pooled = np.minimum(pooled["agents"], preempt["agents"])
    extra = split["agents"] - best_pooled
    loses = bool((extra >= 0).all() and extra.sum() > 0)
    out.append(
        Conclusion(
            "Split channel teams lose the economies of pooling: they need more agents than the best pooled team.",
            loses,
            "agents, split minus best pooled design: "
            + ", ".join(f"×{sc}: {int(e):+d}" for sc, e in extra.items())
            + ".",
        )
    )
    blocking = pooled["agents"] - preempt["agents"]
    blocks = bool((blocking >= 0).all() and blocking.sum() > 0)
    out.append(
        Conclusion(
            "Pooling phone with long email work costs agents when calls must wait for emails to finish"
            " (non-preemptive priority); letting calls interrupt emails recovers it.",
            blocks,
            "agents, pooled minus pooled with preemption: "
            + ", ".join(f"×{sc}: {int(e):+d}" for sc, e in blocking.items())
            + ".",
        )
    )

    d = result.diversion
    divert = d[
        (d.variant.str.startswith("divert")) & (d.name == "phone") & (d.metric == "service_level")
    ].iloc[0]
    hire = d[(d.variant.str.startswith("hire")) & (d.name == "phone") & (d.metric == "service_level")].iloc[0]
    hurts = bool(divert.diff_ci_high < 0 and not hire.diff_ci_high < 0)
    out.append(
        Conclusion(
            "Diverting phone agents to social, instead of hiring, makes phone service worse.",
            hurts,
            f"phone service level: diverting {divert.diff_mean:+.3f} [{divert.diff_ci_low:+.3f}, {divert.diff_ci_high:+.3f}], "
            f"hiring {hire.diff_mean:+.3f} [{hire.diff_ci_low:+.3f}, {hire.diff_ci_high:+.3f}] (paired, 95 % CI).",
        )
    )
    return out
