"""Tests the file viewer's parts: byte sources, streaming copies, and the FileList widget."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult

from batch_tui.batch.models.account import FileInfo, FileProperties, NodeFile
from batch_tui.ui.byte_sources import (
    NodeFileRef,
    NodeFiles,
    RemoteFileSource,
    TaskFileRef,
    TaskFiles,
    copy_to_file,
    default_save_name,
    expand_path,
    list_files,
)
from batch_tui.ui.widgets.file_list import FileList, split_path

NOW = datetime(2024, 10, 1, 12, 0, tzinfo=timezone.utc)


class MemorySource:
    """A ByteSource over bytes that records every read."""

    def __init__(self, data: bytes, *, fail_at: int | None = None) -> None:
        self.data = data
        self.reads: list[tuple[int, int]] = []
        self.fail_at = fail_at

    async def size(self) -> int:
        return len(self.data)

    async def read(self, start: int, end: int) -> bytes:
        if self.fail_at is not None and start >= self.fail_at:
            raise OSError("connection reset")
        self.reads.append((start, end))
        return self.data[start : end + 1]


async def test_copy_streams_in_bounded_range_reads(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40_000  # 10 MB
    source = MemorySource(data)
    progress: list[tuple[int, int]] = []
    target = tmp_path / "copy.bin"
    written = await copy_to_file(
        source, target, chunk_bytes=1_000_000, progress=lambda d, t: progress.append((d, t))
    )
    assert written == len(data)
    assert target.read_bytes() == data
    assert len(source.reads) == 11
    assert max(end - start + 1 for start, end in source.reads) == 1_000_000
    assert source.reads[-1] == (10_000_000, len(data) - 1)
    assert progress[-1] == (len(data), len(data))


async def test_copy_refuses_to_overwrite_unless_told(tmp_path: Path) -> None:
    target = tmp_path / "exists.txt"
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        await copy_to_file(MemorySource(b"new"), target)
    assert target.read_bytes() == b"old"
    await copy_to_file(MemorySource(b"new"), target, overwrite=True)
    assert target.read_bytes() == b"new"


async def test_failed_copy_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "partial.bin"
    with pytest.raises(OSError, match="reset"):
        await copy_to_file(MemorySource(b"x" * 100, fail_at=50), target, chunk_bytes=10)
    assert not target.exists()


async def test_copy_of_a_shrinking_file_keeps_what_was_there(tmp_path: Path) -> None:
    source = MemorySource(b"abcdefghij")

    async def shrunk_read(start: int, end: int) -> bytes:
        return b"abcd"[start : end + 1]

    source.read = shrunk_read  # type: ignore[method-assign]
    target = tmp_path / "shrunk.txt"
    assert await copy_to_file(source, target, chunk_bytes=4) == 4
    assert target.read_bytes() == b"abcd"


class FakeClient:
    """Records which file API the sources call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def get_task_file_properties(self, job_id: str, task_id: str, path: str) -> FileInfo:
        self.calls.append(("task-head", job_id, task_id, path))
        return FileInfo(content_length=42)

    async def get_node_file_properties(self, pool_id: str, node_id: str, path: str) -> FileInfo:
        self.calls.append(("node-head", pool_id, node_id, path))
        return FileInfo(content_length=None)

    async def read_task_file(self, job_id, task_id, path, *, start=None, end=None) -> bytes:
        self.calls.append(("task-read", job_id, task_id, path, start, end))
        return b"t"

    async def read_node_file(self, pool_id, node_id, path, *, start=None, end=None) -> bytes:
        self.calls.append(("node-read", pool_id, node_id, path, start, end))
        return b"n"

    async def list_task_files(self, job_id, task_id, recursive=False) -> list[NodeFile]:
        self.calls.append(("task-list", job_id, task_id, recursive))
        return []

    async def list_node_files(self, pool_id, node_id, recursive=False) -> list[NodeFile]:
        self.calls.append(("node-list", pool_id, node_id, recursive))
        return []


async def test_remote_source_reads_the_right_file_in_ranges() -> None:
    client = FakeClient()
    task = RemoteFileSource(client, TaskFileRef("job", "t1", "stdout.txt"))
    node = RemoteFileSource(client, NodeFileRef("pool", "n1", "startup/stderr.txt"))
    assert await task.size() == 42
    assert await node.size() == 0  # no Content-Length: treated as empty
    assert await task.read(10, 19) == b"t"
    assert await node.read(0, 0) == b"n"
    assert await node.read(5, 4) == b""  # an empty range sends nothing
    await list_files(client, TaskFiles("job", "t1"))
    await list_files(client, NodeFiles("pool", "n1"), recursive=False)
    assert client.calls == [
        ("task-head", "job", "t1", "stdout.txt"),
        ("node-head", "pool", "n1", "startup/stderr.txt"),
        ("task-read", "job", "t1", "stdout.txt", 10, 19),
        ("node-read", "pool", "n1", "startup/stderr.txt", 0, 0),
        ("task-list", "job", "t1", True),
        ("node-list", "pool", "n1", False),
    ]


def test_save_names_say_where_the_file_came_from(tmp_path: Path, monkeypatch) -> None:
    assert default_save_name(TaskFileRef("job-1", "t 7", "wd/out.txt")) == "job-1.t_7.wd_out.txt"
    assert default_save_name(NodeFileRef("p", "n", "..\\evil")) == "p.n._evil"
    monkeypatch.setenv("OUTDIR", str(tmp_path))
    assert expand_path("$OUTDIR/x.txt") == tmp_path / "x.txt"
    assert expand_path("~/x").is_absolute()


def node_file(name: str, size: int | None = None, *, minute: int = 0) -> NodeFile:
    if size is None:
        return NodeFile(name=name, is_directory=True)
    modified = NOW.replace(minute=minute)
    return NodeFile(
        name=name, properties=FileProperties(content_length=size, last_modified=modified)
    )


class FileListApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[Any] = []

    def compose(self) -> ComposeResult:
        yield FileList(TaskFiles("job-1", "t1"))

    def on_file_list_file_opened(self, event: FileList.FileOpened) -> None:
        self.opened.append(event.ref)


FILES = [
    node_file("stdout.txt", 2048, minute=5),
    node_file("stderr.txt", 10, minute=1),
    node_file("wd"),
    node_file("wd/out/result.csv", 5),
    node_file("wd/notes.txt", 7),
]


def test_split_path_handles_windows_names() -> None:
    assert split_path("workitems\\job\\task\\stdout.txt") == (
        "workitems",
        "job",
        "task",
        "stdout.txt",
    )
    assert split_path("wd/out/") == ("wd", "out")


async def test_file_list_browses_directories_and_opens_files() -> None:
    app = FileListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        files = app.query_one(FileList)
        files.show_files(FILES, now=NOW)
        files.focus()
        await pilot.pause()
        assert list(files.visible_keys) == ["d:wd", "f:stderr.txt", "f:stdout.txt"]
        assert files.file_count == 4
        row = files.get_row("f:stdout.txt")
        assert row is not None and row.cells[1] == "2.0 KiB" and row.cells[2] == "12:05:00"

        await pilot.press("enter")  # into wd/
        assert files.directory == ("wd",)
        assert list(files.visible_keys) == ["..", "d:out", "f:wd/notes.txt"]
        await pilot.press("down", "enter")  # out/ exists only through the file inside it
        assert list(files.visible_keys) == ["..", "f:wd/out/result.csv"]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.opened == [TaskFileRef("job-1", "t1", "wd/out/result.csv")]

        await pilot.press("backspace")
        assert files.directory == ("wd",)
        assert files.cursor_key == "d:out"  # the cursor returns to where we came from
        files.show_files(FILES[:3], now=NOW)  # a refresh: wd/out is gone, wd stays
        assert files.directory == ("wd",)
        assert list(files.visible_keys) == [".."]
        await pilot.press("enter")
        assert files.directory == ()


async def test_file_list_sorts_sizes_by_bytes() -> None:
    app = FileListApp()
    async with app.run_test(size=(80, 20)):
        files = app.query_one(FileList)
        files.show_files(FILES, now=NOW)
        files.sort_by("size")
        assert list(files.visible_keys) == ["d:wd", "f:stderr.txt", "f:stdout.txt"]
        files.sort_by("size", reverse=True)
        assert list(files.visible_keys)[0] == "f:stdout.txt"


async def test_windows_node_files_open_with_the_services_name() -> None:
    class NodeApp(FileListApp):
        def compose(self) -> ComposeResult:
            yield FileList(NodeFiles("pool", "node"))

    app = NodeApp()
    async with app.run_test(size=(80, 20)) as pilot:
        files = app.query_one(FileList)
        files.show_files([node_file("startup\\stdout.txt", 3)], now=NOW)
        files.focus()
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        assert app.opened == [NodeFileRef("pool", "node", "startup\\stdout.txt")]
        assert files.open_path("startup\\stdout.txt") == app.opened[0]
        assert files.open_path("startup") is None


async def test_concurrent_property_requests_share_one_head(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from batch_tui.ui import byte_sources

    calls: list[str] = []

    class CountingClient:
        async def get_task_file_properties(self, job_id: str, task_id: str, path: str) -> FileInfo:
            calls.append(path)
            await asyncio.sleep(0)
            return FileInfo(url="u", is_directory=False, content_length=len(calls))

    source = byte_sources.RemoteFileSource(
        CountingClient(),  # type: ignore[arg-type]
        byte_sources.TaskFileRef("job", "task", "stdout.txt"),
    )
    sizes = await asyncio.gather(source.size(), source.properties(), source.size())
    assert calls == ["stdout.txt"]  # the viewer's check and the log view's size: one HEAD
    assert sizes[0] == sizes[2] == 1
    monkeypatch.setattr(byte_sources, "HEAD_REUSE_SECONDS", -1.0)
    assert await source.size() == 2  # past the reuse window, follow mode sees new bytes
