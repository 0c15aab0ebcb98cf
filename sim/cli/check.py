"""`staffsim check`: validate a scenario file without running it."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli._common import guard, load_scenario_file


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
def check(scenario: Path) -> None:
    """Validate SCENARIO without running it."""
    from sim.api import check_runnable
    from sim.model.build import expected_contacts

    sc = load_scenario_file(scenario)
    guard(lambda: check_runnable(sc))
    agents = sum(g.count for g in sc.agents.values() if g.count is not None)
    scheduled = sum(g.count is None for g in sc.agents.values())  # staffing tables and shifts
    staff = [f"{agents} agents"] if scheduled < len(sc.agents) else []
    staff += [f"{scheduled} scheduled group{'s' if scheduled > 1 else ''}"] if scheduled else []
    click.echo(
        f"{scenario}: valid — {len(sc.channels)} channels, {' and '.join(staff)}, "
        f"about {expected_contacts(sc):,.0f} contacts per replication"
    )
