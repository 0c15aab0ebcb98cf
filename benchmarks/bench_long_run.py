"""Long runs: does memory stay flat as the horizon grows? (A benchmark, not a test.)

The question: can staffsim simulate a year of a busy centre — 10 contacts per second, about
315 million contacts — in bounded memory? With records ``"none"`` (metrics only) and
``"summary"`` (plus per-interval tallies) it should: a contact is a record that is dropped
when it ends, agents are counts, arrivals and durations are drawn in blocks of 4,096, so the
working set is the contacts in the system (waiting or in service), not the contacts so far.
With ``"full"`` records memory grows with every contact, by design.

What it does: one M/M/c+M phone queue at 10 contacts/s (36,000 per hour), mean handle time
60 s, 640 agents (load 600 erlangs, occupancy about 94 %), mean patience 180 s. Each
(records mode, horizon) is run in a fresh Python process, one replication, and reports the
peak resident set size (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) next to the resident
size after imports, so the growth is what the run itself added.

Scale: pure Python simulates this at roughly 60-100 thousand contacts per second, so a
simulated year (3.15e8 contacts) takes about an hour per records mode, a month (2.6e7)
about five minutes and a week (6e6) about a minute. The default plan is therefore scaled
down — 1 hour, 1 day and 1 week with records none and summary, and 1 hour, 6 hours and 1
day with records full for contrast — which is enough to see flat against linear growth.
`--month` adds 30 days, `--year` adds 365 days (none and summary), for the patient.

    .venv/bin/python benchmarks/bench_long_run.py            # about 5 minutes
    .venv/bin/python benchmarks/bench_long_run.py --month    # about 15 minutes
    .venv/bin/python benchmarks/bench_long_run.py --year     # about 2.5 hours

Flat means: the peak grows by a few MB from 1 hour to the longest horizon with records
none and summary (summary adds a few hundred bytes per 30-minute interval), while records
full grows by tens of bytes per contact.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

RATE_PER_S = 10.0
HOUR = 1.0
DAY = 24.0


def scenario(horizon_hours: float) -> dict[str, Any]:
    """The benchmark centre: one phone queue at 10 contacts/s, 640 agents."""
    return {
        "name": "long-run",
        "seed": 1,
        "horizon_hours": horizon_hours,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": RATE_PER_S * 3600},
                "handle_time": {"dist": "exponential", "mean_s": 60},
                "patience": {"dist": "exponential", "mean_s": 180},
            }
        },
        "agents": {"team": {"count": 640, "skills": ["phone"]}},
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident set size now, MB."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def child(horizon_hours: float, records: str) -> None:
    """Run one replication and print a JSON line of its measurements."""
    import sim
    import sim.runner.simulate

    _ = (sim.run, sim.load_scenario, sim.RunResult)  # `import sim` is lazy: load everything before measuring
    loaded = current_rss_mb()
    sc = sim.load_scenario(scenario(horizon_hours))
    start = time.perf_counter()
    result = sim.run(sc, replications=1, records=records)
    seconds = time.perf_counter() - start
    offered = result.outputs[0].channels["phone"]["offered"]
    print(
        json.dumps(
            {
                "records": records,
                "horizon_hours": horizon_hours,
                "contacts": offered,
                "seconds": seconds,
                "rss_after_import_mb": loaded,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


SAMPLE_S = 10.0
"""How often the parent reads the child's resident set size while it runs."""


def rss_of(pid: int) -> float | None:
    """Resident set size of process `pid` now, MB (None once it has gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def measure(horizon_hours: float, records: str) -> dict[str, Any]:
    """Run `child` in a fresh interpreter, so each peak belongs to one run.

    While it runs, its resident set size is read every `SAMPLE_S` seconds, so a long run
    shows memory over time (flat, or growing), not only its peak at the end.
    """
    with subprocess.Popen(
        [sys.executable, __file__, "--child", str(horizon_hours), records],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        samples: list[float] = []
        while True:
            try:
                proc.wait(timeout=SAMPLE_S)
                break
            except subprocess.TimeoutExpired:
                mb = rss_of(proc.pid)
                if mb is not None:
                    samples.append(mb)
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the child run failed ({proc.returncode}):\n{err}")
    result = dict(json.loads(out.strip().splitlines()[-1]))
    half = len(samples) // 2
    result["rss_samples_mb"] = samples
    result["rss_first_half_max_mb"] = max(samples[:half], default=float("nan"))
    result["rss_second_half_max_mb"] = max(samples[half:], default=float("nan"))
    return result


def label(hours: float) -> str:
    """`1 h`, `1 d`, `1 wk`, `30 d`."""
    if hours < DAY:
        return f"{hours:g} h"
    if hours == 7 * DAY:
        return "1 wk"
    return f"{hours / DAY:g} d"


def main() -> None:
    """Run the plan and print a table of horizon against peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", action="store_true", help="also 30 days (none, summary)")
    parser.add_argument("--year", action="store_true", help="also 365 days (none, summary)")
    parser.add_argument("--child", nargs=2, metavar=("HOURS", "RECORDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(float(args.child[0]), args.child[1])
        return
    flat = (
        [HOUR, DAY, 7 * DAY]
        + ([30 * DAY] if args.month or args.year else [])
        + ([365 * DAY] if args.year else [])
    )
    plan = [(h, m) for m in ("none", "summary") for h in flat] + [(h, "full") for h in (HOUR, 6 * HOUR, DAY)]
    print(f"{'records':<8} {'horizon':>8} {'contacts':>12} {'seconds':>9} {'contacts/s':>11} "
          f"{'RSS import':>11} {'peak RSS':>9} {'growth':>8}")  # fmt: skip
    rows = []
    for hours, records in plan:
        r = measure(hours, records)
        growth = r["peak_rss_mb"] - r["rss_after_import_mb"]
        rows.append({**r, "growth_mb": growth})
        print(
            f"{records:<8} {label(hours):>8} {r['contacts']:>12,.0f} {r['seconds']:>9.1f} "
            f"{r['contacts'] / r['seconds']:>11,.0f} {r['rss_after_import_mb']:>9.0f}MB "
            f"{r['peak_rss_mb']:>7.0f}MB {growth:>6.0f}MB",
            flush=True,
        )
        if len(r["rss_samples_mb"]) >= 4:
            print(
                f"{'':<8} {'':>8} RSS sampled every {SAMPLE_S:g} s: max {r['rss_first_half_max_mb']:.0f} MB "
                f"in the first half of the run, {r['rss_second_half_max_mb']:.0f} MB in the second",
                flush=True,
            )
    for records in ("none", "summary", "full"):
        mine = [r for r in rows if r["records"] == records]
        first, last = mine[0], mine[-1]
        per_contact = (
            (last["growth_mb"] - first["growth_mb"]) * 2**20 / max(1, last["contacts"] - first["contacts"])
        )
        print(
            f"records {records}: growth {first['growth_mb']:.0f} MB at {label(first['horizon_hours'])}, "
            f"{last['growth_mb']:.0f} MB at {label(last['horizon_hours'])} "
            f"({per_contact:.1f} bytes per extra contact)"
        )


if __name__ == "__main__":
    main()
