"""Hostile input: mutated scenario files, budgets, and what a scenario may not do.

Three parts:

1. **A fuzz harness.** `fuzz_case(i)` takes one of three valid base scenarios (plain; with
   a trace and an empirical CSV; an `extends` file with variants), applies random
   mutations drawn from a numpy Generator seeded by `i` — wrong types, unknown, renamed and
   deleted keys, negative, zero, NaN, infinite, tiny and huge numbers, truncated and
   garbled text, binary garbage, YAML alias bombs, 10,000-deep nesting, `!!python` tags,
   unsorted or malformed CSV rows, missing files — writes it, and runs the CLI in-process
   (click's CliRunner). Every case must exit 0 (the mutation happened to stay valid, and
   the run then completes and writes its results) or 2 (a message on stderr naming the
   file, nothing on stdout, no `--out` folder), never raise, never print a traceback and
   never take longer than `CASE_TIMEOUT_S`. Bases have a 0.05 h horizon and the fuzz runs
   under small budgets, so mutations that grow a run are refused quickly rather than run.
   `make test` runs `FUZZ_CASES_DEFAULT` cases; `make fuzz` runs `FUZZ_CASES=10000`.
   Reproduce one case with `FUZZ_ONLY=1234 .venv/bin/python -m pytest tests/functional/test_hostile.py -k fuzz`.
2. **Named hostile inputs**, one test each, and the budget (`sim.runner.budget`, `--force`).
3. **Safety**: YAML tags are refused, nothing in a scenario is executed, and paths inside a
   scenario resolve relative to the scenario file, not the working directory.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import sim
import sim.config
from sim.cli import main
from sim.config import ScenarioError
from sim.model.build import expected_contacts
from sim.runner.budget import BudgetError, Limits, RunSize, check, estimate, roster_steps

FUZZ_CASES_DEFAULT = 300
FUZZ_CASES = int(os.environ.get("FUZZ_CASES", FUZZ_CASES_DEFAULT))
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", 20_240_601))
FUZZ_ONLY = os.environ.get("FUZZ_ONLY")
CHUNK = 50
CASE_TIMEOUT_S = 30.0
FUZZ_BUDGET = {
    "STAFFSIM_MAX_CONTACTS": "20000",
    "STAFFSIM_MAX_EVENTS": "200000",
    "STAFFSIM_MAX_TASKS": "50",
    "STAFFSIM_MAX_MEMORY_GB": "1",
}
"""Budgets while fuzzing: a mutated scenario that grows the run is refused in milliseconds."""

# --- the valid bases ---------------------------------------------------------------------

PLAIN = """\
name: fuzz
seed: 3
replications: 1
horizon_hours: 0.05
warmup_hours: 0.01
interval_min: 15
channels:
  phone:
    arrivals: {rate_per_hour: 120, day_of_week: [1, 1, 1, 1, 1, 0.5, 0.5], overdispersion: {daily_cv: 0.2}}
    handle_time: {dist: lognormal, mean_s: 60, cv: 0.8}
    patience: {dist: exponential, mean_s: 90}
    target: {answer_within_s: 20}
  email:
    arrivals:
      profile: {interval_min: 60, rates_per_hour: [30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
                                                   30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30]}
    handle_time: {dist: uniform, low_min: 2, high_min: 6}
agents:
  team: {count: 3, skills: [phone, email], shrinkage: 0.1, proficiency: {email: {handle_time: 1.2}}}
  night:
    skills: [email]
    shifts: [{start: "00:00", end: "08:00", count: 2, breaks: [{start: "00:30", minutes: 15}]}]
routing: {policy: priority, order: [phone, email]}
"""

WITH_FILES = """\
name: fuzz-files
replications: 1
horizon_hours: 0.05
channels:
  phone:
    arrivals: {trace: {file: calls.csv, column: t_s}}
    handle_time: {dist: empirical, file: aht.csv, column: s, unit: s}
    patience: {dist: deterministic, mean_min: 2}
  social:
    arrivals: {rate_per_min: 1}
    handle_time: {dist: gamma, mean_min: 3, cv: 1.5}
    patience: {dist: empirical, values: [30, 60, 600]}
agents:
  team: {count: 2, skills: [phone, social]}
  back:
    skills: [social]
    staffing: {interval_min: 60, counts: [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1]}
routing: {policy: longest_wait_first, relative_to_target: true}
"""
CSV_FILES = {
    "calls.csv": "t_s,agent\n1.5,a\n20,b\n31.25,a\n64,c\n90,a\n120,b\n170.5,c\n",
    "aht.csv": "s\n45\n61\n75\n120\n30\n",
}

PARENT = """\
name: fuzz-parent
replications: 2
horizon_hours: 0.05
channels:
  phone:
    arrivals: {rate_per_hour: 90}
    handle_time: {dist: exponential, mean_s: 80}
    patience: {dist: gamma, mean_s: 60, cv: 0.5}
agents:
  team: {count: 2, skills: [phone]}
"""

EXPERIMENT = """\
extends: parent.yaml
x-social: &social
  arrivals: {rate_per_hour: 20}
  handle_time: {dist: exponential, mean_min: 4}
agents: {team: {count: 3}}
routing: {policy: threshold, reserve: 1}
variants:
  hire:
    agents.team.count: 4
  divert:
    agents.team.count: 2
    agents.social_team: {count: 1, skills: [social]}
    channels.social: *social
"""


@dataclass
class Base:
    """A valid scenario to mutate, the data files beside it, and the commands to try."""

    text: str
    files: dict[str, str]
    commands: tuple[tuple[str, ...], ...]


BASES = {
    "plain": Base(PLAIN, {}, (("run", "--out", "{out}", "-q"), ("check",), ("run", "--json", "-q"))),
    "files": Base(WITH_FILES, CSV_FILES, (("run", "--out", "{out}", "-q"), ("check",))),
    "experiment": Base(
        EXPERIMENT,
        {"parent.yaml": PARENT},
        (("compare", "--out", "{out}", "-j", "1", "-q"), ("run", "--out", "{out}", "-q")),
    ),
}

# --- mutations ---------------------------------------------------------------------------

HOSTILE_VALUES: list[Any] = [
    None, True, False, "", "text", "60", "phone", "email", "exponential", "08:00", "25:99",
    -1, 0, 1, 2, -1e-9, 0.5, 7, 1e308, -1e308, math.nan, math.inf, -math.inf, 5e-324, 1e-200,
    10**12, 10**30, 2**63, -(2**63), [], {}, [1, 2, 3], [0], ["phone", "phone"], {"x": 1},
    [[[[[1]]]]], "x" * 5_000, {"dist": "exponential", "mean_s": 1}, {"rate_per_hour": 1e308},
]  # fmt: skip
"""Values a mutation may put anywhere: wrong types, edge numbers, containers, long text."""

SCALES = (0.0, -1.0, 1e-300, 1e-6, 1e6, 1e12, 1e300, 2.0**40)

Path_ = tuple[Any, ...]


def _nodes(data: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _nodes(v, (*path, i))


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: Path_, value: Any) -> Any:
    if not path:
        return value
    _get(data, path[:-1])[path[-1]] = value
    return data


def _pick(rng: np.random.Generator, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def mutate_data(rng: np.random.Generator, data: Any) -> tuple[Any, str]:
    """One structural mutation of a parsed scenario; returns the data and what was done."""
    nodes = list(_nodes(data))
    path, value = _pick(rng, nodes)
    op = _pick(rng, ["set", "set", "scale", "delete", "unknown", "rename", "wrap", "grow", "copy"])
    if op == "scale":
        numeric = [(p, v) for p, v in nodes if isinstance(v, int | float) and not isinstance(v, bool)]
        if numeric:
            path, value = _pick(rng, numeric)
            factor = _pick(rng, list(SCALES))
            new = (
                value * factor if not isinstance(value, int) or factor != int(factor) else value * int(factor)
            )
            return _set(data, path, new), f"scale {path} by {factor:g}"
        op = "set"
    if op == "delete" and path:
        parent = _get(data, path[:-1])
        del parent[path[-1]]
        return data, f"delete {path}"
    maps = [(p, v) for p, v in nodes if isinstance(v, dict) and v]
    if op in ("unknown", "rename") and maps:
        path, mapping = _pick(rng, maps)
        if op == "unknown":
            mapping[_pick(rng, ["colour", "rate_per_hr", "mean", "Count", "1", "x-note"])] = _pick(
                rng, HOSTILE_VALUES
            )
            return data, f"unknown key under {path}"
        key = _pick(rng, list(mapping))
        new_key = str(key)[:-1] if rng.random() < 0.5 else f"{key}s"
        mapping[new_key or "_"] = mapping.pop(key)
        return data, f"rename {(*path, key)} to {new_key!r}"
    if op == "wrap":
        return _set(data, path, [value] if rng.random() < 0.5 else {"value": value}), f"wrap {path}"
    if op == "grow":
        lists = [(p, v) for p, v in nodes if isinstance(v, list) and v]
        if lists:
            path, seq = _pick(rng, lists)
            times = int(rng.integers(2, 60))
            return _set(data, path, seq * times), f"repeat the list {path} {times} times"
        op = "set"
    if op == "copy":
        _, other = _pick(rng, nodes)
        return _set(data, path, copy.deepcopy(other)), f"copy a subtree to {path}"
    new = copy.deepcopy(_pick(rng, HOSTILE_VALUES))
    return _set(data, path, new), f"set {path} to {str(new)[:40]!r}"


def _alias_bomb(levels: int = 9) -> str:
    lines = ["x-l0: &l0 [" + ", ".join(["lol"] * 9) + "]"]
    for i in range(1, levels):
        lines.append(f"x-l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def mutate_text(rng: np.random.Generator, text: str) -> tuple[str | bytes, str]:
    """One mutation of the YAML text (or its bytes)."""
    lines = text.splitlines(keepends=True) or ["\n"]
    i = int(rng.integers(len(lines)))
    op = _pick(
        rng,
        ["truncate", "garble", "bytes", "drop line", "repeat line", "empty", "binary", "tag", "bomb",
         "deep", "tab", "crlf", "nul", "bom", "latin1", "long line", "anchor loop"],
    )  # fmt: skip
    if op == "truncate":
        return text[: int(rng.integers(len(text) + 1))], op
    if op == "garble":
        chars = list(text)
        for _ in range(int(rng.integers(1, 6))):
            if chars:
                chars[int(rng.integers(len(chars)))] = _pick(rng, list(":{}[]-,&*!|>'\"#%@` \n\t?"))
        return "".join(chars), op
    if op == "bytes":
        raw = bytearray(text.encode())
        for _ in range(int(rng.integers(1, 8))):
            raw.insert(int(rng.integers(len(raw) + 1)), int(rng.integers(256)))
        return bytes(raw), op
    if op == "drop line":
        return "".join(lines[:i] + lines[i + 1 :]), op
    if op == "repeat line":
        return "".join(lines[: i + 1] + lines[i:]), op
    if op == "empty":
        return _pick(rng, ["", "\n", "# nothing\n", "---\n", "...\n", "~\n", "[]\n", "{}\n"]), op
    if op == "binary":
        return rng.bytes(int(rng.integers(1, 400))), op
    if op == "tag":
        tag = _pick(
            rng,
            ["!!python/object/apply:os.system ['echo pwned']", "!!python/name:os.system", "!custom 1",
             "!!binary aGVsbG8=", "!!set {a, b}", "!!timestamp 2024-01-01", "!!float 1e400"],
        )  # fmt: skip
        return text + f"description: {tag}\n", op
    if op == "bomb":
        return _alias_bomb() + text + _pick(rng, ["description: *l8\n", "x-b: *l8\n", "seed: *l8\n"]), op
    if op == "deep":
        depth = _pick(rng, [50, 300, 990, 10_000])
        nested = "[" * depth + "]" * depth if rng.random() < 0.5 else "{a: " * depth + "1" + "}" * depth
        return text + f"description: {nested}\n", f"nest {depth} deep"
    if op == "tab":
        return "".join([*lines[:i], "\t" + lines[i], *lines[i + 1 :]]), op
    if op == "crlf":
        return text.replace("\n", "\r\n"), op
    if op == "nul":
        return text[: len(text) // 2] + "\x00" + text[len(text) // 2 :], op
    if op == "bom":
        return "\ufeff" + text, op
    if op == "latin1":
        return text.replace("fuzz", "f\xfczz").encode("latin-1", errors="replace"), op
    if op == "long line":
        return text + "description: " + "y" * 200_000 + "\n", op
    return text + "x-loop: &loop {a: 1}\nx-again: {<<: *loop, b: *loop}\n", op


def mutate_csv(rng: np.random.Generator, text: str) -> tuple[str | bytes | None, str]:
    """One mutation of a data file: None deletes it."""
    header, *rows = text.splitlines()
    op = _pick(
        rng,
        ["unsorted", "malformed", "delete", "empty", "header only", "binary", "renamed column",
         "ragged", "quote", "negative", "huge", "nan", "dir"],
    )  # fmt: skip
    if op == "unsorted" and len(rows) > 1:
        rows[0], rows[-1] = rows[-1], rows[0]
    elif op == "malformed" and rows:
        rows[int(rng.integers(len(rows)))] = _pick(
            rng, ["12:00,a", "abc,b", ",c", "1e400,a", "0x10,a", "1,2,3"]
        )
    elif op == "delete":
        return None, op
    elif op == "empty":
        return "", op
    elif op == "header only":
        return header + "\n", op
    elif op == "binary":
        return rng.bytes(int(rng.integers(1, 200))), op
    elif op == "renamed column":
        header = header.replace("t_s", "time").replace("s", "secs", 1)
    elif op == "ragged":
        rows.append(",,,,")
    elif op == "quote":
        rows.insert(0, '"1.5')
    elif op in ("negative", "huge", "nan") and rows:
        cell = {"negative": "-5", "huge": "1e308", "nan": "nan"}[op]
        rows[int(rng.integers(len(rows)))] = cell + ",a"
    elif op == "dir":
        return b"", "dir"
    return "\n".join([header, *rows]) + "\n", op


@dataclass
class Case:
    """A mutated scenario, ready to write and run."""

    base: str
    text: str | bytes
    files: dict[str, str | bytes | None]
    command: tuple[str, ...]
    done: list[str] = field(default_factory=list)


def fuzz_case(index: int, seed: int = FUZZ_SEED) -> Case:
    """The `index`-th fuzz case: a base, one to three mutations, and a command to run."""
    rng = np.random.default_rng([seed, index])
    name = _pick(rng, list(BASES))
    base = BASES[name]
    files: dict[str, str | bytes | None] = dict(base.files)
    command = _pick(rng, list(base.commands))
    case = Case(name, base.text, files, command)
    if rng.random() < 0.75:
        data = yaml.safe_load(base.text)
        for _ in range(int(rng.integers(1, 4))):
            data, what = mutate_data(rng, data)
            case.done.append(what)
        case.text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if rng.random() < 0.3 or not case.done:
        assert isinstance(case.text, str)
        case.text, what = mutate_text(rng, case.text)
        case.done.append(f"text: {what}")
    csvs = [f for f in files if f.endswith(".csv")]
    if csvs and rng.random() < 0.4:
        target = _pick(rng, csvs)
        content = files[target]
        assert isinstance(content, str)
        files[target], what = mutate_csv(rng, content)
        case.done.append(f"{target}: {what}")
    return case


class CaseTimeout(BaseException):
    """A case ran longer than `CASE_TIMEOUT_S` (BaseException: nothing under test catches it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `CaseTimeout` in this thread after `seconds` (SIGALRM; main thread only)."""
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    """What running a case gave."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    exception: BaseException | None


def write_case(folder: Path, case: Case) -> Path:
    """Write the scenario and its data files into `folder`; return the scenario path."""
    folder.mkdir(parents=True)
    for name, content in case.files.items():
        if content is None:
            continue
        if case.done and case.done[-1] == f"{name}: dir":
            (folder / name).mkdir()
        elif isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    path = folder / "scenario.yaml"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        path.write_text(case.text, encoding="utf-8")
    return path


def run_cli(args: list[str], timeout: float = CASE_TIMEOUT_S) -> Outcome:
    """Run `staffsim ARGS` in-process under a time limit."""
    start = time.perf_counter()
    with time_limit(timeout):
        result = CliRunner().invoke(main, args)
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return Outcome(result.exit_code, result.stdout, result.stderr, time.perf_counter() - start, exc)


def check_case(index: int, root: Path) -> Outcome:
    """Run fuzz case `index` in `root` and assert the contract for hostile input."""
    case = fuzz_case(index)
    folder = root / f"case-{index}"
    path = write_case(folder, case)
    out = folder / "results" / "out"
    args = [case.command[0], str(path), *(a.format(out=out) for a in case.command[1:])]
    outcome = run_cli(args)
    where = f"fuzz case {index} ({case.base}: {'; '.join(case.done)}), command {' '.join(args)}"
    assert outcome.exception is None, f"{where}: uncaught {outcome.exception!r}"
    assert outcome.code in (0, 2), f"{where}: exit {outcome.code}\n{outcome.stderr}"
    assert "Traceback" not in outcome.stderr + outcome.stdout, where
    if outcome.code == 2:
        named = [str(path), *(str(folder / f) for f in case.files)]
        extends = _extends_target(case.text)
        if extends is not None:
            named.append(str((folder / extends).resolve()) if not os.path.isabs(extends) else extends)
        assert outcome.stderr.startswith("staffsim: "), f"{where}: {outcome.stderr!r}"
        assert any(n in outcome.stderr for n in named), (
            f"{where}: the message must name the file\n{outcome.stderr}"
        )
        assert outcome.stdout == "", where
        assert len(outcome.stderr.splitlines()) <= 25, f"{where}: a one-screen message\n{outcome.stderr}"
        assert not out.exists() and not (out.parent / ".out.partial").exists(), f"{where}: partial output"
    elif "--out" in args:
        finished = {"run": "result.json", "compare": "comparison.csv"}[args[0]]
        assert (out / finished).is_file(), f"{where}: exit 0 but no complete results"
    elif "--json" in args:
        assert json.loads(outcome.stdout)["replications"] >= 1, where
    elif args[0] == "check":
        assert "valid" in outcome.stdout, where
    return outcome


def _extends_target(text: str | bytes) -> str | None:
    """The `extends:` value of a case's text, when it parses and is a string."""
    try:
        data = yaml.safe_load(text)
    except Exception:  # the text is hostile by design; an unparsable one extends nothing
        return None
    value = data.get("extends") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def fuzz_indices() -> list[list[int]]:
    """Case numbers, in chunks of `CHUNK` (one test each, so pytest-xdist can spread them)."""
    if FUZZ_ONLY is not None:
        return [[int(FUZZ_ONLY)]]
    cases = list(range(FUZZ_CASES))
    return [cases[i : i + CHUNK] for i in range(0, len(cases), CHUNK)]


@pytest.fixture
def fuzz_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small budgets, so that mutations that grow a run are refused at once."""
    for key, value in FUZZ_BUDGET.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("chunk", fuzz_indices(), ids=lambda c: f"cases{c[0]}-{c[-1]}")
@pytest.mark.slow
def test_fuzz_mutated_scenarios_exit_0_or_2_without_traceback(
    chunk: list[int], tmp_path: Path, fuzz_budget: None
) -> None:
    """Each mutated scenario exits 0 (valid: results complete) or 2 (a message naming the file).

    Never an uncaught exception, a traceback, a hang (`CASE_TIMEOUT_S`) or partial output.
    """
    codes = []
    for index in chunk:
        codes.append(check_case(index, tmp_path).code)
    assert 2 in codes or len(chunk) < 10, "mutations should mostly break the scenario"


@pytest.mark.slow
def test_fuzz_mutations_cover_both_outcomes(tmp_path: Path, fuzz_budget: None) -> None:
    """The harness is not vacuous: among 60 cases some stay valid and run, most are refused."""
    codes = [check_case(i, tmp_path).code for i in range(60)]
    assert codes.count(0) >= 3 and codes.count(2) >= 20, codes


def test_fuzz_cases_are_reproducible() -> None:
    """A case number always gives the same mutated scenario (so a failure can be replayed)."""
    a, b = fuzz_case(123), fuzz_case(123)
    assert (a.text, a.files, a.command, a.done) == (b.text, b.files, b.command, b.done)
    assert fuzz_case(124).text != a.text or fuzz_case(124).done != a.done


# --- named hostile inputs ----------------------------------------------------------------


def run_named(tmp_path: Path, text: str | bytes, *extra: str, files: dict[str, str] | None = None) -> Outcome:
    """Write a scenario (and files) into `tmp_path` and `staffsim run` it with --out."""
    for name, content in (files or {}).items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    path = tmp_path / "scenario.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return run_cli(["run", str(path), "--out", str(tmp_path / "out"), "-q", *extra])


def assert_refused(outcome: Outcome, tmp_path: Path, *says: str) -> None:
    """Exit 2, a message naming the scenario file and saying `says`, nothing else."""
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.code == 2, outcome.stderr
    assert str(tmp_path / "scenario.yaml") in outcome.stderr
    assert "Traceback" not in outcome.stderr and outcome.stdout == ""
    assert not (tmp_path / "out").exists()
    for fragment in says:
        assert fragment in outcome.stderr, outcome.stderr


def plain_with(old: str, new: str) -> str:
    """The plain base with one fragment replaced."""
    assert PLAIN.count(old) == 1, old
    return PLAIN.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("rate_per_hour: 120", "rate_per_hour: -120", "greater than or equal to 0"),
        ("rate_per_hour: 120", "rate_per_hour: .nan", "finite"),
        ("rate_per_hour: 120", "rate_per_hour: .inf", "finite"),
        ("rate_per_hour: 120", "rate_per_hour: 1.0e-320", "too close to zero"),
        ("cv: 0.8", "cv: 1.0e-200", "too close to zero"),
        ("daily_cv: 0.2", "daily_cv: 1.0e-300", "too close to zero"),
        ("mean_s: 60", "mean_s: 0", "greater than 0"),
        ("count: 3", "count: 1000000000000", "less than or equal to 1000000"),
        ("count: 3", "count: 3.5", "integer"),
        ("count: 3", "count: '3'", "must be a number"),
        ("replications: 1", "replications: 0", "greater than or equal to 1"),
        ("horizon_hours: 0.05", "horizon_hours: 1.0e+300", "less than or equal to"),
        ("seed: 3", "seed: 100000000000000000000000", "less than"),
        ("skills: [phone, email]", "skills: {phone: 1}", "list"),
        ("interval_min: 15", "interval_min: 7", "15, 30 or 60"),
        ("name: fuzz", "name: [fuzz]", "must be text"),
    ],
    ids=lambda v: str(v)[:24],
)
def test_hostile_values_are_refused_with_the_key(tmp_path: Path, old: str, new: str, says: str) -> None:
    """Wrong types, negative, zero, NaN, infinite, tiny and huge values: exit 2 naming the key."""
    assert_refused(run_named(tmp_path, plain_with(old, new)), tmp_path, says)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        (b"\x00\xff\xfe\x89PNG\r\n\x1a\n" * 40, "not UTF-8"),
        ("[1, 2", "not valid YAML"),
        ("just words\n", "mapping"),
        ("name: x\nname: y\n", "duplicate key"),
        (PLAIN + "colour: blue\n", "unknown key 'colour'"),
    ],
    ids=["empty", "binary", "unclosed", "scalar", "duplicate", "unknown key"],
)
def test_malformed_files_are_refused(tmp_path: Path, text: str | bytes, says: str) -> None:
    """Empty files, binary garbage and broken YAML: exit 2 with what is wrong."""
    assert_refused(run_named(tmp_path, text), tmp_path, says)


@pytest.mark.parametrize("where", ["description: *l8", "agents: {team: {count: 3, skills: *l8}}"])
def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path, where: str) -> None:
    """A "billion laughs" file (9⁹ strings through nested aliases) is refused in seconds.

    Its structure is shared, so parsing is cheap; what must not happen is walking or
    printing it whole (the line index and the error message both stay bounded).
    """
    text = _alias_bomb() + PLAIN.replace("agents:\n  team", "agents_:\n  team") + where + "\n"
    text = text.replace("agents_:", "x-agents:")
    outcome = run_named(tmp_path, text)
    assert_refused(outcome, tmp_path)
    assert outcome.seconds < 15, f"took {outcome.seconds:.1f} s"
    assert len(outcome.stderr) < 4000


@pytest.mark.parametrize("shape", ["[", "{a: "])
def test_ten_thousand_levels_of_nesting_are_refused(tmp_path: Path, shape: str) -> None:
    """10,000 nested lists or mappings: 'nested too deeply', not a RecursionError."""
    close = "]" if shape == "[" else "}"
    nested = shape * 10_000 + ("" if shape == "[" else "1") + close * 10_000
    outcome = run_named(tmp_path, PLAIN + f"description: {nested}\n")
    assert_refused(outcome, tmp_path, "nested too deeply")


def test_check_counts_agents_of_scheduled_groups(tmp_path: Path) -> None:
    """`staffsim check` on groups with shifts or staffing tables (it used to add None to an int)."""
    path = tmp_path / "scenario.yaml"
    path.write_text(PLAIN, encoding="utf-8")
    outcome = run_cli(["check", str(path)])
    assert outcome.code == 0, outcome.stderr
    assert "3 agents and 1 scheduled group" in outcome.stdout


def test_scenario_that_is_a_device_is_not_read_for_ever(tmp_path: Path) -> None:
    """`extends: /dev/zero` is refused as a device before a byte of it is read."""
    path = tmp_path / "scenario.yaml"
    path.write_text("extends: /dev/zero\nname: x\n", encoding="utf-8")
    outcome = run_cli(["check", str(path)], timeout=60)
    assert outcome.code == 2 and "is a device" in outcome.stderr and "/dev/zero" in outcome.stderr


TRACE_CASES = {
    "missing trace file": ({}, "not found"),
    "unsorted timestamps": ({"calls.csv": "t_s\n10\n50\n20\n"}, "not in order"),
    "malformed timestamp": ({"calls.csv": "t_s\n1.5\n12:00\n"}, "not a number"),
    "negative timestamp": ({"calls.csv": "t_s\n-3\n5\n"}, ">= 0"),
    "NaN timestamp": ({"calls.csv": "t_s\nnan\n"}, "finite"),
    "empty trace": ({"calls.csv": "t_s\n"}, "no arrival times"),
    "wrong column": ({"calls.csv": "time\n1\n"}, "column 't_s' not in"),
}


@pytest.mark.parametrize("name", list(TRACE_CASES))
def test_bad_trace_files_are_refused(tmp_path: Path, name: str) -> None:
    """Missing traces and traces with unsorted or malformed times: exit 2 naming both files."""
    files, says = TRACE_CASES[name]
    text = plain_with(
        "arrivals: {rate_per_hour: 120, day_of_week: [1, 1, 1, 1, 1, 0.5, 0.5], overdispersion: {daily_cv: 0.2}}",
        "arrivals: {trace: {file: calls.csv, column: t_s}}",
    )
    outcome = run_named(tmp_path, text, files=files)
    assert_refused(outcome, tmp_path, "calls.csv", says, "channels.phone.arrivals.trace")


# --- budgets -----------------------------------------------------------------------------


def test_budget_refuses_1e308_rate_quoting_the_estimate(tmp_path: Path) -> None:
    """A rate of 1e308/h passes the schema (finite, >= 0) but would never finish: exit 2."""
    outcome = run_named(tmp_path, plain_with("rate_per_hour: 120", "rate_per_hour: 1.0e+308"))
    assert_refused(outcome, tmp_path, "too large", "about 5e+306 contacts", "--force")


def test_budget_refuses_a_run_over_the_contact_limit_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the limit: exit 2 with the estimate (per replication × replications); --force runs it."""
    text = plain_with("rate_per_hour: 120", "rate_per_hour: 1200")  # ~60 phone contacts per replication
    monkeypatch.setenv("STAFFSIM_MAX_CONTACTS", "100")
    refused = run_named(tmp_path, text, "-n", "3")
    assert_refused(refused, tmp_path, "above the limit of 100", "× 3 replications", "STAFFSIM_MAX_CONTACTS")
    forced = run_named(tmp_path, text, "-n", "3", "--force")
    assert forced.code == 0, forced.stderr
    assert (tmp_path / "out" / "result.json").is_file()


def test_budget_counts_variants_and_precision_rounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`compare` sizes baseline plus variants; with --precision, up to --max-replications."""
    (tmp_path / "parent.yaml").write_text(PARENT, encoding="utf-8")
    path = tmp_path / "scenario.yaml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    exp = sim.load_experiment(path)
    per_rep = [expected_contacts(s) for s in (exp.baseline, *exp.variants.values())]
    monkeypatch.setenv("STAFFSIM_MAX_CONTACTS", str(int(sum(per_rep) * 2 + 1)))
    ok = run_cli(["compare", str(path), "-n", "2", "-j", "1", "-q"])
    assert ok.code == 0, ok.stderr
    over = run_cli(["compare", str(path), "-n", "3", "-j", "1", "-q", "--out", str(tmp_path / "o")])
    assert over.code == 2 and "3 scenarios" in over.stderr and "× 3 replications" in over.stderr
    assert not (tmp_path / "o").exists() and not (tmp_path / ".o.partial").exists()
    precise = run_cli(["compare", str(path), "-n", "2", "--precision", "service_level=0.01", "-q"])
    assert precise.code == 2 and "× 200 replications" in precise.stderr


def test_budget_refuses_huge_sweep_grids_before_building_them(tmp_path: Path) -> None:
    """A grid of 10⁸ points is refused by its task count at once, not after listing every point."""
    path = tmp_path / "scenario.yaml"
    path.write_text(PLAIN, encoding="utf-8")
    outcome = run_cli(
        ["sweep", str(path), "--grid", "agents.team.count=1:10000", "--grid", "seed=1:10000", "-n", "1",
         "--out", str(tmp_path / "sw"), "-q"],
        timeout=20,
    )  # fmt: skip
    assert outcome.code == 2, outcome.stderr
    assert "100,000,000 replication tasks" in outcome.stderr and str(path) in outcome.stderr
    assert not (tmp_path / "sw").exists() and not (tmp_path / ".sw.partial").exists()


@pytest.mark.parametrize(
    "spec",
    [
        "agents.team.count=!!python/name:os.system,2",
        "agents.team.count=[1",
        "agents.team.count=1:",
        "agents.team.count=5:1",
        "agents.team.count=1:1e400",
        "agents.team.count=-3,4",
        "agents.team.count=a,b",
        "agents.team.cuont=1,2",
        "agents.team.count",
        "=1,2",
    ],
)
def test_hostile_grid_values_exit_2(tmp_path: Path, spec: str) -> None:
    """Malformed or invalid `--grid` values (YAML tags included) exit 2 with a message, no traceback."""
    path = tmp_path / "scenario.yaml"
    path.write_text(PLAIN, encoding="utf-8")
    outcome = run_cli(
        ["sweep", str(path), "--grid", spec, "-n", "1", "-j", "1", "--out", str(tmp_path / "sw"), "-q"]
    )
    assert outcome.exception is None and outcome.code == 2, (outcome.exception, outcome.stderr)
    assert outcome.stderr.startswith("staffsim: ") and "Traceback" not in outcome.stderr
    assert not (tmp_path / "sw").exists() and not (tmp_path / ".sw.partial").exists()


def test_budget_refuses_sweep_points_that_grow_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sweep points are sized one by one: a grid over the arrival rate counts each point's contacts."""
    path = tmp_path / "scenario.yaml"
    path.write_text(PLAIN, encoding="utf-8")
    monkeypatch.setenv("STAFFSIM_MAX_CONTACTS", "1000")
    grid = ["--grid", "channels.phone.arrivals.rate_per_hour=100,1000000"]
    outcome = run_cli(["sweep", str(path), *grid, "-n", "1", "-j", "1", "--out", str(tmp_path / "sw"), "-q"])
    assert outcome.code == 2 and "2 scenarios" in outcome.stderr, outcome.stderr


def test_budget_limits_events_and_memory_not_only_contacts() -> None:
    """A ten-year horizon at 15-minute intervals with many groups is refused for its snapshots."""
    base = sim.load_scenario(yaml.safe_load(PLAIN))
    groups = {f"g{i}": {"count": 1, "skills": ["phone", "email"]} for i in range(200)}
    data = {**yaml.safe_load(PLAIN), "horizon_hours": 87_600, "agents": groups}
    data["channels"]["phone"]["arrivals"] = {"rate_per_day": 1}
    data["channels"]["email"]["arrivals"] = {"rate_per_day": 1}
    data.pop("routing")
    long = sim.load_scenario(data)
    size = estimate([long], 10, "summary")
    assert size.contacts < 1e6  # few contacts...
    with pytest.raises(BudgetError) as err:
        check(size, Limits(memory_bytes=math.inf))
    assert "interval snapshots" in str(err.value)  # ...but 350,400 snapshots of 402 levels, 10 times
    with pytest.raises(BudgetError, match="in memory"):
        check(estimate([long], 10, "summary"), Limits(events=math.inf, memory_bytes=1e9))
    assert estimate([long], 10, "none").events < 1e4  # records none keeps no snapshots
    check(estimate([base], 10, "full"), Limits())


def test_budget_sizes_rosters_by_their_steps() -> None:
    """Shifts and staffing tables cost a step per change; a constant count costs one."""
    data = yaml.safe_load(WITH_FILES)
    back = sim.load_scenario({**yaml.safe_load(PLAIN)}).agents["night"]
    assert roster_steps(back, 7 * 86_400.0) == 8 * (2 + 2)  # 8 days × (start, end, break start, end)
    table = {"staffing": data["agents"]["back"]["staffing"], "skills": ["phone", "email"]}
    scenario = sim.load_scenario({**yaml.safe_load(PLAIN), "agents": {"t": table}})
    assert roster_steps(scenario.agents["t"], 86_400.0) == 24
    assert roster_steps(sim.load_scenario(yaml.safe_load(PLAIN)).agents["team"], 1e9) == 1


def test_a_million_agents_cost_nothing_per_head() -> None:
    """The schema allows up to 10⁶ agents per group; a group is a count, so it runs at once."""
    data = yaml.safe_load(PLAIN)
    data["agents"]["team"]["count"] = 1_000_000
    start = time.perf_counter()
    result = sim.run(sim.load_scenario(data), replications=1, records="none")
    assert time.perf_counter() - start < 10
    assert result.outputs[0].channels["phone"]["answered"] > 0
    assert estimate([sim.load_scenario(data)], 1, "none").memory_bytes < 1e6


def test_malformed_budget_variable_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """STAFFSIM_MAX_CONTACTS=lots is refused with the variable's name, not ignored."""
    monkeypatch.setenv("STAFFSIM_MAX_CONTACTS", "lots")
    outcome = run_named(tmp_path, PLAIN)
    assert outcome.code == 2 and "STAFFSIM_MAX_CONTACTS='lots' is not a number" in outcome.stderr
    with pytest.raises(BudgetError, match="positive"):
        Limits.from_env({"STAFFSIM_MAX_CONTACTS": "-1"})
    assert Limits.from_env({}).contacts == 1e8


def test_run_size_describes_its_estimate() -> None:
    """The message quotes contacts per replication, replications and scenarios."""
    size = RunSize(3.2e9, 1.6e8, 20, 1, 0.0, 0.0, 20.0)
    assert (
        size.describe() == "about 3.2e+09 contacts (1.6e+08 per replication × 20 replications × 1 scenario)"
    )


# --- safety ------------------------------------------------------------------------------


def test_python_object_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    """`!!python/object/apply` and friends are YAML errors: the loader is safe_load-equivalent."""
    marker = tmp_path / "pwned"
    for tag in (
        f"!!python/object/apply:os.system ['touch {marker}']",
        f"!!python/object/new:subprocess.check_call [['touch', '{marker}']]",
        "!!python/name:os.system",
        "!!python/module:os",
    ):
        outcome = run_named(tmp_path, PLAIN + f"description: {tag}\n")
        assert_refused(outcome, tmp_path, "not allowed")
        assert not marker.exists()


def test_loader_never_uses_an_unsafe_yaml_loader() -> None:
    """The config package parses YAML only with SafeLoader (and `yaml.safe_load`)."""
    source = "".join(p.read_text(encoding="utf-8") for p in Path(sim.config.__file__).parent.glob("*.py"))
    for unsafe in ("yaml.Loader", "FullLoader", "UnsafeLoader", "unsafe_load", "full_load", "eval(", "exec("):
        assert unsafe not in source, unsafe
    assert "SafeLoader" in source


def test_text_that_looks_like_code_stays_text(tmp_path: Path) -> None:
    """Strings that a shell or Python would run are kept as plain text."""
    marker = tmp_path / "pwned"
    text = plain_with("name: fuzz", f"name: \"$(touch {marker}); __import__('os').system('touch {marker}')\"")
    outcome = run_named(tmp_path, text)
    assert outcome.code == 0, outcome.stderr
    assert not marker.exists()


def test_extends_resolves_relative_to_the_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`extends: ../x.yaml` is read beside the scenario file, whatever the working directory."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "x.yaml").write_text(PLAIN, encoding="utf-8")
    child = tmp_path / "project" / "scenarios"
    child.mkdir(parents=True)
    (child / "mine.yaml").write_text("extends: ../../shared/x.yaml\nname: mine\n", encoding="utf-8")
    decoy = tmp_path / "elsewhere" / "cwd"
    decoy.mkdir(parents=True)
    (decoy.parent.parent / "x.yaml").write_text("name: decoy\n", encoding="utf-8")
    monkeypatch.chdir(decoy)
    scenario = sim.load_scenario(child / "mine.yaml")
    assert scenario.name == "mine" and scenario.agents["team"].count == 3
    monkeypatch.chdir(tmp_path / "shared")  # a cwd where ../../shared/x.yaml does not exist
    assert sim.load_scenario(Path("..") / "project" / "scenarios" / "mine.yaml").name == "mine"


def test_data_files_resolve_relative_to_the_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trace and empirical CSVs are read beside the scenario; a same-named file in the cwd is ignored."""
    folder = tmp_path / "scenarios"
    (folder / "data").mkdir(parents=True)
    text = WITH_FILES.replace("file: calls.csv", "file: data/calls.csv").replace(
        "file: aht.csv", "file: data/aht.csv"
    )
    (folder / "mine.yaml").write_text(text, encoding="utf-8")
    for name, content in CSV_FILES.items():
        (folder / "data" / name).write_text(content, encoding="utf-8")
    cwd = tmp_path / "cwd"
    (cwd / "data").mkdir(parents=True)
    (cwd / "data" / "calls.csv").write_text("t_s\nnot a time\n", encoding="utf-8")
    monkeypatch.chdir(cwd)
    scenario = sim.load_scenario(folder / "mine.yaml")
    trace = scenario.channels["phone"].arrivals.trace
    assert trace is not None and Path(trace.file) == (folder / "data" / "calls.csv").resolve()
    handle = scenario.channels["phone"].handle_time
    assert Path(getattr(handle, "file", "")) == (folder / "data" / "aht.csv").resolve()
    with pytest.raises(ScenarioError, match="not found"):
        (folder / "data" / "aht.csv").unlink()
        sim.load_scenario(folder / "mine.yaml")


def test_hostile_helpers_time_limit_interrupts_a_hang() -> None:
    """The harness's time limit really stops a case that hangs (so a hang fails, not blocks)."""
    with pytest.raises(CaseTimeout), time_limit(0.2):
        while True:
            time.sleep(0.01)
