"""Scenario files as YAML: parse safely, and remember the line of every key path.

A scenario error names the line where the bad key was written, so the file is composed
into a tree with its marks (indexed into a line map) and the values are constructed from
that same tree, with the C (libyaml) safe loader where PyYAML has it: each file is parsed
once, and an unchanged file read again (by `extends`, by the command's checks) is a copy of
that parse. Nothing in a file is executed. A key given twice in one mapping is an error
here, since PyYAML would silently keep the last value.

Bounded in time and memory: a file must be a regular file (a named pipe or a device is
refused before it is read) of at most `MAX_FILE_BYTES`, and hold at most `MAX_VALUES` values
with its aliases expanded (counted on the tree, without expanding anything); a file that
obviously holds more is refused before it is parsed.
"""

from __future__ import annotations

import copy
import functools
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from sim.config.errors import Problem, ScenarioError

MAX_FILE_BYTES = 50_000_000
MAX_VALUES = 500_000
"""The most values (keys, numbers, texts, lists and mappings) a scenario may hold, counting a
YAML alias (`*name`) as many times as it is used and every file it `extends`. A file near
the limit is parsed by the C parser in at most about 5 s of CPU and 400 MB (measured on
500,000 numbers and on 240,000 `key: value` lines); a per-interval staffing table for a
year of 15-minute intervals holds 35,040."""
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The C (libyaml) safe loader when PyYAML has it, else the pure-Python safe loader."""

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

    A file is parsed once: later reads of the same unchanged file (the loader, `extends`,
    the command's own checks) get a copy of the first parse.

    Raises:
        ScenarioError: missing, unreadable, not a regular file, not text, not YAML, not a
            mapping, or more than `MAX_FILE_BYTES` bytes or `MAX_VALUES` values.
    """
    data, lines, _ = _read_yaml_cached(_file_key(path), str(path))
    try:
        return copy.deepcopy(data), dict(lines)
    except RecursionError:
        raise ScenarioError(str(path), [Problem("", "is nested too deeply to be a scenario")]) from None


def yaml_values(path: Path) -> int:
    """How many values a YAML file holds with its aliases expanded (it is parsed once)."""
    return _read_yaml_cached(_file_key(path), str(path))[2]


def _file_key(path: Path) -> tuple[str, int, int, int]:
    try:
        st = path.stat()
    except OSError:
        return os.path.abspath(path), -1, -1, -1
    return os.path.abspath(path), st.st_ino, st.st_mtime_ns, st.st_size


def read_regular_file(path: Path, label: str, limit: int) -> bytes:
    """At most `limit` + 1 bytes of a regular file; FIFOs, devices and folders are refused unread.

    The file is opened without blocking and checked before anything is read, so a named
    pipe with no writer or a device such as /dev/zero never hangs the command.

    Raises:
        ScenarioError: missing, not a regular file, or unreadable.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ScenarioError(label, [Problem("", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError(label, [Problem("", "is a folder; give a scenario .yaml file")]) from None
    except OSError as exc:
        raise ScenarioError(label, [Problem("", f"cannot be read: {exc.strerror}")]) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError(label, [Problem("", "is a folder; give a scenario .yaml file")])
        if not stat.S_ISREG(mode):
            kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device or socket"
            raise ScenarioError(label, [Problem("", f"is {kind}, not a file; give a scenario .yaml file")])
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit + 1)
    except OSError as exc:
        raise ScenarioError(label, [Problem("", f"cannot be read: {exc.strerror}")]) from None
    finally:
        os.close(fd)


@functools.lru_cache(maxsize=8)
def _read_yaml_cached(
    key: tuple[str, int, int, int], label: str
) -> tuple[dict[str, Any], dict[Loc, int], int]:
    raw = read_regular_file(Path(key[0]), label, MAX_FILE_BYTES)
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
    rough = text.count("\n") + text.count(",") + text.count(": ")
    if rough > MAX_VALUES:  # lines, commas and colons count the values closely, before a long parse
        raise ScenarioError(
            label,
            [Problem("", f"holds about {rough:,} values, more than {MAX_VALUES:,}, the most a scenario may")],
        )
    try:
        node = yaml.compose(text, Loader=_Loader)
        values = _expanded_values(node, MAX_VALUES)
        if values > MAX_VALUES:
            raise ScenarioError(label, [Problem("", _too_many())])
        lines: dict[Loc, int] = {}
        duplicates = _index_lines(node, (), lines)  # before constructing, which flattens `<<` merges
        data = _Loader("").construct_document(node) if node is not None else None
    except _SelfContaining as exc:
        raise ScenarioError(
            label,
            [
                Problem(
                    "",
                    "holds a list or mapping that contains itself (an alias *name inside its own "
                    "&name), which is infinitely deep; a scenario cannot be",
                    exc.line,
                )
            ],
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "nesting depth" in problem:
            raise ScenarioError(label, [Problem("", "is nested too deeply to be a scenario", line)]) from None
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
    if duplicates:
        raise ScenarioError(label, duplicates)
    return data, lines, values


def _too_many() -> str:
    return (
        f"holds more than {MAX_VALUES:,} values, counting each use of a YAML alias (*name) "
        f"as a copy; a scenario may hold at most {MAX_VALUES:,}"
    )


class _SelfContaining(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _expanded_values(root: yaml.Node | None, limit: int) -> int:
    """The values a YAML tree holds with every alias expanded, counted up to just past `limit`.

    Each node's size is computed once (memoised by identity), so a "billion laughs" file is
    counted in as many steps as it has nodes, not as many as it would expand to.
    """
    if root is None:
        return 0
    size: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in size:
            continue
        if not children_done:
            if id(node) in visiting:  # an alias inside its own anchor: it expands for ever
                raise _SelfContaining(node.start_mark.line + 1)
            visiting.add(id(node))
        if isinstance(node, yaml.MappingNode):
            kids = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            kids = list(node.value)
        else:
            size[id(node)] = 1
            continue
        if children_done:
            size[id(node)] = min(limit + 1, 1 + sum(size[id(k)] for k in kids))
            visiting.discard(id(node))
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in size)
    return size[id(root)]


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
