"""Hostile text for the terminal-safety tests, a task that prints it, and `TerminalBytes`,
which renders the frames an app paints to the bytes a real terminal would get.

`test_terminal_safety.py` walks every screen with them; `test_terminal_viewer.py` covers the
pager, a binary file's notice and a self-test of `TerminalBytes`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from textual._compositor import CompositorUpdate
from textual.app import App

from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.pools import add_pool
from batch_tui.emulator.ops.tasks import add_tasks
from tests.ui.jobs_fixtures import real_settle, sh, task_state
from tests.ui.support import node_states, pool_body

OSC52 = "\x1b]52;c;aGFja2Vk\x07"
"""An OSC 52 clipboard write of "hacked": must show as text, never run."""
HOSTILE = f"evil{OSC52}\x1b[2J\x1bPq#0;dcs\x1b\\\x9b6n\x07\x1b]0;title\x07\u202eend"
"""Every kind of sequence in one string that the service accepts as a display name or value."""
VISIBLE = "␛]52;c;aGFja2Vk␇"
"""How the OSC 52 part looks once made harmless."""
ENV_NAME = f"NAME{OSC52}\x1b[31m\u202e"
"""An environment variable's name (anything but `=` and NUL is a valid name)."""
FILE_DIR = "dir\x1b]0;owned\x07"
FILE_NAME = f"file{OSC52}\x9b6n\u202e.txt"
"""A directory and a file the task creates (no `/` or `\\`: those separate path parts)."""
STDOUT = (
    b"csi \x1b[2J\x1b[H end\n"
    b"osc " + OSC52.encode() + b" end\n"
    b"dcs \x1bPq#0;sixel\x1b\\ end\n"
    b"c1 \xc2\x9b6n end\n"
    b"bell \x07\x07 end\n"
    b"title \x1b]0;owned\x07 end\n"
    b"bidi \xe2\x80\xae end\n"
    b"invalid \xff\xfe\xc3( end\n" + b"L" * 200_000 + b"\n"
)
"""A task's stdout: text with every sequence, invalid UTF-8 and a 200,000-character line."""
STDERR = b"nul \x00 here " + OSC52.encode() + b"\n"
"""A task's stderr with a NUL: shown as a binary file."""
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""The bidi controls (marks, embeddings, overrides, isolates): none may reach the screen."""

_TEXTUALS_OWN = re.compile(
    r"\x1b\[[0-9;]*m"  # SGR: colours and text attributes
    r"|\x1b\[[0-9]+;[0-9]+H"  # cursor position: where each line of a frame starts
    r"|\x1b\]8;id=[0-9-]+;[^\x00-\x1f\x7f-\x9f]*\x1b\\|\x1b\]8;;\x1b\\"  # its hyperlinks
)
"""The sequences Textual itself writes into a frame. Nothing from the service may add one."""
_STRAY = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
"""What a terminal acts on, but for the newlines between a frame's lines (tabs included:
text is laid out with tabs expanded, so a raw tab in a frame came from the service)."""


class TerminalBytes:
    """Renders every frame an app paints to the bytes a real terminal would get.

    `App._display` skips this step in headless mode (bench/ui_latency.py's `FrameProbe` does
    the same to count bytes). Wrap before `run_test`.
    """

    def __init__(self, app: App[Any]) -> None:
        self.frames: list[str] = []
        self._checked = 0
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if isinstance(renderable, CompositorUpdate):
                self.frames.append(renderable.render_segments(app.console))
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]

    def stray(self, frames: list[str] | None = None) -> list[str]:
        """The control characters in frames that Textual did not write itself."""
        frames = self.frames[self._checked :] if frames is None else frames
        return [repr(char) for char in _STRAY.findall(_TEXTUALS_OWN.sub("", "".join(frames)))]

    def check_new(self, where: str) -> None:
        """Fails if a frame painted since the last check holds a stray control character."""
        stray = self.stray()
        self._checked = len(self.frames)
        assert stray == [], f"{where}: reached the terminal: {stray[:8]}"


def write_payload(folder: Path) -> None:
    """The files the task prints: stdout as text, stderr with a NUL."""
    folder.mkdir()
    (folder / "out.bin").write_bytes(STDOUT)
    (folder / "err.bin").write_bytes(STDERR)


async def seed(emulator: Any, clock: Any, payload: Path) -> str:
    """A pool, a job and a completed task, all named and filled with hostile text."""
    meta = [{"name": "note", "value": HOSTILE}]
    start_task = {"commandLine": sh(f': "{HOSTILE}"'), "waitForSuccess": True}
    body = pool_body("pool-a", 1, displayName=HOSTILE, metadata=meta, startTask=start_task)
    add_pool(emulator, {**body, "vmSize": f"standard_d2s_v3{OSC52}"})
    write_payload(payload)
    job = {"id": "job-1", "displayName": HOSTILE, "metadata": meta}
    add_job(emulator, {**job, "poolInfo": {"poolId": "pool-a"}})
    out = f"{payload}/out.bin"
    script = (
        f'cat {out}; cat {payload}/err.bin >&2; mkdir "$FDIR"; cat {out} > "$FDIR/$FNAME"; '
        f': "{HOSTILE}"'
    )
    environment = [("EVIL", HOSTILE), (ENV_NAME, "value"), ("FDIR", FILE_DIR), ("FNAME", FILE_NAME)]
    task = {
        "id": "t0",
        "displayName": HOSTILE,
        "commandLine": sh(script),
        "environmentSettings": [{"name": name, "value": value} for name, value in environment],
    }
    add_tasks(emulator, "job-1", [task])
    await real_settle(emulator, clock, lambda: task_state(emulator, "job-1", "t0") == "completed")
    [node] = node_states(emulator, "pool-a")
    return str(node)
