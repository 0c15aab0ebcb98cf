"""staffsim: discrete-event simulation of customer-support staffing.

Run a scenario (phone, email and social channels served by agent groups), compare its
variants, sweep a grid or size the staffing, and read typed results that give pandas
tables and save themselves::

    import sim
    result = sim.run("scenarios/baseline.yaml", replications=10)
    result.summary()
    result.estimate("phone_team", "occupancy")
    result.save("results/baseline")

Every entry point takes a scenario file, a dict, a `Scenario` or an `Experiment` the same
way (`load`). Own routing policies subclass `Policy` and are registered with `register`.

The names are imported on first use (PEP 562), so `import sim` and the `staffsim` command
start without loading pandas and scipy until they are needed.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing would lengthen start-up
if TYPE_CHECKING:
    from typing import Any

    from sim.api import claims, compare, load, optimize, run, study, sweep
    from sim.config import Scenario, ScenarioError, load_scenario
    from sim.config.variants import Experiment, load_experiment
    from sim.experiment.compare import CompareResult
    from sim.experiment.study import StudyResult
    from sim.experiment.sweep import SweepResult
    from sim.model.policies import Policy, register
    from sim.planning.intervals.plan import IntervalPlan
    from sim.planning.plan import Plan
    from sim.planning.settings import OptimizeSettings
    from sim.planning.shifts import ShiftPlan
    from sim.results import RunResult

__version__ = "0.1.0"

__all__ = [
    "CompareResult",
    "Experiment",
    "IntervalPlan",
    "OptimizeSettings",
    "Plan",
    "Policy",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ShiftPlan",
    "StudyResult",
    "SweepResult",
    "__version__",
    "claims",
    "compare",
    "load",
    "load_experiment",
    "load_scenario",
    "optimize",
    "register",
    "run",
    "study",
    "sweep",
]

_LAZY = {
    "claims": "sim.api",
    "compare": "sim.api",
    "load": "sim.api",
    "optimize": "sim.api",
    "run": "sim.api",
    "study": "sim.api",
    "sweep": "sim.api",
    "Scenario": "sim.config",
    "ScenarioError": "sim.config",
    "load_scenario": "sim.config",
    "Experiment": "sim.config.variants",
    "load_experiment": "sim.config.variants",
    "CompareResult": "sim.experiment.compare",
    "StudyResult": "sim.experiment.study",
    "SweepResult": "sim.experiment.sweep",
    "Policy": "sim.model.policies",
    "register": "sim.model.policies",
    "Plan": "sim.planning.plan",
    "IntervalPlan": "sim.planning.intervals.plan",
    "OptimizeSettings": "sim.planning.settings",
    "ShiftPlan": "sim.planning.shifts",
    "RunResult": "sim.results",
}
"""Public name → the module that defines it."""


def __getattr__(name: str) -> Any:
    """Import a public name on first use and keep it (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy ones included."""
    return sorted({*globals(), *__all__})
