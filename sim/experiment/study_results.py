"""The scalability study's results and the verdicts computed from them.

`StudyResult` holds the per-replication measures of every optimised plan and the diversion
experiment's paired differences; `conclude` states which parts of the argument hold, from
those numbers and their CIs (see `sim.experiment.study` for the study itself).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment.centres import DESIGNS
from sim.metrics.stats import mean_ci
from sim.planning.plan import Plan
from sim.results import SavesItself
from sim.runner.atomic import write_json


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
    designs: tuple[str, ...] = DESIGNS
    """The team designs staffed."""
    notes: list[str] = field(default_factory=list)
    """What the study did beyond the plan (re-optimised steps, a diversion it skipped)."""
    centre: str = "the study centre"
    """The centre scaled: the study's own, or a scenario file."""
    quick: bool = False
    """Whether this is the quick study (fewer scales, shorter runs)."""
    self_check: str = ""
    """The Erlang C self-check's report (`sim.experiment.selfcheck`), when it was run."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `staffsim study scalability --json` prints: the conclusions."""
        return {
            "study": "scalability",
            "centre": self.centre,
            "designs": list(self.designs),
            "quick": self.quick,
            "conclusions": [
                {"claim": c.claim, "holds": c.holds, "evidence": c.evidence} for c in self.conclusions
            ],
            "notes": self.notes,
            "self_check": self.self_check,
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
        for fname, fig in study_figures(self.summary(), self.designs).items():
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


def conclude(
    result: StudyResult, scales: tuple[int, ...], plans: dict[tuple[int, str], Plan] | None = None
) -> list[Conclusion]:
    """Compute which parts of the argument hold, from the study's numbers and CIs."""
    s = result.summary()
    designs = result.designs
    trend = "pooled" if "pooled" in designs else designs[0]
    pooled = s[s.design == trend].set_index("scale")
    first, last = scales[0], scales[-1]
    out: list[Conclusion] = []

    ape = pooled["agents_per_erlang"]
    falls = bool(ape[last] < 0.9 * ape[first])
    evidence = (
        f"{trend} team, agents per Erlang: " + ", ".join(f"×{sc}: {v:.2f}" for sc, v in ape.items()) + "."
    )
    evidence += _explain_steps(ape, pooled["agents"], plans, trend)
    out.append(
        Conclusion(
            "Waiting has economies of scale: agents per Erlang of load fall as demand grows.", falls, evidence
        )
    )

    work = result.scaling[result.scaling.design == trend]
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

    if "split" in designs and "pooled" in designs:
        split = s[s.design == "split"].set_index("scale")
        extra = split["agents"] - pooled["agents"]
        loses = bool((extra >= 0).all() and extra.sum() > 0)
        out.append(
            Conclusion(
                "Split channel teams lose the economies of pooling: they need more agents than the pooled team"
                " with the same routing (not the preemptive pool, whose routing differs).",
                loses,
                "agents, split minus pooled (same routing): "
                + ", ".join(f"×{sc}: {int(e):+d}" for sc, e in extra.items())
                + ".",
            )
        )
    if "pooled_preemptive" in designs and "pooled" in designs:
        preempt = s[s.design == "pooled_preemptive"].set_index("scale")
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
    if len(d):
        phone = str(d.phone.iloc[0]) if "phone" in d.columns else "phone"
        sl = (d.name == phone) & (d.metric == "service_level")
        divert = d[d.variant.str.startswith("divert") & sl].iloc[0]
        hire = d[d.variant.str.startswith("hire") & sl].iloc[0]
        hurts = bool(divert.diff_ci_high < 0 and not hire.diff_ci_high < 0)
        out.append(
            Conclusion(
                "Diverting phone agents to social, instead of hiring, makes phone service worse.",
                hurts,
                f"{phone} service level: diverting {divert.diff_mean:+.3f} [{divert.diff_ci_low:+.3f}, {divert.diff_ci_high:+.3f}], "
                f"hiring {hire.diff_mean:+.3f} [{hire.diff_ci_low:+.3f}, {hire.diff_ci_high:+.3f}] (paired, 95 % CI).",
            )
        )
    return out


def _explain_steps(
    ape: pd.Series, agents: pd.Series, plans: dict[tuple[int, str], Plan] | None, design: str
) -> str:
    """Why agents per Erlang rise between two scales, if they do: the optimiser's resolution."""
    text = ""
    scales = list(ape.index)
    for a, b in itertools.pairwise(scales):
        if ape[b] <= ape[a]:
            continue
        one = ape[b] / agents[b]  # one agent, in agents per Erlang, at the larger scale
        text += (
            f" The rise from ×{a} to ×{b} (+{ape[b] - ape[a]:.3f}) is {(ape[b] - ape[a]) / one:.1f} agents at ×{b}"
            f" (one agent = {one:.3f} per Erlang)"
        )
        if plans is not None and (b, design) in plans:
            tight = min(plans[(b, design)].targets, key=lambda t: abs(t.estimate.mean - t.target.bound))
            e = tight.estimate
            text += f"; at ×{b} the tightest target, {tight.target}, reaches {e.mean:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]"
        text += ": within the optimiser's resolution, not against square-root staffing."
    return text
