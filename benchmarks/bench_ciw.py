"""For the record: Ciw 3.x against the bare-SimPy reference on the same M/M/c queue.

Ciw (https://ciw.readthedocs.io) is a pure-Python queueing-network simulator with its own
event loop (no SimPy). It is the other obvious off-the-shelf way to simulate a contact
centre queue in Python, so its speed is a useful second point of reference next to
``bare_simpy.py``. staffsim does not depend on it; it is installed by the ``bench`` extra
(``pip install -e .[bench]``), and this script exits 0 with a message if it is missing.

Scenario: the one of ``bench_core.py``: ρ = 0.9, exponential handle time of mean 60 s,
c = 50 (λ = 0.75/s) and c = 1000 (λ = 15/s), optionally with exponential patience
(``--abandon``, Ciw's ``reneging_time_distributions``). Ciw runs until ``--contacts``
customers have left the system (``simulate_until_max_customers(..., method="Finish")``);
the contacts counted are those that arrived by then. Ciw draws from Python's global
``random`` module, seeded with ``ciw.seed``. Timed region: building the ``ciw.Simulation``,
running it and computing the mean wait from ``get_all_records()``.

Ciw picks a free server by scanning its servers, so its cost per contact grows with c; the
c = 1000 rows take minutes at 200,000 contacts (hence ``--repeat 1`` by default and
``--no-large`` to skip them).

Usage::

    .venv/bin/python benchmarks/bench_ciw.py [--contacts 200000] [--repeat 1] [--abandon]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bare_simpy import erlang_c_mean_wait_s, run_bare_mmc
from bench_core import (
    LARGE_C,
    MEAN_SERVICE_S,
    RHO,
    SMALL_C,
    load_average,
    machine_facts,
    version_of,
)


def run_ciw_mmc(
    ciw: Any, c: int, n_contacts: int, seed: int, patience_mean_s: float | None
) -> dict[str, float]:
    """Simulate M/M/c (M/M/c+M with patience) in Ciw until ``n_contacts`` customers left."""
    kwargs: dict[str, Any] = {
        "arrival_distributions": [ciw.dists.Exponential(rate=RHO * c / MEAN_SERVICE_S)],
        "service_distributions": [ciw.dists.Exponential(rate=1.0 / MEAN_SERVICE_S)],
        "number_of_servers": [c],
    }
    if patience_mean_s is not None:
        kwargs["reneging_time_distributions"] = [ciw.dists.Exponential(rate=1.0 / patience_mean_s)]
    ciw.seed(seed)
    simulation = ciw.Simulation(ciw.create_network(**kwargs))
    simulation.simulate_until_max_customers(n_contacts, method="Finish")
    records = simulation.get_all_records()
    waits = [r.waiting_time for r in records if r.record_type == "service"]
    return {
        "offered": float(simulation.nodes[0].number_of_individuals),
        "answered": float(len(waits)),
        "mean_wait_s": sum(waits) / len(waits) if waits else float("nan"),
    }


def best_of(repeat: int, fn: Any) -> tuple[float, float, dict[str, float]]:
    """Best wall-clock and best CPU seconds of ``repeat`` calls, and the last call's result."""
    best = best_cpu = float("inf")
    out: dict[str, float] = {}
    for _ in range(repeat):
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, best_cpu, out


def main() -> int:
    parser = argparse.ArgumentParser(description="Time Ciw against bare SimPy on M/M/c.")
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--abandon", action="store_true", help="also time M/M/c+M rows")
    parser.add_argument("--patience", type=float, default=180.0, help="mean patience, s")
    parser.add_argument("--no-large", action="store_true", help=f"skip c={LARGE_C}")
    args = parser.parse_args()

    try:
        import ciw
    except ImportError as exc:
        print(f"Ciw is not importable ({exc}); install the bench extra: pip install -e .[bench]")
        return 0

    print("Ciw vs bare SimPy: M/M/c, rho 0.9, exponential handle time mean 60 s")
    for key, value in machine_facts().items():
        print(f"  {key:<10} {value}")
    print(f"  ciw        {version_of('ciw')}")
    print(f"  contacts   {args.contacts:,} per run, best of {args.repeat}, seed {args.seed}")
    print()

    sizes = [SMALL_C] if args.no_large else [SMALL_C, LARGE_C]
    patiences: list[float | None] = [None, args.patience] if args.abandon else [None]
    header = (
        f"{'model':<11} {'c':>5} {'abandon':>11} {'contacts':>9} {'best s':>8} {'cpu s':>7} "
        f"{'contacts/s':>11} {'us/contact':>11} {'mean wait s':>12} {'ciw/bare':>9}"
    )
    lines = [header, "-" * len(header)]
    for c in sizes:
        for patience in patiences:
            tag = "no" if patience is None else f"exp {patience:g} s"
            print(f"timing c={c}, abandon {tag} ...", flush=True)
            bare_s, bare_cpu, bare = best_of(
                args.repeat,
                lambda c=c, p=patience: run_bare_mmc(c, RHO, MEAN_SERVICE_S, args.contacts, args.seed, p),
            )
            ciw_s, ciw_cpu, theirs = best_of(
                args.repeat,
                lambda c=c, p=patience: run_ciw_mmc(ciw, c, args.contacts, args.seed, p),
            )
            bare_us = 1e6 * bare_s / bare["offered"]
            ciw_us = 1e6 * ciw_s / theirs["offered"]
            for name, secs, cpu, out, us, ratio in (
                ("bare SimPy", bare_s, bare_cpu, bare, bare_us, ""),
                ("Ciw", ciw_s, ciw_cpu, theirs, ciw_us, f"{ciw_us / bare_us:.2f}"),
            ):
                lines.append(
                    f"{name:<11} {c:>5} {tag:>11} {out['offered']:>9,.0f} {secs:>8.3f} {cpu:>7.3f} "
                    f"{out['offered'] / secs:>11,.0f} {us:>11.2f} {out['mean_wait_s']:>12.4f} "
                    f"{ratio:>9}"
                )
    print()
    print("\n".join(lines))
    print("(ciw/bare: ratio of wall-clock time per contact; > 1 means Ciw is slower)")
    print(f"load average at the end: {load_average()}")
    for c in sizes:
        print(f"Erlang C mean wait, c={c}: {erlang_c_mean_wait_s(c, RHO, MEAN_SERVICE_S):.4f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
