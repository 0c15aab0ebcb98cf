"""The result folder (`--out`): what may be replaced, who may write it, what is left over.

A run's results go into one folder. Writing it must never cost the user anything else:

- **Only staffsim's folders are replaced.** Every result folder holds a marker file
  (`MARKER`); `--overwrite` replaces an existing folder only when it holds one (or is
  empty), and never
  the working directory, the folder holding the scenario, or a folder above either.
- **One writer at a time.** A writer holds an exclusive lock (`fcntl.flock`) on a lock file
  beside the folder (`.NAME.lock`) from before it simulates until its results are in place;
  a second run aimed at the same folder is refused at once. The operating system drops the
  lock when the process ends, however it ends, so a killed run never blocks the next one.
- **Checked before simulating.** The folder's parent must be writable and have room for
  the estimated results, so a run does not find out after an hour of simulation.
- **Said in the caller's words.** A refusal (`OutputError`) reads as the Python API's
  keywords (``overwrite=True``, "another folder") when printed, and as the command line's
  flags (``--overwrite``, ``--out``) in its `cli` attribute, which the commands print.
- **Leftovers are cleaned.** Temporary folders of a write that was killed (`.NAME.*.tmp`,
  `.NAME.old-*`) are removed by the next writer, which holds the lock, so no live write can
  be disturbed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking
    fcntl = None  # type: ignore[assignment]

MARKER = ".staffsim-results"
"""A file in every result folder: `--overwrite` replaces only folders that hold it."""
MIN_FREE_BYTES = 10_000_000
"""Room asked for on top of the estimated results (manifest, tables, report)."""

_log = logging.getLogger(__name__)


class OutputError(Exception):
    """The result folder cannot be used as asked; nothing was written or deleted.

    ``str(error)`` says what to do in the Python API's words (``overwrite=True``, "choose
    another folder"); `cli` says the same with the command line's flags (``--overwrite``,
    ``--out``), for the commands to print. A message that names neither is the same in both.

    Attributes:
        cli: the message for the command line.
    """

    def __init__(self, message: str, cli: str | None = None) -> None:
        super().__init__(message)
        self.cli = message if cli is None else cli


def destination(dest: str | Path) -> Path:
    """The absolute path of a result folder (`--out ''` and `--out .` are the working directory)."""
    return Path(os.path.abspath(os.fspath(dest) or "."))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_destination(dest: str | Path, overwrite: bool, protect: Iterable[str | Path] = ()) -> Path:
    """Refuse a destination that exists (without `overwrite`) or that must never be replaced.

    Args:
        dest: the result folder.
        overwrite: whether an existing result folder may be replaced.
        protect: files the run reads (the scenario and the files it extends): the folders
            that hold them, and every folder above, are never replaced.

    Returns:
        The absolute destination.

    Raises:
        OutputError: the destination is the working directory, holds or is above a
            protected file, is not a folder, or exists and may not be replaced.
    """
    path = destination(dest)
    cwd = Path.cwd().resolve()
    real = path.resolve()
    if _inside(cwd, real):
        what = "the working directory" if real == cwd else "a folder above the working directory"
        said = f"{os.fspath(dest)!r} is {what}; give a new folder for the results"
        raise OutputError(said, f"--out {said}")
    for file in protect:
        holder = Path(os.path.abspath(file)).resolve().parent
        if _inside(holder, real):
            said = f"{path} holds {file}, which this run reads; give a new folder for the results"
            raise OutputError(said, f"--out {said}")
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        said = f"{path} exists and is not a folder; give a new folder for the results"
        raise OutputError(said, f"--out {said}")
    if path.exists():
        if not overwrite:
            raise OutputError(
                f"{path} exists; choose another folder or pass overwrite=True",
                f"{path} exists; choose another --out or pass --overwrite",
            )
        if not (path / MARKER).is_file() and any(path.iterdir()):  # an empty folder holds nothing to lose
            said = f"{path} was not written by staffsim (it has no {MARKER} file), so"
            raise OutputError(
                f"{said} overwrite=True will not replace it; choose another folder, or remove it yourself",
                f"{said} --overwrite will not replace it; choose another --out, or remove the folder yourself",
            )
    return path


def mark(folder: Path) -> None:
    """Mark a folder as staffsim's results (done first, in the temporary folder)."""
    (folder / MARKER).write_text(
        json.dumps({"written_by": "staffsim", "note": "--overwrite may replace this folder"}) + "\n",
        encoding="utf-8",
    )


def lock_path(dest: Path) -> Path:
    """The lock file of a result folder: `.NAME.lock` beside it."""
    return dest.with_name(f".{dest.name}.lock")


_held: dict[Path, int] = {}
"""Result folders this process holds the lock of → the lock file's descriptor."""


def claim(dest: str | Path) -> bool:
    """Take the exclusive lock of a result folder, for as long as this process runs or `release`.

    Creates the folder's parent if needed (that is also the check that it can be written).

    Returns:
        True when the lock was taken now, False when this process already held it.

    Raises:
        OutputError: another process holds the lock, or the parent folder cannot be written.
    """
    path = destination(dest)
    if path in _held:
        return False
    lock = lock_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {path.parent} for the results: {exc.strerror}") from None
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write into {path.parent}: {exc.strerror}") from None
        if fcntl is None:  # pragma: no cover - not POSIX
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                said = f"another staffsim run is writing to {path} (it holds {lock}); wait for it to finish"
                raise OutputError(
                    f"{said} or choose another folder", f"{said} or choose another --out"
                ) from None
            raise OutputError(f"cannot lock {lock}: {exc.strerror}") from None
        # The lock file may have been removed by a writer that released it between our
        # open and our lock: then we hold a lock nobody else can see; try again.
        try:
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[path] = fd
    clean_leftovers(path)
    return True


def release(dest: str | Path) -> None:
    """Drop the lock of a result folder (and its lock file) if this process holds it."""
    path = destination(dest)
    fd = _held.pop(path, None)
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.unlink(lock_path(path))
    os.close(fd)


def release_all() -> None:
    """Drop every lock this process holds (a command ends, whichever way)."""
    for path in list(_held):
        release(path)


@contextlib.contextmanager
def claimed(dest: str | Path) -> Iterator[Path]:
    """Hold the lock of a result folder while the block runs (kept if it was already held)."""
    taken = claim(dest)
    try:
        yield destination(dest)
    finally:
        if taken:
            release(dest)


def clean_leftovers(dest: Path) -> list[Path]:
    """Remove temporary folders that a killed write of `dest` left beside it.

    Only folders named as `sim.report.output.atomic_dir` names them and holding the marker
    (or nothing, if killed before writing it) are removed. Call with the lock held.
    """
    removed = []
    parent = dest.parent
    for pattern in (f".{dest.name}.*.tmp", f".{dest.name}.old-*"):
        for leftover in parent.glob(pattern):
            ours = leftover.is_dir() and not leftover.is_symlink()
            if ours and ((leftover / MARKER).is_file() or not any(leftover.iterdir())):
                shutil.rmtree(leftover, ignore_errors=True)
                removed.append(leftover)
    for leftover in removed:
        _log.info("removed %s, left by an interrupted write", leftover)
    return removed


def check_space(dest: str | Path, need_bytes: float) -> None:
    """Refuse when the folder's file system has less room than `need_bytes` plus a margin.

    Raises:
        OutputError: not enough free space.
    """
    path = destination(dest)
    probe = path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:  # pragma: no cover - a file system that does not say
        return
    need = need_bytes + MIN_FREE_BYTES
    if free < need:
        said = f"{probe} has {free / 1e6:,.0f} MB free; the results need about {need / 1e6:,.0f} MB"
        raise OutputError(
            f"{said} (free some space or choose another folder)",
            f"{said} (free some space or choose another --out)",
        )


def prepare(
    dest: str | Path, overwrite: bool, protect: Iterable[str | Path] = (), need_bytes: float = 0.0
) -> Path:
    """Everything checked before a run simulates: destination, lock, free space.

    The lock is kept until the process ends (or `release`).

    Raises:
        OutputError: the destination cannot be used (see `check_destination`, `claim`,
            `check_space`).
    """
    path = check_destination(dest, overwrite, protect)
    taken = claim(path)
    try:
        check_destination(path, overwrite, protect)  # again, now that no other run can write it
        check_space(path, need_bytes)
    except OutputError:
        if taken:
            release(path)
        raise
    return path


__all__ = [
    "MARKER",
    "OutputError",
    "check_destination",
    "check_space",
    "claim",
    "claimed",
    "clean_leftovers",
    "destination",
    "lock_path",
    "mark",
    "prepare",
    "release",
    "release_all",
]
