"""Scenario configuration: the validated, frozen description of a support centre.

`schema` defines what a scenario file may say (with `staffing` and `journeys`); `files`
reads the CSV files a scenario names. `yaml_lines` parses a file and keeps the line of every
key; `validate` runs the schema and turns every mistake into a `ScenarioError` (`errors`)
that names the file, the key path and the line; `variants` follows `extends` chains and
applies variants; `loader` is the one entry for a single scenario. They import one another
in that order, never back.
"""

from __future__ import annotations

from sim.config.errors import ScenarioError
from sim.config.loader import load_scenario
from sim.config.schema import Scenario

__all__ = ["Scenario", "ScenarioError", "load_scenario"]
