"""Tests the headless downloader against the emulator's real node files: whole files equal the
source, a dropped connection resumes, a changed file starts again, cancel leaves no file,
hostile names and planted symlinks never write outside the folder, modes are 0600/0700."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from batch_tui.batch import BatchClient, RetryPolicy
from batch_tui.batch.models import NodeFile
from batch_tui.ui.byte_sources import NodeFiles
from batch_tui.ui.download_plan import DownloadPlan, PlannedFile, plan_download
from batch_tui.ui.downloads import DOWNLOAD_ATTEMPTS, Downloader, DownloadProgress
from tests.polling import until
from tests.ui.jobs_fixtures import node_root
from tests.ui.recording import Recorder
from tests.ui.support import TARGET

real_files = pytest.mark.parametrize("executor", ["local"])  # node files are real files

CHUNK = 64 * 1024
"""Small chunks, so a file of a few hundred KiB takes several."""


def client_on(transport: httpx.AsyncBaseTransport) -> BatchClient:
    assert TARGET.key is not None
    return BatchClient.with_shared_key(
        TARGET.url, TARGET.account, TARGET.key, transport=transport,
        retry=RetryPolicy(max_attempts=1),
    )  # fmt: skip


def write(root: Path, path: str, data: bytes) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def every_file(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


async def no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


class BreaksMidBody(httpx.AsyncBaseTransport):
    """Cuts the body of file GETs after `after` bytes, for the first `times` of them (a
    dropped connection once the headers and some bytes arrived); `before_cut` runs first."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, after: int, times: int = 1) -> None:
        self.inner = inner
        self.after = after
        self.times = times
        self.gets: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "GET" or "/files/" not in request.url.path:
            return response
        self.gets.append(request)
        if self.times <= 0:
            return response
        self.times -= 1
        body = await response.aread()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Cut(body[: self.after], request),
            request=request,
        )


class _Cut(httpx.AsyncByteStream):
    def __init__(self, head: bytes, request: httpx.Request) -> None:
        self.head = head
        self.request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        raise httpx.ReadError("connection reset by peer", request=self.request)


class HoldsMidBody(httpx.AsyncBaseTransport):
    """Sends the first `after` bytes of file GETs whose path ends with `name`, then waits
    forever (a stalled link); `started` is set once those bytes went out."""

    def __init__(self, inner: httpx.AsyncBaseTransport, name: str, after: int) -> None:
        self.inner = inner
        self.name = name
        self.after = after
        self.started = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "GET" or not request.url.path.endswith(self.name):
            return response
        body = await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers,
            stream=_Held(body[: self.after], self.started), request=request,
        )  # fmt: skip


class _Held(httpx.AsyncByteStream):
    def __init__(self, head: bytes, started: asyncio.Event) -> None:
        self.head = head
        self.started = started

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        self.started.set()
        await asyncio.Event().wait()
        yield b""  # pragma: no cover - never reached


@pytest.fixture
def asgi(recorder: Recorder) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=recorder)


@pytest.fixture
def source(emulator: Any, node: str) -> Path:
    """The node's files: nested folders, an empty file and some bigger than a chunk."""
    root = node_root(emulator, node)
    write(root, "shared/big.bin", os.urandom(5 * CHUNK + 123))
    write(root, "shared/logs/a.txt", b"alpha\n" * 1000)
    write(root, "shared/logs/deep/b.txt", b"beta\n")
    write(root, "shared/empty.txt", b"")
    return root


async def listed(client: BatchClient, node: str) -> list[NodeFile]:
    return await client.list_node_files("pool-a", node, recursive=True)


@real_files
async def test_a_folder_downloads_whole_with_private_modes(asgi, source, node, tmp_path):
    client = client_on(asgi)
    files = [f for f in await listed(client, node) if f.name.startswith("shared/")]
    plan = plan_download(NodeFiles("pool-a", node), files, base=("shared",))
    assert plan.refused == ()
    assert plan.total_bytes == sum((source / "shared" / "/".join(f.local)).stat().st_size
                                   for f in plan.files)  # fmt: skip
    folder = tmp_path / "out"
    result = await Downloader(client, plan, folder, chunk_bytes=CHUNK).run()

    assert result.failed == []
    assert every_file(folder) == ["big.bin", "empty.txt", "logs/a.txt", "logs/deep/b.txt"]
    for name in every_file(folder):
        assert digest(folder / name) == digest(source / "shared" / name)
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    for sub in (folder, folder / "logs", folder / "logs" / "deep"):
        assert stat.S_IMODE(sub.stat().st_mode) == 0o700
    assert result.bytes == plan.total_bytes
    assert sorted(result.saved) == sorted(folder / name for name in every_file(folder))


@real_files
async def test_streaming_reads_in_chunks_from_an_offset(asgi, source, node):
    client = client_on(asgi)
    data = (source / "shared" / "big.bin").read_bytes()
    async with client.stream_node_file(
        "pool-a", node, "shared/big.bin", start=1000, chunk_bytes=CHUNK
    ) as stream:
        assert stream.total == len(data)
        assert stream.info.content_length == len(data) - 1000
        assert stream.info.last_modified is not None
        chunks = [chunk async for chunk in stream.chunks()]
    assert b"".join(chunks) == data[1000:]
    assert max(len(chunk) for chunk in chunks) <= CHUNK


@real_files
async def test_a_dropped_connection_resumes_from_the_part_file(asgi, source, node, tmp_path):
    breaks = BreaksMidBody(asgi, after=2 * CHUNK + 7)
    client = client_on(breaks)
    plan = plan_download(NodeFiles("pool-a", node), await listed(client, node), ("shared",))
    plan = DownloadPlan(plan.owner, tuple(f for f in plan.files if f.local == ("big.bin",)))
    folder = tmp_path / "out"
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    result = await Downloader(client, plan, folder, sleep=sleep, chunk_bytes=CHUNK).run()

    assert result.failed == []
    assert digest(folder / "big.bin") == digest(source / "shared" / "big.bin")
    first, second = breaks.gets
    assert "ocp-range" not in first.headers
    # The 7 bytes after the last whole chunk were still being gathered when the cut came:
    # the part file held 2 chunks, and the resume asked from there.
    assert second.headers["ocp-range"] == f"bytes={2 * CHUNK}-"
    assert "if-unmodified-since" in second.headers
    assert len(waits) == 1
    assert every_file(folder) == ["big.bin"]


@real_files
@pytest.mark.parametrize("change", ["newer", "same-time"])
async def test_a_file_that_changed_before_the_resume_starts_again(
    asgi, source, node, tmp_path, change
):
    breaks = BreaksMidBody(asgi, after=CHUNK)
    client = client_on(breaks)
    big = source / "shared" / "big.bin"
    plan = DownloadPlan(
        NodeFiles("pool-a", node), (PlannedFile("shared/big.bin", ("big.bin",), None),)
    )
    fresh = os.urandom(3 * CHUNK)

    async def rewrite_meanwhile(seconds: float) -> None:
        before = big.stat()
        big.write_bytes(fresh)
        if change == "newer":  # the resumed GET's If-Unmodified-Since fails: 412
            os.utime(big, (before.st_atime + 10, before.st_mtime + 10))
        else:  # same second: only the length tells
            os.utime(big, (before.st_atime, before.st_mtime))

    folder = tmp_path / "out"
    result = await Downloader(client, plan, folder, sleep=rewrite_meanwhile).run()

    assert result.failed == []
    assert (folder / "big.bin").read_bytes() == fresh
    assert "ocp-range" not in breaks.gets[-1].headers  # the last GET read it from byte 0


@real_files
async def test_gives_up_after_its_attempts_and_leaves_nothing(asgi, source, node, tmp_path):
    breaks = BreaksMidBody(asgi, after=100, times=100)
    client = client_on(breaks)
    plan = DownloadPlan(
        NodeFiles("pool-a", node),
        (PlannedFile("shared/big.bin", ("big.bin",), None),
         PlannedFile("shared/logs/deep/b.txt", ("b.txt",), 5)),
    )  # fmt: skip
    breaks.times = DOWNLOAD_ATTEMPTS  # every attempt of the first file breaks; not the second's
    folder = tmp_path / "out"
    downloader = Downloader(client, plan, folder, sleep=no_wait)
    result = await downloader.run()

    assert [f.remote for f in result.failed] == ["shared/big.bin"]
    assert "connection" in result.failed[0].reason.lower()
    assert len(breaks.gets) == DOWNLOAD_ATTEMPTS + 1
    assert every_file(folder) == ["b.txt"]
    assert downloader.progress.files_done == 1
    assert downloader.progress.files_failed == 1


@real_files
async def test_cancel_leaves_no_half_file(asgi, source, node, tmp_path):
    holds = HoldsMidBody(asgi, "big.bin", after=CHUNK)
    client = client_on(holds)
    plan = DownloadPlan(
        NodeFiles("pool-a", node),
        (PlannedFile("shared/logs/a.txt", ("a.txt",), 6000),
         PlannedFile("shared/big.bin", ("big.bin",), None)),
    )  # fmt: skip
    folder = tmp_path / "out"
    downloader = Downloader(client, plan, folder, chunk_bytes=CHUNK)
    running = asyncio.ensure_future(downloader.run())
    await asyncio.wait_for(holds.started.wait(), 10)
    part = folder / "big.bin.part"
    await until(lambda: part.exists() and part.stat().st_size > 0, what="the first chunk")
    assert (folder / "big.bin.part").stat().st_size == CHUNK
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert every_file(folder) == ["a.txt"]  # the file saved before stays whole
    assert (folder / "a.txt").read_bytes() == b"alpha\n" * 1000


@real_files
async def test_a_planted_symlink_is_never_followed(asgi, source, node, tmp_path):
    client = client_on(asgi)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_bytes(b"mine")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "logs").symlink_to(outside, target_is_directory=True)  # a folder in the way
    (folder / "big.bin").symlink_to(outside / "keep.txt")  # the final name
    (folder / "empty.txt.part").symlink_to(outside / "keep.txt")  # the part file's name
    files = [f for f in await listed(client, node) if f.name.startswith("shared/")]
    plan = plan_download(NodeFiles("pool-a", node), files, base=("shared",))
    result = await Downloader(client, plan, folder).run()

    assert sorted(f.remote for f in result.failed) == [
        "shared/logs/a.txt",
        "shared/logs/deep/b.txt",
    ]
    assert all("symlink is not followed" in f.reason for f in result.failed)
    assert sorted(os.listdir(outside)) == ["keep.txt"]
    assert (outside / "keep.txt").read_bytes() == b"mine"
    assert not (folder / "big.bin").is_symlink()  # replaced by the download, not written through
    assert digest(folder / "big.bin") == digest(source / "shared" / "big.bin")
    assert (folder / "empty.txt").read_bytes() == b""
    assert not (folder / "empty.txt.part").exists()


def test_rate_and_eta_follow_the_recent_bytes() -> None:
    now = [100.0]
    progress = DownloadProgress(2, [1000, None], clock=lambda: now[0])
    assert progress.rate() is None
    assert not progress.sizes_known
    now[0] += 1
    progress.add(100)
    assert progress.rate() == pytest.approx(100)
    assert progress.eta(900) == pytest.approx(9)
    now[0] += 10  # a stall: the rate falls
    progress.add(0)
    assert progress.rate() is not None and progress.rate() < 100  # type: ignore[operator]


# -- a hostile listing, through the real client ------------------------------------------------


def hostile_service(bodies: dict[str, bytes]) -> Callable[[httpx.Request], httpx.Response]:
    """A service whose node lists `bodies`' names as they are (`..` and all) and serves them."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?")[0]
        prefix = "/pools/p/nodes/n/files"
        if path == prefix:
            items = [{"name": name, "isDirectory": False,
                      "properties": {"contentLength": str(len(body)),
                                     "lastModified": "2026-01-01T00:00:00Z"}}
                     for name, body in bodies.items()]  # fmt: skip
            return httpx.Response(200, json={"value": items})
        from urllib.parse import unquote

        name = unquote(path[len(prefix) + 1 :])
        body = bodies[name] if name in bodies else bodies["/" + name]  # the client drops a "/"
        headers = {"Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT"}
        return httpx.Response(200, content=body, headers=headers)

    return handle


async def test_a_hostile_listing_writes_only_inside_the_folder(tmp_path: Path) -> None:
    bodies = {
        "../escape.txt": b"1",
        "../../../tmp/escape2.txt": b"2",
        "/abs/root.txt": b"3",
        "ok/../../escape3.txt": b"4",
        "fine\x1b]52;c;evil\x07.txt": b"5",
        "win\\..\\..\\escape4.txt": b"6",
        "good.txt": b"7",
    }
    client = client_on(httpx.MockTransport(hostile_service(bodies)))
    files = await client.list_node_files("p", "n", recursive=True)
    plan = plan_download(NodeFiles("p", "n"), files)
    box = tmp_path / "box"
    folder = box / "out"
    result = await Downloader(client, plan, folder).run()

    assert sorted(every_file(box)) == sorted(
        ["out/abs/root.txt", "out/fine_]52;c;evil_.txt", "out/good.txt"]
    )
    assert every_file(tmp_path) == ["box/" + name for name in every_file(box)]
    refused = sorted(f.remote for f in result.failed)
    assert refused == sorted(["../escape.txt", "../../../tmp/escape2.txt",
                              "ok/../../escape3.txt", "win\\..\\..\\escape4.txt"])  # fmt: skip
    assert (folder / "good.txt").read_bytes() == b"7"
