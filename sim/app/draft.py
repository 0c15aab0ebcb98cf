"""The scenario a planner is editing in the app, checked exactly as the CLI checks a file.

A draft is the scenario as a plain mapping (the keys of a scenario file), so that every
edit in a form is one key path set to one value. Checking it goes through
`sim.load_scenario` — the same validation, the same messages (key path and what is
allowed) as `staffsim run` prints for a file — and the same budget as the CLI
(`sim.runner.budget`: expected contacts, events, memory and tasks), so that nothing the CLI
would refuse starts from the page.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

import sim
from sim.api import check_runnable
from sim.config.errors import Problem
from sim.runner.budget import BudgetError, Limits, check, estimate

KeyPath = tuple[str | int, ...]
"""A key path inside the scenario mapping, e.g. ``("agents", "phone_team", "count")``."""


def dotted(path: KeyPath) -> str:
    """``agents.phone_team.count``: the key path as the CLI's messages write it."""
    return ".".join(str(p) for p in path)


@dataclass
class Check:
    """The outcome of checking a draft.

    Attributes:
        scenario: the validated scenario, or None when it is invalid.
        problems: one per thing wrong, with the key path and the CLI's message.
        message: the whole message the CLI prints for the same file (empty when valid).
    """

    scenario: sim.Scenario | None
    problems: list[Problem] = field(default_factory=list)
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the scenario is valid."""
        return self.scenario is not None

    def at(self, path: KeyPath) -> list[str]:
        """The messages about exactly this key path."""
        key = dotted(path)
        return [p.message for p in self.problems if p.path == key]


def scenario_data(scenario: sim.Scenario) -> dict[str, Any]:
    """The keys a scenario file would hold for `scenario` (what was written, not defaults).

    Relative data-file paths are already resolved by the loader, so the mapping loads the
    same from anywhere.
    """
    return scenario.model_dump(mode="json", exclude_unset=True)


class Draft:
    """An editable scenario: a mapping of plain values plus where it came from.

    Args:
        data: the scenario's keys, as in a file.
        source: what to call it in messages (the file name).
    """

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = copy.deepcopy(data)
        self.source = source

    def get(self, path: KeyPath) -> Any:
        """The value at a key path (None when absent)."""
        node: Any = self.data
        for key in path:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def set(self, path: KeyPath, value: Any) -> None:
        """Set the value at a key path, creating mappings on the way."""
        node: Any = self.data
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]
        node[path[-1]] = value

    def check(self) -> Check:
        """Validate as `staffsim run` validates a file with these keys."""
        try:
            scenario = sim.load_scenario(self.data)
            check_runnable(scenario, label=self.source)
        except sim.ScenarioError as exc:
            return Check(None, list(exc.problems), str(exc).replace("<dict>", self.source, 1))
        return Check(scenario)

    def channels(self) -> list[str]:
        """Channel names, in file order."""
        return list(self.data.get("channels") or {})

    def groups(self) -> list[str]:
        """Agent group names, in file order."""
        return list(self.data.get("agents") or {})

    def counted_groups(self) -> list[str]:
        """Agent groups with a constant `count` (the ones a move or a hire can change)."""
        return [g for g, spec in (self.data.get("agents") or {}).items() if spec.get("count") is not None]

    def to_yaml(self) -> str:
        """The draft as a scenario file `staffsim run` loads."""
        head = f"# staffsim scenario, edited in the planner's app (from {self.source})\n"
        return head + yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True)

    def move_vs_hire(self, origin: str, dest: str, k: int) -> dict[str, Any]:
        """An experiment: the draft as baseline, `move` k agents origin → dest, `hire` k into dest.

        Raises:
            ValueError: a group has no constant count, the groups are the same, or the move
                would leave fewer than zero agents.
        """
        counts = {g: self.data["agents"][g].get("count") for g in (origin, dest)}
        if origin == dest:
            raise ValueError("choose two different groups to move agents between")
        for g, c in counts.items():
            if c is None:
                raise ValueError(f"agents.{g} has shifts or a staffing table; move and hire change a count")
        if k < 1:
            raise ValueError("k must be at least 1")
        if counts[origin] - k < 0:
            raise ValueError(f"agents.{origin} has {counts[origin]} agents; it cannot give {k}")
        exp = copy.deepcopy(self.data)
        exp["variants"] = {
            "move": {f"agents.{origin}.count": counts[origin] - k, f"agents.{dest}.count": counts[dest] + k},
            "hire": {f"agents.{dest}.count": counts[dest] + k},
        }
        return exp


def over_budget(scenarios: Sequence[sim.Scenario], replications: int, records: str) -> str | None:
    """The CLI's budget check: None when the work is within the limits, else why not."""
    try:
        check(estimate(list(scenarios), replications, records), Limits.from_env())
    except BudgetError as exc:
        return "this run is too large:\n" + "\n".join(f"- {p}" for p in exc.problems)
    return None


def size(scenario: sim.Scenario) -> float:
    """Expected contacts of one replication, as the budget counts them."""
    return estimate([scenario], 1, "none").contacts


def load_upload(name: str, raw: bytes, folder: str) -> dict[str, Any]:
    """Read an uploaded scenario file as the CLI reads one (size limit, safe YAML, schema).

    Meant to run in a worker process: a hostile file costs that process, never the server.

    Args:
        name: the file name the browser gave (only its last part is kept).
        raw: the file's bytes.
        folder: a private folder to write it into, so that the loader sees a file.

    Returns:
        The validated scenario's keys (see `scenario_data`).

    Raises:
        ScenarioError: the file is too large, not YAML, or not a valid scenario.
    """
    from pathlib import Path

    safe = Path(name).name or "upload.yaml"
    path = Path(folder) / safe
    path.write_bytes(raw)
    scenario = sim.load_scenario(path)
    check_runnable(scenario, label=safe, path=path)
    return scenario_data(scenario)
