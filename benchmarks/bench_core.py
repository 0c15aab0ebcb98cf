"""Core speed benchmark: staffsim against idiomatic bare SimPy on the same M/M/c queue.

What is measured, all in one process so both sides see the same interpreter, libraries and
machine state:

(a) M/M/c with c = 50 agents, utilisation ρ = 0.9, exponential handle time of mean 60 s
    (so λ = 0.75/s = 2700/h), 200,000 contacts offered. Timed for the bare-SimPy reference
    model (``bare_simpy.run_bare_mmc``: one process per customer, ``simpy.Resource``, scalar
    ``rng.exponential`` draws) and for staffsim (``sim.run`` on a one-channel, one-team
    scenario whose horizon makes the expected number of arrivals 200,000).
    Target: staffsim time / bare time ≤ 0.5.
(b) The same two, with exponential patience (M/M/c+M, mean 180 s by default), as a second
    reference: abandonment adds a competing timeout per waiting customer.
(c) The same at c = 1000 with the same ρ (λ scaled to 15/s = 54,000/h) and the same number of
    contacts. Reported as time per contact relative to c = 50; a simulator whose per-event
    cost does not grow with the number of agents scores ≈ 1.0. Target for staffsim: ≤ 1.1.

Each figure is the best (minimum) of ``--repeat`` wall-clock timings taken with
``time.perf_counter``; the minimum is the least noisy estimate of what the code costs on an
otherwise idle machine. A ``gc.collect()`` precedes every timing. For staffsim the timed
region is ``sim.run(...)`` plus ``result.summary()`` (the scenario is validated beforehand),
which is what a user waits for; for bare SimPy it is the whole ``run_bare_mmc`` call, which
also ends with the mean wait computed.

Nothing here asserts on timings: it prints a table, the ratios and the targets, and exits 0.
If staffsim cannot be imported or run yet, the bare numbers are still printed, with a clear
message.

Usage::

    .venv/bin/python benchmarks/bench_core.py [--contacts 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bare_simpy import erlang_c_mean_wait_s, run_bare_mmc

RHO = 0.9
MEAN_SERVICE_S = 60.0
ANSWER_WITHIN_S = 20.0
SMALL_C = 50
LARGE_C = 1000
TARGET_RATIO = 0.5
TARGET_SCALING = 1.1


@dataclass
class Timing:
    """One benchmarked configuration: who ran it, on what, and how long the best run took."""

    model: str
    c: int
    patience_mean_s: float | None
    contacts: float
    contacts_exact: bool
    best_s: float
    best_cpu_s: float
    all_s: list[float] = field(default_factory=list)
    mean_wait_s: float | None = None

    @property
    def per_contact_us(self) -> float:
        """Wall-clock microseconds per offered contact."""
        return 1e6 * self.best_s / self.contacts

    @property
    def contacts_per_s(self) -> float:
        """Offered contacts simulated per wall-clock second."""
        return self.contacts / self.best_s


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, float, list[float], Any]:
    """Call ``fn`` ``repeat`` times; return (best wall s, best CPU s, all wall s, last result).

    Wall-clock time (``perf_counter``) is the figure reported; the process CPU time is kept
    beside it because on a shared machine a wall time well above the CPU time means the run
    was competing for a core and the wall figure is pessimistic.
    """
    times: list[float] = []
    cpu_times: list[float] = []
    out: Any = None
    for _ in range(repeat):
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    return min(times), min(cpu_times), times, out


# --- bare SimPy ----------------------------------------------------------------------


def time_bare(c: int, n: int, seed: int, patience: float | None, repeat: int) -> Timing:
    """Time the bare-SimPy reference model."""
    best, best_cpu, times, out = best_of(
        repeat, lambda: run_bare_mmc(c, RHO, MEAN_SERVICE_S, n, seed, patience)
    )
    return Timing(
        model="bare SimPy",
        c=c,
        patience_mean_s=patience,
        contacts=out["offered"],
        contacts_exact=True,
        best_s=best,
        best_cpu_s=best_cpu,
        all_s=times,
        mean_wait_s=out["mean_wait_s"],
    )


# --- staffsim ------------------------------------------------------------------------


def staffsim_scenario(c: int, n: int, seed: int, patience: float | None) -> dict[str, Any]:
    """The staffsim scenario equivalent to ``run_bare_mmc(c, RHO, 60, n, seed, patience)``."""
    rate_per_hour = RHO * c / MEAN_SERVICE_S * 3600.0
    phone: dict[str, Any] = {
        "arrivals": {"rate_per_hour": rate_per_hour},
        "handle_time": {"dist": "exponential", "mean_s": MEAN_SERVICE_S},
        "target": {"answer_within_s": ANSWER_WITHIN_S},
    }
    if patience is not None:
        phone["patience"] = {"dist": "exponential", "mean_s": patience}
    return {
        "name": f"mmc-bench-c{c}",
        "seed": seed,
        "replications": 1,
        "horizon_hours": n / rate_per_hour,
        "warmup_hours": 0,
        "channels": {"phone": phone},
        "agents": {"team": {"count": c, "skills": ["phone"]}},
    }


def _metric_rows(frame: Any) -> list[tuple[str, float]]:
    """(lower-cased metric name, value) pairs from a long or wide pandas DataFrame."""
    rows: list[tuple[str, float]] = []
    columns = [str(col) for col in getattr(frame, "columns", [])]
    if "metric" in columns:
        value_col = next((col for col in ("value", "mean", "estimate") if col in columns), None)
        if value_col is not None:
            for name, value in zip(frame["metric"], frame[value_col], strict=True):
                try:
                    rows.append((str(name).lower(), float(value)))
                except (TypeError, ValueError):
                    continue
            return rows
    # Wide layout: one column per metric; take the first row.
    if len(frame):
        first = frame.iloc[0]
        for col in columns:
            try:
                rows.append((col.lower(), float(first[col])))
            except (TypeError, ValueError):
                continue
    return rows


def _find(rows: list[tuple[str, float]], *words: str) -> float | None:
    """Value of the metric named ``words[0]``, else of the first whose name has all ``words``."""
    if len(words) == 1:
        for name, value in rows:
            if name == words[0]:
                return value
    for name, value in rows:
        if all(word in name for word in words):
            return value
    return None


def time_staffsim(sim: Any, c: int, n: int, seed: int, patience: float | None, repeat: int) -> Timing:
    """Time ``sim.run`` (+ ``summary()``) on the scenario equivalent to the bare model."""
    scenario = sim.load_scenario(staffsim_scenario(c, n, seed, patience))

    def once() -> tuple[Any, Any]:
        result = sim.run(scenario, replications=1, seed=seed, records="summary")
        return result, result.summary()

    best, best_cpu, times, (result, summary) = best_of(repeat, once)

    rows: list[tuple[str, float]] = []
    replications = getattr(result, "replications", None)
    if callable(replications):
        try:
            rows = _metric_rows(replications())
        except Exception:  # the per-replication table is a nicety, not a requirement
            rows = []
    rows += _metric_rows(summary)
    offered = _find(rows, "offered")
    mean_wait = _find(rows, "mean_wait_s")
    if mean_wait is None:
        mean_wait = _find(rows, "mean", "wait")
    if mean_wait is None:
        mean_wait = _find(rows, "asa")
    return Timing(
        model="staffsim",
        c=c,
        patience_mean_s=patience,
        contacts=offered if offered else float(n),
        contacts_exact=bool(offered),
        best_s=best,
        best_cpu_s=best_cpu,
        all_s=times,
        mean_wait_s=mean_wait,
    )


def import_staffsim() -> tuple[Any, str | None]:
    """Import ``sim`` and check it has the API used here; (module or None, why not)."""
    try:
        import sim
    except Exception as exc:
        return None, f"`import sim` failed: {exc!r}"
    missing = [name for name in ("load_scenario", "run") if not hasattr(sim, name)]
    if missing:
        return None, f"`sim` has no {', '.join(missing)} yet"
    return sim, None


# --- report --------------------------------------------------------------------------


def version_of(dist: str) -> str:
    """Installed version of a distribution, or 'not installed'."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_facts() -> dict[str, str]:
    """Facts that decide whether two benchmark runs are comparable."""
    try:
        usable = str(len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        usable = "?"
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": f"{os.cpu_count()} (usable by this process: {usable})",
        "simpy": version_of("simpy"),
        "numpy": version_of("numpy"),
        "staffsim": version_of("staffsim"),
        "load avg": load_average(),
    }


def load_average() -> str:
    """The 1/5/15-minute load averages, or '?' where the OS does not report them."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "?"


def abandon_label(patience: float | None) -> str:
    """Short column text for the abandonment setting."""
    return "no" if patience is None else f"exp {patience:g} s"


def print_table(timings: list[Timing]) -> None:
    """One row per timed configuration."""
    header = (
        f"{'model':<11} {'c':>5} {'abandon':>11} {'contacts':>9} {'best s':>8} {'cpu s':>7} "
        f"{'contacts/s':>11} {'us/contact':>11} {'mean wait s':>12}"
    )
    print(header)
    print("-" * len(header))
    for t in timings:
        wait = "?" if t.mean_wait_s is None else f"{t.mean_wait_s:.4f}"
        star = "" if t.contacts_exact else "*"
        print(
            f"{t.model:<11} {t.c:>5} {abandon_label(t.patience_mean_s):>11} "
            f"{t.contacts:>8,.0f}{star:1} {t.best_s:>8.3f} {t.best_cpu_s:>7.3f} "
            f"{t.contacts_per_s:>11,.0f} "
            f"{t.per_contact_us:>11.2f} {wait:>12}"
        )
    if any(not t.contacts_exact for t in timings):
        print("* expected number of arrivals (offered count not found in staffsim's result)")


def lookup(timings: list[Timing], model: str, c: int, patience: float | None) -> Timing | None:
    """The timing for one configuration, if it was run."""
    for t in timings:
        if t.model == model and t.c == c and t.patience_mean_s == patience:
            return t
    return None


def print_ratios(timings: list[Timing], patiences: list[float | None]) -> None:
    """Staffsim vs bare at equal work, and each model's c=1000 vs c=50 cost per contact."""
    lines: list[str] = []
    for patience in patiences:
        tag = abandon_label(patience)
        for c in (SMALL_C, LARGE_C):
            bare, ours = (lookup(timings, m, c, patience) for m in ("bare SimPy", "staffsim"))
            if bare is None or ours is None:
                continue
            ratio = ours.per_contact_us / bare.per_contact_us
            target = f"  (target <= {TARGET_RATIO})" if c == SMALL_C and patience is None else ""
            lines.append(
                f"staffsim / bare time per contact, c={c}, abandon {tag}: {ratio:.3f}"
                f"  [{bare.per_contact_us / ours.per_contact_us:.2f}x faster]{target}"
            )
        for model in ("bare SimPy", "staffsim"):
            small, large = (lookup(timings, model, c, patience) for c in (SMALL_C, LARGE_C))
            if small is None or large is None:
                continue
            scaling = large.per_contact_us / small.per_contact_us
            target = f"  (target <= {TARGET_SCALING})" if model == "staffsim" and patience is None else ""
            lines.append(
                f"{model}: time per contact c={LARGE_C} / c={SMALL_C}, abandon {tag}: {scaling:.3f}{target}"
            )
    if lines:
        print()
        print("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Time staffsim against idiomatic bare SimPy on M/M/c (rho 0.9, 60 s)."
    )
    parser.add_argument("--contacts", type=int, default=200_000, help="contacts per run")
    parser.add_argument("--repeat", type=int, default=3, help="timings per configuration")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--patience", type=float, default=180.0, help="mean patience (s) for the abandonment rows"
    )
    parser.add_argument("--no-abandon", action="store_true", help="skip the abandonment rows")
    parser.add_argument("--no-large", action="store_true", help=f"skip the c={LARGE_C} rows (benchmark c)")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args()

    facts = machine_facts()
    print("staffsim core benchmark: M/M/c, rho 0.9, exponential handle time mean 60 s")
    for key, value in facts.items():
        print(f"  {key:<10} {value}")
    print(f"  contacts   {args.contacts:,} per run, best of {args.repeat}, seed {args.seed}")
    print()

    sizes = [SMALL_C] if args.no_large else [SMALL_C, LARGE_C]
    patiences: list[float | None] = [None] if args.no_abandon else [None, args.patience]
    sim, why_not = import_staffsim()

    timings: list[Timing] = []
    staffsim_error: str | None = why_not
    for c in sizes:
        for patience in patiences:
            print(f"timing bare SimPy, c={c}, abandon {abandon_label(patience)} ...", flush=True)
            timings.append(time_bare(c, args.contacts, args.seed, patience, args.repeat))
            if sim is None:
                continue
            print(f"timing staffsim,   c={c}, abandon {abandon_label(patience)} ...", flush=True)
            try:
                timings.append(time_staffsim(sim, c, args.contacts, args.seed, patience, args.repeat))
            except Exception as exc:
                staffsim_error = f"staffsim failed on c={c}: {exc!r}"
                traceback.print_exc()
                sim = None
    print()

    print_table(timings)
    print(f"load average at the end: {load_average()}")
    contended = [t for t in timings if t.best_s > 1.15 * t.best_cpu_s]
    if contended:
        print(
            f"note: {len(contended)} row(s) took >15% more wall time than CPU time: other "
            "processes competed for the CPU; rerun on a quiet machine for citable numbers"
        )
    print()
    for c in sizes:
        exact = erlang_c_mean_wait_s(c, RHO, MEAN_SERVICE_S)
        print(f"Erlang C mean wait, c={c}, no abandonment: {exact:.4f} s")
    print_ratios(timings, patiences)
    if staffsim_error is not None:
        print()
        print(f"STAFFSIM NOT MEASURED: {staffsim_error}")
        print("(staffsim isn't importable/runnable yet; the bare SimPy numbers above stand alone)")

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "machine": facts,
            "contacts": args.contacts,
            "repeat": args.repeat,
            "timings": [
                asdict(t) | {"contacts_per_s": t.contacts_per_s, "per_contact_us": t.per_contact_us}
                for t in timings
            ],
            "staffsim_error": staffsim_error,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
