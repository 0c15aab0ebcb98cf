"""staffsim: discrete-event simulation of customer-support staffing.

Load a scenario (phone, email and social channels served by one pool of agents), run
replications, and read the service figures as pandas tables::

    import sim
    scenario = sim.load_scenario("scenarios/baseline.yaml")
    result = sim.run(scenario, replications=10)
    result.summary()
"""

from __future__ import annotations

from sim.api import compare, optimize, run, sweep
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
    "compare",
    "load_experiment",
    "load_scenario",
    "optimize",
    "run",
    "sweep",
]
