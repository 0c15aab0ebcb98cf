"""Folders and files written atomically: whole, or not at all.

Everything goes into a temporary folder beside the destination, which is renamed into
place only when complete: an interrupted run leaves no half-written results, and an
existing folder is replaced only when asked, and then only once the new one is whole.
The task store (`sim.runner.store`) and every command that writes results use this.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class OutputExistsError(Exception):
    """The destination folder exists and replacing it was not asked for."""


@contextlib.contextmanager
def atomic_dir(dest: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success, rename it to `dest`.

    Raises:
        OutputExistsError: `dest` exists and `overwrite` is False (checked before any work).
    """
    dest = Path(dest)
    if dest.exists() and not overwrite:
        raise OutputExistsError(f"{dest} exists; choose another --out or pass --overwrite")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        dest.rename(old)
    tmp.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def replace_file(path: Path, text: str) -> None:
    """Write `text` to `path` whole: into a temporary file beside it, then renamed over it."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """Write pretty JSON (NaN and infinity are not JSON: callers pass None instead)."""
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
