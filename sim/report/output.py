"""Result folders written atomically, with a manifest that says how they were made.

Everything goes into a temporary folder beside the destination, which is renamed into
place only when complete: an interrupted run leaves no half-written results, and an
existing folder is replaced only when asked, only if staffsim wrote it, and then only once
the new one is whole (see `sim.runner.outdir` for the rules and the lock).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from sim.runner.outdir import OutputError, check_destination, claimed, mark

PACKAGES = ("staffsim", "simpy", "numpy", "scipy", "pandas", "pydantic", "pyarrow")


class OutputExistsError(OutputError):
    """The destination folder exists and replacing it was not asked for (or is not allowed)."""


@contextlib.contextmanager
def atomic_dir(dest: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success, rename it to `dest`.

    The folder's lock (`sim.runner.outdir.claim`) is held throughout; the temporary folder
    is marked as staffsim's first, so that `--overwrite` may later replace it. An existing
    `dest` is replaced only with `overwrite` and only when it holds that marker.

    Raises:
        OutputExistsError: `dest` exists and may not be replaced (checked before any work),
            or another process is writing it.
        OutputError: the results could not be written (no space, no permission); nothing
            is left behind.
    """
    try:
        with claimed(dest) as path:
            check_destination(path, overwrite)
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
            try:
                mark(tmp)
                yield tmp
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            old = None
            if path.exists():
                old = path.with_name(f".{path.name}.old-{os.getpid()}")
                path.rename(old)
            tmp.rename(path)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    except OutputExistsError:
        raise
    except OutputError as exc:
        raise OutputExistsError(str(exc)) from None
    except OSError as exc:
        raise OutputError(
            f"could not write the results into {dest}: {exc.strerror or exc}; nothing was written"
        ) from None


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that decide the numbers."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def command_line() -> list[str]:
    """The command that is running, as it was typed: `staffsim run ...` or `python -m sim run ...`.

    Under `python -m sim`, `sys.argv[0]` is the path of `sim/__main__.py`; the module that
    `-m` ran is read from the spec of `__main__` instead.
    """
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name:
        return ["python", "-m", spec.name.removesuffix(".__main__"), *sys.argv[1:]]
    return [Path(sys.argv[0]).name, *sys.argv[1:]]


def manifest(scenario_files: list[str], scenario_json: str, **extra: Any) -> dict[str, Any]:
    """The manifest of a result folder: inputs, their hashes, versions and the command."""
    return {
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "scenario_files": {f: file_sha256(f) for f in scenario_files},
        "scenario_sha256": hashlib.sha256(scenario_json.encode("utf-8")).hexdigest(),
        "versions": versions(),
        **extra,
    }


def write_json(path: Path, data: Any) -> None:
    """Write pretty JSON (NaN and infinity are not JSON: callers pass None instead)."""
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
