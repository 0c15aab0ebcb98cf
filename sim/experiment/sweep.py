"""Parameter sweeps: a grid of key-path values, replications at every point, one tidy table.

`--grid agents.team.count=10:20 --grid channels.social.arrivals.rate_per_hour=50,100,200`
runs every combination (11 × 3 points). Every point's replication r uses the same random
streams, so differences between neighbouring points are not blurred by customer noise.
The table has one row per point × replication × (channel or agent group) × metric; a
`SweepResult` holds it (`table()`) and saves itself (`save(folder)`: CSV, Parquet, manifest).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sim.config.errors import Problem, ScenarioError
from sim.config.schema import Scenario
from sim.config.validate import validate
from sim.config.variants import apply_overrides, check_path
from sim.report.output import manifest
from sim.results import SavesItself
from sim.runner.atomic import write_json
from sim.runner.executors import Executor, SerialExecutor
from sim.runner.store import TaskStore
from sim.runner.tasks import Task, run_all

if TYPE_CHECKING:
    import pandas as pd

SWEEP_COLUMNS = ["point", "replication", "scope", "name", "metric", "value"]
"""Columns of the sweep table besides one column per grid key path."""


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """Read `PATH=VALUES` items: `a:b` (inclusive, step 1), `a:b:step`, or `v1,v2,...`.

    Raises:
        ValueError: a malformed item, an empty range or a path the schema does not have.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        path, sep, spec = item.partition("=")
        if not sep or not path or not spec:
            raise ValueError(
                f"--grid takes PATH=VALUES (e.g. agents.team.count=10:20 or x=1,2,4), not {item!r}"
            )
        try:
            check_path(path.split("."), path)
        except KeyError as exc:
            raise ValueError(f"--grid {path}: {exc.args[1]}") from None
        if path in grid:
            raise ValueError(f"--grid {path} is given twice")
        grid[path] = _values(path, spec)
    return grid


def _values(path: str, spec: str) -> list[Any]:
    if ":" in spec and "," not in spec:
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"--grid {path}: a range is START:STOP or START:STOP:STEP, not {spec!r}")
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"--grid {path}: range bounds must be numbers, not {spec!r}") from None
        start, stop = nums[0], nums[1]
        step = nums[2] if len(parts) == 3 else 1.0
        if step <= 0 or stop < start or not all(math.isfinite(x) for x in nums):
            raise ValueError(f"--grid {path}: {spec!r} is an empty range (need START <= STOP, STEP > 0)")
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > 10_000:
            raise ValueError(f"--grid {path}: {spec!r} has {count} points; at most 10,000")
        values = [start + i * step for i in range(count)]
        if all(float(x).is_integer() for x in nums):
            return [int(v) for v in values]
        return [round(v, 12) for v in values]
    out = []
    for token in spec.split(","):
        token = token.strip()
        if not token:
            raise ValueError(f"--grid {path}: empty value in {spec!r}")
        try:
            out.append(yaml.safe_load(token))
        except yaml.YAMLError as exc:  # e.g. '[1' or a !!python tag: plain values only
            problem = getattr(exc, "problem", None) or "not a plain value"
            raise ValueError(f"--grid {path}: {token!r} is not a valid value ({problem})") from None
    return out


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of grid values, in a stable order."""
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]


def point_scenarios(
    base: Scenario,
    grid: dict[str, list[Any]],
    label: str | None = None,
    check: Callable[[Scenario], None] | None = None,
) -> list[Scenario]:
    """The scenario at every grid point, each validated like a scenario file.

    Args:
        base: the scenario the grid changes.
        grid: key path → values (see `parse_grid`).
        label: what messages name: the scenario file; default the scenario's name.
        check: a further check of each point's scenario that raises `ScenarioError`
            (`sim.api` passes the routing-policy check, which needs the registry).

    Raises:
        ScenarioError: a grid value is not valid at its path (or names an unknown routing
            policy). Each problem names the grid point (`path=value`), the key path and
            what is allowed there; a problem repeated at several points is listed once.
    """
    data = base.model_dump(mode="python", exclude_none=True)
    out: list[Scenario] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for point in grid_points(grid):
        desc = ", ".join(f"{k}={_shown(v)}" for k, v in point.items())
        try:
            scenario = validate(
                apply_overrides(data, point), label=label or base.name, lines={}, base_dir=Path.cwd()
            )
            if check is not None:
                check(scenario)
            out.append(scenario)
        except KeyError as exc:
            found = [Problem(f"grid point {desc} → {exc.args[0]}", exc.args[1])]
        except ScenarioError as exc:
            found = [Problem(f"grid point {desc} → {p.path}", p.message) for p in exc.problems]
        else:
            continue
        for problem in found:
            key = (problem.path.partition(" → ")[2], problem.message)
            if key not in seen:  # e.g. count=-1 fails at every value of the other paths
                seen.add(key)
                problems.append(problem)
        if len(problems) > 12:
            break
    if problems:
        raise ScenarioError(f"{label or base.name} with --grid", problems)
    return out


def _shown(value: Any) -> str:
    """A grid value as it is typed on the command line."""
    if isinstance(value, bool):
        return str(value).lower()
    return "null" if value is None else str(value)


@dataclass
class SweepResult(SavesItself):
    """Replications at every point of a grid, as one tidy table.

    Attributes:
        baseline: the scenario the grid changes.
        grid: key path → values.
        seed: the seed every point's replications were derived from.
        frame: the tidy table (see `table`).
        files: the scenario files read (for the manifest).
    """

    baseline: Scenario
    grid: dict[str, list[Any]]
    seed: int
    frame: pd.DataFrame
    files: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The tidy table: one row per point × replication × (channel or group) × metric.

        Columns: `point`, one per grid path, `replication`, `scope`, `name`, `metric`, `value`.
        """
        return self.frame

    def write(self, folder: Path) -> None:
        """Write `sweep.csv` and `sweep.parquet` (`table()`) and `manifest.json`."""
        self.frame.to_csv(folder / "sweep.csv", index=False)
        self.frame.to_parquet(folder / "sweep.parquet", index=False)
        write_json(
            folder / "manifest.json",
            manifest(
                self.files,
                self.baseline.model_dump_json(),
                seed=self.seed,
                grid=self.grid,
                rows=len(self.frame),
            ),
        )


def sweep(
    base: Scenario,
    grid: dict[str, list[Any]],
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    store: TaskStore | None = None,
    progress: Callable[[int], object] | None = None,
    on_total: Callable[[int], object] | None = None,
    scenarios: Sequence[Scenario] | None = None,
    files: Sequence[str] = (),
) -> SweepResult:
    """Run replications at every grid point.

    Args:
        base: the scenario the grid changes (`sim.api.load` turns a file or dict into one).
        grid: key path → values (see `parse_grid`).
        replications: per point; default the scenario's.
        seed: base seed; default the scenario's.
        executor: where tasks run; default in this process.
        store: keeps finished tasks so an interrupted sweep can resume.
        progress: called with the number of tasks finished.
        on_total: called once with the total number of tasks.
        scenarios: the scenario at every point, from `point_scenarios(base, grid)`, when
            the caller has already validated them; default computed here.
        files: the scenario files read, for the manifest.

    Returns:
        A `SweepResult`; `.table()` has one row per point × replication × (channel or
        group) × metric.
    """
    import pandas as pd

    if scenarios is None:
        scenarios = point_scenarios(base, grid)
    points = grid_points(grid)
    n = replications or base.replications
    base_seed = base.seed if seed is None else seed
    tasks = [Task(f"p{i}-r{r}", sc, base_seed, r) for i, sc in enumerate(scenarios) for r in range(n)]
    if on_total is not None:
        on_total(len(tasks))
    results = run_all(tasks, executor or SerialExecutor(), store, progress)
    rows = []
    for i, point in enumerate(points):
        values = list(point.values())
        for r in range(n):
            out = results[f"p{i}-r{r}"]
            for scope, table in (("channel", out.channels), ("group", out.groups)):
                for name, metrics in table.items():
                    for metric, value in metrics.items():
                        rows.append((i, *values, r, scope, name, metric, float(value)))
    columns = ["point", *grid, *SWEEP_COLUMNS[1:]]
    return SweepResult(base, grid, base_seed, pd.DataFrame(rows, columns=columns), list(files))
