"""Long work for the app — reading an upload, a run, move-vs-hire, the optimiser — in a worker process.

The page's server only starts a job, polls it for progress and results, and can stop it:
the simulation runs in a separate process, so the page stays responsive while it works, a
Cancel ends it at once (the process is terminated), and a hostile upload or a run that
should not have started costs that process, never the server. Each task takes and
returns plain values (mappings, numbers, PNG bytes), which pickle across the process boundary.
"""

from __future__ import annotations

import base64
import html
import io
import multiprocessing
import queue as queue_module
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Progress = Callable[[int, int], None]
"""Called by a task with (done, total); total 0 when unknown."""

PRELOAD = [
    "sim.api", "sim.report.plots", "sim.report.html", "sim.planning.headcount", "sim.calibrate.fitfile",
]  # fmt: skip
"""Modules the worker processes' parent (the fork server) imports once, so each job starts quickly."""


def context() -> Any:
    """The multiprocessing context for jobs: a fork server with the simulator preloaded.

    Forking the page's server (its threads, its event loop) would be unsafe; a fork server
    is a clean process that imports staffsim once and forks a worker per job.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - not Linux


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def task_load(payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Read an uploaded file: ``{"name", "raw"}`` → ``{"data"}`` (the scenario's keys)."""
    import sim
    from sim.app.draft import load_upload

    with tempfile.TemporaryDirectory(prefix="staffsim-upload-") as folder:
        try:
            return {"data": load_upload(payload["name"], payload["raw"], folder)}
        except sim.ScenarioError as exc:  # the message names the private copy: name the upload instead
            message = str(exc).replace(str(Path(folder)) + "/", "")
            if any(p.message.startswith("file not found") for p in exc.problems):
                message += UPLOAD_ALONE
            raise ValueError(message) from None


UPLOAD_ALONE = (
    "\nan uploaded file arrives alone, without the files beside it: open a scenario that names"
    " others (extends, a trace, an empirical CSV) with `staffsim app FILE`, or choose it among the"
    " shipped scenarios"
)
"""Said under an upload that names a file: the browser sends the file, never its folder."""


def task_fit(payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Fit an uploaded contact log as `staffsim fit` does, and open the fitted scenario.

    ``{"name", "raw", "options", "max_bytes"}`` → ``{"data", "summary"}``: the fitted
    scenario's keys, and the lines `staffsim fit` prints about the fit. ``options`` are the
    fields of `sim.calibrate.fitfile.FitOptions`; ``max_bytes`` bounds the file as the
    CLI's `LogLimits` does.
    """
    from sim.app.draft import load_upload
    from sim.calibrate.checks import LogError, LogLimits
    from sim.calibrate.fitfile import FitOptions, NoContactsError, fit_file, headline, summary_lines
    from sim.calibrate.render import render_scenario

    safe = Path(payload["name"]).name or "log.csv"
    with tempfile.TemporaryDirectory(prefix="staffsim-log-") as folder:
        path = Path(folder) / safe
        path.write_bytes(payload["raw"])
        here = str(Path(folder)) + "/"
        try:
            log, fit = fit_file(
                path, FitOptions(**payload["options"]), LogLimits(max_bytes=payload["max_bytes"])
            )
        except (LogError, NoContactsError) as exc:  # the message names the private copy: name the upload
            raise ValueError(str(exc).replace(here, "")) from None
        except (ValueError, KeyError) as exc:  # as `staffsim fit` says it
            raise ValueError(f"cannot fit {safe}: {str(exc).replace(here, '')}") from None
        text = render_scenario(fit)
        data = load_upload(f"fitted-{path.stem}.yaml", text.encode("utf-8"), folder)
    return {"data": data, "summary": [headline(len(log), fit), *summary_lines(fit)]}


FIGURE = re.compile(rb'<img alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')
"""A figure embedded in a report page (`sim.report.html.render_html`)."""


def report_figures(page: bytes) -> dict[str, bytes]:
    """The report's figures as PNG bytes by caption, drawn once for the page and the report."""
    return {html.unescape(alt.decode("utf-8")): base64.b64decode(data) for alt, data in FIGURE.findall(page)}


def task_run(payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Replications of a scenario: its `run --json` object, the report's figures and HTML page."""
    import sim
    from sim.metrics.shown import is_priced
    from sim.report.html import write_report

    n, records = payload["replications"], payload["records"]
    done = [0]

    def step(k: int) -> None:
        done[0] += k
        progress(done[0], n)

    result = sim.run(payload["data"], replications=n, seed=payload["seed"], records=records, progress=step)
    with tempfile.TemporaryDirectory(prefix="staffsim-report-") as folder:
        out = result.save(Path(folder) / "run")  # what `staffsim run --out` writes
        report = write_report(out).read_bytes()
    return {
        "result": result.to_dict(),
        "priced": is_priced(result.scenario),
        "figures": report_figures(report),
        "report": report,
    }


def counting(progress: Progress) -> tuple[Callable[[int], None], Callable[[int], None]]:
    """(step, grow): the `progress` and `on_total` callbacks of a run whose total grows.

    `step(k)` reports k more replications finished, `grow(n)` a new total; both pass
    (finished, total) on to `progress`.
    """
    total, done = [0], [0]

    def grow(n: int) -> None:
        total[0] = n
        progress(done[0], total[0])

    def step(k: int) -> None:
        done[0] += k
        progress(done[0], total[0])

    return step, grow


def task_compare(payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Move vs hire, paired on common random numbers: the comparison table as records."""
    import sim
    from sim.metrics.shown import is_priced

    step, grow = counting(progress)

    result = sim.compare(
        payload["experiment"], replications=payload["replications"], seed=payload["seed"],
        progress=step, on_total=grow,
    )  # fmt: skip
    sides = [result.baseline, *result.variants.values()]
    return {
        "table": result.table().to_dict(orient="records"),
        "priced": any(is_priced(side.scenario) for side in sides),
    }


def task_optimize(payload: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The optimiser in its mode: the plan's `optimize --json` object and a chart of the plan.

    ``payload["mode"]`` is ``"headcount"`` (default), ``"intervals"`` or ``"shifts"``, as
    `sim.optimize` takes it; the result repeats it.
    """
    import sim
    from sim.app.charts import plan_chart, shift_chart
    from sim.report.plots import staffing_plan

    step, grow = counting(progress)
    mode = payload.get("mode", "headcount")
    settings = sim.OptimizeSettings(
        groups=tuple(payload["groups"]) or None, replications=payload["replications"], seed=payload["seed"]
    )
    plan = sim.optimize(
        payload["data"], payload["targets"], mode=mode, settings=settings, progress=step, on_total=grow
    )
    found = plan.to_dict()
    if isinstance(plan, sim.IntervalPlan):
        chart = staffing_plan(plan)
    elif isinstance(plan, sim.ShiftPlan):
        chart = shift_chart(found)
    else:
        current = {g: payload["data"]["agents"][g].get("count") for g in found["agents"]}
        chart = plan_chart(found, current)
    return {"mode": mode, "plan": found, "chart": _png(chart)}


TASKS: dict[str, Callable[[dict[str, Any], Progress], dict[str, Any]]] = {
    "load": task_load,
    "fit": task_fit,
    "run": task_run,
    "compare": task_compare,
    "optimize": task_optimize,
}


def _work(kind: str, payload: dict[str, Any], out: Any) -> None:
    """The worker process: run one task, report progress, then its result or its error."""
    import sim

    def progress(done: int, total: int) -> None:
        out.put(("progress", done, total))

    try:
        out.put(("done", TASKS[kind](payload, progress)))
    except (sim.ScenarioError, ValueError) as exc:
        out.put(("error", str(exc)))
    except MemoryError:
        out.put(("error", "the worker ran out of memory"))
    except Exception as exc:
        out.put(("error", f"{type(exc).__name__}: {exc}"))


LIVE: set[Job] = set()
"""Jobs whose process may still run; `stop_all` ends them when the server stops."""


def stop_all() -> None:
    """End every job's process (the server is stopping)."""
    for job in list(LIVE):
        job.cancel()


@dataclass
class Event:
    """What a job reported: ``progress`` (done, total), ``done`` (result) or ``error`` (message)."""

    kind: str
    done: int = 0
    total: int = 0
    result: dict[str, Any] | None = None
    message: str = ""


class Job:
    """One task in its own worker process.

    Args:
        kind: a key of `TASKS`.
        payload: the task's arguments.
        ctx: the multiprocessing context (default: `context()`).
        timeout_s: stop the job, as an error, after this long (None: no limit).
    """

    def __init__(
        self,
        kind: str,
        payload: dict[str, Any],
        ctx: Any | None = None,
        timeout_s: float | None = None,
    ) -> None:
        ctx = ctx or context()
        self.kind = kind
        self._queue: Any = ctx.Queue()
        self._process: Any = ctx.Process(target=_work, args=(kind, payload, self._queue), daemon=True)
        self._deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self._timeout_s = timeout_s
        self.finished = False
        self._process.start()
        LIVE.add(self)

    def poll(self) -> list[Event]:
        """Every event reported since the last poll (never blocks)."""
        events: list[Event] = []
        while not self.finished:
            try:
                item = self._queue.get_nowait()
            except queue_module.Empty:
                break
            events.append(self._take(item))
        if self.finished:
            return events
        if not self._process.is_alive():
            self._end()
            events.append(
                Event("error", message=f"the worker process stopped (exit code {self._process.exitcode})")
            )
        elif self._deadline is not None and time.monotonic() > self._deadline:
            self._end()
            events.append(Event("error", message=f"stopped after {self._timeout_s:g} s without an answer"))
        return events

    def wait(self, timeout_s: float) -> list[Event]:
        """Block until the job reports its result or error (for scripts and tests).

        Raises:
            TimeoutError: no result or error within `timeout_s` (the job is stopped).
        """
        events: list[Event] = []
        deadline = time.monotonic() + timeout_s
        while not self.finished:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue_module.Empty:
                self.cancel()
                raise TimeoutError(f"no answer from the {self.kind} job within {timeout_s:g} s") from None
            events.append(self._take(item))
        return events

    def _take(self, item: tuple[Any, ...]) -> Event:
        """One queued report as an event; a result or an error ends the job."""
        if item[0] == "progress":
            return Event("progress", done=item[1], total=item[2])
        self._end()
        if item[0] == "done":
            return Event("done", result=item[1])
        return Event("error", message=item[1])

    def cancel(self) -> None:
        """Stop the job now (its process is terminated)."""
        self._end()

    def _end(self) -> None:
        self.finished = True
        LIVE.discard(self)
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=5)
        if self._process.is_alive():  # pragma: no cover - ignored SIGTERM
            self._process.kill()
            self._process.join()
        self._queue.close()
