"""Budgets: refuse a run that could not finish, or would not fit in memory, before it starts.

A scenario file can ask for far more than a machine can do: a rate of 1e308 per hour, a
ten-year horizon at a 15-minute interval with a thousand agent groups, 100,000
replications of a busy week. Each is valid on its own, so the schema accepts it; the run
would then hang or exhaust memory, possibly after writing nothing for hours. `estimate`
sizes a run from the scenario alone (no simulation), and `check` compares the size with
limits:

- **contacts**: expected arrivals per replication (`sim.model.build.expected_contacts`)
  × replications × scenarios (variants, or sweep points). Pure Python simulates roughly
  10⁵ contacts per second per core, so the default limit of 10⁸ is hours of work.
- **events**: the work that is not contacts — roster changes (a staffing table steps every
  interval; shifts step at every start, end and break on every day) and interval
  snapshots (every `interval_min`, one value per channel queue and two per agent group).
- **memory**: what the run keeps until it ends — one record per contact with records
  ``"full"`` and the per-interval tallies with ``"summary"``, for every replication — plus
  the roster of the largest replication while it runs.
- **tasks**: replications × scenarios; each is a unit of work with its own overhead and its
  own rows in the output, and a grid of grids multiplies quickly.

Limits come from the environment (`STAFFSIM_MAX_CONTACTS`, `STAFFSIM_MAX_EVENTS`,
`STAFFSIM_MAX_MEMORY_GB`, `STAFFSIM_MAX_TASKS`) or their defaults; the CLI skips the check
with `--force`. Agents cost nothing per head: a group is a count of idle and busy agents,
not a list, so a million agents in a group take no more memory than one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sim.config.schema import AgentGroup, Scenario

DAY_S = 86_400.0

DEFAULT_MAX_CONTACTS = 1e8
DEFAULT_MAX_EVENTS = 1e8
DEFAULT_MAX_TASKS = 1e6
ENV_MAX_CONTACTS = "STAFFSIM_MAX_CONTACTS"
ENV_MAX_EVENTS = "STAFFSIM_MAX_EVENTS"
ENV_MAX_MEMORY_GB = "STAFFSIM_MAX_MEMORY_GB"
ENV_MAX_TASKS = "STAFFSIM_MAX_TASKS"

BYTES_PER_RECORD = 200.0
"""Peak bytes per contact with records "full": 59 in the replication's columns, then the
per-contact DataFrame and its Parquet copy."""
BYTES_PER_TALLY = 44.0
"""Bytes per interval tally (six per channel and interval) as the replication hands it back."""
BYTES_PER_LEVEL = 32.0
"""Bytes per interval snapshot of one level (a float in a list)."""
BYTES_PER_ROSTER_STEP = 250.0
"""Bytes per head-count change while a replication runs: its entry while the roster is
summed, then its scheduled event."""


class BudgetError(Exception):
    """A run is larger than a limit (or a limit in the environment is malformed).

    Attributes:
        problems: one sentence per limit exceeded.
    """

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class RunSize:
    """The estimated size of a run.

    Attributes:
        contacts: expected contacts over all replications and scenarios.
        contacts_per_replication: the largest scenario's expected contacts per replication.
        replications: replications per scenario (the largest, when they differ).
        scenarios: scenarios run (1, the variants with the baseline, or sweep points).
        events: roster changes and interval snapshots over the whole run.
        memory_bytes: what the run keeps in memory until it ends (records, tallies), plus the
            largest replication's passing needs (its roster).
        tasks: replications × scenarios.
        records: what each replication keeps (``"none"``, ``"summary"``, ``"full"``).
    """

    contacts: float
    contacts_per_replication: float
    replications: int
    scenarios: int
    events: float
    memory_bytes: float
    tasks: float
    records: str = "none"

    def describe(self) -> str:
        """`about 3.2e+09 contacts (1.6e+08 per replication × 20 replications × 1 scenario)`."""
        scen = f"{self.scenarios:,} scenario{'s' if self.scenarios != 1 else ''}"
        reps = f"{self.replications:,} replication{'s' if self.replications != 1 else ''}"
        return (
            f"about {_num(self.contacts)} contacts "
            f"({_num(self.contacts_per_replication)} per replication × {reps} × {scen})"
        )


@dataclass(frozen=True)
class Limits:
    """The largest run allowed without `--force`."""

    contacts: float = DEFAULT_MAX_CONTACTS
    events: float = DEFAULT_MAX_EVENTS
    memory_bytes: float = math.inf
    tasks: float = DEFAULT_MAX_TASKS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Limits from the environment, defaults for what it does not set.

        The memory limit defaults to half of this machine's physical memory.

        Raises:
            BudgetError: a variable is set to something that is not a positive number.
        """
        env = os.environ if environ is None else environ
        return cls(
            contacts=_env_number(env, ENV_MAX_CONTACTS, DEFAULT_MAX_CONTACTS),
            events=_env_number(env, ENV_MAX_EVENTS, DEFAULT_MAX_EVENTS),
            memory_bytes=_env_number(env, ENV_MAX_MEMORY_GB, physical_memory() / 2 / 1e9) * 1e9,
            tasks=_env_number(env, ENV_MAX_TASKS, DEFAULT_MAX_TASKS),
        )


def _env_number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise BudgetError(f"{name}={text!r} is not a number (e.g. {name}=1e8)") from None
    if not value > 0:  # also refuses NaN
        raise BudgetError(f"{name}={text!r} must be a positive number")
    return value


def physical_memory() -> float:
    """Bytes of physical memory (8 GB when the system does not say)."""
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        return 8e9


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "infinitely many"
    return f"{x:,.0f}" if x < 1e6 else f"{x:.2g}"


def _bytes(x: float) -> str:
    if not math.isfinite(x):
        return "unbounded amounts"
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if x >= size:
            return f"about {x / size:.3g} {unit}"
    return f"about {x / 1e3:.3g} kB"


def roster_steps(group: AgentGroup, horizon_s: float) -> float:
    """How many head-count changes `sim.model.roster.roster` works through for a group."""
    if group.staffing is not None:
        return math.ceil(horizon_s / (group.staffing.interval_min * 60.0))
    if group.shifts is not None:
        days = math.ceil(horizon_s / DAY_S) + 1
        return days * sum(2 + 2 * len(s.breaks) for s in group.shifts)
    return 1.0


def scenario_size(scenario: Scenario, records: str = "none") -> tuple[float, float, float, float]:
    """Expected contacts, events, kept bytes and passing bytes of one replication.

    Kept bytes stay until the run ends (records, tallies), so they add up over
    replications; passing bytes (the roster) are freed when the replication ends.
    """
    from sim.model.build import expected_contacts  # the model is imported only when sizing

    contacts = expected_contacts(scenario)
    horizon = scenario.horizon_s
    n_channels, n_groups = len(scenario.channels), len(scenario.agents)
    events = sum(roster_steps(g, horizon) for g in scenario.agents.values())
    passing = events * BYTES_PER_ROSTER_STEP + 8.0 * n_channels * n_groups  # and handle-time multipliers
    memory = 0.0
    if records in ("summary", "full"):
        intervals = max(1, math.ceil(horizon / (scenario.interval_min * 60.0)))
        levels = n_channels + 2 * n_groups
        events += intervals * levels
        memory += intervals * (6 * n_channels * BYTES_PER_TALLY + levels * BYTES_PER_LEVEL)
    if records == "full":
        memory += contacts * BYTES_PER_RECORD
    return contacts, events, memory, passing


def estimate(
    scenarios: Sequence[Scenario], replications: int | None = None, records: str = "none"
) -> RunSize:
    """The size of running every scenario `replications` times (default: each its own).

    Args:
        scenarios: the scenarios the run simulates (a baseline and its variants, or the
            points of a sweep).
        replications: per scenario; None uses each scenario's `replications`.
        records: what each replication keeps (``"none"``, ``"summary"``, ``"full"``).
    """
    contacts = events = memory = tasks = passing = 0.0
    per_rep = 0.0
    most = 0
    for sc in scenarios:
        n = sc.replications if replications is None else replications
        c, e, m, p = scenario_size(sc, records)
        contacts += c * n
        events += e * n
        memory += m * n
        passing = max(passing, p)
        tasks += n
        per_rep = max(per_rep, c)
        most = max(most, n)
    return RunSize(contacts, per_rep, most, len(scenarios), events, memory + passing, tasks, records)


def check(size: RunSize, limits: Limits | None = None) -> None:
    """Refuse a run larger than the limits.

    Raises:
        BudgetError: one line per limit exceeded, quoting the estimate, the limit and how
            to go ahead anyway.
    """
    limits = Limits.from_env() if limits is None else limits
    problems = []
    if not size.contacts <= limits.contacts:
        problems.append(
            f"the run would simulate {size.describe()}, above the limit of {_num(limits.contacts)} "
            f"(set {ENV_MAX_CONTACTS} to change it)"
        )
    if not size.tasks <= limits.tasks:
        problems.append(
            f"the run has {_num(size.tasks)} replication tasks, above the limit of {_num(limits.tasks)} "
            f"(set {ENV_MAX_TASKS} to change it)"
        )
    if not size.events <= limits.events:
        problems.append(
            f"the run would work through about {_num(size.events)} roster changes and interval "
            f"snapshots, above the limit of {_num(limits.events)} (fewer agent groups or shifts, a "
            f"longer interval_min or a shorter horizon help; set {ENV_MAX_EVENTS} to change it)"
        )
    if not size.memory_bytes <= limits.memory_bytes:
        problems.append(
            f"the run would keep {_bytes(size.memory_bytes)} of records in memory, above the "
            f"limit of {_bytes(limits.memory_bytes).removeprefix('about ')} ("
            + ("--records summary or none keep less; " if size.records == "full" else "")
            + ("--records none keeps less; " if size.records == "summary" else "")
            + f"set {ENV_MAX_MEMORY_GB} to change it)"
        )
    if problems:
        raise BudgetError(*problems)


__all__ = [
    "BudgetError",
    "Limits",
    "RunSize",
    "check",
    "estimate",
    "physical_memory",
    "roster_steps",
    "scenario_size",
]
