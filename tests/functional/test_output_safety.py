"""The result folder cannot destroy anything: --overwrite rules, one writer at a time, leftovers.

Every command runs as a real process (`python -m sim`) with a small scenario in its own
folder beside unrelated files; after each refusal the test checks that every file that was
there is still there, byte for byte.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.runner import outdir
from sim.runner.outdir import MARKER, OutputError, claim, release
from sim.runner.simulate import ReplicationOutput
from sim.runner.store import TaskStore

SCENARIO = {
    "name": "safety",
    "seed": 3,
    "replications": 2,
    "horizon_hours": 2,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 60},
            "handle_time": {"dist": "exponential", "mean_s": 180},
        }
    },
    "agents": {"team": {"count": 4, "skills": ["phone"]}},
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's project folder: the scenario and an unrelated file."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "base.yaml").write_text(yaml.safe_dump(SCENARIO), encoding="utf-8")
    (proj / "notes.txt").write_text("precious", encoding="utf-8")
    return proj


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def staffsim(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m sim ARGS` in `cwd`."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def refused(proc: subprocess.CompletedProcess[str], *says: str) -> None:
    """Exit 2, one message, no traceback, nothing on stdout."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    for text in says:
        assert text in proc.stderr, proc.stderr


@pytest.mark.parametrize("command", ["run", "compare"])
def test_overwrite_of_the_scenarios_folder_exits_2_and_deletes_nothing(
    project: Path, tmp_path: Path, command: str
) -> None:
    """`staffsim run proj/base.yaml --out proj --overwrite` once deleted the scenario."""
    if command == "compare":
        data = {**SCENARIO, "variants": {"more": {"agents.team.count": 5}}}
        (project / "base.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    before = snapshot(project)
    proc = staffsim(command, project / "base.yaml", "--out", project, "--overwrite", "-q", cwd=tmp_path)
    refused(proc, "which this run reads")
    assert snapshot(project) == before


@pytest.mark.parametrize("out", [".", "", "..", "proj/.."])
def test_overwrite_of_the_working_directory_or_above_exits_2(project: Path, tmp_path: Path, out: str) -> None:
    """`--out .`, `--out ''` and folders above the working directory are never replaced."""
    before = snapshot(tmp_path)
    proc = staffsim("run", "base.yaml", "--out", out, "--overwrite", "-q", cwd=project)
    refused(proc, "working directory")
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in project.iterdir()) == ["base.yaml", "notes.txt"]


def test_overwrite_of_a_folder_staffsim_did_not_write_exits_2(project: Path, tmp_path: Path) -> None:
    """A folder without the marker is the user's, not a result: --overwrite refuses it."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("years of work", encoding="utf-8")
    proc = staffsim("run", project / "base.yaml", "--out", theirs, "--overwrite", "-q", cwd=tmp_path)
    refused(proc, "not written by staffsim", MARKER)
    assert snapshot(theirs) == {"thesis.tex": b"years of work"}


def test_a_result_folder_is_marked_and_can_be_overwritten(project: Path, tmp_path: Path) -> None:
    """What staffsim writes carries the marker; --overwrite then replaces it whole."""
    out = tmp_path / "res"
    first = staffsim("run", project / "base.yaml", "--out", out, "-q", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (out / MARKER).is_file()
    (out / "stale.txt").write_text("old", encoding="utf-8")
    again = staffsim("run", project / "base.yaml", "--out", out, "--overwrite", "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert not (out / "stale.txt").exists() and (out / "summary.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj", "res"], "no lock or temporary left"


HOLD = """
import sys
from sim.runner.outdir import claim
claim(sys.argv[1])
print("held", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_second_writer_of_the_same_out_is_always_refused(
    project: Path, tmp_path: Path, command: str
) -> None:
    """Another process holds --out (it says so first): the run is refused before simulating.

    The first writer is a process that takes the lock and reports it on stdout; the test
    starts the second only after reading that line, so the outcome never depends on timing.
    """
    out = tmp_path / "res"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        extra = ["--grid", "agents.team.count=4,5"] if command == "sweep" else []
        ready = tmp_path / "ready.txt"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "sim",
                command,
                str(project / "base.yaml"),
                *extra,
                "--out",
                str(out),
                "-q",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={**env, "STAFFSIM_READY_FILE": str(ready)},
            cwd=tmp_path,
        )
        refused(proc, "another staffsim run is writing to")
        assert "simulating" not in ready.read_text(encoding="utf-8"), "refused before simulating"
        assert not out.exists()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
        if holder.stdout is not None:
            holder.stdout.close()
    after = staffsim("run", project / "base.yaml", "--out", out, "-q", cwd=tmp_path)
    assert after.returncode == 0, "the lock is gone with its holder: " + after.stderr


def test_the_lock_is_exclusive_between_processes_and_reentrant_within_one(tmp_path: Path) -> None:
    """This process holds a folder; a child process cannot take it; this one can again."""
    out = tmp_path / "res"
    assert claim(out) is True
    try:
        assert claim(out) is False  # already ours
        code = "import sys\nfrom sim.runner.outdir import claim\ntry:\n claim(sys.argv[1])\nexcept Exception as e:\n print(type(e).__name__, e)\n"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        proc = subprocess.run(
            [sys.executable, "-c", code, str(out)], capture_output=True, text=True, env=env, timeout=60
        )
        assert proc.stdout.startswith("OutputError another staffsim run is writing to"), (
            proc.stdout + proc.stderr
        )
    finally:
        release(out)
    assert not outdir.lock_path(outdir.destination(out)).exists()


def test_unwritable_out_is_refused_before_simulating(project: Path, tmp_path: Path) -> None:
    """A --out that cannot be created (its parent is a file): exit 2 at once, no traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    ready = tmp_path / "ready.txt"
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "STAFFSIM_READY_FILE": str(ready),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(project / "base.yaml"), "--out", str(blocker / "res"), "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    refused(proc, "cannot create", str(blocker))
    assert "simulating" not in ready.read_text(encoding="utf-8")


def test_a_full_disk_is_refused_before_simulating(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Less free space than the results need: exit 2 naming the space, before any replication."""
    from click.testing import CliRunner

    from sim.cli import main

    class Usage:
        free = 1_000_000

    monkeypatch.setattr(outdir.shutil, "disk_usage", lambda _: Usage())
    result = CliRunner().invoke(
        main, ["run", str(project / "base.yaml"), "--out", str(tmp_path / "res"), "-q"]
    )
    assert result.exit_code == 2
    assert "MB free" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "res").exists()
    release(tmp_path / "res")


def test_leftovers_of_a_killed_write_are_removed_by_the_next_writer(project: Path, tmp_path: Path) -> None:
    """`kill -9` during a write leaves `.res.XXXX.tmp`; the next run of --out res removes it.

    A hidden folder that is not staffsim's (no marker, not empty) is left alone.
    """
    leftover = tmp_path / ".res.abc123.tmp"
    leftover.mkdir()
    (leftover / MARKER).write_text("{}", encoding="utf-8")
    (leftover / "summary.csv").write_text("half", encoding="utf-8")
    empty = tmp_path / ".res.def456.tmp"
    empty.mkdir()
    foreign = tmp_path / ".res.mine.tmp"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine", encoding="utf-8")
    proc = staffsim("run", project / "base.yaml", "--out", tmp_path / "res", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not leftover.exists() and not empty.exists()
    assert (foreign / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_a_damaged_task_file_is_run_again_not_fatal(tmp_path: Path) -> None:
    """A stored replication that cannot be read back is dropped (and rerun), not a traceback."""
    store = TaskStore(tmp_path / "res", {"k": 1})
    out = ReplicationOutput(0, {"phone": {"offered": 1.0}}, {"team": {"occupancy": 0.5}})
    store.save("a", out)
    store.save("b", out)
    (store.partial / "tasks" / "b.json").write_text('{"replication": 1, "chan', encoding="utf-8")
    (store.partial / "tasks" / "c.json").write_bytes(b"\x00\xff garbage")
    (store.partial / "tasks" / "d.tmp").write_text("half", encoding="utf-8")
    assert store.done() == {"a"}
    assert store.load("a") == out
    assert sorted(p.name for p in (store.partial / "tasks").iterdir()) == ["a.json"]
    release(tmp_path / "res")


def test_output_error_is_raised_for_a_symlinked_or_file_destination(tmp_path: Path) -> None:
    """A --out that is a file, or a link, is not a result folder."""
    (tmp_path / "f").write_text("x", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    for name in ("f", "link"):
        with pytest.raises(OutputError, match="not a folder"):
            outdir.check_destination(tmp_path / name, overwrite=True)
