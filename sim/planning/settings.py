"""How the optimiser searches: the mode (what it sizes) and the settings every mode shares.

Three modes, one per kind of staffing decision:

- ``"headcount"``: one head count per group (`sim.planning.headcount`);
- ``"intervals"``: a table of counts per group and interval of the day or week, every
  target met in every interval (`sim.planning.intervals.optimize`);
- ``"shifts"``: the groups' written shifts kept, the count on each sized so that every
  target holds in every interval (`sim.planning.shifts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OptimizeMode = Literal["headcount", "intervals", "shifts"]
MODES: tuple[OptimizeMode, ...] = ("headcount", "intervals", "shifts")


@dataclass(frozen=True, kw_only=True)
class OptimizeSettings:
    """What every optimiser mode takes besides the scenario, the targets and the mode.

    Attributes:
        groups: the agent groups whose staffing may change (default: per mode, every group
            with a count; every group not on shifts; every group with shifts).
        replications: per candidate staffing; default the scenario's.
        seed: base seed; default the scenario's. Every candidate sees the same customers.
        max_agents: the most agents the searched groups may have together (per interval:
            one group in one interval).
        confident: a target is met only when its whole 95 % CI is, not just its mean.
        max_staffings: ``"intervals"`` and ``"shifts"`` only: the most staffings the search
            simulates; it stops there, with a note (None:
            `sim.planning.search.MAX_STAFFINGS`). A budget check counts this many.
    """

    groups: tuple[str, ...] | None = None
    replications: int | None = None
    seed: int | None = None
    max_agents: int = 10_000
    confident: bool = False
    max_staffings: int | None = None
