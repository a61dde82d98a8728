"""Provides Downloader: a download plan's files streamed into a local folder, resumably.

No Textual here: the file list (`w`) asks for the folder and shows the progress;
`download_plan` decides what goes where; this module writes it.

`Downloader(client, plan, folder).run()` streams each file (`BatchClient.stream_*_file`, a
chunk at a time, so memory does not grow with the file) into `NAME.part`, created 0600 with
`O_EXCL | O_NOFOLLOW`, beside its final name; folders are made 0700 and opened with
`O_NOFOLLOW`, so a symlink planted in the folder is never followed. A complete file is fsynced
and renamed over `NAME`; a failed or cancelled one leaves no `NAME` behind (and no
`NAME.part`). A connection lost mid-file resumes from the part file's size with
`If-Unmodified-Since` and checks that the file is the same version (its Last-Modified, ETag,
creation time and length); a file that changed starts again from byte 0. Each file gets
`DOWNLOAD_ATTEMPTS` attempts. `Downloader.progress` says how far it got, for a panel that
reads it a few times a second.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol

from batch_tui.batch import (
    BadRequest,
    BatchError,
    FileStream,
    PreconditionFailed,
    ServiceError,
    Throttled,
    TransportError,
)
from batch_tui.ui.byte_sources import TaskFiles
from batch_tui.ui.download_plan import PART_SUFFIX, DownloadPlan, PlannedFile

DOWNLOAD_ATTEMPTS: Final = 5
"""Attempts per file: the first and four resumes (or restarts, if the file changed)."""

RETRY_BACKOFF: Final = 0.5
"""Seconds before the first resume; it doubles for each further one, up to `MAX_BACKOFF`."""

MAX_BACKOFF: Final = 8.0

RATE_WINDOW: Final = 3.0
"""Seconds of progress the rate is measured over: recent enough to follow a link that slows
down, long enough not to jump with every chunk."""

_O_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY: Final = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC: Final = getattr(os, "O_CLOEXEC", 0)
_O_BINARY: Final = getattr(os, "O_BINARY", 0)

_CLAIMED: set[tuple[int, int, str]] = set()
"""The part files being written by this process, by (device, folder inode, name): two
downloads into one folder never take each other's part file for a stale one."""


class FileStreamClient(Protocol):
    """The part of `BatchClient` a download uses."""

    def stream_task_file(
        self,
        job_id: str,
        task_id: str,
        path: str,
        *,
        start: int = ...,
        unmodified_since: datetime | None = ...,
        chunk_bytes: int = ...,
    ) -> AbstractAsyncContextManager[FileStream]:
        """A task file's bytes from `start`, streamed."""

    def stream_node_file(
        self,
        pool_id: str,
        node_id: str,
        path: str,
        *,
        start: int = ...,
        unmodified_since: datetime | None = ...,
        chunk_bytes: int = ...,
    ) -> AbstractAsyncContextManager[FileStream]:
        """A node file's bytes from `start`, streamed."""


# -- progress --------------------------------------------------------------------------------


@dataclass
class DownloadProgress:
    """How far a download got; the downloader updates it, a panel reads it.

    Attributes:
        files_total: Files to download.
        files_done: Files saved.
        files_failed: Files that failed (refused ones not counted).
        current: The file downloading now, or None.
        current_done: Its bytes so far.
        current_total: Its length, once its GET said (else as listed), or None.
        current_index: Its place in the plan (0-based).
        note: What happens besides bytes arriving ("attempt 2 of 5 after: connection
            reset by peer"), or "".
    """

    files_total: int
    sizes: list[int | None]
    """Each file's length: as listed, then as its GET said."""
    clock: Callable[[], float] = time.monotonic
    files_done: int = 0
    files_failed: int = 0
    current: PlannedFile | None = None
    current_index: int = 0
    current_done: int = 0
    current_total: int | None = None
    note: str = ""
    finished_bytes: int = 0
    """The bytes of the files saved."""
    received: int = 0
    """Every byte received, a restarted file's first bytes too: what the rate counts."""
    started: float = field(default=0.0)
    _samples: deque[tuple[float, int]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.started = self.clock()
        self._samples.append((self.started, 0))

    @property
    def bytes_done(self) -> int:
        """Bytes of the files saved plus the current file's so far."""
        return self.finished_bytes + self.current_done

    @property
    def bytes_total(self) -> int:
        """Bytes of every file (lengths not known count 0)."""
        return sum(size or 0 for size in self.sizes)

    @property
    def sizes_known(self) -> bool:
        """Whether every file's length is known (else `bytes_total` is a floor)."""
        return all(size is not None for size in self.sizes)

    def add(self, count: int) -> None:
        """Counts `count` more bytes of the current file."""
        self.current_done += count
        self.received += count
        now = self.clock()
        self._samples.append((now, self.received))
        while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW:
            self._samples.popleft()

    def rate(self) -> float | None:
        """Bytes per second over the last few seconds, or None before there is a measure."""
        now = self.clock()
        first_time, first_bytes = self._samples[0]
        elapsed = now - first_time
        if elapsed <= 0:
            return None
        return (self.received - first_bytes) / elapsed

    def eta(self, remaining: int | None) -> float | None:
        """Seconds until `remaining` more bytes arrive at the current rate, or None."""
        rate = self.rate()
        if remaining is None or not rate:
            return None
        return max(0.0, remaining / rate)

    def elapsed(self) -> float:
        """Seconds since the download began."""
        return self.clock() - self.started


# -- the transfer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A file that was not saved, and why (one line)."""

    remote: str
    reason: str


@dataclass
class DownloadResult:
    """What a download did: the files saved (local paths), those that failed, and the bytes."""

    folder: Path
    saved: list[Path] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Version:
    """What identifies the version of a file a GET read: a resumed GET must see the same."""

    total: int | None
    last_modified: datetime | None
    etag: str | None
    created: datetime | None

    @classmethod
    def of(cls, stream: FileStream) -> _Version:
        return cls(stream.total, stream.info.last_modified, stream.etag, stream.info.creation_time)

    @property
    def resumable(self) -> bool:
        """Whether a resumed GET can be checked against this version at all."""
        return self.total is not None and (self.last_modified is not None or bool(self.etag))

    def same_as(self, later: _Version) -> bool:
        """Whether `later` (a resumed GET's) is this version: every validator both have
        agrees, and the lengths do."""
        pairs = [
            (self.last_modified, later.last_modified),
            (self.etag, later.etag),
            (self.created, later.created),
        ]
        agree = all(a == b for a, b in pairs if a is not None and b is not None)
        return agree and self.total == later.total


class _Changed(Exception):
    """The file changed between two GETs of one download: start it again from byte 0."""


class _CutShort(Exception):
    """The body ended before the length its headers announced."""


RETRYABLE: Final = (TransportError, Throttled, ServiceError, _CutShort)
"""Failures a later attempt may get past; any other error (not found, auth) is final."""


class Downloader:
    """Downloads the files of a plan into a folder, one after another.

    Args:
        client: The account's client.
        plan: What to download.
        folder: Where: created (0700) if missing; the plan's local paths are under it.
        attempts: Attempts per file.
        sleep: Waits between attempts (tests pass one that does not wait).
        clock: A monotonic clock, for the rate and the elapsed time.
        chunk_bytes: Bytes per chunk of the stream.
    """

    def __init__(
        self,
        client: FileStreamClient,
        plan: DownloadPlan,
        folder: Path,
        *,
        attempts: int = DOWNLOAD_ATTEMPTS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        chunk_bytes: int | None = None,
    ) -> None:
        self.client = client
        self.plan = plan
        self.folder = folder
        self.attempts = max(1, attempts)
        self.sleep = sleep
        self.chunk_bytes = chunk_bytes
        sizes = [planned.size for planned in plan.files]
        self.progress = DownloadProgress(len(plan.files), sizes, clock=clock)
        refused = [Failure(refusal.remote, refusal.reason) for refusal in plan.refused]
        self.result = DownloadResult(folder, failed=refused)
        self._finals = {planned.local for planned in plan.files}
        self._writer: concurrent.futures.ThreadPoolExecutor | None = None

    async def run(self) -> DownloadResult:
        """Downloads every file; a file that fails is recorded and the next one starts.

        Returns:
            What was saved and what failed (`result`, also kept up to date during the run).

        Raises:
            OSError: The folder could not be created or opened (nothing was downloaded).
            asyncio.CancelledError: Cancelled: the file in progress is removed; the files
                saved before it stay.
        """
        progress = self.progress
        root = await asyncio.to_thread(_open_root, self.folder)
        folders: dict[tuple[str, ...], int] = {(): root}
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="download")
        try:
            for index, planned in enumerate(self.plan.files):
                progress.current, progress.current_index = planned, index
                progress.current_done, progress.current_total = 0, planned.size
                progress.note = ""
                try:
                    folder_fd = _open_folder(folders, planned.local[:-1])
                    size = await self._fetch(planned, index, folder_fd)
                except (BatchError, OSError, _Changed) as error:
                    progress.files_failed += 1
                    self.result.failed.append(Failure(planned.remote, _reason(error)))
                    continue
                finally:
                    progress.current_done = 0
                progress.files_done += 1
                progress.finished_bytes += size
                self.result.saved.append(self.folder.joinpath(*planned.local))
                self.result.bytes += size
        finally:
            progress.current = None
            self._writer.shutdown(wait=False)
            for fd in folders.values():
                os.close(fd)
            self.result.seconds = progress.elapsed()
        return self.result

    def _part_name(self, local: tuple[str, ...]) -> str:
        name = local[-1] + PART_SUFFIX
        while (*local[:-1], name) in self._finals:  # `x.part` is itself a file of the plan
            name += PART_SUFFIX
        return name

    async def _fetch(self, planned: PlannedFile, index: int, folder_fd: int) -> int:
        """Downloads one file into its part file, then renames it; returns its length."""
        part = self._part_name(planned.local)
        claim = _claim(folder_fd, part)  # before anything is touched: it may be another's
        try:
            fd = _open_part(folder_fd, part)
            try:
                size = await self._transfer(planned, index, fd)
                await self._in_writer(os.fsync, fd)
                os.close(fd)
                fd = -1
                os.rename(part, planned.local[-1], src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            except BaseException:
                # Synchronous on purpose: this also runs when the download is cancelled,
                # where an await could be cancelled in turn and leave the part file behind.
                if fd >= 0:
                    os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(part, dir_fd=folder_fd)
                raise
        finally:
            _CLAIMED.discard(claim)
        return size

    async def _transfer(self, planned: PlannedFile, index: int, fd: int) -> int:
        """Fills the part file `fd`: resumes after a failure, starts again if the file changed.

        Returns:
            The file's length.
        """
        progress = self.progress
        version: _Version | None = None
        attempt = 0
        while True:
            attempt += 1
            offset = os.fstat(fd).st_size
            if offset and (version is None or not version.resumable):
                offset = _restart(fd, progress)
            try:
                if version is not None and offset == version.total:
                    return offset  # every byte arrived; only the end of the answer was lost
                async with self._open(planned.remote, offset, version) as stream:
                    seen = _Version.of(stream)
                    if offset and version is not None and not version.same_as(seen):
                        raise _Changed("the file changed on the node during the download")
                    version = seen
                    await self._receive(stream, index, fd, offset)
                return progress.current_done
            except (PreconditionFailed, _Changed) as error:
                version = None
                _restart(fd, progress)
                failure: Exception = error
                wait = 0.0
            except BadRequest as error:
                if not (offset and error.status == 416):
                    raise
                version = None  # the file shrank below what we have: it changed
                _restart(fd, progress)
                failure, wait = error, 0.0
            except RETRYABLE as error:
                failure = error
                wait = min(MAX_BACKOFF, RETRY_BACKOFF * 2 ** (attempt - 1))
            if attempt >= self.attempts:
                raise failure
            progress.note = f"attempt {attempt + 1} of {self.attempts} after: {_reason(failure)}"
            if wait:
                await self.sleep(wait)

    async def _receive(self, stream: FileStream, index: int, fd: int, offset: int) -> None:
        """Writes the body of one GET from `offset` to the end into `fd`.

        Raises:
            _CutShort: The body ended before its announced length.
        """
        progress = self.progress
        total = stream.total
        if total is not None:
            progress.sizes[index] = progress.current_total = total
        progress.current_done = offset
        async for chunk in stream.chunks():
            await self._write(fd, chunk)
            progress.add(len(chunk))
        if total is not None and progress.current_done < total:
            raise _CutShort(f"the connection ended after {progress.current_done} of {total} bytes")

    def _open(
        self, remote: str, start: int, version: _Version | None
    ) -> AbstractAsyncContextManager[FileStream]:
        """Opens the GET of one attempt; a resumed one is conditional on the version read."""
        owner = self.plan.owner
        since = version.last_modified if version is not None and start else None
        extra = {} if self.chunk_bytes is None else {"chunk_bytes": self.chunk_bytes}
        if isinstance(owner, TaskFiles):
            return self.client.stream_task_file(
                owner.job_id, owner.task_id, remote, start=start, unmodified_since=since, **extra
            )
        return self.client.stream_node_file(
            owner.pool_id, owner.node_id, remote, start=start, unmodified_since=since, **extra
        )

    async def _write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = await self._in_writer(os.write, fd, view)
            view = view[written:]

    async def _in_writer(self, call: Callable[..., int | None], *args: object) -> int:
        """Runs a blocking file call in the writer thread (the UI keeps drawing meanwhile).

        If the download is cancelled meanwhile, the call is waited for before the cancel goes
        on: the file is closed next, and a call still to come could otherwise land on a file
        that reused its descriptor.
        """
        assert self._writer is not None
        pending = self._writer.submit(call, *args)
        try:
            result = await asyncio.wrap_future(pending)
        except asyncio.CancelledError:
            concurrent.futures.wait([pending])
            raise
        return result or 0


def _restart(fd: int, progress: DownloadProgress) -> int:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    progress.current_done = 0
    return 0


def _claim(folder_fd: int, part: str) -> tuple[int, int, str]:
    info = os.fstat(folder_fd)
    claim = (info.st_dev, info.st_ino, part)
    if claim in _CLAIMED:
        raise OSError(errno.EBUSY, "another download is writing this file now")
    _CLAIMED.add(claim)
    return claim


def _open_root(folder: Path) -> int:
    """Creates the download folder if needed (0700) and opens it. The folder the user chose
    may be reached through a symlink (a `~/Downloads` that points elsewhere): that one is
    followed; nothing under it is."""
    if not {os.open, os.mkdir, os.unlink, os.rename} <= os.supports_dir_fd:
        # Every file is reached through its folder's descriptor, so no symlink is followed:
        # a platform without that says so as an error the screen shows, before any write.
        raise OSError(errno.ENOTSUP, "this platform cannot open files relative to a folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return os.open(folder, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)


def _open_folder(opened: dict[tuple[str, ...], int], parts: tuple[str, ...]) -> int:
    """Returns the descriptor of the folder `parts` under the root, creating (0700) and
    opening each level without following a symlink; remembered in `opened`."""
    found = opened.get(parts)
    if found is not None:
        return found
    parent = _open_folder(opened, parts[:-1])
    name = parts[-1]
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o700, dir_fd=parent)
    try:
        fd = os.open(name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            message = f"{name!r} is not a folder (a symlink is not followed)"
            raise OSError(error.errno, message) from None
        raise
    opened[parts] = fd
    return fd


def _open_part(folder_fd: int, part: str) -> int:
    """Creates the part file, 0600, never through a symlink. A part file left by an earlier
    run (not this process's: `_claim`) is removed first; a symlink there is removed, not
    followed."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(part, dir_fd=folder_fd)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY
    return os.open(part, flags, 0o600, dir_fd=folder_fd)


def _reason(error: BaseException) -> str:
    """One line saying why a file failed."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
