"""Provides read_tails: the ends of many tasks' `stderr.txt`, a few reads at a time (no Textual).

Triage needs the last line of the stderr of every failed task: 10,000 of them in a big job.
Each is a range read of the last `TAIL_BYTES` (`BatchClient.read_task_file` with a range, the
service's `ocp-range`), never the whole file, `concurrency` at a time. The service's range is
from a start byte, and the size is not known before reading; so the first read takes bytes
0 to `TAIL_BYTES - 1`: a shorter answer is the whole file (most stderr files are a few lines,
and that is one request). A full answer means a longer file: its size comes from a HEAD
(`get_task_file_properties`) and its last `TAIL_BYTES` from a second range read.

A file that is not there (404: never written, or the task's directory was cleaned up) or a
node that is gone (409, the task's files are unavailable) is a kind of stderr of its own,
"missing", not an error. `read_tails` returns when every queued task is read; cancelling it
(its screen closed) cancels the reads in flight and starts no more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Final, Protocol

from batch_tui.batch.errors import BadRequest, BatchError, Conflict, NotFound
from batch_tui.batch.models import FileInfo
from batch_tui.ui.failure_signatures import TAIL_BYTES, StderrKind, stderr_signature

STDERR: Final = "stderr.txt"

CONCURRENCY: Final = 16
"""Reads in flight at once. At 20 ms a request, 16 in flight are 800 reads a second, more
than a client's CPU turns around (a few ms a request); more only grow the connection pool,
which httpx scans for every request (32 read slower than 16 on the benchmark)."""

RANGE_NOT_SATISFIABLE: Final = 416


class TaskFileReader(Protocol):
    """The part of `BatchClient` the tails are read with."""

    async def read_task_file(
        self,
        job_id: str,
        task_id: str,
        path: str,
        *,
        start: int | None = None,
        end: int | None = None,
    ) -> bytes: ...

    async def get_task_file_properties(self, job_id: str, task_id: str, path: str) -> FileInfo: ...


@dataclass(frozen=True, slots=True)
class Tail:
    """What the end of one task's stderr says."""

    task_id: str
    kind: StderrKind
    line: str = ""
    """The normalised last line when `kind` is "line"."""
    error: str = ""
    """Why it could not be read, when `kind` is "unreadable"."""


async def read_tail(client: TaskFileReader, job_id: str, task_id: str) -> Tail:
    """Reads the end of one task's `stderr.txt` and returns its last line's signature."""
    try:
        data = await client.read_task_file(job_id, task_id, STDERR, start=0, end=TAIL_BYTES - 1)
        if len(data) >= TAIL_BYTES:
            info = await client.get_task_file_properties(job_id, task_id, STDERR)
            size = info.content_length or 0
            if size > TAIL_BYTES:
                data = await client.read_task_file(
                    job_id, task_id, STDERR, start=size - TAIL_BYTES, end=size - 1
                )
    except (NotFound, Conflict):
        return Tail(task_id, "missing")
    except BadRequest as error:
        if error.status == RANGE_NOT_SATISFIABLE:  # an empty file, on a strict service
            return Tail(task_id, "empty")
        return Tail(task_id, "unreadable", error=str(error))
    except BatchError as error:
        return Tail(task_id, "unreadable", error=str(error))
    kind, line = stderr_signature(data)
    return Tail(task_id, kind, line)


async def read_tails(
    client: TaskFileReader,
    job_id: str,
    task_ids: AsyncIterator[str],
    on_tail: Callable[[Tail], None],
    *,
    concurrency: int = CONCURRENCY,
) -> int:
    """Reads the stderr tails of the tasks `task_ids` yields, `concurrency` at a time.

    Args:
        client: Reads the files (`BatchClient`).
        job_id: The tasks' job.
        task_ids: The tasks to read, as they become known (a listing still streaming).
        on_tail: Told of each tail as it arrives, in the order they arrive.
        concurrency: Reads in flight at once (at least 1).

    Returns:
        How many tails were read.
    """
    queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=concurrency * 4)
    workers = max(1, concurrency)
    read = 0

    async def reader() -> None:
        nonlocal read
        while (task_id := await queue.get()) is not None:
            on_tail(await read_tail(client, job_id, task_id))
            read += 1

    async def feed() -> None:
        async for task_id in task_ids:
            await queue.put(task_id)
        for _ in range(workers):
            await queue.put(None)

    tasks = [asyncio.ensure_future(feed())]
    tasks += [asyncio.ensure_future(reader()) for _ in range(workers)]
    try:
        await asyncio.gather(*tasks)
    finally:
        # Cancelled (the screen closed) or the feed failed: no read goes on without us.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return read
