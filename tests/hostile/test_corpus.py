"""The hostile corpus: every case a careless or hostile user tried, run through the CLI.

Each case is a scenario in `cases/` whose first comment lines say how to run it and what
must happen (or, for the big and special ones, a function in `generators.py` that writes
it). Every case runs as a real `python -m sim` process in a copy of its folder, limited to
`MEMORY_LIMIT` bytes of address space and `CPU_LIMIT_S` seconds of CPU
(`resource.setrlimit` in the child), and must:

- end with the status the case expects (2 for a refusal, 0 for a bounded successful run);
- never print a traceback, nor a raw escape character;
- say what the case says it says, and never what it must not (`never:`), with at most
  `max_stderr` characters on stderr when the case bounds it;
- leave every file that was there before as it was (nothing deleted or changed outside
  the `--out` folder it names), and none of the paths the case lists as `absent:`.

Header lines: ``# args: run {scenario} -q --force`` (``{scenario}`` is the case file,
``{folder}`` its folder), ``# expect: 2``, ``# says: a | b``, ``# never: x | y``,
``# absent: res | .res.partial``, ``# cwd: ..`` (run from the folder above).
"""

from __future__ import annotations

import os
import resource
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.generators import GENERATORS

CASES = Path(__file__).parent / "cases"
ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 3_000_000_000
CPU_LIMIT_S = 120
WALL_LIMIT_S = 300


def header(text: str) -> dict[str, str]:
    """The `# key: value` lines at the top of a case file."""
    out = {}
    for line in text.splitlines():
        if not line.startswith("# "):
            break
        key, sep, value = line[2:].partition(": ")
        if sep and key.isidentifier():
            out[key] = value.strip()
    return out


def _limits() -> None:
    """In the child: a memory and a CPU limit, so a runaway case cannot take the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_S, CPU_LIMIT_S))


def snapshot(folder: Path, skip: Path | None) -> dict[str, tuple[int, int]]:
    """Every file under `folder` (outside `skip`) with its size and modification time."""
    out = {}
    for p in folder.rglob("*"):
        if (skip is not None and (p == skip or skip in p.parents)) or p.is_dir():
            continue
        st = p.lstat()
        out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


def run_case(folder: Path, scenario: Path, spec: dict[str, str]) -> None:
    """Run one case in `folder` and check everything the module docstring promises."""
    args = shlex.split(spec["args"].format(scenario=scenario, folder=folder))
    cwd = (folder / spec.get("cwd", ".")).resolve()
    out = None
    if "--out" in args:
        named = args[args.index("--out") + 1]
        out = (cwd / named).resolve() if named not in ("", ".") else None
    watched = folder.parent
    before = snapshot(watched, out)
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=WALL_LIMIT_S,
        preexec_fn=_limits,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    said = proc.stdout + proc.stderr
    assert proc.returncode == int(spec["expect"]), said[-3000:]
    assert "Traceback" not in said, said[-3000:]
    assert "\x1b" not in said, "a raw escape character reached the terminal"
    for text in filter(None, (t.strip() for t in spec.get("says", "").split("|"))):
        assert text in said, f"{text!r} not in {said[-3000:]!r}"
    for text in filter(None, (t.strip() for t in spec.get("never", "").split("|"))):
        assert text not in said, f"{text!r} was printed"
    if "max_stderr" in spec:
        assert len(proc.stderr) <= int(spec["max_stderr"]), f"{len(proc.stderr)} characters on stderr"
    after = snapshot(watched, out)
    lost = {k for k in before if k not in after or before[k] != after[k]}
    assert not lost, f"changed or deleted outside --out: {sorted(lost)}"
    for name in filter(None, (t.strip() for t in spec.get("absent", "").split("|"))):
        assert not (cwd / name).exists(), f"{name} was left behind"


@pytest.mark.parametrize("name", sorted(p.stem for p in CASES.glob("*.yaml")))
def test_case_file(name: str, tmp_path: Path) -> None:
    """A case from `cases/`, copied into a folder of its own with a bystander file."""
    folder = tmp_path / "proj"
    folder.mkdir()
    scenario = folder / "scenario.yaml"
    shutil.copyfile(CASES / f"{name}.yaml", scenario)
    (folder / "notes.txt").write_text("the user's own file", encoding="utf-8")
    run_case(folder, scenario, header((CASES / f"{name}.yaml").read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generated_case(name: str, tmp_path: Path) -> None:
    """A case written by its generator (big files, pipes, bombs)."""
    folder = tmp_path / "proj"
    folder.mkdir()
    spec = GENERATORS[name](folder)
    (folder / "notes.txt").write_text("the user's own file", encoding="utf-8")
    run_case(folder, folder / "scenario.yaml", spec)


def test_every_case_says_what_it_expects() -> None:
    """A case file without its header would run nothing: each has args and expect."""
    for path in CASES.glob("*.yaml"):
        spec = header(path.read_text(encoding="utf-8"))
        assert {"args", "expect"} <= spec.keys(), path.name
