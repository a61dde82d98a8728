"""Tests that SIGTERM and SIGHUP end the real app cleanly: `batch-tui --demo` in a terminal
(a pty), signalled while the demo's task processes run. The app exits, the terminal leaves the
alternate screen, and no task process is left behind."""

from __future__ import annotations

import os
import pty
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from batch_tui.emulator.node.executors.leftovers import leftover_pids
from tests.polling import until

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/environ").exists(), reason="finds the task processes in /proc"
)

LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"


class Terminal:
    """The app in a pty; a thread keeps reading what it draws (a full pty would block it)."""

    def __init__(self, tmp_path: Path) -> None:
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(tmp_path),
            "TMPDIR": str(tmp_path),  # the demo's data dir, where its task processes run
            "TERM": "xterm-256color",
            "COLUMNS": "100",
            "LINES": "30",
        }
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the app, as a user starts it
            os.execve(sys.executable, [sys.executable, "-m", "batch_tui", "--demo"], env)
        self.output = bytearray()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.status: int | None = None

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: the app ended and closed the terminal
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def exited(self) -> bool:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status is not None

    def close(self) -> None:
        if not self.exited():
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.reader.join(timeout=10)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_a_signal_ends_the_app_and_its_task_processes(
    tmp_path: Path, number: signal.Signals
) -> None:
    terminal = Terminal(tmp_path)
    try:
        await until(lambda: bool(leftover_pids(tmp_path)), seconds=90, every=0.1)
        await until(lambda: b"render-pool" in terminal.output, seconds=60, every=0.1)
        drawn = len(terminal.output)
        started = time.monotonic()
        os.kill(terminal.pid, number)
        await until(terminal.exited, seconds=30, every=0.05)
        assert terminal.status is not None and os.WIFEXITED(terminal.status), terminal.status
        assert os.WEXITSTATUS(terminal.status) == 128 + number  # as a shell reports it
        await until(lambda: not leftover_pids(tmp_path), seconds=10, every=0.05)
        terminal.reader.join(timeout=10)
        assert LEAVE_ALTERNATE_SCREEN in terminal.output[drawn:], "the terminal was not restored"
        assert b"Traceback" not in terminal.output
        assert time.monotonic() - started < 30
    finally:
        terminal.close()
        for pid in leftover_pids(tmp_path):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
