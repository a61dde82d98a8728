"""Provides the last listing of a job's tasks, kept on disk so a job reopens at once.

Listing 100,000 tasks takes seconds at the real service's latency; the rows a view showed last
time take milliseconds to read back. A reopened job shows them at once, marked as cached,
and a delta refresh (the tasks whose state changed since) brings them up to date.

One file per job, ``<cache dir>/tasks-v1/<hash>.msgpack`` (the hash of the account's endpoint
and the job id, so no id from the service names a file), msgspec MessagePack written 0600
and atomically. It holds only what the task list selects (`Task` with the view's
``$select``: ids, states, times, exit codes, failure codes, nodes): no command line,
environment or resource file. At most `MAX_JOBS` files are kept, the least recently written
go first. A missing, damaged, foreign or oversized file loads as nothing (it is a cache: the
listing that follows is the truth) and is replaced by the next save.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Final

import msgspec

from batch_tui import paths
from batch_tui.batch.models import Task

FORMAT_VERSION: Final = 1
FOLDER_NAME: Final = "tasks-v1"
"""The folder of the cache directory the listings are kept in."""

MAX_JOBS: Final = 6
"""Jobs whose last listing is kept: the few a person goes back and forth between."""

MAX_TASKS: Final = 1_100_000
"""A longer listing is not saved (a million-task job fits)."""

MAX_FILE_BYTES: Final = 512 * 1024 * 1024
"""A larger file is not read."""


class TaskListSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A job's tasks as a view last listed them.

    Attributes:
        endpoint: The account's endpoint.
        job_id: The job.
        saved_at: When it was saved (the local clock).
        since: The latest ``stateTransitionTime`` the listing saw (the service's clock):
            where a delta refresh starts.
        listing_seconds: How long that listing took (the delta reaches back as far).
        tasks: The tasks, with the fields the view selected.
    """

    version: int = FORMAT_VERSION
    endpoint: str
    job_id: str
    saved_at: datetime
    since: datetime | None
    listing_seconds: float = 0.0
    tasks: list[Task]


_ENCODER: Final = msgspec.msgpack.Encoder()
_DECODER: Final = msgspec.msgpack.Decoder(TaskListSnapshot)


def default_folder() -> Path:
    """Where the task listings are kept: a folder of the user's cache directory."""
    return paths.cache_dir() / FOLDER_NAME


def file_of(folder: Path, endpoint: str, job_id: str) -> Path:
    """The file of one job of one account."""
    digest = hashlib.sha256(f"{endpoint.rstrip('/')}\n{job_id}".encode()).hexdigest()[:32]
    return folder / f"{digest}.msgpack"


def load_task_list(folder: Path, endpoint: str, job_id: str) -> TaskListSnapshot | None:
    """The last listing of a job, or None when there is none that can be read."""
    path = file_of(folder, endpoint, job_id)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        snapshot = _DECODER.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if (
        snapshot.version != FORMAT_VERSION
        or snapshot.endpoint.rstrip("/") != endpoint.rstrip("/")
        or snapshot.job_id != job_id
    ):
        return None
    return snapshot


def save_task_list(folder: Path, snapshot: TaskListSnapshot, *, max_jobs: int = MAX_JOBS) -> bool:
    """Keeps a job's listing (atomically, 0600), dropping the oldest files past `max_jobs`.

    Returns:
        Whether it was written (False: too many tasks, or the disk refused; the app runs on
        either way, so an `OSError` is not raised).
    """
    if len(snapshot.tasks) > MAX_TASKS:
        return False
    path = file_of(folder, snapshot.endpoint, snapshot.job_id)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        paths.replace_private(path, _ENCODER.encode(snapshot))
        _drop_oldest(folder, max_jobs)
    except OSError:
        return False
    return True


def _drop_oldest(folder: Path, keep: int) -> None:
    files = sorted(folder.glob("*.msgpack"), key=_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
