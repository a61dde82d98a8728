"""Provides file references and the byte sources that read a task's or node's file in ranges.

A `FileRef` names one file: `TaskFileRef(job_id, task_id, path)` or `NodeFileRef(pool_id,
node_id, path)`. A `FileOwner` names whose files a list shows: `TaskFiles(job_id, task_id)` or
`NodeFiles(pool_id, node_id)`; `owner.file(path)` gives the `FileRef` of one of them.

`RemoteFileSource(client, ref, on_properties=...)` is the `ByteSource` that `LogView` reads
through: `size()` is a HEAD request (`get_*_file_properties`), whose answer also goes to
`on_properties` (the viewer's header shows the size and time), `read(start, end)` one
`ocp-range` GET with an inclusive end. `copy_to_file` streams a file to local disk in bounded
range reads, so a 5 GB file is never held in memory.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from batch_tui.batch.models.account import FileInfo, NodeFile

COPY_CHUNK_BYTES = 4 * 1024 * 1024
"""Bytes per range read when copying a file to disk.

Big enough that a 5 GB file takes about 1,300 requests, small enough that memory stays a
few megabytes and a slow link still shows progress every few seconds.
"""


class FileClient(Protocol):
    """The part of `BatchClient` that the file viewer and file lists use."""

    async def get_task_file_properties(self, job_id: str, task_id: str, path: str) -> FileInfo:
        """HEAD of a task's file."""

    async def get_node_file_properties(self, pool_id: str, node_id: str, path: str) -> FileInfo:
        """HEAD of a node's file."""

    async def read_task_file(
        self,
        job_id: str,
        task_id: str,
        path: str,
        *,
        start: int | None = ...,
        end: int | None = ...,
    ) -> bytes:
        """A byte range of a task's file (inclusive end)."""

    async def read_node_file(
        self,
        pool_id: str,
        node_id: str,
        path: str,
        *,
        start: int | None = ...,
        end: int | None = ...,
    ) -> bytes:
        """A byte range of a node's file (inclusive end)."""

    async def list_task_files(
        self, job_id: str, task_id: str, *, recursive: bool = ...
    ) -> list[NodeFile]:
        """The files of a task."""

    async def list_node_files(
        self, pool_id: str, node_id: str, *, recursive: bool = ...
    ) -> list[NodeFile]:
        """The files of a node."""


@dataclass(frozen=True)
class TaskFileRef:
    """A file of a task, by its path relative to the task's directory (`stdout.txt`)."""

    job_id: str
    task_id: str
    path: str

    @property
    def crumbs(self) -> tuple[str, ...]:
        """Where the file is, for breadcrumbs: job, task, path."""
        return ("jobs", self.job_id, f"task {self.task_id}", self.path)


@dataclass(frozen=True)
class NodeFileRef:
    """A file of a node, by its path relative to the node's root (`startup/stdout.txt`)."""

    pool_id: str
    node_id: str
    path: str

    @property
    def crumbs(self) -> tuple[str, ...]:
        """Where the file is, for breadcrumbs: pool, node, path."""
        return ("pools", self.pool_id, f"node {self.node_id}", self.path)


FileRef = TaskFileRef | NodeFileRef
"""One file the viewer can open."""


@dataclass(frozen=True)
class TaskFiles:
    """The files of one task (what a `FileList` shows)."""

    job_id: str
    task_id: str

    def file(self, path: str) -> TaskFileRef:
        """Returns the reference of the task's file at `path`."""
        return TaskFileRef(self.job_id, self.task_id, path)


@dataclass(frozen=True)
class NodeFiles:
    """The files of one compute node (what a `FileList` shows)."""

    pool_id: str
    node_id: str

    def file(self, path: str) -> NodeFileRef:
        """Returns the reference of the node's file at `path`."""
        return NodeFileRef(self.pool_id, self.node_id, path)


FileOwner = TaskFiles | NodeFiles
"""Whose files a list shows."""


async def list_files(
    client: FileClient, owner: FileOwner, *, recursive: bool = True
) -> list[NodeFile]:
    """Lists the files of a task or a node.

    Args:
        client: The account's client.
        owner: The task or node.
        recursive: Whether to list subdirectories' files too (a `FileList` needs them to
            browse into directories).

    Returns:
        The files and directories, in the service's order.
    """
    if isinstance(owner, TaskFiles):
        return await client.list_task_files(owner.job_id, owner.task_id, recursive=recursive)
    return await client.list_node_files(owner.pool_id, owner.node_id, recursive=recursive)


HEAD_REUSE_SECONDS = 0.5
"""How long one HEAD answers every caller: shorter than any follow-mode poll interval."""


class RemoteFileSource:
    """A `ByteSource` over one task or node file, read through the client in ranges.

    Args:
        client: The account's client (anything with the `FileClient` methods).
        ref: The file.
        on_properties: Told of each HEAD's answer: following polls the size this way, and
            the viewer's header keeps up with it at no extra request.
    """

    def __init__(
        self,
        client: FileClient,
        ref: FileRef,
        *,
        on_properties: Callable[[FileInfo], None] | None = None,
    ) -> None:
        self.client = client
        self.ref = ref
        self.on_properties = on_properties
        self._head: asyncio.Task[FileInfo] | None = None
        self._head_started = 0.0

    async def properties(self) -> FileInfo:
        """Returns the file's properties (one HEAD request).

        Callers that ask within `HEAD_REUSE_SECONDS` of each other share one request: the
        viewer checks the file while its log view asks for the size, and on a slow link each
        extra round trip delays the first frame.
        """
        now = time.monotonic()
        head = self._head
        if (
            head is None
            or now - self._head_started > HEAD_REUSE_SECONDS
            or (head.done() and (head.cancelled() or head.exception() is not None))
        ):
            head = self._head = asyncio.ensure_future(self._fetch_properties())
            self._head_started = now
        return await asyncio.shield(head)

    async def _fetch_properties(self) -> FileInfo:
        ref = self.ref
        if isinstance(ref, TaskFileRef):
            info = await self.client.get_task_file_properties(ref.job_id, ref.task_id, ref.path)
        else:
            info = await self.client.get_node_file_properties(ref.pool_id, ref.node_id, ref.path)
        if self.on_properties is not None:
            self.on_properties(info)
        return info

    async def size(self) -> int:
        """Returns the file's current length in bytes."""
        return (await self.properties()).content_length or 0

    async def read(self, start: int, end: int) -> bytes:
        """Returns bytes `start..end` inclusive; fewer if the file is shorter."""
        if end < start:
            return b""
        ref = self.ref
        if isinstance(ref, TaskFileRef):
            return await self.client.read_task_file(
                ref.job_id, ref.task_id, ref.path, start=start, end=end
            )
        return await self.client.read_node_file(
            ref.pool_id, ref.node_id, ref.path, start=start, end=end
        )


class RangeSource(Protocol):
    """What `copy_to_file` reads from: the `ByteSource` protocol of `LogView`."""

    async def size(self) -> int:
        """The length in bytes."""

    async def read(self, start: int, end: int) -> bytes:
        """Bytes `start..end`, inclusive end."""


ProgressCallback = Callable[[int, int], None]
"""Called with (bytes copied, bytes in all) after each chunk."""


async def copy_to_file(
    source: RangeSource,
    destination: Path,
    *,
    overwrite: bool = False,
    chunk_bytes: int = COPY_CHUNK_BYTES,
    progress: ProgressCallback | None = None,
) -> int:
    """Streams a source to a local file, one bounded range read at a time.

    The length is taken once at the start: a log that grows meanwhile is copied up to that
    point, so the copy ends. A partly written file is removed if the copy fails.

    Args:
        source: Where to read from.
        destination: The local file.
        overwrite: Replace an existing file; without it an existing file raises.
        chunk_bytes: Bytes per range read.
        progress: Told of the progress after each chunk.

    Returns:
        The number of bytes written.

    Raises:
        FileExistsError: The destination exists and `overwrite` is false.
        OSError: The file could not be written.
        BatchError: A read failed.
    """
    total = await source.size()
    handle = await asyncio.to_thread(_open_destination, destination, overwrite)
    try:
        written = await _copy_chunks(source, handle, total, chunk_bytes, progress)
    except BaseException:
        _discard(handle, destination)
        raise
    await asyncio.to_thread(handle.close)
    return written


def _open_destination(destination: Path, overwrite: bool) -> BinaryIO:
    # O_EXCL makes the existence check and the creation one step, so nothing is overwritten
    # by a file that appeared after the user was asked. A new file is 0600 from the start:
    # task output can hold what others should not read (a file replaced keeps its mode).
    replace = os.O_TRUNC if overwrite else os.O_EXCL
    flags = os.O_WRONLY | os.O_CREAT | replace | getattr(os, "O_BINARY", 0)
    return os.fdopen(os.open(destination, flags, 0o600), "wb")


def _discard(handle: BinaryIO, destination: Path) -> None:
    # Synchronous on purpose: this also runs when the copy is cancelled, where awaiting
    # a thread could be cancelled in turn and leave a partial file behind.
    handle.close()
    destination.unlink(missing_ok=True)


async def _copy_chunks(
    source: RangeSource,
    handle: BinaryIO,
    total: int,
    chunk_bytes: int,
    progress: ProgressCallback | None,
) -> int:
    written = 0
    while written < total:
        end = min(written + chunk_bytes, total) - 1
        data = await source.read(written, end)
        if not data:
            break  # the file shrank (e.g. was truncated): keep what was there
        await asyncio.to_thread(handle.write, data)
        written += len(data)
        if progress is not None:
            progress(written, total)
    return written


def default_save_name(ref: FileRef) -> str:
    """Returns a local file name for saving `ref` that says where it came from.

    `job-1.task-7.stdout.txt` for a task's file, `pool.node.startup_stdout.txt` for a node's.
    Path separators and characters that are awkward in file names become `_`.
    """
    if isinstance(ref, TaskFileRef):
        parts: Sequence[str] = (ref.job_id, ref.task_id, ref.path)
    else:
        parts = (ref.pool_id, ref.node_id, ref.path)
    return ".".join(_safe_name(part) for part in parts)


def _safe_name(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
    return cleaned.strip(".") or "_"


def expand_path(text: str) -> Path:
    """Turns what the user typed into an absolute path (`~` and `$VARS` expanded)."""
    return Path(os.path.expandvars(os.path.expanduser(text.strip()))).absolute()
