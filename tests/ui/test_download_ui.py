"""Tests `w` on the file lists with the real app and emulator: marked files of a task and a
node's folder land on disk as the service has them; esc cancels and leaves no half file."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Input

from batch_tui.ui import download_plan
from batch_tui.ui.screens.download_dialog import DownloadDialog
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from batch_tui.ui.widgets.download_panel import DownloadPanel
from batch_tui.ui.widgets.file_list import FileList
from tests.ui.jobs_fixtures import (
    await_screen,
    node_root,
    open_screen,
    real_settle,
    sh,
    task_state,
    wait_for,
)
from tests.ui.recording import BreakableTransport, Recorder
from tests.ui.support import capture_notifications, pilot_settle, screen_text

pytestmark = pytest.mark.parametrize("executor", ["local"])  # real task output

BIG = 3 * 1024 * 1024


class HoldsBigFiles(httpx.AsyncBaseTransport):
    """Sends the first MiB of `big.bin`, then holds the rest until `release` (a slow link)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.started = asyncio.Event()
        self.go_on = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "GET" or not request.url.path.endswith("big.bin"):
            return response
        body = await response.aread()
        held = _Held(body, self)
        return httpx.Response(response.status_code, headers=response.headers, stream=held,
                              request=request)  # fmt: skip


class _Held(httpx.AsyncByteStream):
    def __init__(self, body: bytes, link: HoldsBigFiles) -> None:
        self.body = body
        self.link = link

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body[: 1024 * 1024]
        self.link.started.set()
        await self.link.go_on.wait()
        yield self.body[1024 * 1024 :]


@pytest.fixture
def link(recorder: Recorder) -> HoldsBigFiles:
    return HoldsBigFiles(httpx.ASGITransport(app=recorder))


@pytest.fixture
def transport(link: HoldsBigFiles) -> BreakableTransport:
    return BreakableTransport(link)


@pytest.fixture
def downloads_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's downloads folder, here."""
    folder = tmp_path / "Downloads"
    folder.mkdir()
    monkeypatch.setattr(download_plan, "user_downloads_path", lambda: folder)
    return folder


def task_dir(emulator: Any, node: str) -> Path:
    return node_root(emulator, node) / "workitems" / "job-1" / "job-1" / "t0"


async def answer_dialog(pilot: Any, *keys: str) -> DownloadDialog:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DownloadDialog))
    dialog = pilot.app.screen
    await wait_for(pilot, lambda: dialog.opened_at != float("inf"))  # drawn: takes keys
    await pilot.press(*keys)
    return dialog


async def test_marked_task_files_download_to_the_default_folder(
    emulator, clock, node, seed_job, make_app, downloads_folder
):
    seed_job("job-1", "pool-a", [sh("printf out; printf err >&2; mkdir out; printf x > out/x")])
    await real_settle(emulator, clock, lambda: task_state(emulator, "job-1", "t0") == "completed")
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "task job-1 t0", TaskDetailScreen)
        await pilot.press("2")
        await pilot_settle(pilot)
        files = app.screen.query_one(FileList)
        assert list(files.visible_keys) == ["d:wd", "f:stderr.txt", "f:stdout.txt"]
        await pilot.press("down", "space", "space", "w")  # mark stderr and stdout
        dialog = await answer_dialog(pilot)
        text = screen_text(app)
        assert "Download 2 files, 6 B of task t0 of job job-1?" in text
        assert dialog.query_one("#download-folder", Input).value == str(
            downloads_folder / "job-1.t0"
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("Downloaded 2 files" in n for n, _ in notes))
        assert app.screen is not dialog
        target = downloads_folder / "job-1.t0"
        assert sorted(p.name for p in target.iterdir()) == ["stderr.txt", "stdout.txt"]
        for name in ("stderr.txt", "stdout.txt"):
            assert (target / name).read_bytes() == (task_dir(emulator, node) / name).read_bytes()
            assert stat.S_IMODE((target / name).stat().st_mode) == 0o600
        assert files.marked_keys == ()
        await wait_for(pilot, lambda: not app.screen.query(DownloadPanel))

        # A folder that cannot be made (a file is in the way): said, and nothing is written.
        blocker = downloads_folder / "blocker"
        blocker.write_bytes(b"")
        await pilot.press("w")
        await answer_dialog(pilot, "ctrl+u", *str(blocker / "sub"), "enter")
        await wait_for(pilot, lambda: any("Could not download to" in n for n, _ in notes))
        assert ("Could not download to", "error") in [(n[:21], s) for n, s in notes]
        assert blocker.read_bytes() == b""
        assert isinstance(app.screen, TaskDetailScreen)


async def test_a_nodes_folder_downloads_whole_and_esc_cancels_a_download(
    emulator, node, make_app, downloads_folder, link, tmp_path
):
    root = node_root(emulator, node)
    (root / "shared" / "sub").mkdir(parents=True)
    (root / "shared" / "sub" / "small.txt").write_bytes(b"small\n")
    big = bytes(range(256)) * (BIG // 256)
    (root / "shared" / "big.bin").write_bytes(big)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(NodeDetailScreen("pool-a", node))  # type: ignore[attr-defined]
        screen = await await_screen(pilot, NodeDetailScreen)
        await pilot.press("3")
        files = screen.query_one(FileList)
        await wait_for(pilot, lambda: "d:shared" in files.visible_keys)
        assert files.move_cursor("d:shared")
        await pilot.press("w")
        await answer_dialog(pilot)
        assert "Download 2 files" in screen_text(app)
        await pilot.press("enter")
        await asyncio.wait_for(link.started.wait(), 10)
        await wait_for(pilot, lambda: "Downloading 1 of 2: shared/big.bin" in screen_text(app))
        shown = screen_text(app)
        assert "esc cancels" in shown and "1.0 MiB of 3.0 MiB" in shown
        assert files.has_focus
        await pilot.press("w")  # one download at a time per list
        assert any("A download is under way here" in n for n, _ in notes)
        assert not isinstance(app.screen, DownloadDialog)
        await pilot.press("escape")
        await wait_for(pilot, lambda: any("Download cancelled" in n for n, _ in notes))
        assert app.screen is screen  # esc stopped the download, it did not go back
        target = downloads_folder / f"pool-a.{node}"
        assert [p for p in target.rglob("*") if not p.is_dir()] == []  # nor big.bin.part
        await wait_for(pilot, lambda: not screen.query(DownloadPanel))

        # Again, to the end this time, into a folder typed in place of the default one.
        link.go_on.set()
        await pilot.press("w")
        await answer_dialog(pilot, "ctrl+u")  # clear the default
        await pilot.press(*str(tmp_path / "mine"), "enter")
        await wait_for(pilot, lambda: any("Downloaded 2 files" in n for n, _ in notes))
        mine = tmp_path / "mine" / "shared"  # the folder under the cursor, in the one chosen
        assert (mine / "big.bin").read_bytes() == big
        assert (mine / "sub" / "small.txt").read_bytes() == b"small\n"
        assert stat.S_IMODE((mine / "sub").stat().st_mode) == 0o700

        await pilot.press("escape")  # no download now: esc goes back
        await wait_for(pilot, lambda: app.screen is not screen)


async def test_a_download_goes_on_after_leaving_the_screen(
    emulator, node, make_app, downloads_folder, link
):
    big = bytes(range(256)) * (BIG // 256)
    (node_root(emulator, node) / "shared").mkdir(exist_ok=True)
    (node_root(emulator, node) / "shared" / "big.bin").write_bytes(big)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(NodeDetailScreen("pool-a", node))  # type: ignore[attr-defined]
        screen = await await_screen(pilot, NodeDetailScreen)
        await pilot.press("3")
        files = screen.query_one(FileList)
        await wait_for(pilot, lambda: "d:shared" in files.visible_keys)
        assert files.move_cursor("d:shared")
        await pilot.press("w")
        await answer_dialog(pilot, "enter")
        await asyncio.wait_for(link.started.wait(), 10)
        await pilot.press("1", "escape")  # the details tab: esc there goes back
        await wait_for(pilot, lambda: app.screen is not screen)
        assert any("The download goes on" in n for n, _ in notes)
        link.go_on.set()
        await wait_for(pilot, lambda: any("Downloaded 1 file" in n for n, _ in notes))
        saved = downloads_folder / f"pool-a.{node}" / "shared" / "big.bin"
        assert saved.read_bytes() == big
