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
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.config.claims import Claim, ClaimsSection, check_references
from sim.config.errors import Problem, ScenarioError
from sim.config.schema import Scenario
from sim.config.validate import problem_at, validate, validate_section
from sim.config.yaml_lines import MAX_VALUES, Loc, read_yaml, yaml_values

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
        claims: claim name → what the file expects of its variants (`claims:`).
        data: the baseline as a mapping, `extends` merged (to derive new variants from).
        label: how messages name the file.
        base_dir: the folder relative data files are read from.
    """

    baseline: Scenario
    variants: dict[str, Scenario] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    claims: dict[str, Claim] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    label: str = "<dict>"
    base_dir: Path = field(default_factory=Path.cwd)

    def side_data(self, name: str) -> dict[str, Any]:
        """The baseline (``baseline``) or a variant as a mapping, before validation."""
        return (
            copy.deepcopy(self.data) if name == BASELINE else apply_overrides(self.data, self.overrides[name])
        )

    def side(self, name: str, overrides: dict[str, Any] | None = None) -> Scenario:
        """The baseline or a variant, with further `dotted.path: value` overrides applied.

        Raises:
            ScenarioError: an override leaves the schema or gives an invalid value.
        """
        data = self.side_data(name)
        if overrides:
            try:
                data = apply_overrides(data, overrides)
            except KeyError as exc:
                raise ScenarioError(self.label, [Problem(str(exc.args[0]), exc.args[1])]) from None
        data["name"] = self.baseline.name if name == BASELINE else f"{self.baseline.name}/{name}"
        return validate(data, label=self.label, lines={}, base_dir=self.base_dir)


def is_experiment(data: Mapping[str, Any]) -> bool:
    """True when the mapping uses `extends`, `variants`, `claims` or `x-` blocks."""
    return any(
        k in ("extends", "variants", "claims") or (isinstance(k, str) and k.startswith("x-")) for k in data
    )


def load_experiment(
    source: str | Path | dict[str, Any] | Scenario, *, policies: Collection[str] | None = None
) -> Experiment:
    """Load a scenario file with its `extends` chain and `variants`.

    A problem in a file that the scenario extends (directly or through other files) names
    that file, its line and the chain it was reached through, e.g.
    ``parent.yaml (extended by child.yaml): line 7: channels.phone.arrivals.rate_per_hour: ...``.

    Args:
        source: a scenario file, a mapping with the same structure, or a `Scenario`.
        policies: the routing policy names the baseline and variants may use (the
            registry's names, from the layer that holds it); None: not checked.

    Raises:
        ScenarioError: any file is missing or invalid, an `extends` chain loops, or a
            variant names a path the schema does not have or gives an invalid value.
    """
    if isinstance(source, Scenario):
        return Experiment(source)
    if isinstance(source, dict):
        data = copy.deepcopy(source)
        label, base_dir = "<dict>", Path.cwd()
        chain = _extend(_Chain(data, [], {}, {}), None, label, [])
    else:
        path = Path(source)
        label, base_dir = str(path), path.resolve().parent
        chain = _read_chain(path, label, [])
    data, files, lines, sources = chain.data, chain.files, chain.lines, chain.sources
    for key in [k for k in data if isinstance(k, str) and k.startswith(EXTENSION_PREFIX)]:
        del data[key]  # free-form blocks, e.g. YAML anchors that variants reuse
    variants = data.pop("variants", None) or {}
    claims_data = data.pop("claims", None)
    if not isinstance(variants, dict):
        raise ScenarioError(
            label, [Problem("variants", "must map variant names to {key.path: value} overrides")]
        )
    baseline = validate(data, label=label, lines=lines, base_dir=base_dir, sources=sources, policies=policies)
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
            out[str(name)] = validate(
                variant_data, label=label, lines={}, base_dir=base_dir, policies=policies
            )
        except ScenarioError as exc:
            for p in exc.problems:
                match = _matching_override(p.path, overrides)
                line = lines.get(("variants", name, match)) if match else None
                problems.append(Problem(f"{where} → {p.path}", p.message, line))
    if problems:
        raise ScenarioError(label, problems)
    claims = _claims(claims_data, {BASELINE: baseline, **out}, label, lines, sources)
    return Experiment(
        baseline,
        out,
        {str(k): dict(v) for k, v in variants.items()},
        files,
        claims,
        data,
        label,
        base_dir,
    )


def _claims(
    claims_data: Any,
    sides: dict[str, Scenario],
    label: str,
    lines: dict[Loc, int],
    sources: dict[Loc, str],
) -> dict[str, Claim]:
    """Validate the `claims:` section: its structure, then the variants and metrics it names."""
    if claims_data is None:
        return {}
    section = validate_section(
        ClaimsSection, {"claims": claims_data}, label=label, lines=lines, sources=sources
    )
    claims: dict[str, Claim] = section.claims
    found = check_references(claims, sides)
    for name, claim in claims.items():
        if claim.turning is not None:
            try:
                check_path(claim.turning.path.split("."), claim.turning.path)
            except KeyError as exc:
                found.append((("claims", name, "turning", "path"), str(exc.args[1])))
    if found:
        raise ScenarioError(label, [problem_at(loc, message, lines, sources) for loc, message in found])
    return claims


@dataclass
class _Chain:
    """A file merged over the files it extends.

    Attributes:
        data: the merged mapping.
        files: every file read, resolved, the scenario first.
        lines: key path → its line, in the file that gave the merged value.
        sources: key path → that file with the chain it was reached through, for paths
            given by an extended file; paths of the scenario itself are absent.
    """

    data: dict[str, Any]
    files: list[str]
    lines: dict[Loc, int]
    sources: dict[Loc, str]


def _reached(label: str, via: list[tuple[Path | None, str]]) -> str:
    """`label`, with the files that extend it: ``parent.yaml (extended by child.yaml)``."""
    if not via:
        return label
    return f"{label} (extended by {', extended by '.join(name for _, name in reversed(via))})"


def _read_chain(path: Path, label: str, via: list[tuple[Path | None, str]]) -> _Chain:
    """Read a file and, recursively, the files it extends; merge child over parent.

    Args:
        path: the file.
        label: how messages name it (as given, or relative to the file that extends it).
        via: (resolved path, label) of the files that led here, the scenario first.
    """
    named = _reached(label, via)
    try:
        data, lines = read_yaml(path)
    except ScenarioError as exc:
        if not via:
            raise
        raise ScenarioError(named, exc.problems) from None
    sources = {loc: named for loc in lines} if via else {}
    if via:  # an extended file: its data files are next to it, not next to the scenario
        _anchor_data_files(data, path.resolve().parent)
    return _extend(_Chain(data, [str(path.resolve())], lines, sources), path, label, via)


def _anchor_data_files(data: Any, folder: Path) -> None:
    """Read the relative data-file paths of an extended file from that file's folder.

    Every `file:` (a trace or an empirical sample) is joined to `folder`, so it means the
    same once merged under a scenario elsewhere. Each mapping is visited once (YAML aliases
    may share one).
    """
    stack, seen = [data], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            if isinstance(node.get("file"), str) and node["file"]:
                node["file"] = str(folder / node["file"])
            stack.extend(v for k, v in node.items() if k != "extends")
        elif isinstance(node, list):
            stack.extend(node)


def _extend(chain: _Chain, path: Path | None, label: str, via: list[tuple[Path | None, str]]) -> _Chain:
    """Merge the file that `chain` (read from `path`, or a mapping) extends, if any, under it."""
    named = _reached(label, via)
    parent_name = chain.data.pop("extends", None)
    if parent_name is None:
        return chain
    line = chain.lines.get(("extends",))
    if not isinstance(parent_name, str) or not parent_name:
        raise ScenarioError(named, [Problem("extends", "must be the path of a scenario file", line)])
    resolved = path.resolve() if path is not None else None
    folder = resolved.parent if resolved is not None else Path.cwd()
    target = folder / parent_name
    relative_to = f"the folder of {label}" if path is not None else "the working folder"
    if not target.exists():
        tried = target.resolve()
        raise ScenarioError(
            named,
            [
                Problem(
                    "extends", f"file not found: {tried} ('{parent_name}' is read from {relative_to})", line
                )
            ],
        )
    if target.is_dir():
        raise ScenarioError(
            named, [Problem("extends", f"is a folder, not a scenario file: {target.resolve()}", line)]
        )
    here = [*via, (resolved, label)]
    parent_label = os.path.normpath(Path(label).parent / parent_name) if path is not None else parent_name
    if target.resolve() in [p for p, _ in here]:
        loop = " → ".join([name for _, name in here] + [parent_label])
        raise ScenarioError(
            named, [Problem("extends", f"extends itself in a loop: {loop}; remove one of the extends", line)]
        )
    if len(here) > MAX_EXTENDS_DEPTH:
        raise ScenarioError(named, [Problem("extends", f"more than {MAX_EXTENDS_DEPTH} files deep", line)])
    parent = _read_chain(target, parent_label, here)
    parent.data.pop("variants", None)  # variants belong to the file that declares them
    values = sum(yaml_values(Path(f)) for f in chain.files + parent.files)
    if values > MAX_VALUES:  # refused before the merge, which would expand every alias
        raise ScenarioError(
            named,
            [
                Problem(
                    "extends",
                    f"with the files it extends, holds {values:,} values once YAML aliases (*name) "
                    f"are expanded; a scenario may hold at most {MAX_VALUES:,}",
                    line,
                )
            ],
        )
    lines, sources = _merge_index(parent, chain)
    try:
        merged = deep_merge(parent.data, chain.data)
    except RecursionError:  # both files hold a mapping that contains itself (YAML aliases)
        raise ScenarioError(
            named, [Problem("", f"is nested too deeply to be merged over {parent_label}", line)]
        ) from None
    return _Chain(merged, chain.files + parent.files, lines, sources)


def _merge_index(parent: _Chain, child: _Chain) -> tuple[dict[Loc, int], dict[Loc, str]]:
    """The line and file of each key path once `child` is deep-merged over `parent`.

    A path keeps the parent's line unless the child gives it; a value the child replaces
    whole (anything but a mapping merged into a mapping) takes nothing below it from the
    parent.
    """
    replaced: set[Loc] = set()
    stack: list[tuple[dict[Any, Any], dict[Any, Any], Loc]] = [(parent.data, child.data, ())]
    walked: set[tuple[int, int]] = set()  # YAML aliases can make a mapping contain itself
    while stack:
        below, above, where = stack.pop()
        if (id(below), id(above)) in walked:
            continue
        walked.add((id(below), id(above)))
        for key, value in above.items():
            loc = (*where, str(key))
            if isinstance(value, dict) and isinstance(below.get(key), dict):
                stack.append((below[key], value, loc))
            else:
                replaced.add(loc)
    replaced.add(("variants",))  # a parent's variants are dropped (see `_extend`)
    lines: dict[Loc, int] = {}
    sources: dict[Loc, str] = {}
    for loc, line in parent.lines.items():
        if not any(loc[:end] in replaced for end in range(1, len(loc) + 1)):
            lines[loc] = line
            if loc in parent.sources:
                sources[loc] = parent.sources[loc]
    for loc in child.lines:  # the child's own keys, and the file as a whole, are the child's
        sources.pop(loc, None)
    lines.update(child.lines)
    sources.update(child.sources)
    return lines, sources


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
