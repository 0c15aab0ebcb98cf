"""Folders and files written atomically: whole, or not at all.

Everything goes into a temporary folder beside the destination, which is renamed into
place only when complete: an interrupted run leaves no half-written results, and an
existing folder is replaced only when asked, only if staffsim wrote it, and then only once
the new one is whole (see `sim.runner.outdir` for the rules and the lock).
The task store (`sim.runner.store`) and every command that writes results use this.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sim.runner.outdir import OutputError, check_destination, claimed, mark


class OutputExistsError(OutputError):
    """The destination folder exists and replacing it was not asked for (or is not allowed).

    As every `OutputError`: ``str()`` in the Python API's words, `cli` in the command line's.
    """


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
        raise OutputExistsError(str(exc), exc.cli) from None
    except OSError as exc:
        raise OutputError(
            f"could not write the results into {dest}: {exc.strerror or exc}; nothing was written"
        ) from None


def replace_file(
    path: Path, text: str, *, check: Callable[[Path], object] | None = None, suffix: str = ".tmp"
) -> Path:
    """Write `text` to `path` whole: into a temporary file beside it, then renamed over it.

    The temporary file has a name of its own (two writers never share it), is readable by
    all as any written file is, and is removed if anything fails. `check(tmp)` runs before
    the rename and may raise to leave `path` as it was; `suffix` is the temporary file's
    ending (a check that reads it by its type may need one).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; results are for sharing
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, data: Any) -> None:
    """Write pretty JSON (NaN and infinity are not JSON: callers pass None instead)."""
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
