"""staffsim: discrete-event simulation of customer-support staffing.

Load a scenario (phone, email and social channels served by one pool of agents), run
replications, and read the service figures as pandas tables::

    import sim
    scenario = sim.load_scenario("scenarios/baseline.yaml")
    result = sim.run(scenario, replications=10)
    result.summary()

The names are imported on first use (PEP 562), so `import sim` and the `staffsim` command
start without loading pandas and scipy until they are needed.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing would lengthen start-up
if TYPE_CHECKING:
    from typing import Any

    from sim.api import claims, compare, optimize, run, sweep
    from sim.config import Scenario, ScenarioError, load_scenario
    from sim.config.variants import Experiment, load_experiment
    from sim.results import RunResult

__version__ = "0.1.0"

__all__ = [
    "Experiment",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "claims",
    "compare",
    "load_experiment",
    "load_scenario",
    "optimize",
    "run",
    "sweep",
]

_LAZY = {
    "claims": "sim.api",
    "compare": "sim.api",
    "optimize": "sim.api",
    "run": "sim.api",
    "sweep": "sim.api",
    "Scenario": "sim.config",
    "ScenarioError": "sim.config",
    "load_scenario": "sim.config",
    "Experiment": "sim.config.variants",
    "load_experiment": "sim.config.variants",
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
