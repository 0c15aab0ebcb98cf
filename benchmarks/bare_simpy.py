"""Reference M/M/c (and M/M/c+M) model written the way SimPy tutorials write it.

This module is the yardstick that ``bench_core.py`` holds staffsim against. It is deliberately
*idiomatic* rather than clever, so that "x times faster than bare SimPy" means something a SimPy
user would recognise:

- one SimPy process per customer, started by a source process that generates Poisson arrivals;
- agents are a ``simpy.Resource(env, capacity=c)``; a customer does
  ``with res.request() as req: yield req; yield env.timeout(service)``;
- with abandonment, the customer waits on ``req | env.timeout(patience)`` and leaves if the
  patience timeout fires first (leaving the ``with`` block cancels the pending request);
- every interarrival, service and patience time is drawn one at a time with
  ``rng.exponential(mean)`` from a ``numpy.random.Generator`` that is passed in (no global
  random state, no pre-drawn arrays);
- each answered customer's wait is appended to a list; the mean is taken at the end.

The run stops generating arrivals after the ``n_contacts``-th one and then lets the system
drain (``env.run()`` with no horizon), so exactly ``n_contacts`` customers are offered and all
of them are either answered or abandoned. The expected simulated span is ``n_contacts / λ``,
which is the horizon the staffsim side of the benchmark uses.

Run directly for a quick check::

    .venv/bin/python benchmarks/bare_simpy.py --c 50 --rho 0.9 --contacts 200000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Generator as PyGenerator
from typing import Any

import numpy as np
import simpy

Event = Any  # SimPy ships no type information; processes yield arbitrary events.


def arrival_rate_per_s(c: int, rho: float, mean_service_s: float) -> float:
    """Poisson arrival rate λ (per second) that loads ``c`` agents to utilisation ``rho``."""
    return rho * c / mean_service_s


def run_bare_mmc(
    c: int,
    rho: float,
    mean_service_s: float,
    n_contacts: int,
    seed: int,
    patience_mean_s: float | None = None,
) -> dict[str, float]:
    """Simulate an M/M/c queue (M/M/c+M with ``patience_mean_s``) in plain SimPy.

    Args:
        c: Number of agents (resource capacity).
        rho: Offered load per agent, ``λ · mean_service_s / c``.
        mean_service_s: Mean of the exponential service (handle) time, seconds.
        n_contacts: Number of customers that arrive; the run then drains.
        seed: Seed for ``numpy.random.default_rng``.
        patience_mean_s: Mean of the exponential patience; ``None`` means nobody abandons.

    Returns:
        ``offered``, ``answered``, ``abandoned``, ``mean_wait_s`` (over answered customers),
        ``service_level_20s`` (fraction of offered answered within 20 s) and
        ``sim_end_s`` (simulated time at which the last customer left).
    """
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=c)
    mean_interarrival_s = 1.0 / arrival_rate_per_s(c, rho, mean_service_s)
    waits: list[float] = []
    abandoned = 0

    def customer(env: simpy.Environment) -> PyGenerator[Event, Any, None]:
        arrived = env.now
        with agents.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.exponential(mean_service_s))

    def impatient_customer(env: simpy.Environment, patience_s: float) -> PyGenerator[Event, Any, None]:
        nonlocal abandoned
        arrived = env.now
        with agents.request() as req:
            fired = yield req | env.timeout(patience_s)
            if req not in fired:
                abandoned += 1
                return
            waits.append(env.now - arrived)
            yield env.timeout(rng.exponential(mean_service_s))

    def source(env: simpy.Environment) -> PyGenerator[Event, Any, None]:
        for _ in range(n_contacts):
            yield env.timeout(rng.exponential(mean_interarrival_s))
            if patience_mean_s is None:
                env.process(customer(env))
            else:
                env.process(impatient_customer(env, rng.exponential(patience_mean_s)))

    env.process(source(env))
    env.run()

    answered = len(waits)
    wait_arr = np.asarray(waits)
    return {
        "offered": float(n_contacts),
        "answered": float(answered),
        "abandoned": float(abandoned),
        "mean_wait_s": float(wait_arr.mean()) if answered else float("nan"),
        "service_level_20s": float(np.count_nonzero(wait_arr <= 20.0)) / n_contacts,
        "sim_end_s": float(env.now),
    }


def erlang_c_mean_wait_s(c: int, rho: float, mean_service_s: float) -> float:
    """Exact mean wait in queue of M/M/c (Erlang C), for sanity-checking the simulations."""
    a = rho * c  # offered load in Erlangs
    # Erlang B by the stable recursion B(k) = a·B(k-1) / (k + a·B(k-1)), then Erlang C from it.
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    p_wait = b / (1.0 - rho * (1.0 - b))
    return p_wait * mean_service_s / (c - a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c", type=int, default=50)
    parser.add_argument("--rho", type=float, default=0.9)
    parser.add_argument("--mean-service", type=float, default=60.0)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--patience", type=float, default=None, help="mean patience, s")
    args = parser.parse_args()

    t0 = time.perf_counter()
    out = run_bare_mmc(args.c, args.rho, args.mean_service, args.contacts, args.seed, args.patience)
    elapsed = time.perf_counter() - t0
    for key, value in out.items():
        print(f"{key:>18}: {value:,.4f}")
    if args.patience is None:
        exact = erlang_c_mean_wait_s(args.c, args.rho, args.mean_service)
        print(f"{'erlang_c_wait_s':>18}: {exact:,.4f}")
    print(f"{'elapsed_s':>18}: {elapsed:.3f}  ({args.contacts / elapsed:,.0f} contacts/s)")


if __name__ == "__main__":
    main()
