"""Tests the stderr tail reader: range reads only, bounded concurrency, missing files, cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from batch_tui.batch.errors import Conflict, NotFound
from batch_tui.batch.models import FileInfo
from batch_tui.ui.failure_signatures import TAIL_BYTES
from batch_tui.ui.failure_tails import Tail, read_tail, read_tails


class FakeFiles:
    """Task files in memory; records every read and how many run at once."""

    def __init__(self, files: dict[str, bytes], gate: asyncio.Event | None = None) -> None:
        self.files = files
        self.reads: list[tuple[str, int | None, int | None]] = []
        self.heads: list[str] = []
        self.in_flight = 0
        self.most = 0
        self.gate = gate

    async def read_task_file(
        self, job_id: str, task_id: str, path: str, *, start: int | None = None,
        end: int | None = None,
    ) -> bytes:  # fmt: skip
        assert path == "stderr.txt"
        self.reads.append((task_id, start, end))
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(0)
            if task_id == "gone-node":
                raise Conflict("The files of the specified task are unavailable.", status=409)
            if task_id not in self.files:
                raise NotFound("The specified file does not exist.", status=404)
            data = self.files[task_id]
            return data[start or 0 : None if end is None else end + 1]
        finally:
            self.in_flight -= 1

    async def get_task_file_properties(self, job_id: str, task_id: str, path: str) -> FileInfo:
        self.heads.append(task_id)
        return FileInfo(url="", is_directory=False, content_length=len(self.files[task_id]))


async def ids(task_ids: list[str]) -> AsyncIterator[str]:
    for task_id in task_ids:
        yield task_id


async def test_a_short_stderr_is_one_range_read() -> None:
    files = FakeFiles({"t1": b"loading\nerror: tile 3 needed 18.2 GiB\n"})
    assert await read_tail(files, "job", "t1") == Tail(
        "t1", "line", "error: tile <n> needed <n> GiB"
    )
    assert files.reads == [("t1", 0, TAIL_BYTES - 1)] and files.heads == []


async def test_a_long_stderr_reads_only_its_last_bytes() -> None:
    big = b"warning: noise\n" * 2000 + b"ValueError: bad frame 12\n"
    files = FakeFiles({"t1": big})
    tail = await read_tail(files, "job", "t1")
    assert tail == Tail("t1", "line", "ValueError: bad frame <n>")
    assert files.heads == ["t1"]
    assert files.reads == [("t1", 0, TAIL_BYTES - 1), ("t1", len(big) - TAIL_BYTES, len(big) - 1)]


async def test_missing_files_and_gone_nodes_are_no_stderr_not_errors() -> None:
    files = FakeFiles({"empty": b""})
    assert (await read_tail(files, "job", "nothing")).kind == "missing"
    assert (await read_tail(files, "job", "gone-node")).kind == "missing"
    assert (await read_tail(files, "job", "empty")).kind == "empty"


async def test_reads_stay_within_the_concurrency() -> None:
    task_ids = [f"t{index}" for index in range(50)]
    files = FakeFiles({task_id: b"boom\n" for task_id in task_ids})
    seen: list[Tail] = []
    read = await read_tails(files, "job", ids(task_ids), seen.append, concurrency=4)
    assert read == 50 and {tail.task_id for tail in seen} == set(task_ids)
    assert 1 < files.most <= 4


async def test_cancelling_stops_every_read() -> None:
    gate = asyncio.Event()
    task_ids = [f"t{index}" for index in range(100)]
    files = FakeFiles({task_id: b"boom\n" for task_id in task_ids}, gate)
    reading = asyncio.ensure_future(read_tails(files, "job", ids(task_ids), lambda tail: None,
                                               concurrency=5))  # fmt: skip
    for _ in range(100):  # bounded: the five readers start within a few loop turns
        if files.in_flight == 5:
            break
        await asyncio.sleep(0)
    assert files.in_flight == 5
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert files.in_flight == 0
    started = len(files.reads)
    gate.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(files.reads) == started == 5  # nothing started after the cancel
