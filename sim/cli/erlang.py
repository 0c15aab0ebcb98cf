"""`staffsim erlang`: Erlang C (or Erlang A) figures for one single-skill queue, no simulation.

An overloaded Erlang C queue (offered load at least the agents) has no steady state: the
queue grows without bound, every caller waits and ASA is infinite. The command says so in a
note (and `stable: false`, ASA null in `--json`) and points to Erlang A, whose callers hang
up and so keep the queue finite.
"""

from __future__ import annotations

import json
import math
import textwrap
from typing import Any

import click

from sim.cli._common import fail


@click.command()
@click.option(
    "--agents",
    "-c",
    type=click.IntRange(min=1),
    help="Agents on duty (omit to find the fewest that meet --service-level).",
)
@click.option(
    "--rate-per-hour", type=click.FloatRange(min=0, min_open=True), required=True, help="Arrivals per hour."
)
@click.option(
    "--aht-s", type=click.FloatRange(min=0, min_open=True), required=True, help="Mean handle time, seconds."
)
@click.option(
    "--target-s",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    help="Answer-within target, seconds.",
)
@click.option(
    "--patience-s",
    type=click.FloatRange(min=0, min_open=True),
    help="Mean patience, seconds (Erlang A; omit for Erlang C).",
)
@click.option(
    "--service-level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.8,
    show_default=True,
    help="Target share answered within --target-s, when sizing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def erlang(
    agents: int | None,
    rate_per_hour: float,
    aht_s: float,
    target_s: float,
    patience_s: float | None,
    service_level: float,
    as_json: bool,
) -> None:
    """Erlang C (or Erlang A with --patience-s) figures for a single-skill queue.

    With --agents at or below the offered load, Erlang C has no steady state (the queue
    grows without bound): a note says so, and --json has "stable": false and "asa_s": null.
    """
    from sim.analytic import erlang as e

    lam = rate_per_hour / 3600.0
    load = lam * aht_s
    sized = agents is None
    try:
        if agents is None:
            if patience_s is None:
                agents = e.min_agents_erlang_c(load, aht_s, target_s, service_level)
            else:
                agents = e.min_agents_erlang_a(lam, aht_s, patience_s, target_s, service_level)
        figures: dict[str, Any] = {
            "agents": agents,
            "load_erlangs": load,
            "sqrt_staffing_beta": (agents - load) / load**0.5,
            "target_s": target_s,  # the answer-within time of service_level
            "sized_for_service_level": service_level if sized else None,
        }
        if patience_s is None:
            stable = load < agents
            figures.update(
                model="erlang_c",
                stable=stable,
                p_wait=e.erlang_c(agents, load),
                asa_s=e.erlang_c_asa(agents, load, aht_s),
                service_level=e.erlang_c_service_level(agents, load, aht_s, target_s),
                occupancy=min(load / agents, 1.0),
            )
            note = None if stable else _overload_note(load, agents)
        else:
            a = e.erlang_a(agents, lam, aht_s, patience_s, target_s)
            figures.update(
                model="erlang_a",
                stable=True,
                p_wait=a.p_wait,
                p_abandon=a.p_abandon,
                asa_s=a.asa_s,
                mean_wait_s=a.mean_wait_s,
                service_level=a.service_level,
                occupancy=a.occupancy,
            )
            note = None if load < agents else _abandon_note(load, agents, a.p_abandon)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        clean = {
            k: (v if not isinstance(v, float) or (v == v and abs(v) != float("inf")) else None)
            for k, v in figures.items()
        }
        click.echo(json.dumps({**clean, "note": note}))
        return
    if sized:
        click.echo(
            f"the fewest agents that answer at least {service_level:.0%} within {target_s:g} s"
            " (--service-level, --target-s):"
        )
    for key, value in figures.items():
        if key == "sized_for_service_level":
            continue  # said in the first line
        if key == "asa_s" and math.isinf(value):
            click.echo(f"{key:>20}: inf (unbounded: the queue grows without bound)")
        else:
            click.echo(f"{key:>20}: {value:.6g}" if isinstance(value, float) else f"{key:>20}: {value}")
    if note is not None:
        click.echo("\n" + textwrap.fill(note, width=88, initial_indent="note: ", subsequent_indent="      "))


def _overload_note(load: float, agents: int) -> str:
    """Why Erlang C has no finite answer for `agents` at `load`, and what to do instead."""
    return (
        f"overloaded: the offered load of {load:.4g} Erlangs is at least the {agents} agents, so the "
        "queue grows without bound (Erlang C has no steady state): every caller waits and ASA is "
        f"infinite. {math.floor(load) + 1} agents or more give a finite queue; or give --patience-s "
        "for Erlang A, where callers who hang up keep the queue finite."
    )


def _abandon_note(load: float, agents: int, p_abandon: float) -> str:
    """Why Erlang A is finite although `load` is at least `agents`."""
    return (
        f"the offered load of {load:.4g} Erlangs is at least the {agents} agents: the queue stays "
        f"finite only because callers hang up ({p_abandon:.1%} abandon)."
    )
