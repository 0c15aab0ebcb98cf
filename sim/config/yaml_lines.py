"""Scenario files as YAML: parse safely, and remember the line of every key path.

A scenario error names the line where the bad key was written, so the file is parsed
twice over: `yaml.compose` for the tree with its marks (indexed into a line map) and the
safe loader for the values. Nothing in a file is executed. A key given twice in one
mapping is an error here, since PyYAML would silently keep the last value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.config.errors import Problem, ScenarioError

MAX_FILE_BYTES = 50_000_000

Loc = tuple[str | int, ...]
"""A key path in a scenario, e.g. ``("channels", "phone", "arrivals")`` or ``("shifts", 0)``."""


class LineMap(dict[Loc, int]):
    """The line of the file where each key path was written.

    Provenance, not content: two scenarios with the same settings are equal wherever
    they were written, so every line map equals every other.
    """

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LineMap)

    def __ne__(self, other: object) -> bool:
        return not isinstance(other, LineMap)

    def line_of(self, loc: Loc) -> int | None:
        """The line of the longest prefix of `loc` that the file wrote (None: none)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self:
                return self[loc[:end]]
        return None


def dotted(loc: Loc) -> str:
    """A key path as the messages write it: ``channels.phone.shifts[0].start``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[Loc, int]]:
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
    lines: dict[Loc, int] = {}
    duplicates = _index_lines(node, (), lines)
    if duplicates:
        raise ScenarioError(label, duplicates)
    return data, lines


def _index_lines(node: yaml.Node | None, path: Loc, out: dict[Loc, int]) -> list[Problem]:
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
    stack: list[tuple[yaml.Node, Loc]] = [(node, path)]
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
                                dotted((*where, key)),
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
