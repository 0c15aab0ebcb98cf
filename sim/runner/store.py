"""Finished tasks on disk, so that an interrupted experiment resumes where it stopped.

While an experiment runs, every finished replication is written at once (atomically) into a
hidden partial folder beside the destination. When all are done, the results are written
into a temporary folder that is renamed to the destination; the partial folder is then
removed. `--resume` reuses the partial folder of an earlier, interrupted run of the same
experiment (same scenario, seed and settings, as recorded in its key).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.records import ReplicationOutput
from sim.runner.atomic import atomic_dir, replace_file, write_json
from sim.runner.outdir import OutputError, check_destination, claim, release

_log = logging.getLogger(__name__)


class StoreError(OutputError):
    """The output folder cannot be used as asked (exists, or belongs to another experiment)."""


class TaskStore:
    """Finished tasks of one experiment, kept until the experiment completes."""

    def __init__(
        self, dest: str | Path, key: dict[str, Any], resume: bool = False, overwrite: bool = False
    ) -> None:
        try:
            self.dest = check_destination(dest, overwrite)
            claim(self.dest)  # held until `finish` (or the process ends): one writer at a time
            check_destination(self.dest, overwrite)
        except StoreError:
            raise
        except OutputError as exc:
            raise StoreError(str(exc), exc.cli) from None
        self.partial = self.dest.with_name(f".{self.dest.name}.partial")
        self.key = key
        key_file = self.partial / "experiment.json"
        if self.partial.exists():
            if resume and not overwrite:
                if _read_json(key_file) != json.loads(json.dumps(key)):
                    said = (
                        f"{self.partial} holds an interrupted run of a different experiment "
                        "(scenario, seed or settings changed); pass"
                    )
                    raise StoreError(
                        f"{said} overwrite=True to start over", f"{said} --overwrite to start over"
                    )
            elif not overwrite:
                said = f"{self.partial} holds an interrupted run; pass"
                raise StoreError(
                    f"{said} resume=True to finish it or overwrite=True to start over",
                    f"{said} --resume to finish it or --overwrite to start over",
                )
            else:
                shutil.rmtree(self.partial)
        (self.partial / "tasks").mkdir(parents=True, exist_ok=True)
        write_json(key_file, key)

    def _path(self, task: str) -> Path:
        return self.partial / "tasks" / f"{task}.json"

    def done(self) -> set[str]:
        """Names of the tasks already stored and readable.

        A task file that cannot be read back (cut short, edited, overwritten with garbage)
        is removed with a warning, so that its task runs again instead of failing the run;
        so are temporary files of a save that was interrupted.
        """
        tasks = self.partial / "tasks"
        for leftover in tasks.glob("*.tmp"):
            leftover.unlink(missing_ok=True)
        names = set()
        for path in tasks.glob("*.json"):
            if _readable_task(path):
                names.add(path.stem)
            else:
                _log.warning("%s is damaged; its replication will run again", path.name)
                path.unlink(missing_ok=True)
        return names

    def save(self, task: str, out: ReplicationOutput) -> None:
        """Store one finished task (write to a temporary file, then rename)."""
        payload = {"replication": out.replication, "channels": out.channels, "groups": out.groups}
        replace_file(self._path(task), json.dumps(payload))

    def load(self, task: str) -> ReplicationOutput:
        """A stored task's output."""
        data = json.loads(self._path(task).read_text(encoding="utf-8"))
        return ReplicationOutput(data["replication"], data["channels"], data["groups"])

    def discard(self) -> None:
        """Remove the partial folder if it holds no finished task (a run that could not start)."""
        if self.partial.exists() and not self.done():
            shutil.rmtree(self.partial, ignore_errors=True)
        release(self.dest)

    def finish(self, write: Callable[[Path], None], overwrite: bool = False) -> None:
        """Write the final results with `write(folder)`, put them in place, drop the partial folder."""
        with atomic_dir(self.dest, overwrite=overwrite) as tmp:
            write(tmp)
        shutil.rmtree(self.partial, ignore_errors=True)
        release(self.dest)


def _read_json(path: Path) -> Any:
    """The JSON in a file, or None when it is missing or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _readable_task(path: Path) -> bool:
    """True when a stored task file holds what `TaskStore.load` needs."""
    data = _read_json(path)
    return (
        isinstance(data, dict)
        and isinstance(data.get("replication"), int)
        and isinstance(data.get("channels"), dict)
        and isinstance(data.get("groups"), dict)
    )
