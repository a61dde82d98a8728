"""Provides the HTTP/1.1 protocol the emulator is served with: uvicorn's h11 protocol, plus the
answers a front end gives to oversized requests and deadlines for requests that never finish.

uvicorn (0.55, h11) offers `timeout_keep_alive`, which closes a connection idle *between*
requests, and `h11_max_incomplete_event_size`, past which h11 stops buffering a request head.
It has nothing for a request that never completes: a connection that sends nothing, a head
that never ends, or a body that stops coming is held open for good, and each one holds a
socket. Nor does it tell an oversized request line from bad syntax: both get 400, and the
connection is closed with the rest of the request unread, so the client's kernel answers it
with a reset, which usually destroys the 400 before the client reads it.

`GuardedH11Protocol` (built by `served_config` with its `ConnectionLimits`):

- closes a connection whose request head is not complete `head_timeout` seconds after it
  began: a deadline, not an idle timer, so a byte now and then does not keep it open;
- closes a connection whose request body has not moved for `body_timeout` seconds (the app,
  waiting for the body, sees a disconnect, and nothing is changed);
- answers a head over `max_head_bytes` with 414 URI Too Long when its request line alone is
  over the limit, else 431 Request Header Fields Too Large;
- after an error answer, shuts its side down and reads and drops what the client still sends
  (for at most `linger` seconds) before it closes, so the client reads the answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a connection may take over a request, and how big a request head may be."""

    head_timeout: float = 20.0
    """Seconds from a connection (or the first byte of its next request) to a complete request
    head. Clients send a head at once; Apache's default allows 20 to 40 seconds."""
    body_timeout: float = 60.0
    """Seconds a request body may go without a byte while it is incomplete."""
    keep_alive: float = 5.0
    """Seconds an idle connection is kept between requests (uvicorn's default)."""
    max_head_bytes: int = 16 * 1024
    """The largest request head (request line and headers): h11's default, and HTTP.sys's
    `MaxRequestBytes`, in front of the service."""
    linger: float = 2.0
    """Seconds an error answer waits for the client to stop sending before it closes."""


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines and 414/431 answers (see the module docstring)."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn types it as int seconds; call_later takes a float just as well.
        self.timeout_keep_alive = self.limits.keep_alive  # type: ignore[assignment]
        self._timer: asyncio.TimerHandle | None = None
        self._timing: str | None = None
        self._lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("head", self.limits.head_timeout)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # the answer is sent: what is left of the request is read and dropped
        super().data_received(data)
        if self._lingering or self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.IDLE and self._timing != "head":
            self._arm("head", self.limits.head_timeout)
        elif state is h11.SEND_BODY:
            self._arm("body", self.limits.body_timeout)
        elif state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """Answers a request h11 could not read: 414 or 431 for an oversized head, else 400."""
        status = self._oversized_status()
        text = STATUS_PHRASES[status].decode() if status != 400 else msg
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        event = h11.Response(status_code=status, headers=headers, reason=STATUS_PHRASES[status])
        for part in (event, h11.Data(data=text.encode("ascii")), h11.EndOfMessage()):
            self.transport.write(self.conn.send(part) or b"")
        self._linger()

    def _oversized_status(self) -> int:
        buffered, _ = self.conn.trailing_data
        if len(buffered) <= self.limits.max_head_bytes:
            return 400
        line_end = buffered.find(b"\n")
        return 414 if line_end < 0 or line_end > self.limits.max_head_bytes else 431

    def _linger(self) -> None:
        """Shuts down our side, then reads and drops until the client closes, or `linger`."""
        self._lingering = True
        self._disarm()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self._timer = self.loop.call_later(self.limits.linger, self.transport.close)

    def _arm(self, kind: str, seconds: float) -> None:
        self._disarm()
        self._timing = kind
        self._timer = self.loop.call_later(seconds, self._expired, kind)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timing = None, None

    def _expired(self, kind: str) -> None:
        self._timer, self._timing = None, None
        if self.transport.is_closing():
            return
        if kind == "body" and self.flow.read_paused:
            # Paused by uvicorn's flow control (the app is behind), not by the client.
            self._arm(kind, self.limits.body_timeout)
            return
        self.logger.debug("closing a connection whose request %s did not arrive in time", kind)
        self.transport.close()


def served_config(app: Any, limits: ConnectionLimits | None = None) -> uvicorn.Config:
    """Returns the uvicorn configuration the emulator is served with.

    Args:
        app: The ASGI app (`create_served_app`).
        limits: The connection limits; the defaults when None (tests shorten them).
    """
    limits = limits or ConnectionLimits()
    protocol = type(GuardedH11Protocol.__name__, (GuardedH11Protocol,), {"limits": limits})
    return uvicorn.Config(
        app,
        http=protocol,
        lifespan="on",
        log_level="warning",
        h11_max_incomplete_event_size=limits.max_head_bytes,
    )
