"""How the optimiser searches: the mode, the shared settings and where replications run.

Three modes, one per kind of staffing decision:

- ``"headcount"``: one head count per group (`sim.planning.headcount`);
- ``"intervals"``: a table of counts per group and interval of the day or week, every
  target met in every interval (`sim.planning.intervals.optimize`);
- ``"shifts"``: the groups' written shifts kept, the count on each sized so that every
  target holds in every interval (`sim.planning.shifts`).

`OptimizeSettings` holds what every mode takes besides the scenario and the targets;
`RunContext` says where a search's replications run and whom it tells how far it has got.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sim.runner.executors import Executor

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


def check_mode(mode: str, settings: OptimizeSettings) -> None:
    """Refuse an unknown mode, or settings the mode does not take.

    Raises:
        ValueError: `mode` is not one of `MODES`, or `max_staffings` is set for ``"headcount"``
            (the head-count search has no staffing bound).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "headcount" and settings.max_staffings is not None:
        raise ValueError('max_staffings applies to mode="intervals" and mode="shifts" only')


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """Where a search runs its replications and whom it tells how far it has got.

    None of it changes a plan's numbers: the same settings and seed give the same plan on
    any executor.

    Attributes:
        executor: where replications run; default in this process (`SerialExecutor`).
        progress: called with the number of replications finished.
        on_total: called with the number of replications requested so far, as it grows.
    """

    executor: Executor | None = None
    progress: Callable[[int], object] | None = None
    on_total: Callable[[int], object] | None = None
