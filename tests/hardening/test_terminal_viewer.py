"""Tests the file viewer's paths to the terminal with hostile content, and the frame check.

- `v` hands `$PAGER` the text the viewer shows (a pager writes to the real terminal), while
  `s` saves the raw bytes;
- a binary file's notice line (which can hold an error's text) is sanitized;
- `TerminalBytes`, the check the walk in `test_terminal_safety` relies on, does catch an
  escape a careless widget draws raw.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Static

from batch_tui.ui.screens.file_viewer import FileViewerScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from batch_tui.ui.widgets.log_view import LogView
from tests.hardening.hostile import BIDI, HOSTILE, STDOUT, VISIBLE, TerminalBytes, seed
from tests.hardening.support import control_chars
from tests.ui.jobs_fixtures import await_screen, open_screen, wait_for
from tests.ui.support import pilot_settle, screen_text


@contextmanager
def no_suspend() -> Iterator[None]:
    """Stands in for `App.suspend`: the headless driver cannot hand the terminal over."""
    yield


@pytest.mark.parametrize("executor", ["local"])  # the task prints the hostile text
async def test_pager_gets_the_shown_text_and_save_keeps_the_raw_bytes(
    emulator: Any,
    clock: Any,
    make_app: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await seed(emulator, clock, tmp_path / "payload")
    paged = tmp_path / "paged.txt"
    pager = tmp_path / "pager.sh"
    pager.write_text(f'#!/bin/sh\ncp "$1" "{paged}"\n')
    pager.chmod(pager.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PAGER", str(pager))  # like PAGER=cat: the pager writes to the terminal
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        monkeypatch.setattr(app, "suspend", no_suspend)
        await open_screen(pilot, "task job-1 t0", TaskDetailScreen)
        await pilot.press("o")
        viewer = await await_screen(pilot, FileViewerScreen)
        await wait_for(pilot, lambda: viewer.viewer.is_open)
        await pilot.press("v")
        await wait_for(pilot, paged.exists)
        await pilot_settle(pilot)
        saved = tmp_path / "saved.txt"
        await viewer.save_file(saved)
    raw = paged.read_bytes()
    assert b"\x1b" not in raw and b"\x07" not in raw and b"\xc2\x9b" not in raw
    text = raw.decode("utf-8")  # invalid bytes were replaced: the pager gets valid UTF-8
    assert control_chars(text) == [] and BIDI.search(text) is None
    lines = text.splitlines()
    assert f"osc {VISIBLE} end" in lines and "csi  end" in lines and "bidi <U+202E> end" in lines
    assert len(lines) == STDOUT.count(b"\n")
    assert saved.read_bytes() == STDOUT  # the user's file, byte for byte


async def test_binary_notice_is_sanitized() -> None:
    class Source:
        async def size(self) -> int:
            return 4

        async def read(self, start: int, end: int) -> bytes:
            return b"\x00\x01\x02\x03"[start : end + 1]

    class Viewer(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView(Source())

    app = Viewer()
    terminal = TerminalBytes(app)
    async with app.run_test(size=(80, 10)) as pilot:
        log = app.query_one(LogView)
        await wait_for(pilot, lambda: log.is_binary)
        log.notice = f"read failed: {HOSTILE}"  # a read error's text, from the service
        log.refresh()
        await wait_for(pilot, lambda: "read failed" in screen_text(app))
        text = screen_text(app)
    assert control_chars(text) == [] and VISIBLE in text
    assert terminal.stray() == []


async def test_terminal_bytes_catch_an_escape_drawn_raw() -> None:
    """The frame check can fail: a widget that draws service text unsanitized is caught."""

    class Careless(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(Content(f"pool {HOSTILE}"))

    app = Careless()
    terminal = TerminalBytes(app)
    async with app.run_test(size=(80, 10)) as pilot:
        await wait_for(pilot, lambda: "pool" in screen_text(app))
        await pilot.pause()
    stray = terminal.stray()
    assert "'\\x1b'" in stray and "'\\x9b'" in stray
    assert any("\x1b]52;c;aGFja2Vk" in frame for frame in terminal.frames)
