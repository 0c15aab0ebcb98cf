"""Finished tasks on disk, so that an interrupted experiment resumes where it stopped.

While an experiment runs, every finished replication is written at once (atomically) into a
hidden partial folder beside the destination. When all are done, the results are written
into a temporary folder that is renamed to the destination; the partial folder is then
removed. `--resume` reuses the partial folder of an earlier, interrupted run of the same
experiment (same scenario, seed and settings, as recorded in its key).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.records import ReplicationOutput
from sim.runner.atomic import atomic_dir, replace_file, write_json


class StoreError(Exception):
    """The output folder cannot be used as asked (exists, or belongs to another experiment)."""


class TaskStore:
    """Finished tasks of one experiment, kept until the experiment completes."""

    def __init__(
        self, dest: str | Path, key: dict[str, Any], resume: bool = False, overwrite: bool = False
    ) -> None:
        self.dest = Path(dest)
        self.partial = self.dest.with_name(f".{self.dest.name}.partial")
        self.key = key
        if self.dest.exists() and not overwrite:
            raise StoreError(f"{self.dest} exists; choose another --out or pass --overwrite")
        key_file = self.partial / "experiment.json"
        if self.partial.exists():
            if resume and not overwrite:
                stored = json.loads(key_file.read_text(encoding="utf-8")) if key_file.exists() else None
                if stored != json.loads(json.dumps(key)):
                    raise StoreError(
                        f"{self.partial} holds an interrupted run of a different experiment "
                        "(scenario, seed or settings changed); pass --overwrite to start over"
                    )
            elif not overwrite:
                raise StoreError(
                    f"{self.partial} holds an interrupted run; pass --resume to finish it or --overwrite to start over"
                )
            else:
                shutil.rmtree(self.partial)
        (self.partial / "tasks").mkdir(parents=True, exist_ok=True)
        write_json(key_file, key)

    def _path(self, task: str) -> Path:
        return self.partial / "tasks" / f"{task}.json"

    def done(self) -> set[str]:
        """Names of the tasks already stored."""
        return {p.stem for p in (self.partial / "tasks").glob("*.json")}

    def save(self, task: str, out: ReplicationOutput) -> None:
        """Store one finished task (write to a temporary file, then rename)."""
        payload = {"replication": out.replication, "channels": out.channels, "groups": out.groups}
        replace_file(self._path(task), json.dumps(payload))

    def load(self, task: str) -> ReplicationOutput:
        """A stored task's output."""
        data = json.loads(self._path(task).read_text(encoding="utf-8"))
        return ReplicationOutput(data["replication"], data["channels"], data["groups"])

    def finish(self, write: Callable[[Path], None], overwrite: bool = False) -> None:
        """Write the final results with `write(folder)`, put them in place, drop the partial folder."""
        with atomic_dir(self.dest, overwrite=overwrite) as tmp:
            write(tmp)
        shutil.rmtree(self.partial, ignore_errors=True)
