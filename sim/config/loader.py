"""Read a scenario from YAML (or a dict) into a validated `Scenario`.

Only `yaml.safe_load`-equivalent parsing is used: nothing in a file is executed. Every
failure — a missing file, bad YAML, an unknown key, a negative rate — becomes one
`ScenarioError` naming the file, the dotted key path, the line where the YAML tells it, and
what is allowed there.
"""

from __future__ import annotations

import datetime
import reprlib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.config.errors import Problem, ScenarioError
from sim.config.files import DataFileError, read_column, read_trace
from sim.config.schema import CROSS_CHECK_SEPARATOR, Distribution, Scenario

MAX_FILE_BYTES = 50_000_000
TINY = 1e-100
"""Non-zero numbers smaller than this in magnitude are refused: squared (a cv) or inverted
(a rate) they underflow to 0 or overflow to infinity, and no staffing quantity is so small."""


def load_scenario(source: str | Path | Mapping[str, Any] | Scenario) -> Scenario:
    """Load and validate a scenario.

    Args:
        source: a path to a YAML file, a mapping with the same structure, or an already
            validated `Scenario` (returned unchanged).

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
        if _is_experiment(data):
            from sim.config.variants import load_experiment  # variants builds on this module

            return load_experiment(data).baseline
        return validate(data, label="<dict>", lines={}, base_dir=Path.cwd())
    path = Path(source)
    data, lines = read_yaml(path)
    if _is_experiment(data):
        from sim.config.variants import load_experiment

        return load_experiment(path).baseline
    return validate(data, label=str(path), lines=lines, base_dir=path.resolve().parent)


def _is_experiment(data: Mapping[str, Any]) -> bool:
    """True when the mapping uses `extends`, `variants`, `claims` or `x-` blocks."""
    return any(
        k in ("extends", "variants", "claims") or (isinstance(k, str) and k.startswith("x-")) for k in data
    )


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[tuple[str | int, ...], int]]:
    """Parse a YAML file into a mapping plus the line of every key path.

    Raises:
        ScenarioError: missing, unreadable, not text, not YAML, or not a mapping.
    """
    label = str(path)
    try:
        with path.open("rb") as fh:  # at most one byte too many: /dev/zero is not read for ever
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(label, [Problem("", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError(label, [Problem("", "is a folder; give a scenario .yaml file")]) from None
    except OSError as exc:
        raise ScenarioError(label, [Problem("", f"cannot be read: {exc.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            label, [Problem("", f"is larger than {MAX_FILE_BYTES:,} bytes, the most a scenario may be")]
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
        if "constructor for the tag" in problem:
            problem += " (tags such as !!python/... are not allowed: a scenario holds plain values)"
        elif mark is not None:
            problem += f" (column {mark.column + 1})"
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
    duplicates = _index_lines(node, (), lines)
    if duplicates:
        raise ScenarioError(label, duplicates)
    return data, lines


def _index_lines(
    node: yaml.Node | None, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]
) -> list[Problem]:
    """Record the line of each key path in a composed YAML tree.

    A node reached again through an alias (`*name`) gets the line of its path but is not
    walked again: paths below it fall back to that line. A "billion laughs" file, nine
    aliases of nine aliases of ..., is then indexed in as many steps as it has lines.

    Returns:
        A problem for every key given twice in one mapping: PyYAML would silently keep the
        last value, so a pasted block could override a setting without anyone noticing.
    """
    duplicates: list[Problem] = []
    if node is None:
        return duplicates
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(node, path)]
    walked: set[int] = set()
    seen = 0
    while stack:
        current, where = stack.pop()
        seen += 1
        if seen > 1_000_000:
            break
        out.setdefault(where, current.start_mark.line + 1)
        if id(current) in walked:
            continue
        walked.add(id(current))
        if isinstance(current, yaml.MappingNode):
            first: dict[str, int] = {}
            for key_node, value_node in current.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
                line = key_node.start_mark.line + 1
                if isinstance(key_node, yaml.ScalarNode) and key != "<<":
                    if key in first:
                        duplicates.append(
                            Problem(
                                _dotted((*where, key)),
                                f"duplicate key '{key}' (first given at line {first[key]}); "
                                "give each key once",
                                line,
                            )
                        )
                        continue
                    first[key] = line
                out[(*where, key)] = line
                stack.append((value_node, (*where, key)))
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                stack.append((item, (*where, i)))
    duplicates.sort(key=lambda p: p.line or 0)
    return duplicates


def validate(
    data: dict[str, Any],
    *,
    label: str,
    lines: Mapping[tuple[str | int, ...], int],
    base_dir: Path,
    sources: Mapping[tuple[str | int, ...], str] | None = None,
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
    return _resolve_files(scenario, base_dir, label, where)


def validate_section(
    model: type[BaseModel],
    data: dict[str, Any],
    *,
    label: str,
    lines: Mapping[tuple[str | int, ...], int],
    sources: Mapping[tuple[str | int, ...], str] | None = None,
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
    loc: tuple[str | int, ...],
    message: str,
    lines: Mapping[tuple[str | int, ...], int],
    sources: Mapping[tuple[str | int, ...], str] | None = None,
) -> Problem:
    """A `Problem` at a key path, with the line (and file) the YAML gives it."""
    return _Where(lines, sources or {}).problem(loc, message)


class _Where:
    """Makes a `Problem` at a key path, with the line (and file) where the YAML tells it."""

    def __init__(
        self, lines: Mapping[tuple[str | int, ...], int], sources: Mapping[tuple[str | int, ...], str]
    ) -> None:
        self.lines = lines
        self.sources = sources

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem:
        """A problem at `loc`, placed at the longest prefix of it that the YAML knows."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return Problem(_dotted(loc), message, self.lines[loc[:end]], self.sources.get(loc[:end]))
        return Problem(_dotted(loc), message)


def _tiny_numbers(data: Any, where: _Where) -> list[Problem]:
    """A problem for each non-zero number smaller in magnitude than `TINY` (1e-300, 5e-324).

    Each list and mapping is visited once, so values shared through YAML aliases cost
    nothing more.
    """
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
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

    def check(loc: tuple[str | int, ...], path: Path, read: Any) -> None:
        file_key = (*loc, "file")
        if path.is_dir():
            problems.append(where.problem(file_key, f"is a folder, not a CSV file: {path}"))
            return
        if not path.is_file():
            problems.append(where.problem(file_key, f"file not found: {path}"))
            return
        try:
            read()
        except DataFileError as exc:
            key = (*loc, exc.key or "file")
            problems.append(where.problem(key, str(exc)))

    def durations(loc: tuple[str | int, ...], dist: Any) -> Any:
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


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _data_path(loc: tuple[str | int, ...], data: Any, missing: bool = False) -> tuple[str | int, ...]:
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


def _allowed_keys(path: tuple[str | int, ...], data: Any, root: Any = Scenario) -> list[str] | None:
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
                sub = _parse_dotted(key)
                problems.append(where.problem((*loc, *sub), text))
            continue
        if kind not in ("missing", "extra_forbidden", "value_error") and "input" in err:
            message += f" (got {_shown(err['input'])})"
        problems.append(where.problem(loc, message))
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
