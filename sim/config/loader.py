"""Read a scenario from YAML (or a dict) into a validated `Scenario`.

Only `yaml.safe_load`-equivalent parsing is used: nothing in a file is executed. Every
failure — a missing file, bad YAML, an unknown key, a negative rate — becomes one
`ScenarioError` naming the file, the dotted key path, the line where the YAML tells it, and
what is allowed there.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from sim.config.schema import Scenario
from sim.config.validate import validate
from sim.config.variants import is_experiment, load_experiment
from sim.config.yaml_lines import read_yaml


def load_scenario(
    source: str | Path | Mapping[str, Any] | Scenario, *, policies: Collection[str] | None = None
) -> Scenario:
    """Load and validate a scenario.

    Args:
        source: a path to a YAML file, a mapping with the same structure, or an already
            validated `Scenario` (returned unchanged).
        policies: the routing policy names a file may use (the registry's names, from the
            layer that holds it); None: not checked.

    Returns:
        The validated, frozen scenario. Relative file paths inside it (traces, empirical
        CSVs) are resolved against the scenario file's folder. A file that `extends`
        another or declares `variants` gives its baseline (see `sim.config.variants`).

    Raises:
        ScenarioError: the file is missing, unreadable or invalid.
    """
    if isinstance(source, Scenario):
        return source
    if isinstance(source, Mapping):
        data: dict[str, Any] = dict(source)
        if is_experiment(data):
            return load_experiment(data, policies=policies).baseline
        return validate(data, label="<dict>", lines={}, base_dir=Path.cwd(), policies=policies)
    path = Path(source)
    data, lines = read_yaml(path)
    if is_experiment(data):
        return load_experiment(path, policies=policies).baseline
    return validate(data, label=str(path), lines=lines, base_dir=path.resolve().parent, policies=policies)
