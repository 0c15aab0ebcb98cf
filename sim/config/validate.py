"""Validate a parsed scenario, and say what is wrong in the words of its file.

`validate` runs the pydantic schema (`sim.config.schema`) and turns each of its errors
into a `Problem` naming the dotted key path, the line where the YAML wrote it
(`sim.config.yaml_lines`) and what is allowed there. It also refuses numbers too close to
zero to compute with, reads every data file a scenario names (so a bad CSV is reported
now, with its key), and — when the layer that knows the routing registry passes its
names — checks the routing policy's name.
"""

from __future__ import annotations

import datetime
import reprlib
import types
import typing
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.config.errors import Problem, ScenarioError
from sim.config.files import DataFileError, read_column, read_trace
from sim.config.schema import CROSS_CHECK_SEPARATOR, Distribution, Scenario
from sim.config.yaml_lines import Loc, dotted

TINY = 1e-100
"""Non-zero numbers smaller than this in magnitude are refused: squared (a cv) or inverted
(a rate) they underflow to 0 or overflow to infinity, and no staffing quantity is so small."""


def validate(
    data: dict[str, Any],
    *,
    label: str,
    lines: Mapping[Loc, int],
    base_dir: Path,
    sources: Mapping[Loc, str] | None = None,
    policies: Collection[str] | None = None,
) -> Scenario:
    """Validate a parsed mapping, translating pydantic's errors into `ScenarioError`.

    Args:
        data: the parsed scenario.
        label: the file it came from, for the message.
        lines: the line of each key path.
        base_dir: folder that relative data file paths are read from.
        sources: for key paths written in another file than `label` (a file it `extends`),
            that file, named with the chain it was reached through; a problem at such a path
            names it (`Problem.file`).
        policies: the routing policies that may be named (`sim.model.policies.policy_names`);
            None: not checked here.

    Returns:
        The scenario, remembering the line of each key path (`Scenario.line_of`).
    """
    where = _Where(lines, sources or {})
    tiny = _tiny_numbers(data, where)
    if tiny:
        raise ScenarioError(label, tiny)
    try:
        scenario = Scenario.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ScenarioError(label, _problems(exc, data, where)) from None
    except RecursionError:
        raise ScenarioError(label, [Problem("", "is nested too deeply to be a scenario")]) from None
    scenario = _resolve_files(scenario, base_dir, label, where).located(lines)
    if policies is not None:
        check_policy(scenario, policies, label)
    return scenario


def check_policy(scenario: Scenario, policies: Collection[str], label: str) -> None:
    """Check that the scenario's routing policy is one of `policies`.

    The names come from the layer that holds the policy registry (`sim.model.policies`):
    configuration does not know the model.

    Raises:
        ScenarioError: the policy is not among them; the problem names `routing.policy`
            and the line where the file wrote it.
    """
    if scenario.routing.policy not in policies:
        message = f"unknown policy '{scenario.routing.policy}'; allowed: {', '.join(policies)}"
        line = scenario.line_of(("routing", "policy"))
        raise ScenarioError(label, [Problem("routing.policy", message, line)])


def validate_section(
    model: type[BaseModel],
    data: dict[str, Any],
    *,
    label: str,
    lines: Mapping[Loc, int],
    sources: Mapping[Loc, str] | None = None,
) -> Any:
    """Validate part of a file (say `{"claims": ...}`) against `model`, with the usual messages.

    Raises:
        ScenarioError: naming the file, the key path, its line and what is allowed.
    """
    where = _Where(lines, sources or {})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(label, _problems(exc, data, where, model)) from None


def problem_at(
    loc: Loc, message: str, lines: Mapping[Loc, int], sources: Mapping[Loc, str] | None = None
) -> Problem:
    """A `Problem` at a key path, with the line (and file) the YAML gives it."""
    return _Where(lines, sources or {}).problem(loc, message)


class _Where:
    """Makes a `Problem` at a key path, with the line (and file) where the YAML tells it."""

    def __init__(self, lines: Mapping[Loc, int], sources: Mapping[Loc, str]) -> None:
        self.lines = lines
        self.sources = sources

    def problem(self, loc: Loc, message: str) -> Problem:
        """A problem at `loc`, placed at the longest prefix of it that the YAML knows."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return Problem(dotted(loc), message, self.lines[loc[:end]], self.sources.get(loc[:end]))
        return Problem(dotted(loc), message)


def _tiny_numbers(data: Any, where: _Where) -> list[Problem]:
    """A problem for each non-zero number smaller in magnitude than `TINY` (1e-300, 5e-324).

    Each list and mapping is visited once, so values shared through YAML aliases cost
    nothing more.
    """
    problems: list[Problem] = []
    stack: list[tuple[Any, Loc]] = [(data, ())]
    visited: set[int] = set()
    while stack and len(problems) < 100:
        node, loc = stack.pop()
        if isinstance(node, dict | list):
            if id(node) in visited:
                continue
            visited.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((value, (*loc, str(key) if isinstance(node, dict) else key)) for key, value in items)
        elif isinstance(node, float) and 0 < abs(node) < TINY:
            problems.append(
                where.problem(
                    loc,
                    f"{node:g} is too close to zero to compute with; give 0 or a number of at least {TINY:g}",
                )
            )
    problems.sort(key=lambda p: (p.line or 0, p.path))
    return problems


def _resolve_files(scenario: Scenario, base_dir: Path, label: str, where: _Where) -> Scenario:
    """Make file paths absolute (relative to the scenario) and check that they can be read.

    Every data file is read here, so that a missing column, a malformed number or times out
    of order is reported now, with the scenario key that names the file, and not as a
    failure in the middle of a run.
    """
    problems: list[Problem] = []
    channels = {}

    def check(loc: Loc, path: Path, read: Any) -> None:
        file_key = (*loc, "file")
        if path.is_dir():
            problems.append(where.problem(file_key, f"is a folder, not a CSV file: {path}"))
            return
        if not path.exists():
            problems.append(where.problem(file_key, f"file not found: {path}"))
            return
        try:
            read()
        except DataFileError as exc:
            key = (*loc, exc.key or "file")
            problems.append(where.problem(key, str(exc)))

    def durations(loc: Loc, dist: Any) -> Any:
        """An empirical sample from a file, its path made absolute and checked; else None."""
        file = getattr(dist, "file", None)
        if file is None:
            return None
        path = (base_dir / file).resolve()
        check(loc, path, lambda: _check_durations(path, dist.column))
        return dist.model_copy(update={"file": str(path)})

    for name, ch in scenario.channels.items():
        updates: dict[str, Any] = {}
        trace = ch.arrivals.trace
        if trace is not None:
            path = (base_dir / trace.file).resolve()
            check(
                ("channels", name, "arrivals", "trace"),
                path,
                lambda t=trace, p=path: read_trace(p, t.column, t.unit, t.day_column),
            )
            updates["arrivals"] = ch.arrivals.model_copy(
                update={"trace": trace.model_copy(update={"file": str(path)})}
            )
        for field in ("handle_time", "patience"):
            resolved = durations(("channels", name, field), getattr(ch, field))
            if resolved is not None:
                updates[field] = resolved
        intents = {}
        for kind, intent in (ch.intents or {}).items():
            resolved = durations(("channels", name, "intents", kind, "handle_time"), intent.handle_time)
            intents[kind] = (
                intent if resolved is None else intent.model_copy(update={"handle_time": resolved})
            )
        if intents and intents != ch.intents:
            updates["intents"] = intents
        channels[name] = ch.model_copy(update=updates) if updates else ch
    if problems:
        raise ScenarioError(label, problems)
    return scenario.model_copy(update={"channels": channels})


def _check_durations(path: Path, column: str) -> None:
    """Read an empirical sample and check that it can be a duration distribution."""
    values = read_column(path, column)
    if (values < 0).any():
        row = int((values < 0).argmax())
        raise DataFileError(
            f"column '{column}' of {path} holds a negative duration ({values[row]:g}); durations are >= 0"
        )
    if not (values > 0).any():
        raise DataFileError(f"column '{column}' of {path} holds only zeros; durations need a positive mean")


def _data_path(loc: Loc, data: Any, missing: bool = False) -> Loc:
    """Keep the parts of a pydantic location that exist in the data.

    pydantic inserts union tags (`exponential`, `function-after[...]`) into locations;
    they are not keys of the file. With `missing`, the last part is kept even if absent:
    that is the missing key. Keys that are not text (`1: 2`) are kept as text, as the YAML
    line index has them.
    """
    kept: list[str | int] = []
    current = data
    for i, part in enumerate(loc):
        child = _child(current, part)
        if child is not _ABSENT:
            kept.append(str(part) if isinstance(current, dict) else part)
            current = child
        elif missing and i == len(loc) - 1 and isinstance(current, dict):
            kept.append(part)
    return tuple(kept)


_ABSENT = object()


def _child(node: Any, part: str | int) -> Any:
    """`node[part]` when the data has it, else `_ABSENT`."""
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _ABSENT


def _allowed_keys(path: Loc, data: Any, root: Any = Scenario) -> list[str] | None:
    """The keys a scenario (or `root`) accepts at the mapping that holds the last part of `path`."""
    model: Any = root
    current = data
    for part in path[:-1]:
        current = _child(current, part)
        model = _step(model, part, current)
        if model is None:
            return None
    model = _resolve(model, current)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return None


def _resolve(model: Any, value: Any) -> Any:
    """Unwrap `Annotated`, `X | None` and a `dist` union down to the model the value is for."""
    for _ in range(5):
        origin = typing.get_origin(model)
        if origin is typing.Annotated:
            model = typing.get_args(model)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(model) if a is not type(None)]
            tag = value.get("dist") if isinstance(value, dict) else None
            chosen = [m for m in members if tag in (_dist_of(m) or ())]
            model = chosen[0] if chosen else members[0] if len(members) == 1 else _first_model(members, "")
        else:
            break
    return model


def _dist_of(model: Any) -> tuple[Any, ...] | None:
    """The `dist` names a distribution model accepts, or None for other types."""
    field = getattr(model, "model_fields", {}).get("dist")
    return None if field is None else typing.get_args(field.annotation)


def _dist_names() -> list[str]:
    """Every `dist` name a scenario accepts, in schema order."""
    union = _resolve_union(Distribution)
    return [name for m in union for name in (_dist_of(m) or ())]


def _resolve_union(model: Any) -> tuple[Any, ...]:
    while typing.get_origin(model) is typing.Annotated:
        model = typing.get_args(model)[0]
    return typing.get_args(model)


_YAML_TYPES = {
    bool: "true/false",
    int: "a number",
    float: "a number",
    str: "text",
    list: "a list",
    dict: "a mapping",
    type(None): "an empty value (null)",
    datetime.date: "a date",
    datetime.datetime: "a date and time",
}


def _describe(value: Any) -> str:
    """How a YAML value looks to the person who wrote it."""
    for t, name in _YAML_TYPES.items():
        if type(value) is t:
            return name
    return f"a {type(value).__name__}"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 3, 6, 4, 62, 62


def _shown(value: Any) -> str:
    """A short repr of a value from the file.

    Bounded in depth and width, so that a value built by a YAML alias bomb (a list of
    lists of lists, billions of items) is shown in microseconds instead of repr'd whole.
    """
    shown = _REPR.repr(value)
    return f"{shown[:60]}{'...' if len(shown) > 60 else ''}"


def _step(model: Any, part: str | int, value: Any) -> Any:
    """Follow one key from a schema type to the type of its value."""
    origin = typing.get_origin(model)
    if origin is typing.Annotated:
        return _step(typing.get_args(model)[0], part, value)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(model) if a is not type(None)]
        for m in members:
            literal = getattr(m, "model_fields", {}).get("dist")
            if (
                literal is not None
                and isinstance(value, dict)
                and value.get("dist") in typing.get_args(literal.annotation)
            ):
                return m
        return members[0] if len(members) == 1 else _first_model(members, part)
    if origin in (dict, list):
        return typing.get_args(model)[-1]
    if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(part, str):
        field = model.model_fields.get(part)
        return None if field is None else field.annotation
    return None


def _first_model(members: list[Any], part: str | int) -> Any:
    for m in members:
        if isinstance(m, type) and issubclass(m, BaseModel):
            return m
        if typing.get_origin(m) in (dict, list):
            return m
    return None


def _problems(
    exc: ValidationError, data: dict[str, Any], where: _Where, root: Any = Scenario
) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        kind = err["type"]
        loc = _data_path(tuple(err["loc"]), data, missing=kind == "missing")
        message = err["msg"].removeprefix("Value error, ")
        if message.startswith("Input should be"):
            message = "must be" + message.removeprefix("Input should be")
        if kind == "extra_forbidden":
            allowed = _allowed_keys(loc, data, root)
            message = f"unknown key '{loc[-1]}'"
            if allowed:
                message += f"; allowed here: {', '.join(allowed)}"
        elif kind == "missing":
            message = "required key is missing"
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            ctx = err.get("ctx", {})
            tag_key = str(ctx.get("discriminator", "'dist'")).strip("'\"")
            if tag_key == "dist":
                names = ", ".join(_dist_names())
            else:
                names = str(ctx.get("expected_tags", "")).replace("'", "")
            given = ctx.get("tag")
            loc = (*loc, tag_key)
            message = (
                f"unknown {tag_key} {_shown(given)}; allowed: {names}"
                if given is not None
                else f"required; one of: {names}"
            )
            problems.append(where.problem(loc, message))
            continue
        elif kind in ("model_type", "dict_type", "model_attributes_type"):
            keys = _allowed_keys((*loc, ""), data, root)
            given = err.get("input")
            message = f"must be a mapping of keys, not {_describe(given)}"
            if given is not None:
                message += f" ({_shown(given)})"
            if keys:
                message += f"; keys here: {', '.join(keys)}"
            problems.append(where.problem(loc, message))
            continue
        elif kind == "too_short" and "min_length" in err.get("ctx", {}):
            n = err["ctx"]["min_length"]
            message = (
                f"needs at least {n} {'entry' if n == 1 else 'entries'}, has {len(err.get('input') or ())}"
            )
            problems.append(where.problem(loc, message))
            continue
        elif kind == "string_type":
            message = f"must be text, not {_describe(err.get('input'))} (put it in quotes)"
        elif kind == "list_type":
            message = f"must be a list ([a, b] or one '- item' per line), not {_describe(err.get('input'))}"
        elif kind == "value_error" and (CROSS_CHECK_SEPARATOR in message or _looks_cross(message)):
            for entry in message.split(CROSS_CHECK_SEPARATOR):
                key, _, text = entry.partition(": ")
                sub = _parsedotted(key)
                problems.append(where.problem((*loc, *sub), text))
            continue
        if kind not in ("missing", "extra_forbidden", "value_error") and "input" in err:
            message += f" (got {_shown(err['input'])})"
        problems.append(where.problem(loc, message))
    return problems


def _looks_cross(message: str) -> bool:
    head = message.partition(": ")[0]
    return bool(head) and " " not in head and head.split(".")[0].split("[")[0] in Scenario.model_fields


def _parsedotted(key: str) -> Loc:
    parts: list[str | int] = []
    for chunk in key.split("."):
        name, *indices = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i.rstrip("]")) for i in indices)
    return tuple(parts)
