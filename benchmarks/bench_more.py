"""More benchmarks: the full baseline, memory against horizon, and parallel speed-up.

All in one process invocation (memory figures come from child processes, one per run, so
each peak is its own):

(b) `scenarios/baseline.yaml` — three channels, abandonment, priority routing, per-interval
    statistics — for one replication: time per contact, as a ratio to the time per contact
    of the idiomatic bare-SimPy M/M/c (c = 50, ρ = 0.9) timed in the same invocation.
    Target ≤ 0.8.
(d) Peak memory (max RSS of a child process) of an M/M/c run at several horizons, in
    records "none" and "summary" (flat: memory must not grow with the horizon) and "full"
    (bytes per contact, from the difference between two horizons; target ≤ 100).
(e) Replications on 2 worker processes against 1: wall-time speed-up. Target ≥ 1.8.

No assertions: it prints tables and ratios and exits 0.

Usage::

    .venv/bin/python benchmarks/bench_more.py [--contacts 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bare_simpy import run_bare_mmc  # noqa: E402


def best(repeat: int, fn: Any) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def mmc(c: int, hours: float) -> dict[str, Any]:
    rate = 0.9 * c / 60.0 * 3600.0
    return {
        "name": "mmc",
        "seed": 1,
        "replications": 1,
        "horizon_hours": hours,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": rate},
                "handle_time": {"dist": "exponential", "mean_s": 60},
            }
        },
        "agents": {"team": {"count": c, "skills": ["phone"]}},
    }


CHILD = """
import json, resource, sys, sim
data = json.loads(sys.argv[1])
result = sim.run(sim.load_scenario(data), replications=1, records=sys.argv[2])
offered = result.outputs[0].channels["phone"]["offered"]
print(json.dumps({"offered": offered, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def peak(data: dict[str, Any], records: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(data), records], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import sim

    print(f"staffsim benchmarks (b, d, e) — {dt.date.today().isoformat()}, python {sys.version.split()[0]}")
    results: dict[str, Any] = {}

    # (b) the full baseline against bare M/M/c, per contact.
    bare_s = best(args.repeat, lambda: run_bare_mmc(50, 0.9, 60.0, args.contacts, 1))
    bare_per = bare_s / args.contacts
    baseline = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    holder: dict[str, Any] = {}

    def run_baseline() -> None:
        holder["r"] = sim.run(baseline, replications=1, records="summary")

    base_s = best(args.repeat, run_baseline)
    offered = sum(m["offered"] for m in holder["r"].outputs[0].channels.values())
    base_per = base_s / offered
    results["b"] = {"bare_us_per_contact": 1e6 * bare_per, "baseline_us_per_contact": 1e6 * base_per,
                    "ratio": base_per / bare_per, "baseline_contacts": offered}  # fmt: skip
    print(f"(b) baseline: {offered:,.0f} contacts in {base_s:.2f} s = {1e6 * base_per:.2f} µs/contact; "
          f"bare M/M/c {1e6 * bare_per:.2f} µs/contact; ratio {base_per / bare_per:.3f} (target ≤ 0.8)")  # fmt: skip

    # (d) memory against horizon.
    rate_per_h = 0.9 * 50 / 60.0 * 3600.0
    hours = [args.contacts / rate_per_h * f for f in (0.25, 1, 4)]
    print("(d) peak memory (max RSS, MB) of one M/M/c replication, c = 50:")
    print(f"    {'contacts':>10} " + " ".join(f"{m:>9}" for m in ("none", "summary", "full")))
    mem: list[dict[str, Any]] = []
    for h in hours:
        row: dict[str, Any] = {"hours": h}
        for records in ("none", "summary", "full"):
            p = peak(mmc(50, h), records)
            row[records] = p["maxrss_kb"] / 1024
            row["offered"] = p["offered"]
        mem.append(row)
        print(
            f"    {row['offered']:>10,.0f} "
            + " ".join(f"{row[m]:>9.1f}" for m in ("none", "summary", "full"))
        )
    grow = (mem[-1]["full"] - mem[0]["full"]) * 1024 * 1024 / (mem[-1]["offered"] - mem[0]["offered"])
    flat = {m: mem[-1][m] - mem[0][m] for m in ("none", "summary")}
    results["d"] = {"rows": mem, "full_bytes_per_contact": grow, "growth_mb": flat}
    print(f"    full records: {grow:.0f} bytes per contact (target ≤ 100); growth over ×16 horizon: "
          f"none {flat['none']:+.1f} MB, summary {flat['summary']:+.1f} MB (flat)")  # fmt: skip

    # (e) replications on 2 workers vs 1 (each replication the full-size M/M/c).
    scenario = sim.load_scenario(mmc(50, args.contacts / rate_per_h))
    one = best(max(1, args.repeat - 1), lambda: sim.run(scenario, replications=6, records="none", workers=1))
    two = best(max(1, args.repeat - 1), lambda: sim.run(scenario, replications=6, records="none", workers=2))
    results["e"] = {"one_worker_s": one, "two_workers_s": two, "speedup": one / two}
    print(f"(e) 6 replications of {args.contacts:,} contacts: 1 worker {one:.2f} s, 2 workers {two:.2f} s; "
          f"speed-up {one / two:.2f}× (target ≥ 1.8)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
