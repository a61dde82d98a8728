"""Tests that hostile text from the service never reaches the terminal raw.

Display names, metadata, command lines, environment values, file content and an error
message carry escape sequences (CSI, OSC incl. OSC 52, DCS), C1 controls, bells, NULs,
invalid UTF-8 and a 200,000-character line. The app is driven through every screen that
shows them; each screen's rendered text must hold no control character, and the bytes the
app writes to its (headless) terminal must hold no OSC 52, title or DCS sequence.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.drivers.headless_driver import HeadlessDriver

from batch_tui.emulator.routes.jobs import add_job
from batch_tui.emulator.routes.tasks import add_tasks
from batch_tui.ui.screens.file_viewer import FileViewerScreen
from batch_tui.ui.screens.help import HelpScreen
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.jobs import JobsScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from tests.hardening.conftest import control_chars
from tests.ui.conftest import (
    BreakableTransport,
    Recorder,
    capture_notifications,
    pilot_settle,
    screen_text,
)
from tests.ui.jobs_fixtures import (
    await_screen,
    local_emulator,
    open_screen,
    real_settle,
    task_state,
    wait_for,
)

OSC52 = "\x1b]52;c;aGFja2Vk\x07"
"""An OSC 52 clipboard write of "hacked": must show as text, never run."""
HOSTILE = f"evil{OSC52}\x1b[2J\x1bPq#0;dcs\x1b\\\x9b6n\x07\x1b]0;title\x07end"
"""Every kind of sequence in one string that the service accepts as a display name or value."""
VISIBLE = "␛]52;c;aGFja2Vk␇"
"""How the OSC 52 part looks once made harmless."""
STDOUT = (
    b"csi \x1b[2J\x1b[H end\n"
    b"osc " + OSC52.encode() + b" end\n"
    b"dcs \x1bPq#0;sixel\x1b\\ end\n"
    b"c1 \xc2\x9b6n end\n"
    b"bell \x07\x07 end\n"
    b"title \x1b]0;owned\x07 end\n"
    b"invalid \xff\xfe\xc3( end\n" + b"L" * 200_000 + b"\n"
)
"""A task's stdout: text with every sequence, invalid UTF-8 and a 200,000-character line."""
STDERR = b"nul \x00 here " + OSC52.encode() + b"\n"
"""A task's stderr with a NUL: shown as a binary file."""
FORBIDDEN_RAW = ("\x1b]52", "\x1b]0;", "\x1bP", "\x9b", "aGFja2Vk", "\x1b[2J")
"""What must never appear in the bytes written to the terminal.

The app's own CSI styling is fine, and so is Textual's own OSC 22 (pointer shape, ended
by BEL); the payload's base64 must not appear at all, since it is always shown escaped.
"""


class HostileErrors:
    """ASGI middleware: answers job terminate with a 409 whose message carries escapes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/terminate"):
            body = {
                "odata.metadata": "https://demo/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
                "code": "TaskCompleted",
                "message": {"lang": "en-US", "value": f"Refused {HOSTILE}\nRequestId:1"},
            }
            raw = json.dumps(body).encode()
            headers = [(b"content-type", b"application/json;odata=minimalmetadata")]
            await send({"type": "http.response.start", "status": 409, "headers": headers})
            await send({"type": "http.response.body", "body": raw})
            return
        await self.app(scope, receive, send)


@pytest.fixture
async def emulator(tmp_path: Path, clock: Any) -> Any:
    async with local_emulator(tmp_path, clock) as emu:
        yield emu


@pytest.fixture
def transport(recorder: Recorder) -> Any:
    return BreakableTransport(httpx.ASGITransport(app=HostileErrors(recorder)))


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Everything the app writes to its headless terminal."""
    out: list[str] = []
    original = HeadlessDriver.write

    def write(self: HeadlessDriver, data: str) -> None:
        out.append(data)
        original(self, data)

    monkeypatch.setattr(HeadlessDriver, "write", write)
    yield out


def write_payload(folder: Path) -> None:
    """The files the task prints: stdout as text, stderr with a NUL."""
    folder.mkdir()
    (folder / "out.bin").write_bytes(STDOUT)
    (folder / "err.bin").write_bytes(STDERR)


async def seed(emulator: Any, clock: Any, seed_pool: Any, tmp_path: Path) -> str:
    """A pool, a job and a completed task, all named and filled with hostile text."""
    meta = [{"name": "note", "value": HOSTILE}]
    nodes = await seed_pool("pool-a", 1, displayName=HOSTILE, metadata=meta)
    write_payload(tmp_path)
    job = {
        "id": "job-1",
        "displayName": HOSTILE,
        "metadata": meta,
        "poolInfo": {"poolId": "pool-a"},
    }
    add_job(emulator, job)
    script = (
        f"cat {tmp_path}/out.bin; cat {tmp_path}/err.bin >&2; : {HOSTILE.replace(chr(0x27), '')}"
    )
    task = {
        "id": "t0",
        "displayName": HOSTILE,
        "commandLine": f"/bin/sh -c '{script}'",
        "environmentSettings": [{"name": "EVIL", "value": HOSTILE}],
    }
    add_tasks(emulator, "job-1", [task])
    await real_settle(emulator, clock, lambda: task_state(emulator, "job-1", "t0") == "completed")
    return str(nodes[0])


def assert_safe(app: Any, where: str, seen: list[str]) -> str:
    """The screen's text holds no control character; returns it and records it in `seen`."""
    text = screen_text(app)
    assert control_chars(text) == [], f"{where}: {control_chars(text)[:5]}"
    seen.append(text)
    return text


async def test_hostile_text_is_shown_harmlessly_everywhere(
    emulator: Any,
    clock: Any,
    seed_pool: Any,
    make_app: Any,
    tmp_path: Path,
    written: list[str],
) -> None:
    node = await seed(emulator, clock, seed_pool, tmp_path / "payload")
    app = make_app()
    seen: list[str] = []
    async with app.run_test(size=(160, 45)) as pilot:
        notes = capture_notifications(app)
        await open_screen(pilot, "overview", OverviewScreen)
        assert_safe(app, "overview", seen)

        await open_screen(pilot, "jobs", JobsScreen)
        assert_safe(app, "job list", seen)

        await pilot.press("enter")
        await await_screen(pilot, JobDetailScreen)
        await pilot.press("i")  # the job's full detail, metadata included
        await pilot_settle(pilot)
        assert_safe(app, "job detail", seen)

        await pilot.press("enter")
        await await_screen(pilot, TaskDetailScreen)
        text = assert_safe(app, "task detail", seen)
        assert "cat " in text  # the command line is on screen

        await pilot.press("e")  # stderr has a NUL: a binary file
        viewer = await await_screen(pilot, FileViewerScreen)
        await wait_for(pilot, lambda: viewer.viewer.is_open)
        assert viewer.viewer.is_binary
        assert_safe(app, "stderr viewer", seen)

        await pilot.press("escape", "o")
        await wait_for(pilot, lambda: app.screen is not viewer)
        viewer = await await_screen(pilot, FileViewerScreen)
        await wait_for(pilot, lambda: viewer.viewer.is_open)
        lines = viewer.viewer.visible_lines
        assert f"osc {VISIBLE} end" in lines
        # An 8-bit CSI is a complete CSI sequence: dropped like the 7-bit one.
        assert "bell ␇␇ end" in lines and "c1  end" in lines and "csi  end" in lines
        assert_safe(app, "stdout viewer", seen)
        await pilot.press("G")  # the 200,000-character line at the end
        await pilot_settle(pilot)
        assert_safe(app, "stdout tail", seen)

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        await pilot.press("T")  # terminate the job: the service answers a hostile 409
        await pilot_settle(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: any("Refused" in message for message, _ in notes))
        await pilot_settle(pilot)
        assert_safe(app, "after the error", seen)

        await open_screen(pilot, f"node pool-a {node}", NodeDetailScreen)
        assert_safe(app, "node detail", seen)

        app.action_help()
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot_settle(pilot)
        assert_safe(app, "help", seen)

    everything = "\n".join(seen)
    assert VISIBLE in everything, "the hostile text must stay visible, escaped"
    raw = "".join(written)
    assert raw, "the headless driver wrote nothing"
    for sequence in FORBIDDEN_RAW:
        assert sequence not in raw, f"{sequence!r} reached the terminal"


async def test_error_notification_text_is_sanitized(
    emulator: Any, clock: Any, seed_pool: Any, make_app: Any, tmp_path: Path
) -> None:
    await seed(emulator, clock, seed_pool, tmp_path / "payload")
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        notes = capture_notifications(app)
        await open_screen(pilot, "job job-1", JobDetailScreen)
        await pilot.press("T")
        await pilot_settle(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: any("Refused" in message for message, _ in notes))
        # What the app holds to draw as toasts, after its own sanitising of service text.
        shown = [str(n.message) for n in app._notifications if "Refused" in str(n.message)]
    assert shown, notes
    assert control_chars(shown[0]) == []
    assert VISIBLE in shown[0]
