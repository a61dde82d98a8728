"""Provides `exit_on_signals`: SIGTERM and SIGHUP end the app the way `:q` does.

Textual's terminal driver handles neither, and Python's default for both is to die on the
spot: the terminal stays in the app's alternate screen with the mouse captured, the demo's
task processes go on without their emulator, and the last-known snapshot is not saved. SIGHUP
is what an SSH session that drops sends; SIGTERM is what `kill`, `timeout` and systemd send.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import sys
import threading
from typing import Any

from textual.app import App

EXIT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals that end the app cleanly (Windows has no SIGHUP)."""


def exit_on_signals(app: App[Any]) -> None:
    """Makes the signals end `app` as a normal exit does (the caller's clean-up then runs).

    Call it from the running app (its event loop). Windows' event loops take no signal
    handlers, and only the main thread may set them: there the defaults stay.
    """
    if sys.platform == "win32" or threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for number in EXIT_SIGNALS:
        # 128 + N: what a shell reports for a process ended by signal N.
        loop.add_signal_handler(number, functools.partial(app.exit, return_code=128 + number))
