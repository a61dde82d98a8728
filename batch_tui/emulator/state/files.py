"""Provides the state folder's files besides the database: its lock, its status and their checks.

`<data_dir>/state` holds:

- `emulator.db` (and, while it is open or after a crash, `emulator.db-wal` and `-shm`): the
  database (`database`);
- `lock`: held (`flock`) while an emulator uses the folder, so two never write the same state;
- `status.json`: the database's id, and whether it is open. An emulator sets `open` once the
  database's WAL file exists and clears it after its last checkpoint at a clean stop. So when
  it says open, the WAL may hold committed writes (the emulator was killed), and a missing WAL
  file means they are lost; and when it exists, a missing database means it was removed.

`check_files` reads those signs before SQLite opens anything (SQLite would silently start a
new database, or ignore a WAL it cannot read).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import msgspec

from batch_tui.emulator.state.errors import StateError, damaged, one_line
from batch_tui.emulator.state.wal import wal_damage

if sys.platform != "win32":
    import fcntl

DATABASE = "emulator.db"
LOCK = "lock"
STATUS = "status.json"


class Status(msgspec.Struct):
    """What `status.json` says."""

    database: str
    """The database's file name, so that a reader of the folder knows what it is about."""
    id: str
    """The id the database holds in its `meta` table: a status never vouches for another one."""
    open: bool
    """Whether an emulator has the database open (or was killed with it open)."""


def wal_path(database: Path) -> Path:
    return database.with_name(database.name + "-wal")


Fingerprint = tuple[tuple[int, int, int] | None, ...]


def fingerprint(state_dir: Path) -> Fingerprint:
    """Identifies what the database and its WAL hold without reading them: their inode, size
    and time of change (None for a file that is not there). Any write changes it."""
    found: list[tuple[int, int, int] | None] = []
    for path in (state_dir / DATABASE, wal_path(state_dir / DATABASE)):
        try:
            stat = path.stat()
        except FileNotFoundError:
            found.append(None)
            continue
        found.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


def fsync_dir(directory: Path) -> None:
    """Makes a directory's entries (a created or renamed file) durable."""
    if sys.platform == "win32":
        return  # directories cannot be opened for fsync there; NTFS journals its metadata
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_status(state_dir: Path) -> Status | None:
    """Returns what `status.json` says, or None when there is none.

    Raises:
        StateError: When it cannot be read.
    """
    path = state_dir / STATUS
    try:
        return msgspec.json.decode(path.read_bytes(), type=Status)
    except FileNotFoundError:
        return None
    except (OSError, msgspec.DecodeError) as exc:
        raise StateError(
            f"{path}: cannot be read ({one_line(str(exc))}); nothing was changed: it only "
            f"says whether {DATABASE} was open, so if you trust {DATABASE}, delete it"
        ) from None


def write_status(state_dir: Path, status: Status) -> None:
    """Replaces `status.json` atomically and durably."""
    tmp = state_dir / f"{STATUS}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, msgspec.json.encode(status) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, state_dir / STATUS)
    fsync_dir(state_dir)


def check_files(state_dir: Path) -> Status | None:
    """Checks that the database and its WAL are all there and the WAL is whole.

    Returns:
        What `status.json` says (None when there is none).

    Raises:
        StateError: When a file is missing or the WAL is damaged.
    """
    status = read_status(state_dir)
    database = state_dir / DATABASE
    wal = wal_path(database)
    if not database.exists():
        if wal.exists() and wal.stat().st_size:
            raise damaged(database, f"is missing, but {wal.name} holds writes to it", state_dir)
        if status is not None:
            raise damaged(
                database,
                f"is missing, but {STATUS} says this folder holds the emulator's database",
                state_dir,
            )
        return None
    if not wal.exists():
        if status is not None and status.open:
            raise damaged(
                wal,
                f"is missing, but the emulator that had {DATABASE} open did "
                "not stop cleanly, so it held saved writes",
                state_dir,
            )
        return status
    problem = wal_damage(wal)
    if problem:
        raise damaged(wal, problem, state_dir)
    return status


class DirLock:
    """An exclusive lock on a state folder, so two emulators never write the same state.

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
