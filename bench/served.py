"""Serves a seeded emulator on loopback for the benchmarks, counting the bytes it sends.

The emulator is built and seeded in this process, then served by uvicorn in a thread behind
the fault injector (so both clients meet the same injected latency) and a byte counter (so
both clients are measured by the same meter, at the server, with no instrumentation in them).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import uvicorn

from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.build import build_emulator
from batch_tui.emulator.http.app import create_served_app
from batch_tui.emulator.http.faults import FaultInjector
from batch_tui.emulator.ops.emulator import Emulator

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

STARTUP_TIMEOUT = 60.0
"""Seconds to wait for uvicorn to listen (the engine's first tick over a big store is slow)."""


@dataclass(frozen=True)
class Meter:
    """A reading of the byte counter."""

    requests: int
    body_bytes: int

    def __sub__(self, other: Meter) -> Meter:
        return Meter(self.requests - other.requests, self.body_bytes - other.body_bytes)


class ByteCounter:
    """ASGI middleware that counts requests and response body bytes."""

    def __init__(self, app: FaultInjector) -> None:
        self.app = app
        self.requests = 0
        self.body_bytes = 0

    def read(self) -> Meter:
        return Meter(self.requests, self.body_bytes)

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.requests += 1

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.body":
                self.body_bytes += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, counting)


class ServedEmulator:
    """An emulator on `http://127.0.0.1:<port>`, seeded before it is served.

    Args:
        settings: Its settings; `base_url` is set to the bound address.
    """

    def __init__(self, settings: EmulatorSettings) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind(("127.0.0.1", 0))
        settings.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.settings = settings
        self.emu: Emulator = build_emulator(settings)
        self.injector = create_served_app(self.emu)
        self.counter = ByteCounter(self.injector)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.settings.base_url

    def start(self) -> ServedEmulator:
        """Serves in a daemon thread and returns once uvicorn listens."""
        config = uvicorn.Config(self.counter, lifespan="on", log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the emulator did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._sock.close()

    def __enter__(self) -> ServedEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
