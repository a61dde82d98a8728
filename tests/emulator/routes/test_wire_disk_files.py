"""Tests the node file APIs over a `local` node's real files: symlinks, races, growing files.

A task on a `local` node is a real process that can make symlinks, rename, relink and append to
the files of its node while a client reads them over HTTP. The race tests do what such a task
would, from a thread, thousands of times, while the test reads, lists and deletes through the
HTTP app; the others set each case up once. No symlink is followed: a path through one is 404
and a listing leaves it out, wherever it points.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.base.settings import EmulatorSettings
from tests.emulator.support import Settle, add_pool, assert_error, idle

pytestmark = pytest.mark.parametrize("executor", ["local"])

ROUNDS = 1500
"""Request rounds per race. Before the fix, in runs on 2 busy CPUs, the symlink race's 7,500
requests went outside the tree 2 to 29 times a run (and some 80 more failed with 500), and 8 to
10 of the growing file's 1,500 bodies were longer than their Content-Length."""

INSIDE = b"inside\n"
OUTSIDE = b"OUTSIDE\n"
SECRET_NAME = "outside-only-name.txt"
"""A file only the outside directory holds: a listing that shows it went outside the tree."""


@pytest.fixture
async def node(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle, settings: EmulatorSettings
) -> tuple[str, Path]:
    """Starts a one-node pool; returns the node's files URL and its directory on disk."""
    await add_pool(http, targetDedicatedNodes=1)
    await settle(idle(emulator))
    (record,) = emulator.store.pool_nodes("pool1").values()
    return f"/pools/pool1/nodes/{record.id}/files", settings.data_dir / "nodes" / record.id


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """The files a client must never reach: a directory beside the emulator's data."""
    out = tmp_path / "outside"
    out.mkdir()
    for name in ("f.txt", "victim.txt", SECRET_NAME):
        (out / name).write_bytes(OUTSIDE)
    return out


@contextlib.contextmanager
def racing(
    *steps: Callable[[], None], paced: threading.Semaphore | None = None
) -> Iterator[list[int]]:
    """Runs `steps` over and over in a thread while the block runs; yields the rounds count.

    Args:
        steps: What the task does, one round after another.
        paced: When given, each round first takes one release of it (the test releases it
            before each request), so a growing file grows with the requests, not without
            bound.
    """
    stop = threading.Event()
    rounds = [0]

    def loop() -> None:
        while not stop.is_set():
            if paced is not None and not paced.acquire(timeout=0.05):
                continue  # no request waiting: look at `stop` again
            for step in steps:
                step()
            rounds[0] += 1

    thread = threading.Thread(target=loop, daemon=True)
    interval = sys.getswitchinterval()
    # Threads take turns every 5 ms by default: far coarser than a request. Finer turns make
    # the task thread act in the middle of a request as a real process would.
    sys.setswitchinterval(1e-5)
    thread.start()
    try:
        yield rounds
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)


def relink(link: Path, target: Path) -> Callable[[], None]:
    """Returns a step that points `link` at `target` as `ln -sfn` does: unlink, then link."""

    def step() -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)
        os.symlink(target, link)

    return step


def make_file(path: Path, content: bytes) -> Callable[[], None]:
    """Returns a step that puts a real file at `path` (replacing a link there)."""

    def step() -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        path.write_bytes(content)

    return step


def swap_dir(path: Path, real: Path, outside: Path) -> list[Callable[[], None]]:
    """Returns steps that turn `path` from the real directory `real` into a link out and back.

    The real directory gets its `victim.txt` back each round, so deletes keep racing.
    """

    def to_link() -> None:
        os.rename(path, real)
        os.symlink(outside, path)

    def to_real() -> None:
        (real / "victim.txt").write_bytes(INSIDE)
        os.unlink(path)
        os.rename(real, path)

    return [to_link, to_real]


class Requests:
    """Sends the race's requests and keeps what went wrong, so that a run reports its leaks
    even when other requests failed (with 500, or an error the app raised) before them."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.served = 0
        """Requests answered 200."""
        self.leaks: list[str] = []
        self.failed: list[str] = []

    async def send(self, method: str, url: str) -> httpx.Response | None:
        """Returns the response when it is 200 (or None after a 404 or a failure)."""
        try:
            got = await self.http.request(method, url)
        except Exception as err:  # the app's own error, raised through the ASGI transport
            self.failed.append(f"{method} {url}: {err!r}")
            return None
        if got.status_code not in (200, 404):
            self.failed.append(f"{method} {url}: {got.status_code} {got.text[:200]}")
        self.served += got.status_code == 200
        return got if got.status_code == 200 else None


async def test_swapped_symlinks_never_reach_outside_the_node(
    http: httpx.AsyncClient, node: tuple[str, Path], outside: Path
) -> None:
    url, root = node
    shared = root / "shared"
    (shared / "inside.txt").write_bytes(INSIDE)
    (shared / "d").mkdir()
    (shared / "d" / "f.txt").write_bytes(INSIDE)
    steps = [
        relink(shared / "link.txt", shared / "inside.txt"),
        relink(shared / "link.txt", outside / "f.txt"),
        make_file(shared / "f.txt", INSIDE),
        relink(shared / "f.txt", outside / "f.txt"),
        *swap_dir(shared / "d", shared / "d-away", outside),
    ]
    requests = Requests(http)
    with racing(*steps) as swaps:
        for _ in range(ROUNDS):
            for path in ("shared/link.txt", "shared/f.txt", "shared/d/f.txt"):
                got = await requests.send("GET", f"{url}/{path}")
                if got is not None and OUTSIDE in got.content:
                    requests.leaks.append(f"GET {path}")
            listing = await requests.send("GET", f"{url}?recursive=true")
            if listing is not None:
                names = [item["name"] for item in listing.json()["value"]]
                requests.leaks += [f"listed {name}" for name in names if SECRET_NAME in name]
            await requests.send("DELETE", f"{url}/shared/d/victim.txt")
    assert swaps[0] > 100, "the task thread barely ran: no race happened"
    assert requests.served > 0, "no read ever found the real files: the race proves nothing"
    leaks, failed = requests.leaks, requests.failed
    assert not leaks, f"{len(leaks)} of {ROUNDS * 5} requests went outside: {leaks[:5]}"
    assert (outside / "victim.txt").read_bytes() == OUTSIDE, "a DELETE removed a file outside"
    assert not failed, f"{len(failed)} of {ROUNDS * 5} requests failed: {failed[:5]}"


async def test_a_growing_file_is_served_as_announced(
    http: httpx.AsyncClient, node: tuple[str, Path]
) -> None:
    url, root = node
    stdout = root / "startup" / "stdout.txt"
    stdout.write_bytes(b"".join(b"%08d\n" % i for i in range(100)))
    lines = iter(range(100, 10**9))
    fd = os.open(stdout, os.O_WRONLY | os.O_APPEND)

    def append() -> None:
        for _ in range(5):
            os.write(fd, b"".join(b"%08d\n" % next(lines) for _ in range(10)))

    ranges = [None, "bytes=0-", "bytes=450-", "bytes=100-899", "bytes=-300"]
    seen: list[tuple[str | None, int, bytes]] = []
    turn = threading.Semaphore(0)
    try:
        with racing(append, paced=turn) as appends:
            for i in range(ROUNDS):
                header = ranges[i % len(ranges)]
                turn.release()
                got = await http.get(
                    f"{url}/startup/stdout.txt", headers={"ocp-range": header} if header else {}
                )
                assert got.status_code == 200, got.text
                seen.append((header, int(got.headers["content-length"]), got.content))
    finally:
        os.close(fd)
    assert appends[0] > 100, "the file barely grew while it was read: no race happened"
    final = stdout.read_bytes()
    short = [(h, n, len(body)) for h, n, body in seen if len(body) != n]
    assert not short, f"{len(short)} of {ROUNDS} bodies differ from Content-Length: {short[:5]}"
    for header, length, body in seen:
        if header == "bytes=-300":
            assert length == 300 and body in final, "a tail is 300 bytes of the file"
            continue
        start = 0 if header is None else int(header[6:].split("-")[0])
        assert body == final[start : start + length], f"{header}: not the file's bytes"


def links(root: Path, outside: Path) -> None:
    """Makes, in the node's `shared`, a real file and directory and symlinks in and out."""
    shared = root / "shared"
    (shared / "real").mkdir()
    (shared / "real" / "f.txt").write_bytes(INSIDE)
    (shared / "in-dir").symlink_to(shared / "real")
    (shared / "in-leaf.txt").symlink_to(shared / "real" / "f.txt")
    (shared / "out-dir").symlink_to(outside)
    (shared / "out-leaf.txt").symlink_to(outside / "f.txt")


def untouched(outside: Path) -> bool:
    """Whether the outside directory still holds its files, as they were."""
    files = {p.name: p.read_bytes() for p in outside.iterdir()}
    return files == dict.fromkeys(["f.txt", "victim.txt", SECRET_NAME], OUTSIDE)


THROUGH_LINKS = [
    "shared/in-dir/f.txt",
    "shared/in-leaf.txt",
    "shared/out-dir/f.txt",
    "shared/out-leaf.txt",
    "shared/in-dir",
    "shared/out-dir",
]
"""Paths through a symlink in the middle or at the end, pointing inside or outside the tree."""


@pytest.mark.parametrize("path", THROUGH_LINKS)
async def test_a_path_through_a_symlink_is_not_found(
    http: httpx.AsyncClient, node: tuple[str, Path], outside: Path, path: str
) -> None:
    url, root = node
    links(root, outside)
    assert (await http.get(f"{url}/shared/real/f.txt")).content == INSIDE
    assert_error(await http.get(f"{url}/{path}"), 404, "FileNotFound")
    assert (await http.head(f"{url}/{path}")).status_code == 404
    assert_error(await http.delete(f"{url}/{path}"), 404, "FileNotFound")
    assert_error(await http.delete(f"{url}/{path}?recursive=true"), 404, "FileNotFound")
    assert (root / "shared" / "real" / "f.txt").read_bytes() == INSIDE
    assert untouched(outside)
    assert root.joinpath(*path.split("/")[:2]).is_symlink(), "the link itself stays"


async def test_a_listing_leaves_symlinks_out_and_never_descends_through_one(
    http: httpx.AsyncClient, node: tuple[str, Path], outside: Path
) -> None:
    url, root = node
    links(root, outside)
    listing = await http.get(url, params={"recursive": "true"})
    names = {item["name"] for item in listing.json()["value"]}
    assert {"shared/real", "shared/real/f.txt"} <= names
    assert not {name for name in names if "in-" in name or "out-" in name}, names


async def test_a_recursive_delete_removes_links_inside_but_not_what_they_point_at(
    http: httpx.AsyncClient, node: tuple[str, Path], outside: Path
) -> None:
    url, root = node
    gone = root / "shared" / "gone"
    (gone / "deep" / "deeper").mkdir(parents=True)
    (gone / "deep" / "deeper" / "f.txt").write_bytes(INSIDE)
    (gone / "deep" / "out").symlink_to(outside)
    (gone / "out-leaf.txt").symlink_to(outside / "f.txt")
    assert_error(await http.delete(f"{url}/shared/gone"), 409, "DirectoryNotEmpty")
    assert (await http.delete(f"{url}/shared/gone?recursive=true")).status_code == 200
    assert not gone.exists() and not gone.is_symlink()
    assert untouched(outside)
    (root / "shared" / "empty").mkdir()
    assert (await http.delete(f"{url}/shared/empty")).status_code == 200


async def test_a_fifo_is_not_a_file_and_never_blocks_a_request(
    http: httpx.AsyncClient, node: tuple[str, Path]
) -> None:
    url, root = node
    fifo = root / "shared" / "pipe"
    os.mkfifo(fifo)

    def unblock() -> None:
        # Opening the write end lets a read that waits on the FIFO go on (to an empty body):
        # before the fix a GET waited for a writer forever, in a thread nothing can cancel.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    watchdog = asyncio.get_running_loop().call_later(30, unblock)
    try:
        assert_error(await http.get(f"{url}/shared/pipe"), 404, "FileNotFound")
    finally:
        watchdog.cancel()
    assert (await http.head(f"{url}/shared/pipe")).status_code == 404
    listing = await http.get(url, params={"recursive": "true"})
    assert "shared/pipe" not in {item["name"] for item in listing.json()["value"]}
