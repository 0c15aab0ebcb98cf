"""The manifest of a result folder: what was run, from which files, with which versions.

The folder itself is written atomically by `sim.runner.atomic`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("staffsim", "simpy", "numpy", "scipy", "pandas", "pydantic", "pyarrow")


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
