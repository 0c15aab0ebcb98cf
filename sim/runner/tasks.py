"""Replication tasks: the unit of work every run and experiment is made of.

A task names one replication of one scenario (a variant, a sweep point, a candidate
staffing). Its result depends only on the task, so tasks can run anywhere, in any order,
and be stored and reloaded. `run_all` is the one way replications run — `sim.run`,
compare, sweep, the optimiser and the study all go through it — and `run_replications`
is its short form for the replications of one scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sim.config.schema import Scenario
from sim.model.policies import Policy
from sim.records import ReplicationOutput
from sim.runner.executors import Executor
from sim.runner.simulate import simulate
from sim.runner.store import TaskStore


@dataclass(frozen=True)
class Task:
    """One replication to run.

    Attributes:
        name: unique within the experiment; also the file name when stored.
        scenario: the (variant's) scenario.
        seed: the experiment's seed; with `replication` it picks the random streams, so
            every variant's replication r sees the same customers.
        replication: replication number.
        records: what the replication keeps (see `sim.records`); ``"summary"`` adds the
            per-interval tallies the per-interval optimiser judges.
        policy: a routing policy object to use instead of the scenario's `routing.policy`
            (it must be picklable to run on other processes).
    """

    name: str
    scenario: Scenario
    seed: int
    replication: int
    records: str = "none"
    policy: Policy | None = None


def execute(task: Task) -> ReplicationOutput:
    """Run a task (metrics only unless the task asks for more records)."""
    return simulate(task.scenario, task.replication, seed=task.seed, records=task.records, policy=task.policy)


def run_all(
    tasks: Sequence[Task],
    executor: Executor,
    store: TaskStore | None = None,
    progress: Callable[[int], object] | None = None,
) -> dict[str, ReplicationOutput]:
    """Run the tasks not already stored; store each as it finishes; return all by name."""
    results: dict[str, ReplicationOutput] = {}
    if store is not None:
        stored = store.done()
        for task in tasks:
            if task.name in stored:
                results[task.name] = store.load(task.name)
        if progress is not None and results:
            progress(len(results))
    todo = [t for t in tasks if t.name not in results]
    for i, out in executor.map_unordered(execute, todo):
        name = todo[i].name
        results[name] = out
        if store is not None:
            store.save(name, out)
        if progress is not None:
            progress(1)
    return results


def run_replications(
    scenario: Scenario,
    replications: int,
    seed: int,
    executor: Executor,
    *,
    records: str = "none",
    policy: Policy | None = None,
    progress: Callable[[int], object] | None = None,
) -> list[ReplicationOutput]:
    """Replications 0 … n−1 of one scenario through `run_all`, in replication order."""
    tasks = [Task(f"r{r}", scenario, seed, r, records, policy) for r in range(replications)]
    outputs = run_all(tasks, executor, None, progress)
    return [outputs[t.name] for t in tasks]
