"""Provides an emulator served by uvicorn on a loopback port in a background thread.

`batch-tui --demo` uses it to run the emulator beside the app, and tests use it to give the
official SDK (which needs a real socket) something to talk to.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import replace

import uvicorn

from batch_tui.emulator.settings import EmulatorSettings

STARTUP_TIMEOUT = 30.0
"""Seconds to wait for uvicorn to listen; generous because CI machines can be slow."""


def free_port(host: str = "127.0.0.1") -> int:
    """Returns a TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class BackgroundEmulator:
    """An emulator on `http://host:port` served from a daemon thread.

    Args:
        settings: The emulator settings; `base_url` is replaced with the real address.
        host: The loopback address to bind.
        port: The port, or 0 for a free one.
    """

    def __init__(self, settings: EmulatorSettings, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.settings = replace(settings, base_url=f"http://{host}:{self.port}")
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failed: BaseException | None = None

    @property
    def url(self) -> str:
        """The endpoint clients connect to."""
        return self.settings.base_url

    def start(self) -> BackgroundEmulator:
        """Starts serving and returns once the socket accepts connections.

        Raises:
            RuntimeError: If the server did not come up in time or failed to start.
        """
        from batch_tui.emulator.app import create_served_app

        config = uvicorn.Config(
            create_served_app(self.settings),
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="batch-emulator", daemon=True)
        self._thread.start()
        ready = threading.Event()
        deadline = STARTUP_TIMEOUT
        step = 0.02
        while deadline > 0 and not self._server.started:
            if self._failed is not None or not self._thread.is_alive():
                raise RuntimeError(f"the emulator failed to start: {self._failed}")
            ready.wait(step)
            deadline -= step
        if not self._server.started:
            raise RuntimeError("the emulator did not start in time")
        return self

    def _serve(self) -> None:
        assert self._server is not None
        try:
            asyncio.run(self._server.serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start()/stop() callers
            self._failed = exc

    def stop(self) -> None:
        """Stops serving (running tasks are stopped by the app's shutdown) and joins the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)

    def __enter__(self) -> BackgroundEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
