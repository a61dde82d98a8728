"""Provides the durable writing of the saved state: the journal, snapshots and the dir lock.

A journal batch is durable when `append` returns (written and fsynced). A snapshot is written
to a temp file, fsynced, renamed over the old one and the directory fsynced, so a crash leaves
either the old snapshot or the new one, never a part. The format is `statefiles`'.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from batch_tui.emulator.statefiles import (
    COMMIT_LINE,
    SNAPSHOT,
    Header,
    StateError,
    encode,
    journals,
)

if sys.platform != "win32":
    import fcntl

LOCK = "lock"


def fsync_dir(directory: Path) -> None:
    """Makes a directory's entries (a created or renamed file) durable."""
    if sys.platform == "win32":
        return  # directories cannot be opened for fsync there; NTFS journals its metadata
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]


class Journal:
    """An append-only journal file; each `append` is durable when it returns."""

    def __init__(self, path: Path, valid: int | None = None) -> None:
        self.path = path
        existed = path.exists()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.size = os.fstat(self._fd).st_size
        if valid is not None and self.size > valid:
            os.ftruncate(self._fd, valid)  # an unfinished batch of a crash: never acknowledged
            os.fsync(self._fd)
            self.size = valid
        if not existed:
            fsync_dir(path.parent)

    def append(self, payload: bytes) -> None:
        """Writes a batch and fsyncs it; on failure, cuts the file back to its last batch."""
        try:
            _write_all(self._fd, payload)
            os.fsync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, self.size)
            except OSError:
                pass  # the load ignores a torn tail anyway
            raise
        self.size += len(payload)

    def close(self) -> None:
        os.close(self._fd)


class SnapshotWriter:
    """Writes a snapshot to a temp file and moves it into place atomically."""

    def __init__(self, directory: Path, gen: int) -> None:
        self.directory = directory
        self._tmp = directory / f"{SNAPSHOT}.tmp"
        self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.size = 0
        self.write(encode([Header(gen)]))

    def write(self, payload: bytes) -> None:
        _write_all(self._fd, payload)
        self.size += len(payload)

    def finish(self) -> int:
        """Ends the snapshot, makes it durable and replaces the old one; returns its size."""
        self.write(COMMIT_LINE)
        os.fsync(self._fd)
        os.close(self._fd)
        os.replace(self._tmp, self.directory / SNAPSHOT)
        fsync_dir(self.directory)
        return self.size

    def abort(self) -> None:
        os.close(self._fd)
        self._tmp.unlink(missing_ok=True)


def remove_journals(directory: Path, below: int) -> None:
    """Deletes the journals older than generation `below` (folded into a snapshot)."""
    for number, path in journals(directory):
        if number < below:
            path.unlink(missing_ok=True)


class DirLock:
    """An exclusive lock on a state directory, so two emulators never write the same files.

    The OS drops it when the process dies, so a killed emulator never leaves it behind.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Takes the lock.

        Raises:
            StateError: When another emulator holds it.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if sys.platform != "win32":
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise StateError(
                    f"{self.path.parent} is in use by another emulator (stop it first)"
                ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
