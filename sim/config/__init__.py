"""Scenario configuration: the validated, frozen description of a support centre.

`schema` defines what a scenario file may say; `loader` reads YAML into it and turns every
mistake into a `ScenarioError` that names the file, the key path and the line.
"""

from __future__ import annotations

from sim.config.errors import ScenarioError
from sim.config.loader import load_scenario
from sim.config.schema import Scenario

__all__ = ["Scenario", "ScenarioError", "load_scenario"]
