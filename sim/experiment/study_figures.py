"""The scalability study's figures: agents per 1,000 contacts, cost per resolved journey, quality.

Each is a curve per team design against the demand scale, with its 95 % CI band (see
`sim.report.plots.scaling_curves`), drawn from `StudyResult.summary()`. Kept apart from
`sim.experiment.study` (which it does not import) so that running the study never imports
matplotlib; `StudyResult.save` and the notebooks draw them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from sim.report.plots import scaling_curves

FIGURES = {
    "agents_per_1000_contacts": "agents_per_1000_contacts.png",
    "cost_per_resolved_journey": "cost_per_resolved_journey.png",
    "phone_service_level": "phone_service_level.png",
}
"""Measure of `StudyResult.summary()` → the file its figure is saved as."""


def study_figures(summary: pd.DataFrame, designs: Sequence[str]) -> dict[str, Any]:
    """File name → matplotlib figure, one per measure in `FIGURES`.

    Args:
        summary: `StudyResult.summary()`.
        designs: the team designs, one curve each (`sim.experiment.study.DESIGNS`).
    """
    s = summary
    figures: dict[str, Any] = {}
    for measure, fname in FIGURES.items():
        frame = s.pivot(
            index="scale", columns="design", values=[measure, f"{measure}_ci_low", f"{measure}_ci_high"]
        )
        figures[fname] = scaling_curves(
            _curves(frame, measure, designs), "scale", list(designs), ylabel=measure.replace("_", " "),
            title=f"{measure.replace('_', ' ')} by demand scale (95% CI)", logx=True,
        )  # fmt: skip
    return figures


def _curves(frame: pd.DataFrame, measure: str, designs: Sequence[str]) -> pd.DataFrame:
    """Reshape a pivoted summary into the columns `scaling_curves` expects."""
    out = pd.DataFrame({"scale": frame.index.to_numpy()})
    for design in designs:
        out[design] = frame[(measure, design)].to_numpy()
        out[f"{design}_ci_low"] = frame[(f"{measure}_ci_low", design)].to_numpy()
        out[f"{design}_ci_high"] = frame[(f"{measure}_ci_high", design)].to_numpy()
    return out
