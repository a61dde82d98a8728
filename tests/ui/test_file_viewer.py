"""Tests the file viewer on real node and task files: tail, follow, search, wrap, save, pager."""

from __future__ import annotations

import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from batch_tui.ui.byte_sources import NodeFileRef, TaskFileRef
from batch_tui.ui.formatting import format_bytes
from batch_tui.ui.screens.dialogs import PromptScreen
from batch_tui.ui.screens.file_viewer import FileViewerScreen, OverwriteScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from batch_tui.ui.widgets.log_buffer import CHUNK_SIZE
from tests.ui.jobs_fixtures import (
    ByteCounter,
    await_screen,
    node_root,
    open_screen,
    real_settle,
    sh,
    shows,
    task_state,
    wait_for,
)
from tests.ui.recording import Recorder
from tests.ui.support import pilot_settle, quiet_settings, screen_text

pytestmark = pytest.mark.parametrize("executor", ["local"])  # task files are real files

BIG_LINES = 1_000_000
"""About 50 MB of numbered lines."""


@pytest.fixture
def counter(recorder: Recorder) -> ByteCounter:
    return ByteCounter(httpx.ASGITransport(app=recorder))


@pytest.fixture
def transport(counter: ByteCounter) -> ByteCounter:
    return counter


def write_node_file(emulator: Any, node_id: str, path: str, data: bytes) -> Path:
    target = node_root(emulator, node_id) / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def big_file(emulator: Any, node_id: str) -> Path:
    target = node_root(emulator, node_id) / "startup" / "big.log"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        for start in range(0, BIG_LINES, 100_000):
            block = "".join(
                f"line {n:07d} of the big log, padded out to fifty bytes.\n"
                for n in range(start, start + 100_000)
            )
            handle.write(block.encode())
    return target


async def open_viewer(app: Any, pilot: Any, ref: Any, **kw: Any) -> FileViewerScreen:
    await pilot_settle(pilot)
    app.push_screen(FileViewerScreen(ref, **kw))
    screen = await await_screen(pilot, FileViewerScreen)
    await wait_for(pilot, lambda: screen.viewer.is_open)
    await pilot_settle(pilot)
    return screen


def last_visible(screen: FileViewerScreen) -> str:
    return [line for line in screen.viewer.visible_lines if line][-1]


async def test_opens_the_tail_of_a_big_file_reading_little(emulator, node, make_app, counter):
    size = big_file(emulator, node).stat().st_size
    assert size > 50_000_000
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        counter.file_bytes = 0
        screen = await open_viewer(app, pilot, NodeFileRef("pool-a", node, "startup/big.log"))
        assert (
            last_visible(screen)
            == f"line {BIG_LINES - 1:07d} of the big log, padded out to fifty bytes."
        )
        assert counter.file_bytes <= 2 * CHUNK_SIZE
        assert all(r.startswith("bytes=") for r in counter.ranges)
        await shows(pilot, f"of {format_bytes(size)}")
        await pilot.press("g")  # top: one more chunk, from the start
        await pilot_settle(pilot)
        assert screen.viewer.visible_lines[0].startswith("line 0000000 ")
        await pilot.press("G")
        await pilot_settle(pilot)
        assert last_visible(screen).startswith(f"line {BIG_LINES - 1:07d}")
        assert counter.file_bytes <= 4 * CHUNK_SIZE


async def test_follow_appends_new_output_of_a_running_task(
    emulator, clock, node, seed_job, make_app
):
    # The task prints "first", waits for a file the test creates, then prints "second".
    seed_job(
        "job-1",
        "pool-a",
        [sh("echo first; while [ ! -f go ]; do sleep 0.02; done; echo second; sleep 600")],
    )
    await real_settle(emulator, clock, lambda: task_state(emulator, "job-1", "t0") == "running")
    wd = node_root(emulator, node) / "workitems" / "job-1" / "job-1" / "t0" / "wd"
    stdout = wd.parent / "stdout.txt"
    await real_settle(
        emulator, clock, lambda: stdout.exists() and stdout.read_bytes() == b"first\n"
    )
    settings = quiet_settings()
    settings.refresh.files = 0.05
    app = make_app(settings=settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "task job-1 t0", TaskDetailScreen)
        await pilot.press("o")
        screen = await await_screen(pilot, FileViewerScreen)
        await wait_for(pilot, lambda: screen.viewer.is_open)
        assert screen.viewer.following  # a running task's output opens in follow mode
        await shows(pilot, "following")
        assert screen.viewer.visible_lines[:2] == ["first", ""]

        (wd / "go").write_text("")
        await wait_for(
            pilot, lambda: screen.viewer.visible_lines[:2] == ["first", "second"], rounds=800
        )

        await pilot.press("f")
        assert not screen.viewer.following


async def test_search_next_and_previous(emulator, node, make_app):
    lines = [f"row {n}" + (" needle" if n in (10, 40, 70) else "") for n in range(100)]
    write_node_file(emulator, node, "startup/log.txt", "\n".join(lines).encode() + b"\n")
    app = make_app()
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_viewer(app, pilot, NodeFileRef("pool-a", node, "startup/log.txt"))
        await pilot.press("g", "slash", *"need.e", "enter")
        await pilot_settle(pilot)
        assert not screen.search_input.display or screen.search_input.has_class("hidden")

        def matched_row() -> int:
            match = screen.viewer.match
            assert match is not None
            return screen.viewer.window.line_at(match.offset)

        assert matched_row() == 10
        await pilot.press("n")
        await pilot_settle(pilot)
        assert matched_row() == 40
        assert any("row 40 needle" == line for line in screen.viewer.visible_lines)
        await pilot.press("n")
        await pilot_settle(pilot)
        assert matched_row() == 70
        await pilot.press("N")
        await pilot_settle(pilot)
        assert matched_row() == 40

        await pilot.press("slash", *"nowhere", "enter")
        await pilot_settle(pilot)
        await shows(pilot, "not found: nowhere")


async def test_wrap_toggle(emulator, node, make_app):
    write_node_file(emulator, node, "startup/wide.txt", b"A" * 250 + b"B\nshort\n")
    app = make_app()
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_viewer(app, pilot, NodeFileRef("pool-a", node, "startup/wide.txt"))
        width = screen.viewer.scrollable_content_region.width
        assert screen.viewer.visible_lines[:2] == ["A" * width, "short"]
        await pilot.press("w")
        await pilot_settle(pilot)
        assert screen.viewer.wrap
        rows = screen.viewer.visible_lines
        assert rows[:3] == ["A" * width, "A" * width, "A" * (250 - 2 * width) + "B"]
        assert rows[3] == "short"
        await shows(pilot, "wrap")


async def test_binary_file_says_so(emulator, node, make_app):
    write_node_file(emulator, node, "startup/blob.bin", bytes(range(256)) * 64)
    app = make_app()
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_viewer(app, pilot, NodeFileRef("pool-a", node, "startup/blob.bin"))
        assert screen.viewer.is_binary
        await shows(pilot, "binary file, 16,384 bytes")
        assert "\x00" not in screen_text(app)


async def test_escape_sequences_in_a_node_file_are_shown_harmlessly(emulator, node, make_app):
    data = b"\x1b[31mred\x1b[0m\n\x1b]52;c;aGVsbG8=\x07clipboard\n\x1b[2J\x1b[Hclear\r\n\x9b6n\n"
    write_node_file(emulator, node, "startup/esc.txt", data)
    app = make_app()
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_viewer(app, pilot, NodeFileRef("pool-a", node, "startup/esc.txt"))
        await shows(pilot, "clipboard")
        text = screen_text(app)
        assert screen.viewer.visible_lines[:3] == ["red", "␛]52;c;aGVsbG8=␇clipboard", "clear"]
        for char in ("\x1b", "\x07", "\x9b", "\r"):
            assert char not in text


async def test_save_streams_to_a_file_and_asks_before_replacing(
    emulator, node, make_app, tmp_path, counter
):
    content = b"".join(b"saved line %d\n" % n for n in range(20_000))
    write_node_file(emulator, node, "startup/save.txt", content)
    destination = tmp_path / "saved.txt"
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        screen = await open_viewer(app, pilot, NodeFileRef("pool-a", node, "startup/save.txt"))
        await pilot.press("s")
        await pilot_settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        field = prompt.query_one("#dialog-input")
        assert field.value.endswith("pool-a." + node + ".startup_save.txt")
        field.value = str(destination)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: destination.exists() and destination.stat().st_size == len(content)
        )
        await pilot_settle(pilot)
        assert destination.read_bytes() == content
        assert stat.S_IMODE(destination.stat().st_mode) == 0o600  # task output stays private
        assert app.screen is screen

        destination.write_bytes(b"keep me")
        await pilot.press("s")
        await pilot_settle(pilot)
        app.screen.query_one("#dialog-input").value = str(destination)
        await pilot.press("enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, OverwriteScreen)
        await pilot.press("n")
        await pilot_settle(pilot)
        assert destination.read_bytes() == b"keep me"

        await pilot.press("s")
        await pilot_settle(pilot)
        app.screen.query_one("#dialog-input").value = str(destination)
        await pilot.press("enter")
        await pilot_settle(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: destination.read_bytes() == content)


def folder_gone(path: Path) -> bool:
    return not path.parent.exists()


@contextmanager
def no_suspend() -> Any:
    yield


async def test_pager_gets_a_downloaded_copy(emulator, node, make_app, tmp_path, monkeypatch):
    content = b"".join(b"paged line %d\n" % n for n in range(5000))
    write_node_file(emulator, node, "startup/page.txt", content)
    copy = tmp_path / "pager-copy.txt"
    script = tmp_path / "pager.sh"
    script.write_text(f'#!/bin/sh\ncp "$1" "{copy}"\necho "$1" > "{copy}.name"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PAGER", str(script))
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        # The headless test driver cannot hand the terminal over; the real one can.
        monkeypatch.setattr(app, "suspend", no_suspend)
        await open_viewer(app, pilot, NodeFileRef("pool-a", node, "startup/page.txt"))
        await pilot.press("v")
        await wait_for(pilot, lambda: copy.exists())
        await pilot_settle(pilot)
        assert copy.read_bytes() == content
    handed = Path((tmp_path / "pager-copy.txt.name").read_text().strip())
    assert handed.name == f"pool-a.{node}.startup_page.txt"
    assert folder_gone(handed)  # the temporary copy and its folder are removed


async def test_missing_file_shows_an_error_not_a_traceback(emulator, node, make_app):
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot_settle(pilot)
        app.push_screen(FileViewerScreen(TaskFileRef("job-x", "t0", "stdout.txt")))
        screen = await await_screen(pilot, FileViewerScreen)
        assert screen.error is not None and "404" in screen.error
        assert "Traceback" not in screen_text(app)


async def test_a_replace_typed_ahead_never_replaces_the_file(emulator, node, make_app, tmp_path):
    """`s`, a path, enter and `y` in one burst: the Replace dialog stays open and says it
    ignored the `y`; the file is kept until a `y` typed once the dialog is there."""
    from tests.ui.typing import burst, keys_of, until

    write_node_file(emulator, node, "startup/save.txt", b"new content\n")
    destination = tmp_path / "keep.txt"
    destination.write_bytes(b"precious")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_viewer(app, pilot, NodeFileRef("pool-a", node, "startup/save.txt"))
        burst(pilot, ["s", "ctrl+u", *keys_of(str(destination)), "enter", "y"])
        await until(pilot, lambda: isinstance(app.screen, OverwriteScreen))
        await until(pilot, lambda: "Ignored 1 key typed before this dialog" in screen_text(app))
        await pilot_settle(pilot)
        assert isinstance(app.screen, OverwriteScreen)
        assert destination.read_bytes() == b"precious"
        await pilot.press("y")
        await wait_for(pilot, lambda: destination.read_bytes() == b"new content\n")


async def test_keys_typed_while_the_pager_starts_are_not_run_by_the_app(
    emulator, node, make_app, tmp_path, monkeypatch
):
    """`v` then `q` in one burst: the `q` was meant for the pager, it must not quit the app."""
    from tests.ui.typing import burst

    write_node_file(emulator, node, "startup/page.txt", b"paged\n" * 5000)
    copy = tmp_path / "pager-copy.txt"
    script = tmp_path / "pager.sh"
    script.write_text(f'#!/bin/sh\ncp "$1" "{copy}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PAGER", str(script))
    app = make_app()
    quits: list[object] = []
    async with app.run_test(size=(80, 24)) as pilot:
        monkeypatch.setattr(app, "suspend", no_suspend)
        monkeypatch.setattr(app, "exit", lambda *args, **kwargs: quits.append(args))
        await open_viewer(app, pilot, NodeFileRef("pool-a", node, "startup/page.txt"))
        burst(pilot, ["v", "q"])
        await wait_for(pilot, lambda: copy.exists())
        await pilot_settle(pilot)
        assert quits == [] and app.is_running
