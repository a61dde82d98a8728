"""Provides an emulator served by uvicorn on a loopback port in a background thread.

`batch-tui --demo` uses it to run the emulator beside the app, and tests use it to give the
official SDK (which needs a real socket) something to talk to.

The listening socket is bound before the thread starts, so the URL is known at once and a
client may connect straight away: the kernel queues its connection until uvicorn serves it.
That lets `--demo` start the emulator without waiting (`start(wait=False)`): the emulator
seeds and starts serving in its thread while the caller imports and starts the UI. The
emulator and uvicorn are imported and built on the caller's thread first: two threads
importing at once contend for the import lock and cost more than they overlap.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import replace

import uvicorn

from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.http.app import create_served_app
from batch_tui.emulator.http.protocol import served_config

STARTUP_TIMEOUT = 30.0
"""Seconds to wait for uvicorn to listen; generous because CI machines can be slow."""

READY_POLL = 0.005
"""Seconds between two looks at uvicorn's `started` flag (it offers no event to wait on)."""


def free_port(host: str = "127.0.0.1") -> int:
    """Returns a TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _listen(host: str, port: int) -> socket.socket:
    """Binds and listens on `host:port` (0 picks a free port); connections queue from now on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it each answer waits for the client's delayed ACK (about 40 ms a request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock


class BackgroundEmulator:
    """An emulator on `http://host:port` served from a daemon thread.

    Args:
        settings: The emulator settings; `base_url` is replaced with the real address.
        host: The loopback address to bind.
        port: The port, or 0 for a free one (known once `start` returns).
    """

    def __init__(self, settings: EmulatorSettings, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.settings = settings
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failed: BaseException | None = None

    @property
    def url(self) -> str:
        """The endpoint clients connect to (set by `start`)."""
        return self.settings.base_url

    @property
    def started(self) -> bool:
        """Whether uvicorn serves requests (seeded and accepting)."""
        return self._server is not None and self._server.started

    @property
    def failure(self) -> BaseException | None:
        """Why the emulator stopped serving on its own, or None."""
        return self._failed

    def start(self, *, wait: bool = True) -> BackgroundEmulator:
        """Binds the socket, builds the emulator, then serves it from a daemon thread.

        Args:
            wait: Return once uvicorn serves. With False, return at once: requests sent
                meanwhile wait in the socket's queue until the emulator has seeded and serves
                them (or fail fast if it cannot start, since the socket is then closed).

        Raises:
            OSError: If the address cannot be bound.
            ValueError: If the settings' fault spec is not valid.
            RuntimeError: With `wait`, if the server did not come up in time or failed.
        """
        self._socket = _listen(self.host, self.port)
        self.port = int(self._socket.getsockname()[1])
        self.settings = replace(self.settings, base_url=f"http://{self.host}:{self.port}")
        try:
            config = served_config(create_served_app(self.settings))
            config.load()  # imports uvicorn's protocol modules here, not in the thread
        except BaseException:
            self._socket.close()
            raise
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="batch-emulator", daemon=True)
        self._thread.start()
        if wait:
            self._wait_started()
        return self

    def _wait_started(self) -> None:
        assert self._thread is not None
        ready = threading.Event()
        deadline = STARTUP_TIMEOUT
        while deadline > 0 and not self.started:
            if self._failed is not None or not self._thread.is_alive():
                raise RuntimeError(f"the emulator failed to start: {self._failed!r}")
            ready.wait(READY_POLL)
            deadline -= READY_POLL
        if not self.started:
            raise RuntimeError("the emulator did not start in time")

    def _serve(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # noqa: BLE001 - reported to start()/stop() callers
            self._failed = exc
        finally:
            # Queued and later connections are refused now, rather than waiting forever.
            self._socket.close()

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
