"""Read a scenario from YAML (or a dict) into a validated `Scenario`.

Only `yaml.safe_load`-equivalent parsing is used: nothing in a file is executed. Every
failure — a missing file, bad YAML, an unknown key, a negative rate — becomes one
`ScenarioError` naming the file, the dotted key path, the line where the YAML tells it, and
what is allowed there.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.config.errors import Problem, ScenarioError
from sim.config.schema import CROSS_CHECK_SEPARATOR, Scenario

MAX_FILE_BYTES = 50_000_000


def load_scenario(source: str | Path | Mapping[str, Any] | Scenario) -> Scenario:
    """Load and validate a scenario.

    Args:
        source: a path to a YAML file, a mapping with the same structure, or an already
            validated `Scenario` (returned unchanged).

    Returns:
        The validated, frozen scenario. Relative file paths inside it (traces, empirical
        CSVs) are resolved against the scenario file's folder.

    Raises:
        ScenarioError: the file is missing, unreadable or invalid.
    """
    if isinstance(source, Scenario):
        return source
    if isinstance(source, Mapping):
        return validate(dict(source), label="<dict>", lines={}, base_dir=Path.cwd())
    path = Path(source)
    data, lines = read_yaml(path)
    return validate(data, label=str(path), lines=lines, base_dir=path.resolve().parent)


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[tuple[str | int, ...], int]]:
    """Parse a YAML file into a mapping plus the line of every key path.

    Raises:
        ScenarioError: missing, unreadable, not text, not YAML, or not a mapping.
    """
    label = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(label, [Problem("", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError(label, [Problem("", "is a folder; give a scenario .yaml file")]) from None
    except OSError as exc:
        raise ScenarioError(label, [Problem("", f"cannot be read: {exc.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            label, [Problem("", f"is {len(raw):,} bytes; a scenario is at most {MAX_FILE_BYTES:,}")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            label, [Problem("", f"is not UTF-8 text (byte {exc.start}); a scenario is a YAML text file")]
        ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(label, [Problem("", f"is not valid YAML: {problem}", line)]) from None
    except RecursionError:
        raise ScenarioError(label, [Problem("", "is nested too deeply to be a scenario")]) from None
    if data is None:
        raise ScenarioError(
            label,
            [Problem("", "is empty; a scenario is a mapping with name, horizon_hours, channels and agents")],
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            label,
            [
                Problem(
                    "",
                    f"must be a mapping of keys (name, channels, agents, ...), not a {type(data).__name__}",
                    1,
                )
            ],
        )
    lines: dict[tuple[str | int, ...], int] = {}
    _index_lines(node, (), lines)
    return data, lines


def _index_lines(
    node: yaml.Node | None, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]
) -> None:
    """Record the line of each key path in a composed YAML tree."""
    if node is None:
        return
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(node, path)]
    seen = 0
    while stack:
        current, where = stack.pop()
        seen += 1
        if seen > 1_000_000:
            return
        out.setdefault(where, current.start_mark.line + 1)
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
                out[(*where, key)] = key_node.start_mark.line + 1
                stack.append((value_node, (*where, key)))
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                stack.append((item, (*where, i)))


def validate(
    data: dict[str, Any],
    *,
    label: str,
    lines: Mapping[tuple[str | int, ...], int],
    base_dir: Path,
) -> Scenario:
    """Validate a parsed mapping, translating pydantic's errors into `ScenarioError`."""
    try:
        scenario = Scenario.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ScenarioError(label, _problems(exc, data, lines)) from None
    except RecursionError:
        raise ScenarioError(label, [Problem("", "is nested too deeply to be a scenario")]) from None
    return _resolve_files(scenario, base_dir, label, lines)


def _resolve_files(
    scenario: Scenario, base_dir: Path, label: str, lines: Mapping[tuple[str | int, ...], int]
) -> Scenario:
    """Make file paths absolute (relative to the scenario) and check that they exist."""
    problems: list[Problem] = []
    channels = {}
    for name, ch in scenario.channels.items():
        updates: dict[str, Any] = {}
        trace = ch.arrivals.trace
        if trace is not None:
            path = (base_dir / trace.file).resolve()
            key: tuple[str | int, ...] = ("channels", name, "arrivals", "trace", "file")
            if not path.is_file():
                problems.append(Problem(_dotted(key), f"trace file not found: {path}", _line(lines, key)))
            updates["arrivals"] = ch.arrivals.model_copy(
                update={"trace": trace.model_copy(update={"file": str(path)})}
            )
        for field in ("handle_time", "patience"):
            dist = getattr(ch, field)
            file = getattr(dist, "file", None)
            if file is not None:
                path = (base_dir / file).resolve()
                key = ("channels", name, field, "file")
                if not path.is_file():
                    problems.append(Problem(_dotted(key), f"file not found: {path}", _line(lines, key)))
                updates[field] = dist.model_copy(update={"file": str(path)})
        channels[name] = ch.model_copy(update=updates) if updates else ch
    if problems:
        raise ScenarioError(label, problems)
    return scenario.model_copy(update={"channels": channels})


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line(lines: Mapping[tuple[str | int, ...], int], loc: tuple[str | int, ...]) -> int | None:
    """The line of the longest prefix of `loc` that the YAML knows."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _data_path(loc: tuple[str | int, ...], data: Any) -> tuple[str | int, ...]:
    """Keep the parts of a pydantic location that exist in the data.

    pydantic inserts union tags (`exponential`, `function-after[...]`) into locations;
    they are not keys of the file. The last part is kept even if absent: that is the
    missing key.
    """
    kept: list[str | int] = []
    current = data
    for i, part in enumerate(loc):
        child = _child(current, part)
        if child is not _ABSENT:
            kept.append(part)
            current = child
        elif i == len(loc) - 1 and isinstance(current, dict):
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


def _allowed_keys(path: tuple[str | int, ...], data: Any) -> list[str] | None:
    """The keys a scenario accepts at the mapping that holds the last part of `path`."""
    model: Any = Scenario
    current = data
    for part in path[:-1]:
        current = _child(current, part)
        model = _step(model, part, current)
        if model is None:
            return None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return None


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
    exc: ValidationError, data: dict[str, Any], lines: Mapping[tuple[str | int, ...], int]
) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = _data_path(tuple(err["loc"]), data)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc, data)
            message = f"unknown key '{loc[-1]}'"
            if allowed:
                message += f"; allowed here: {', '.join(allowed)}"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif err["type"] == "union_tag_invalid":
            message = err["msg"].replace("Input tag", "dist")
        elif (err["type"] == "value_error" and CROSS_CHECK_SEPARATOR in message) or (
            err["type"] == "value_error" and _looks_cross(message)
        ):
            for entry in message.split(CROSS_CHECK_SEPARATOR):
                key, _, text = entry.partition(": ")
                sub = _parse_dotted(key)
                problems.append(Problem(_dotted((*loc, *sub)), text, _line(lines, (*loc, *sub))))
            continue
        if err["type"] not in ("missing", "extra_forbidden", "value_error") and "input" in err:
            shown = repr(err["input"])
            message += f" (got {shown[:60]}{'...' if len(shown) > 60 else ''})"
        problems.append(Problem(_dotted(loc), message, _line(lines, loc)))
    return problems


def _looks_cross(message: str) -> bool:
    head = message.partition(": ")[0]
    return bool(head) and " " not in head and head.split(".")[0].split("[")[0] in Scenario.model_fields


def _parse_dotted(key: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for chunk in key.split("."):
        name, *indices = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i.rstrip("]")) for i in indices)
    return tuple(parts)
