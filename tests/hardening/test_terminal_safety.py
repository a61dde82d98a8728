"""Tests that hostile text from the service never reaches the terminal raw.

Display names, metadata, a VM size, command lines, environment names and values, file names,
file content, error messages and account names carry escape sequences (CSI, OSC incl. OSC 52,
DCS), C1 controls, bells, a bidi override, NULs, invalid UTF-8 and a 200,000-character line.
The app is driven through every place that shows them. Two checks at each stop:

- the screen's text (the compositor's strips) holds no control or bidi character;
- the bytes a real terminal would receive hold none either. Headless Textual never renders
  frames to its driver, so `TerminalBytes` renders each frame the app paints the way the real
  driver does (`CompositorUpdate.render_segments`) and scans those bytes. Textual's own
  sequences (colours, cursor moves, its hyperlinks) are removed first; anything else left
  that a terminal would act on came from the service.

The pager, a binary file's notice and a self-test of `TerminalBytes` are in
`test_terminal_viewer.py`; ids the emulator must refuse in `test_terminal_ids.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.drivers.headless_driver import HeadlessDriver
from textual.pilot import Pilot
from textual.widgets import Input

from batch_tui.accounts import AccountTarget
from batch_tui.ui.actions import ACTIONS
from batch_tui.ui.screens.accounts import AccountsScreen
from batch_tui.ui.screens.command_line import CommandLineScreen
from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.dialogs import AddUserScreen, SshCommandScreen
from batch_tui.ui.screens.file_viewer import FileViewerScreen
from batch_tui.ui.screens.heatmap import HeatmapScreen
from batch_tui.ui.screens.help import HelpScreen
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.jobs import JobsScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.nodes import NodesScreen
from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.screens.pool_detail import PoolDetailScreen
from batch_tui.ui.screens.pools import PoolsScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from batch_tui.ui.widgets.file_list import FileList
from tests.hardening.hostile import (
    BIDI,
    FILE_DIR,
    HOSTILE,
    VISIBLE,
    TerminalBytes,
    seed,
)
from tests.hardening.support import control_chars
from tests.ui.jobs_fixtures import (
    await_screen,
    open_screen,
    wait_for,
)
from tests.ui.recording import Recorder
from tests.ui.support import (
    KEY,
    TARGET,
    capture_notifications,
    pilot_settle,
    screen_text,
)

pytestmark = pytest.mark.parametrize("executor", ["local"])  # the task prints the hostile text

FORBIDDEN_RAW = ("\x1b]52", "\x1b]0;", "\x1bP", "\x9b", "aGFja2Vk", "\x1b[2J")
"""What must never appear in the bytes the app writes to its driver (outside frames).

Nothing here copies to the clipboard, so not even the payload's base64 may appear.
"""


class HostileErrors:
    """ASGI middleware: answers some requests with an error whose message carries escapes.

    Job terminate gets a 409 (an action's notification); GET of pool `pool-broken` a 400 (a
    failed refresh's error line); GET of a node's remote login settings a 409 (a note of the
    SSH dialog).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        answer = self._answer(scope) if scope["type"] == "http" else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        status, code = answer
        body = {
            "odata.metadata": "https://demo/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
            "code": code,
            "message": {"lang": "en-US", "value": f"Refused {HOSTILE}\nRequestId:1"},
        }
        headers = [(b"content-type", b"application/json;odata=minimalmetadata")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    @staticmethod
    def _answer(scope: Any) -> tuple[int, str] | None:
        path, method = scope["path"], scope["method"]
        if path.endswith("/terminate"):
            return 409, "TaskCompleted"
        if method == "GET" and path == "/pools/pool-broken":
            return 400, "InvalidRequest"
        if method == "GET" and path.endswith("/remoteloginsettings"):
            return 409, "NodeNotReady"
        return None


@pytest.fixture
def served_app(recorder: Recorder) -> HostileErrors:
    """The emulator, behind the hostile error answers (and no fault injector)."""
    return HostileErrors(recorder)


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Everything the app writes to its headless driver (frames are not: see TerminalBytes)."""
    out: list[str] = []
    original = HeadlessDriver.write

    def write(self: HeadlessDriver, data: str) -> None:
        out.append(data)
        original(self, data)

    monkeypatch.setattr(HeadlessDriver, "write", write)
    yield out


def hostile_account() -> AccountTarget:
    """An account from config whose name and URL carry escapes."""
    url = f"https://{HOSTILE}.westus.batch.azure.com"
    return AccountTarget(name=HOSTILE, url=url, account="evil", auth="shared-key", key=KEY)


class Walk:
    """Checks the screen and the terminal bytes at each stop, and keeps what was shown."""

    def __init__(self, pilot: Pilot[Any], terminal: TerminalBytes) -> None:
        self.pilot = pilot
        self.terminal = terminal
        self.seen: list[str] = []

    async def check(self, where: str) -> str:
        await self.pilot.pause()  # let the last change reach a frame
        text = screen_text(self.pilot.app)
        assert control_chars(text) == [], f"{where}: {control_chars(text)[:5]}"
        assert BIDI.search(text) is None, f"{where}: a bidi control is on screen"
        self.terminal.check_new(where)
        self.seen.append(text)
        return text

    async def open(self, command: str, screen_type: type[Any], where: str) -> Any:
        screen = await open_screen(self.pilot, command, screen_type)
        await self.check(where)
        return screen


async def visit_pools(walk: Walk, node: str) -> None:
    """Overview, pool tree, pool detail, node list, heatmap, node detail."""
    await walk.open("overview", OverviewScreen, "overview")
    await walk.open("pools", PoolsScreen, "pool tree")
    await walk.open("pool pool-a", PoolDetailScreen, "pool detail")
    assert VISIBLE in walk.seen[-1]  # the display name, escaped
    await walk.open("nodes pool-a", NodesScreen, "node list")
    await walk.open("heatmap pool-a", HeatmapScreen, "heatmap")
    await walk.open(f"node pool-a {node}", NodeDetailScreen, "node detail")
    assert "standard_d2s_v3␛]52" in walk.seen[-1]  # the VM size, escaped


async def visit_task(walk: Walk) -> None:
    """Job list and detail, task detail, stdout, stderr, the file list and a hostile file."""
    pilot, app = walk.pilot, walk.pilot.app
    await walk.open("jobs", JobsScreen, "job list")
    await pilot.press("enter")
    await await_screen(pilot, JobDetailScreen)
    await pilot.press("i")  # the job's full detail, metadata included
    await pilot_settle(pilot)
    await walk.check("job detail")

    await pilot.press("enter")
    await await_screen(pilot, TaskDetailScreen)
    text = await walk.check("task detail")
    assert "cat " in text and "NAME␛]52;c;aGFja2Vk␇<U+202E>" in text  # command, env name

    await pilot.press("e")  # stderr has a NUL: a binary file
    viewer = await await_screen(pilot, FileViewerScreen)
    await wait_for(pilot, lambda: viewer.viewer.is_open)
    assert viewer.viewer.is_binary
    await walk.check("stderr viewer")

    await pilot.press("escape", "o")
    await wait_for(pilot, lambda: app.screen is not viewer)
    viewer = await await_screen(pilot, FileViewerScreen)
    await wait_for(pilot, lambda: viewer.viewer.is_open)
    lines = viewer.viewer.visible_lines
    assert f"osc {VISIBLE} end" in lines and "bidi <U+202E> end" in lines
    # An 8-bit CSI is a complete CSI sequence: dropped like the 7-bit one.
    assert "bell ␇␇ end" in lines and "c1  end" in lines and "csi  end" in lines
    await walk.check("stdout viewer")
    await pilot.press("G")  # the 200,000-character line at the end
    await pilot_settle(pilot)
    await walk.check("stdout tail")

    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
    await visit_hostile_file(walk)


async def visit_hostile_file(walk: Walk) -> None:
    """The file list inside the task's hostile directory, then the hostile file's viewer."""
    pilot, app = walk.pilot, walk.pilot.app
    await pilot.press("2")
    files = app.screen.query_one(FileList)
    await wait_for(pilot, lambda: files.file_count > 2)
    files.change_directory(("wd", FILE_DIR))
    assert f"file{VISIBLE}<U+202E" in await walk.check("file list")  # cut to the column
    await pilot.press("down", "enter")  # past "..", the file
    viewer = await await_screen(pilot, FileViewerScreen)
    await wait_for(pilot, lambda: viewer.viewer.is_open)
    text = await walk.check("hostile file's viewer")
    assert f"file{VISIBLE}" in text  # title and breadcrumbs name it, escaped
    await pilot.press("escape", "escape")
    await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen))


async def visit_errors(walk: Walk, notes: list[tuple[str, str]]) -> None:
    """An action's error notification and a failed refresh's error line."""
    pilot = walk.pilot
    await pilot.press("T")  # terminate the job: the service answers a hostile 409
    await pilot_settle(pilot)
    await walk.check("terminate dialog")
    await pilot.press("y")
    await wait_for(pilot, lambda: any("Refused" in message for message, _ in notes))
    await pilot_settle(pilot)
    await walk.check("after the error")

    screen = await walk.open("pool pool-broken", PoolDetailScreen, "failed refresh")
    assert screen.error is not None and VISIBLE in screen.error
    assert VISIBLE in walk.seen[-1]  # the error line shows it, escaped


async def visit_dialogs(walk: Walk, node: str) -> None:
    """Add user on a node (its SSH dialog notes the hostile error), then dialogs whose
    targets and context are hostile (ids the service would refuse, as a client can meet)."""
    pilot, app = walk.pilot, walk.pilot.app
    await open_screen(pilot, f"node pool-a {node}", NodeDetailScreen)
    await pilot.press("a")
    dialog = await _modal(pilot, AddUserScreen)
    dialog.query_one("#user-name", Input).value = "ops"
    dialog.query_one("#user-password", Input).value = "Secret-Passw0rd!"
    await pilot.press("enter")
    await _modal(pilot, SshCommandScreen)
    assert VISIBLE in await walk.check("SSH dialog")
    await pilot.press("escape")

    for screen in (
        ConfirmScreen(ACTIONS["task.terminate"], [HOSTILE, "t1"], context=f"job {HOSTILE}"),
        AddUserScreen([HOSTILE], context=f"pool {HOSTILE}"),
        SshCommandScreen([f"ssh ops@{HOSTILE} -p 50000"], notes=[HOSTILE]),
    ):
        app.push_screen(screen)
        await _modal(pilot, type(screen))
        text = await walk.check(type(screen).__name__)
        assert text.count(VISIBLE) >= 2, text  # targets and context, or command and note
        await pilot.press("escape")
        await wait_for(pilot, lambda shown=screen: app.screen is not shown)


async def visit_command_line(walk: Walk) -> None:
    """The `:` completion and the command palette, with hostile and markup-like ids."""
    pilot, app = walk.pilot, walk.pilot.app
    app.session.remember_ids("pool", [HOSTILE, "evil-pool", "[reverse]px[/reverse]"])
    await pilot.press("colon")
    screen = await _modal(pilot, CommandLineScreen)
    field = screen.query_one(Input)
    await pilot.press(*"nodes", "space", "e")
    await wait_for(pilot, lambda: bool(field._suggestion))
    await walk.check(": completion")
    assert field._suggestion == "nodes evil-pool"  # a hostile id is not offered at all
    await pilot.press("escape")

    app.action_command_palette()
    await pilot.press(*"px")
    await wait_for(pilot, lambda: "Heatmap of pool" in screen_text(app))
    hit = next(line for line in (await walk.check("palette")).split("\n") if "Heatmap" in line)
    assert "Heatmap of pool [reverse]px[/reverse]" in hit  # shown as typed, not as markup
    await pilot.press("escape")


async def _modal(pilot: Pilot[Any], screen_type: type[Any]) -> Any:
    """Waits until a dialog of `screen_type` is on top and laid out."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, screen_type) and app.screen.is_mounted)
    await pilot_settle(pilot)
    return app.screen


async def test_hostile_text_is_shown_harmlessly_everywhere(
    emulator: Any, clock: Any, make_app: Any, tmp_path: Path, written: list[str]
) -> None:
    node = await seed(emulator, clock, tmp_path / "payload")
    app = make_app(targets=[TARGET, hostile_account()])
    terminal = TerminalBytes(app)
    async with app.run_test(size=(160, 45)) as pilot:
        walk = Walk(pilot, terminal)
        notes = capture_notifications(app)
        await visit_pools(walk, node)
        await visit_task(walk)
        await visit_errors(walk, notes)
        await visit_dialogs(walk, node)
        await visit_command_line(walk)
        await walk.open("accounts", AccountsScreen, "accounts")
        assert VISIBLE in walk.seen[-1]
        app.action_help()
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot_settle(pilot)
        await walk.check("help")

    assert VISIBLE in "\n".join(walk.seen), "the hostile text must stay visible, escaped"
    assert len(terminal.frames) > 20 and terminal.stray(terminal.frames) == []
    raw = "".join(written)
    assert raw, "the headless driver wrote nothing"
    for sequence in FORBIDDEN_RAW:
        assert sequence not in raw, f"{sequence!r} reached the terminal"


async def test_error_notification_text_is_sanitized(
    emulator: Any, clock: Any, make_app: Any, tmp_path: Path
) -> None:
    await seed(emulator, clock, tmp_path / "payload")
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
