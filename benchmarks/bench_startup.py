"""Start-up benchmark: what a planner waits for, from pressing Enter to the printed table.

Every figure is a whole process started from the shell (`python -m sim run ...`), so it
counts the interpreter, the imports, loading and validating the scenario, the simulation and
the printing. Measured in one invocation, on the same machine state:

(a) the interpreter alone (`python -c pass`): the floor no code of ours can lower;
(b) `staffsim run` of a scenario one minute long (10 calls a minute, 5 agents, one
    replication): almost all start-up. Target: at most 0.6 s.
(c) `staffsim run` of an M/M/c queue (c = 50, ρ = 0.9, mean handle time 60 s) over a horizon
    that offers one million contacts on average, one replication, as a planner types it
    (records ``summary``, the default), and (c') the same with ``--records none``, against
(d) the bare-SimPy script (`benchmarks/bare_simpy.py`, one process per customer) on the same
    queue and number of contacts, also as a whole process. Target: (c) / (d) at most 0.4.

Each figure is the best (minimum) of ``--repeat`` runs, as wall time and as CPU time
(user + system of the child process). On a machine shared with other work the wall time
grows with the load while the CPU time barely moves, so the table shows both; the targets
are meant for the wall time on a quiet machine. ``--imports`` adds the modules that
`python -X importtime` charges to (b), by top-level package.

Nothing here asserts on timings: it prints a table and exits 0.

Usage::

    .venv/bin/python benchmarks/bench_startup.py [--repeat 3] [--contacts 1000000] [--imports]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
C, RHO, MEAN_SERVICE_S = 50, 0.9, 60.0
TARGET_ONE_MINUTE_S = 0.6
TARGET_RATIO = 0.4

ONE_MINUTE = {
    "name": "one-minute",
    "seed": 1,
    "replications": 1,
    "horizon_hours": 1 / 60,
    "warmup_hours": 0,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 600},
            "handle_time": {"dist": "exponential", "mean_s": 60},
            "target": {"answer_within_s": 20},
        }
    },
    "agents": {"team": {"count": 5, "skills": ["phone"]}},
}


def mmc(contacts: int) -> dict[str, object]:
    """The staffsim scenario of `bare_simpy.run_bare_mmc(C, RHO, 60, contacts, 1)`."""
    rate_per_hour = RHO * C / MEAN_SERVICE_S * 3600.0
    return {
        "name": f"mmc-{contacts}",
        "seed": 1,
        "replications": 1,
        "horizon_hours": contacts / rate_per_hour,
        "warmup_hours": 0,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": rate_per_hour},
                "handle_time": {"dist": "exponential", "mean_s": MEAN_SERVICE_S},
                "target": {"answer_within_s": 20},
            }
        },
        "agents": {"team": {"count": C, "skills": ["phone"]}},
    }


def timed(command: list[str], repeat: int) -> tuple[float, float]:
    """Best wall and best CPU seconds of `repeat` runs of `command` (output discarded)."""
    walls, cpus = [], []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def import_profile(command: list[str], top: int = 12) -> list[tuple[str, float]]:
    """Milliseconds of import time (self) per top-level package, largest first."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]], capture_output=True, text=True, env=env, check=True
    )
    per: collections.Counter[str] = collections.Counter()
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \| \s*(\S+)", line)
        if m:
            per[m.group(2).split(".")[0]] += int(m.group(1))
    return [(name, us / 1000) for name, us in per.most_common(top)]


def main() -> None:
    """Run the four measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the best counts)")
    parser.add_argument("--contacts", type=int, default=1_000_000, help="contacts of (c) and (d)")
    parser.add_argument("--imports", action="store_true", help="also show import time by package")
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one_minute.yaml"
        big = Path(tmp) / "mmc.yaml"
        one.write_text(yaml.safe_dump(ONE_MINUTE))
        big.write_text(yaml.safe_dump(mmc(args.contacts)))
        rows = [
            ("(a) python -c pass", timed([py, "-c", "pass"], args.repeat)),
            ("(b) staffsim run, one minute", timed([py, "-m", "sim", "run", str(one), "-q"], args.repeat)),
            (
                f"(c) staffsim run, M/M/c {args.contacts:,} contacts",
                timed([py, "-m", "sim", "run", str(big), "-q"], args.repeat),
            ),
            (
                "(c') the same, --records none",
                timed([py, "-m", "sim", "run", str(big), "-q", "--records", "none"], args.repeat),
            ),
            (
                f"(d) bare SimPy, M/M/c {args.contacts:,} contacts",
                timed(
                    [py, str(HERE / "bare_simpy.py"), "--c", str(C), "--rho", str(RHO), "--contacts",
                     str(args.contacts)],
                    args.repeat,
                ),
            ),
        ]  # fmt: skip
        profile = import_profile([py, "-m", "sim", "run", str(one), "-q"]) if args.imports else []
    print(f"{'whole process':<44} {'wall s':>8} {'CPU s':>8}")
    for label, (wall, cpu) in rows:
        print(f"{label:<44} {wall:8.3f} {cpu:8.3f}")
    (_, (b_wall, b_cpu)), (_, (c_wall, c_cpu)), (_, (n_wall, n_cpu)), (_, (d_wall, d_cpu)) = rows[1:]
    print()
    print(f"one-minute run: {b_wall:.3f} s wall, {b_cpu:.3f} s CPU (target ≤ {TARGET_ONE_MINUTE_S} s)")
    print(
        f"staffsim / bare SimPy, whole process: {c_wall / d_wall:.3f} wall, {c_cpu / d_cpu:.3f} CPU "
        f"(target ≤ {TARGET_RATIO}); with --records none {n_wall / d_wall:.3f} wall, {n_cpu / d_cpu:.3f} CPU"
    )
    load = os.getloadavg()[0]
    print(f"load average during the run: {load:.1f} on {os.cpu_count()} cores")
    if profile:
        print("\nimport time of (b), self, by top-level package:")
        for name, ms in profile:
            print(f"  {name:<24} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
