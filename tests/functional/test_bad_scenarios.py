"""Bad scenario files through the real CLI: exit 2, file + key path + line, no traceback, no output.

Every case writes a YAML file (and any CSV it points to) into `tmp_path` and runs
`staffsim run FILE --out DIR`. The project's rule for bad input (DESIGN.md, "Bad input"):
a one-screen message on stderr naming the file, the dotted key path, the line where the YAML
tells it and what is allowed; exit status 2; no traceback; nothing on stdout; and the
`--out` folder is not created.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main

# Line numbers below refer to this text; keep its shape when editing.
BASE = """\
name: bad
horizon_hours: 2
replications: 2
channels:
  phone:
    arrivals: {rate_per_hour: 60}
    handle_time: {dist: exponential, mean_s: 60}
agents:
  team: {count: 2, skills: [phone]}
"""

EMAIL = """\
  email:
    arrivals: {rate_per_hour: 6}
    handle_time: {dist: exponential, mean_min: 5}
"""


def with_email(extra: str = "", skills: str = "[phone, email]") -> str:
    """BASE with an email channel at lines 8-10 (plus `extra` lines) served as `skills` say."""
    head, agents = BASE.split("agents:\n")
    return head + EMAIL + extra + "agents:\n" + agents.replace("[phone]", skills)


def replace(old: str, new: str) -> str:
    """BASE with one fragment replaced (the fragment must occur exactly once)."""
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


@dataclass
class Case:
    """A bad scenario file and what its error must say."""

    text: str | bytes
    key: str
    """Dotted key path the message must name (`(file)` for the file as a whole)."""
    line: int | None
    """The YAML line the message must give, when the file tells it."""
    says: tuple[str, ...] = ()
    """Further fragments the message must contain (what is wrong, what is allowed)."""
    files: dict[str, str | bytes] = field(default_factory=dict)
    """Data files written beside the scenario."""


CASES = {
    "unknown top-level key": Case(
        BASE + "colour: blue\n", "colour", 10, ("unknown key 'colour'", "horizon_hours", "channels")
    ),
    "unknown nested key lists the allowed keys": Case(
        replace("rate_per_hour", "rate_per_hr"),
        "channels.phone.arrivals.rate_per_hr",
        6,
        ("unknown key 'rate_per_hr'", "rate_per_hour", "rate_per_min", "profile", "trace"),
    ),
    "unknown key inside a distribution lists its keys": Case(
        replace("mean_s: 60", "mean_sec: 60"),
        "channels.phone.handle_time.mean_sec",
        7,
        ("mean_s", "mean_min", "mean_h"),
    ),
    "negative rate": Case(
        replace("rate_per_hour: 60", "rate_per_hour: -5"),
        "channels.phone.arrivals.rate_per_hour",
        6,
        ("greater than or equal to 0", "-5"),
    ),
    "negative agent count": Case(
        replace("count: 2", "count: -1"), "agents.team.count", 9, ("greater than or equal to 0",)
    ),
    "fractional agent count": Case(replace("count: 2", "count: 2.5"), "agents.team.count", 9, ("integer",)),
    "NaN rate": Case(
        replace("rate_per_hour: 60", "rate_per_hour: .nan"),
        "channels.phone.arrivals.rate_per_hour",
        6,
        ("finite",),
    ),
    "infinite horizon": Case(
        replace("horizon_hours: 2", "horizon_hours: .inf"), "horizon_hours", 2, ("finite",)
    ),
    "text for a number": Case(
        replace("mean_s: 60", "mean_s: sixty"),
        "channels.phone.handle_time.mean_s",
        7,
        ("must be a number", "sixty"),
    ),
    "quoted number": Case(replace("count: 2", "count: '2'"), "agents.team.count", 9, ("must be a number",)),
    "yes for a number": Case(
        replace("count: 2", "count: yes"), "agents.team.count", 9, ("must be a number",)
    ),
    "list for a mapping": Case(
        replace("{rate_per_hour: 60}", "[60]"), "channels.phone.arrivals", 6, ("mapping", "rate_per_hour")
    ),
    "text for a list": Case(replace("[phone]", "phone"), "agents.team.skills", 9, ("list",)),
    "no channels": Case(
        replace(
            "channels:\n  phone:\n    arrivals: {rate_per_hour: 60}\n"
            "    handle_time: {dist: exponential, mean_s: 60}\n",
            "channels: {}\n",
        ),
        "channels",
        4,
        ("at least 1",),
    ),
    "unknown distribution name": Case(
        replace("dist: exponential", "dist: weibull"),
        "channels.phone.handle_time.dist",
        7,
        ("weibull", "exponential", "lognormal", "uniform", "empirical"),
    ),
    "distribution without dist": Case(
        replace("dist: exponential, ", ""), "channels.phone.handle_time.dist", 7, ("exponential",)
    ),
    "lognormal without cv": Case(
        replace("dist: exponential", "dist: lognormal"), "channels.phone.handle_time.cv", 7, ("required",)
    ),
    "uniform with low >= high": Case(
        replace("{dist: exponential, mean_s: 60}", "{dist: uniform, low_s: 90, high_s: 30}"),
        "channels.phone.handle_time",
        7,
        ("low < high",),
    ),
    "mean given in two units": Case(
        replace("mean_s: 60", "mean_s: 60, mean_min: 1"),
        "channels.phone.handle_time",
        7,
        ("one unit", "mean_s", "mean_min"),
    ),
    "warm-up not shorter than horizon": Case(
        BASE + "warmup_hours: 2\n", "warmup_hours", 10, ("shorter than horizon_hours",)
    ),
    "skill naming an unknown channel": Case(
        replace("[phone]", "[phone, chat]"), "agents.team.skills[1]", 9, ("unknown channel 'chat'", "phone")
    ),
    "channel no group serves": Case(with_email(skills="[phone]"), "channels.email", 8, ("no agent group",)),
    "email channel with patience": Case(
        with_email("    patience: {dist: exponential, mean_h: 4}\n"),
        "channels.email.patience",
        11,
        ("email never abandons",),
    ),
    "non-standard channel key without kind": Case(
        BASE.replace("phone", "hotline"), "channels.hotline.kind", 5, ("phone, email or social",)
    ),
    "routing order naming an unknown channel": Case(
        BASE + "routing: {policy: priority, order: [fax]}\n",
        "routing.order[0]",
        10,
        ("unknown channel 'fax'",),
    ),
    "profile with the wrong number of rates": Case(
        replace("{rate_per_hour: 60}", "{profile: {interval_min: 60, rates_per_hour: [10, 20, 30]}}"),
        "channels.phone.arrivals.profile",
        6,
        ("24 values", "got 3"),
    ),
    "two arrival sources": Case(
        replace("{rate_per_hour: 60}", "{rate_per_hour: 60, rate_per_min: 1}"),
        "channels.phone.arrivals",
        6,
        ("exactly one of",),
    ),
    "missing required key": Case(replace("name: bad\n", ""), "name", None, ("required",)),
    "duplicate key": Case(
        BASE + "horizon_hours: 3\n", "horizon_hours", 10, ("duplicate key", "first given at line 2")
    ),
    "empty file": Case("", "(file)", None, ("empty",)),
    "only a comment": Case("# a scenario, some day\n", "(file)", None, ("empty",)),
    "a YAML list, not a mapping": Case("- name: bad\n- horizon_hours: 2\n", "(file)", 1, ("mapping", "list")),
    "a bare word": Case("scenario\n", "(file)", 1, ("mapping",)),
    "invalid YAML: bad indentation": Case(
        replace("    handle_time", "   handle_time"), "(file)", 7, ("not valid YAML",)
    ),
    "invalid YAML: stray colon": Case(
        replace("replications: 2", "replications: 2: 3"), "(file)", 3, ("not valid YAML",)
    ),
    "invalid YAML: unclosed bracket": Case(replace("[phone]}", "[phone}"), "(file)", 9, ("not valid YAML",)),
    "binary garbage": Case(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "(file)", None, ("not UTF-8",)),
    "latin-1 bytes": Case(
        BASE.replace("name: bad", "name: caf\xe9").encode("latin-1"), "(file)", None, ("UTF-8",)
    ),
    "NUL character": Case(replace("name: bad", "name: b\x00d"), "(file)", None, ("not valid YAML",)),
    "missing trace file": Case(
        replace("{rate_per_hour: 60}", "{trace: {file: calls.csv, column: t}}"),
        "channels.phone.arrivals.trace.file",
        6,
        ("not found", "calls.csv"),
    ),
    "missing empirical file": Case(
        replace("{dist: exponential, mean_s: 60}", "{dist: empirical, file: aht.csv, column: s}"),
        "channels.phone.handle_time.file",
        7,
        ("not found", "aht.csv"),
    ),
    "trace with a malformed timestamp": Case(
        replace("{rate_per_hour: 60}", "{trace: {file: calls.csv, column: t}}"),
        "channels.phone.arrivals.trace.file",
        6,
        ("calls.csv line 4", "'12:00'", "not a number"),
        {"calls.csv": "t\n1.5\n30\n12:00\n"},
    ),
    "trace with unsorted timestamps": Case(
        replace("{rate_per_hour: 60}", "{trace: {file: calls.csv, column: t}}"),
        "channels.phone.arrivals.trace.file",
        6,
        ("calls.csv line 4", "not in order"),
        {"calls.csv": "t\n10\n50\n20\n"},
    ),
    "trace with a missing column": Case(
        replace("{rate_per_hour: 60}", "{trace: {file: calls.csv, column: t}}"),
        "channels.phone.arrivals.trace.column",
        6,
        ("column 't' not in", "arrived_s"),
        {"calls.csv": "arrived_s\n10\n"},
    ),
    "trace that is not text": Case(
        replace("{rate_per_hour: 60}", "{trace: {file: calls.csv, column: t}}"),
        "channels.phone.arrivals.trace.file",
        6,
        ("not UTF-8",),
        {"calls.csv": b"t\n\xff\xfe\x00\x01\n"},
    ),
    "empirical CSV with a missing column": Case(
        replace("{dist: exponential, mean_s: 60}", "{dist: empirical, file: aht.csv, column: handle_s}"),
        "channels.phone.handle_time.column",
        7,
        ("column 'handle_s' not in", "columns: seconds, agent"),
        {"aht.csv": "seconds,agent\n61,a\n75,b\n"},
    ),
    "empirical CSV with a negative duration": Case(
        replace("{dist: exponential, mean_s: 60}", "{dist: empirical, file: aht.csv, column: s}"),
        "channels.phone.handle_time.file",
        7,
        ("negative duration",),
        {"aht.csv": "s\n61\n-3\n"},
    ),
}


def write_case(tmp_path: Path, case: Case) -> Path:
    """Write the scenario (and its data files) into `tmp_path`; return the scenario's path."""
    for name, content in case.files.items():
        target = tmp_path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    path = tmp_path / "scenario.yaml"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        path.write_text(case.text, encoding="utf-8")
    return path


def assert_rejected(
    code: int, stdout: str, stderr: str, path: Path, out: Path, key: str, line: int | None
) -> None:
    """The common contract for every bad input."""
    assert code == 2, stderr
    assert stdout == ""
    assert "Traceback" not in stderr
    assert str(path) in stderr
    assert key in stderr
    if line is not None:
        assert f"{key} (line {line})" in stderr
    assert len(stderr.splitlines()) <= 20, "the message must fit on one screen"
    assert not out.exists()
    assert not out.parent.exists(), "not even the parent of --out may be created"


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run `staffsim ARGS` in-process; return (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_subprocess(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m sim ARGS` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_bad_scenario_file_is_rejected_with_file_key_and_line(tmp_path: Path, name: str) -> None:
    """Each kind of bad file exits 2 naming file, key path and line, with no traceback or output."""
    case = CASES[name]
    path = write_case(tmp_path, case)
    out = tmp_path / "results" / "run"
    code, stdout, stderr = run_cli("run", str(path), "--out", str(out), "--quiet")
    assert_rejected(code, stdout, stderr, path, out, case.key, case.line)
    for fragment in case.says:
        assert fragment in stderr


def test_check_command_rejects_bad_file_like_run(tmp_path: Path) -> None:
    """`staffsim check` reports a bad file with the same message and exit status as `run`."""
    path = write_case(tmp_path, CASES["unknown nested key lists the allowed keys"])
    code, stdout, stderr = run_cli("check", str(path))
    assert code == 2
    assert stdout == ""
    assert f"{path}" in stderr
    assert "channels.phone.arrivals.rate_per_hr (line 6)" in stderr


def test_missing_scenario_file_is_rejected(tmp_path: Path) -> None:
    """A scenario path that does not exist is a bad input, not a crash."""
    path = tmp_path / "nowhere" / "scenario.yaml"
    out = tmp_path / "results" / "run"
    code, stdout, stderr = run_cli("run", str(path), "--out", str(out))
    assert_rejected(code, stdout, stderr, path, out, "(file)", None)
    assert "not found" in stderr


def test_python_tags_are_not_executed(tmp_path: Path) -> None:
    """YAML is read with safe_load semantics: a !!python tag is an error and runs nothing."""
    marker = tmp_path / "pwned"
    text = BASE + f"description: !!python/object/apply:os.system ['touch {marker}']\n"
    path = write_case(tmp_path, Case(text, "(file)", 10))
    out = tmp_path / "results" / "run"
    code, stdout, stderr = run_cli("run", str(path), "--out", str(out))
    assert_rejected(code, stdout, stderr, path, out, "(file)", 10)
    assert "not allowed" in stderr
    assert not marker.exists()


def test_many_problems_are_listed_on_one_screen(tmp_path: Path) -> None:
    """A file with dozens of mistakes lists the first ones and a count, not a wall of text."""
    text = BASE + "".join(f"typo_{i}: 1\n" for i in range(40))
    path = write_case(tmp_path, Case(text, "typo_0", 10))
    out = tmp_path / "results" / "run"
    code, stdout, stderr = run_cli("run", str(path), "--out", str(out))
    assert_rejected(code, stdout, stderr, path, out, "typo_0", 10)
    assert "... and 28 more" in stderr


def test_unknown_routing_policy_is_rejected_before_running(tmp_path: Path) -> None:
    """An unregistered routing policy (checked by sim.api.check_runnable) exits 2 with the key path."""
    path = write_case(tmp_path, Case(BASE + "routing: {policy: round_robin}\n", "routing.policy", None))
    out = tmp_path / "results" / "run"
    code, stdout, stderr = run_cli("run", str(path), "--out", str(out))
    assert code == 2
    assert stdout == ""
    assert "Traceback" not in stderr
    assert "routing.policy" in stderr
    assert "round_robin" in stderr
    assert "fifo" in stderr
    assert not out.parent.exists()


def test_unknown_routing_policy_error_names_the_file(tmp_path: Path) -> None:
    """The run-time policy check should name the scenario file and line like every other error."""
    path = write_case(tmp_path, Case(BASE + "routing: {policy: round_robin}\n", "routing.policy", 10))
    code, _, stderr = run_cli("run", str(path), "--out", str(tmp_path / "out"))
    assert code == 2
    assert str(path) in stderr
    assert "routing.policy (line 10)" in stderr


# --- end to end, as a user runs it -----------------------------------------------------


def test_unknown_key_end_to_end_has_no_traceback(tmp_path: Path) -> None:
    """`python -m sim run` on a file with a typo: exit 2, one clear message, no --out folder."""
    path = write_case(tmp_path, CASES["unknown nested key lists the allowed keys"])
    out = tmp_path / "results" / "run"
    proc = run_subprocess("run", path, "--out", out, cwd=tmp_path)
    assert_rejected(
        proc.returncode, proc.stdout, proc.stderr, path, out, "channels.phone.arrivals.rate_per_hr", 6
    )
    assert "rate_per_hour" in proc.stderr


def test_binary_file_end_to_end_has_no_traceback(tmp_path: Path) -> None:
    """`python -m sim run` on binary garbage: exit 2 and a message, not a decoding traceback."""
    path = write_case(tmp_path, CASES["binary garbage"])
    out = tmp_path / "results" / "run"
    proc = run_subprocess("run", path, "--out", out, cwd=tmp_path)
    assert_rejected(proc.returncode, proc.stdout, proc.stderr, path, out, "(file)", None)
    assert "UTF-8" in proc.stderr


def test_malformed_trace_end_to_end_has_no_traceback(tmp_path: Path) -> None:
    """A bad trace CSV is caught when the scenario loads, not as a crash in the middle of a run."""
    case = CASES["trace with a malformed timestamp"]
    write_case(tmp_path, case)
    out = tmp_path / "results" / "run"
    proc = run_subprocess("run", "scenario.yaml", "--out", out, cwd=tmp_path)
    assert_rejected(
        proc.returncode, proc.stdout, proc.stderr, Path("scenario.yaml"), out, case.key, case.line
    )
    assert "calls.csv line 4" in proc.stderr


# --- `extends:` chains: the message names the file with the problem and the file it came through


def write_chain(
    tmp_path: Path, parent: str, child: str = "extends: ../shared/parent.yaml\nname: child\n"
) -> Path:
    """`shared/parent.yaml` and `project/child.yaml` (extending it) in `tmp_path`; return the child."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "parent.yaml").write_text(parent, encoding="utf-8")
    (tmp_path / "project").mkdir()
    path = tmp_path / "project" / "child.yaml"
    path.write_text(child, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["run", "check"])
def test_error_in_an_extended_file_names_it_and_the_file_that_extends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """A bad value in the parent: the parent, its line and the child it was reached through."""
    write_chain(tmp_path, replace("rate_per_hour: 60", "rate_per_hour: -60"))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "results" / "run"
    code, stdout, stderr = run_cli(
        command, "project/child.yaml", *(["--out", str(out)] if command == "run" else [])
    )
    assert_rejected(code, stdout, stderr, Path("project/child.yaml"), out, "rate_per_hour", None)
    assert (
        "shared/parent.yaml (extended by project/child.yaml): line 6: channels.phone.arrivals.rate_per_hour: "
        "must be greater than or equal to 0" in stderr
    )
    assert "(line 1)" not in stderr, "the child's first line is not where the problem is"


def test_errors_along_an_extends_chain_each_name_their_own_file(tmp_path: Path) -> None:
    """child → mid → parent: a parent key names the whole chain; the child's own key its own line."""
    parent = replace("rate_per_hour: 60", "rate_per_hour: -60").replace("{count: 2", "{count: 2, bogus: 1")
    write_chain(tmp_path, parent, "extends: ../shared/parent.yaml\nname: mid\n")
    (tmp_path / "project" / "child.yaml").rename(tmp_path / "project" / "mid.yaml")
    child = tmp_path / "project" / "child.yaml"
    child.write_text("extends: mid.yaml\nname: child\nchannels: {phone: {handle_time: {mean_s: -5}}}\n")
    code, stdout, stderr = run_cli("check", str(child))
    assert code == 2 and stdout == "" and "Traceback" not in stderr
    assert stderr.startswith(f"staffsim: invalid scenario {child}:")
    via = f"{tmp_path}/shared/parent.yaml (extended by {tmp_path}/project/mid.yaml, extended by {child})"
    assert f"{via}: line 6: channels.phone.arrivals.rate_per_hour: must be greater" in stderr
    assert f"{via}: line 9: agents.team.bogus: unknown key 'bogus'" in stderr
    assert "channels.phone.handle_time.mean_s (line 3): " in stderr  # the child's own mistake


def test_unreadable_extended_file_names_the_chain(tmp_path: Path) -> None:
    """A parent that is not valid YAML is named with the child that extends it."""
    child = write_chain(tmp_path, BASE + "oops: [\n")
    code, _, stderr = run_cli("check", str(child))
    assert code == 2 and "Traceback" not in stderr
    assert f"invalid scenario {tmp_path}/shared/parent.yaml (extended by {child}):" in stderr
    assert "(file) (line 11): is not valid YAML" in stderr


def test_missing_extended_file_names_the_child_the_key_and_the_path_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`extends: nothere.yaml` is read beside the child, and the message says so."""
    child = write_chain(tmp_path, BASE, "name: child\nextends: ../shared/nothere.yaml\n")
    monkeypatch.chdir(tmp_path / "shared")  # the working folder does not matter
    out = tmp_path / "results" / "run"
    code, stdout, stderr = run_cli("run", str(child), "--out", str(out))
    assert_rejected(code, stdout, stderr, child, out, "extends", 2)
    assert f"file not found: {tmp_path / 'shared' / 'nothere.yaml'}" in stderr
    assert f"is read from the folder of {child}" in stderr


def test_extends_cycle_is_a_clear_error(tmp_path: Path) -> None:
    """a extends b extends a: exit 2 naming both files and the `extends` key, not a recursion error."""
    (tmp_path / "a.yaml").write_text("name: a\nextends: b.yaml\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n", encoding="utf-8")
    a = tmp_path / "a.yaml"
    out = tmp_path / "results" / "run"
    code, stdout, stderr = run_cli("run", str(a), "--out", str(out))
    assert_rejected(code, stdout, stderr, a, out, "extends", 1)
    assert f"invalid scenario {tmp_path}/b.yaml (extended by {a}):" in stderr
    assert f"extends itself in a loop: {a} → {tmp_path}/b.yaml → {a}" in stderr
    assert "Recursion" not in stderr


def test_self_containing_mappings_in_child_and_parent_are_an_error(tmp_path: Path) -> None:
    """A mapping that contains itself (YAML aliases) on both sides of `extends`: exit 2, no recursion.

    The file that holds one is refused as it is read, at the line of the mapping, before
    any merge could recurse into it.
    """
    child = write_chain(tmp_path, BASE + "x-loop: &a {a: *a}\nroutes: &r {r: *r}\n")
    child.write_text("extends: ../shared/parent.yaml\nroutes: &s {r: *s}\n", encoding="utf-8")
    out = tmp_path / "results" / "run"
    code, stdout, stderr = run_cli("run", str(child), "--out", str(out))
    assert_rejected(code, stdout, stderr, child, out, "(file)", 2)
    assert "contains itself" in stderr
