"""Experiments in a file: `extends:` to inherit a scenario, `variants:` to change it by key path.

A scenario file may say::

    extends: baseline.yaml          # inherit everything, relative to this file
    agents: {phone_team: {count: 20}}   # deep-merged over the inherited file
    variants:
      divert_3:                     # a name for the variant
        agents.phone_team.count: 17 # dotted key path → new value
        agents.social_team.count: 8

Each variant is the scenario with its overrides applied, validated like any scenario. A
path must lead through keys the schema knows (a new entry under `channels` or `agents` is
allowed, since those are named by the user); anything else is an error that names the
variant and the path.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.config.errors import Problem, ScenarioError
from sim.config.loader import read_yaml, validate
from sim.config.schema import Scenario

MAX_EXTENDS_DEPTH = 16
BASELINE = "baseline"
EXTENSION_PREFIX = "x-"
"""Top-level keys starting with this are ignored: room for YAML anchors and notes."""


@dataclass(frozen=True)
class Experiment:
    """A baseline scenario and its named variants.

    Attributes:
        baseline: the scenario as written (variants removed).
        variants: variant name → the scenario with that variant's overrides.
        overrides: variant name → its dotted-path overrides, as written.
        files: every file read (the scenario and the files it extends), for manifests.
    """

    baseline: Scenario
    variants: dict[str, Scenario] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def load_experiment(source: str | Path | dict[str, Any] | Scenario) -> Experiment:
    """Load a scenario file with its `extends` chain and `variants`.

    Raises:
        ScenarioError: any file is missing or invalid, an `extends` chain loops, or a
            variant names a path the schema does not have or gives an invalid value.
    """
    if isinstance(source, Scenario):
        return Experiment(source)
    if isinstance(source, dict):
        data = copy.deepcopy(source)
        label, base_dir = "<dict>", Path.cwd()
        lines: dict[tuple[str | int, ...], int] = {}
        files: list[str] = []
        if "extends" in data:
            parent, files = _read_chain(base_dir / str(data.pop("extends")), [])
            data = deep_merge(parent, data)
    else:
        path = Path(source)
        label, base_dir = str(path), path.resolve().parent
        data, files = _read_chain(path, [])
        _, lines = read_yaml(path)
    for key in [k for k in data if isinstance(k, str) and k.startswith(EXTENSION_PREFIX)]:
        del data[key]  # free-form blocks, e.g. YAML anchors that variants reuse
    variants = data.pop("variants", None) or {}
    if not isinstance(variants, dict):
        raise ScenarioError(
            label, [Problem("variants", "must map variant names to {key.path: value} overrides")]
        )
    baseline = validate(data, label=label, lines=lines, base_dir=base_dir)
    out: dict[str, Scenario] = {}
    problems: list[Problem] = []
    for name, overrides in variants.items():
        where = f"variants.{name}"
        if name == BASELINE:
            problems.append(Problem(where, f"'{BASELINE}' is reserved for the scenario itself"))
            continue
        if not isinstance(overrides, dict) or not overrides:
            problems.append(
                Problem(
                    where, "must be a mapping of dotted key paths to values", lines.get(("variants", name))
                )
            )
            continue
        try:
            variant_data = apply_overrides(data, overrides)
        except KeyError as exc:
            bad_path = str(exc.args[0])
            problems.append(
                Problem(f"{where}.{bad_path}", exc.args[1], lines.get(("variants", name, bad_path)))
            )
            continue
        variant_data["name"] = f"{baseline.name}/{name}"
        try:
            out[str(name)] = validate(variant_data, label=label, lines={}, base_dir=base_dir)
        except ScenarioError as exc:
            for p in exc.problems:
                match = _matching_override(p.path, overrides)
                line = lines.get(("variants", name, match)) if match else None
                problems.append(Problem(f"{where} → {p.path}", p.message, line))
    if problems:
        raise ScenarioError(label, problems)
    return Experiment(baseline, out, {str(k): dict(v) for k, v in variants.items()}, files)


def _read_chain(path: Path, seen: list[Path]) -> tuple[dict[str, Any], list[str]]:
    """Read a file and, recursively, the files it extends; merge child over parent."""
    resolved = path.resolve()
    if resolved in seen:
        chain = " → ".join(str(p) for p in [*seen, resolved])
        raise ScenarioError(str(path), [Problem("extends", f"extends itself in a loop: {chain}")])
    if len(seen) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(str(path), [Problem("extends", f"more than {MAX_EXTENDS_DEPTH} files deep")])
    data, _ = read_yaml(path)
    files = [str(resolved)]
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data, files
    if not isinstance(parent_name, str):
        raise ScenarioError(str(path), [Problem("extends", "must be the path of a scenario file")])
    parent, parent_files = _read_chain(resolved.parent / parent_name, [*seen, resolved])
    parent.pop("variants", None)  # variants belong to the file that declares them
    return deep_merge(parent, data), files + parent_files


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """`top` over `base`: mappings merge key by key, anything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A copy of `data` with each `dotted.path: value` set.

    Raises:
        KeyError: `(path, message)` when a path leaves the schema.
    """
    out = copy.deepcopy(data)
    for path, value in overrides.items():
        parts = str(path).split(".")
        check_path(parts, str(path))
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {} if child is None else child
                if not isinstance(child, dict):
                    raise KeyError(path, f"'{part}' holds a value, not a mapping, so '{path}' cannot be set")
                node[part] = child
            node = child
        node[parts[-1]] = copy.deepcopy(value)
    return out


def check_path(parts: list[str], path: str) -> None:
    """Check that a dotted path follows the schema.

    Raises:
        KeyError: `(path, message)` naming the first part the schema does not know.
    """
    model: Any = Scenario
    for i, part in enumerate(parts):
        fields = _fields(model)
        if fields is None:  # a user-named mapping (channels, agents): any name is fine
            model = _dict_value(model)
            continue
        if not fields:
            raise KeyError(path, f"'{'.'.join(parts[:i])}' takes a single value; nothing can follow it")
        if part not in fields:
            where = ".".join(parts[:i]) or "the top level"
            raise KeyError(path, f"no key '{part}' under {where}; allowed: {', '.join(sorted(fields))}")
        model = fields[part]


def _unwrap(tp: Any) -> list[Any]:
    """The concrete types behind Annotated / Optional / Union."""
    import types
    import typing

    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(tp):
            if arg is not type(None):
                out.extend(_unwrap(arg))
        return out
    return [tp]


def _fields(tp: Any) -> dict[str, Any] | None:
    """Field name → type for model types (union members merged); None for a dict type."""
    import typing

    merged: dict[str, Any] = {}
    is_model = False
    for t in _unwrap(tp):
        if isinstance(t, type) and issubclass(t, BaseModel):
            is_model = True
            for name, f in t.model_fields.items():
                merged.setdefault(name, f.annotation)
        elif typing.get_origin(t) is dict:
            return None
    if not is_model:
        return {}  # a plain value: no keys below it
    return merged


def _dict_value(tp: Any) -> Any:
    import typing

    for t in _unwrap(tp):
        if typing.get_origin(t) is dict:
            return typing.get_args(t)[1]
    return None


def _matching_override(problem_path: str, overrides: dict[str, Any]) -> str | None:
    """The override whose path is a prefix of (or equal to) the problem's path."""
    best = None
    for key in overrides:
        related = (
            problem_path == key or problem_path.startswith(f"{key}.") or key.startswith(f"{problem_path}.")
        )
        if related and (best is None or len(key) > len(best)):
            best = key
    return best
