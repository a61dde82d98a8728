"""Provides what sits between the UI tests' client and the emulator: a request recorder and
transports that break or hold requests.

The chain of a request in the UI tests is

    client -> BreakableTransport -> ASGITransport -> served_app (the Recorder) -> emulator

(`tests/fixtures/ui.py` builds it; the hardening tests put a fault injector in front of the
recorder).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx


@dataclass
class Recorded:
    """One request as the emulator received it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Recorder:
    """An ASGI middleware that records the requests reaching the emulator app."""

    app: Any
    requests: list[Recorded] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        body = json.loads(raw) if raw else None
        self.requests.append(Recorded(scope["method"], scope["path"], query, body))
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)

    def mutations(self) -> list[Recorded]:
        """The requests that change something (anything but GET and HEAD)."""
        return [r for r in self.requests if r.method not in ("GET", "HEAD")]

    def clear(self) -> None:
        """Forgets what was recorded so far."""
        self.requests.clear()


class BreakableTransport(httpx.AsyncBaseTransport):
    """The client's transport; with `broken` set, every request fails as a refused connection."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.broken = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.broken:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


class HeldRequests(httpx.AsyncBaseTransport):
    """Holds the requests `holds(request)` picks until `release()`: a slow link, or one step
    of a flow held still while the test acts (the rest passes)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        holds: Callable[[httpx.Request], bool] = lambda request: True,
    ) -> None:
        self.inner = inner
        self.holds = holds
        self.opened = asyncio.Event()
        self.held = 0
        """Requests that were held (and may still be)."""

    def release(self) -> None:
        """Lets every held request, and every later one, through."""
        self.opened.set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.holds(request):
            self.held += 1
            await self.opened.wait()
        return await self.inner.handle_async_request(request)
