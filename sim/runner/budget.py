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
from typing import TYPE_CHECKING, Any

from sim.config.schema import AgentGroup, Scenario

if TYPE_CHECKING:
    from sim.model.guard import Guard

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


def _chain(p: float, delay_s: float, horizon_s: float) -> float:
    """Expected contacts in a chain where each one leads to another with probability `p`.

    Without a horizon that is 1 / (1 - p); within one, a chain of delays of mean `delay_s`
    holds at most about 1 + p·horizon/delay of them. Infinite when neither bounds it (a
    probability of 1 with no delay).
    """
    if p <= 0:
        return 1.0
    geometric = 1.0 / (1.0 - p) if p < 1 else math.inf
    in_time = 1.0 + p * horizon_s / delay_s if delay_s > 0 else math.inf
    return min(geometric, in_time)


def model_contacts(scenario: Scenario) -> float:
    """Expected contacts of one replication, counting those the model itself creates.

    Arrivals per channel (times the induced-demand multiplier), then, as an upper bound,
    the chains each customer may start: follow-ups of a contact still waiting (probability,
    plus an auto-reply's increase, and delay), and one journey step after another —
    hand-off, return when unresolved, retrial after abandoning — with the largest chance
    of a next step over all channels and the shortest delay.
    """
    from sim.model.arrivals import ArrivalSource  # the model is imported only when sizing
    from sim.model.build import expected_contacts
    from sim.model.journeys import demand_multipliers

    horizon = scenario.horizon_s
    if not any(_has_mechanics(ch) for ch in scenario.channels.values()):
        return expected_contacts(scenario)

    fresh = {
        name: ArrivalSource(ch.arrivals, horizon).expected_count() for name, ch in scenario.channels.items()
    }
    try:
        mult = demand_multipliers(scenario, {n: v / horizon for n, v in fresh.items()})
    except ValueError:  # reported when the model is built
        mult = dict.fromkeys(fresh, 1.0)
    step, step_delay, follow, follow_delay = 0.0, math.inf, 0.0, math.inf
    for ch in scenario.channels.values():
        p_step, delays = _next_step(ch)
        step = max(step, p_step)
        step_delay = min([step_delay, *delays])
        if ch.follow_up is not None:
            p = ch.follow_up.probability
            if ch.auto_reply is not None:
                p = min(1.0, p + ch.auto_reply.follow_up_increase)
            if p > follow or (p == follow and ch.follow_up.delay.mean_seconds < follow_delay):
                follow, follow_delay = p, ch.follow_up.delay.mean_seconds
    per_contact = _chain(step, step_delay, horizon) * _chain(follow, follow_delay, horizon)
    total = sum(fresh[n] * mult[n] for n in fresh) * per_contact
    return total if math.isfinite(total) else math.inf


def _has_mechanics(ch: Any) -> bool:
    return any(
        getattr(ch, key) is not None for key in ("resolution", "handoff", "retrial", "induced", "follow_up")
    )


def _next_step(ch: Any) -> tuple[float, list[float]]:
    """The largest chance that a contact on `ch` leads to another contact, and the delays of the ways."""
    delays: list[float] = []
    handoff = 0.0
    if ch.handoff is not None and ch.handoff.share > 0:
        handoff = ch.handoff.share
        delays.append(ch.handoff.delay.mean_seconds)
    back = 0.0
    if ch.resolution is not None and ch.resolution.returns is not None:
        resolved = [ch.resolution.probability]
        resolved += [i.resolution for i in (ch.intents or {}).values() if i.resolution is not None]
        back = (1.0 - min(resolved)) * min(1.0, sum(ch.resolution.returns.to.values()))
        if back > 0:
            delays.append(ch.resolution.returns.delay.mean_seconds)
    retry = 0.0
    if ch.retrial is not None:
        retry = min(1.0, sum(ch.retrial.to.values()))
        if retry > 0:
            delays.append(ch.retrial.delay.mean_seconds)
    return max(handoff + (1.0 - handoff) * back, retry), delays


def scenario_size(scenario: Scenario, records: str = "none") -> tuple[float, float, float, float]:
    """Expected contacts, events, kept bytes and passing bytes of one replication.

    Kept bytes stay until the run ends (records, tallies), so they add up over
    replications; passing bytes (the roster) are freed when the replication ends.
    """
    contacts = model_contacts(scenario)
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


GUARD_MARGIN = 10.0
"""The running guard stops a replication at this many times its estimate ..."""
GUARD_FLOOR_CONTACTS = 200_000.0
"""... or at this many contacts, whichever is more (small estimates are rough)."""


def guard_for(scenario: Scenario, records: str = "none", label: str = "a replication") -> Guard:
    """The running guard of one replication of `scenario` (see `sim.model.guard`).

    It allows `GUARD_MARGIN` times the estimate (at least `GUARD_FLOOR_CONTACTS` contacts),
    or more when the environment sets a larger limit explicitly (`STAFFSIM_MAX_CONTACTS`,
    `STAFFSIM_MAX_EVENTS`); memory is held to `STAFFSIM_MAX_MEMORY_GB` (half of this machine's
    memory by default). `--force` skips the estimate check, not this guard.

    Raises:
        BudgetError: a limit in the environment is malformed.
    """
    from sim.model.build import expected_contacts
    from sim.model.guard import Guard

    limits = Limits.from_env()
    contacts, events, _, _ = scenario_size(scenario, records)
    contact_limit = max(GUARD_MARGIN * contacts, GUARD_FLOOR_CONTACTS)
    event_limit = max(GUARD_MARGIN * (contacts + events), GUARD_FLOOR_CONTACTS)
    if os.environ.get(ENV_MAX_CONTACTS, "").strip():
        contact_limit = max(contact_limit, limits.contacts)
    if os.environ.get(ENV_MAX_EVENTS, "").strip():
        event_limit = max(event_limit, limits.events)
    if not math.isfinite(contact_limit):  # an unbounded estimate, run with --force
        contact_limit = limits.contacts if os.environ.get(ENV_MAX_CONTACTS) else GUARD_FLOOR_CONTACTS
        event_limit = max(event_limit if math.isfinite(event_limit) else 0.0, contact_limit)
    induced = tuple(
        name for name, ch in scenario.channels.items() if ch.induced is not None and ch.induced.elasticity > 0
    )
    return Guard(
        contacts=contact_limit,
        events=event_limit,
        memory_bytes=limits.memory_bytes,
        expected=contacts if math.isfinite(contacts) else expected_contacts(scenario),
        label=label,
        induced=induced,
        how_to_allow=(
            f"To allow more, set {ENV_MAX_CONTACTS} (contacts per replication), {ENV_MAX_EVENTS} "
            f"or {ENV_MAX_MEMORY_GB} above the figure quoted."
        ),
    )


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
    "guard_for",
    "model_contacts",
    "physical_memory",
    "roster_steps",
    "scenario_size",
]
