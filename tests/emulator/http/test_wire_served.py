"""Tests the emulator as `batch-tui emulator` serves it (uvicorn on a loopback socket) against
input no client library sends: an oversized request line or head, connections that never
finish a request, stale signatures from the official SDK, and the control endpoints signed
by batch-tui's own client signer.

The HTTP-level cases use raw sockets: an HTTP client would refuse to send them, or hide what
the server did with the connection.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from azure.batch import BatchClient
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import HttpResponseError

from batch_tui.batch.auth import SharedKeyAuth
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.http.protocol import ConnectionLimits
from batch_tui.emulator.http.server import BoundServer, build_server
from tests.emulator.sdk_support import wait_for
from tests.emulator.support import ACCOUNT, API_VERSION, KEY, POOL_BODY, fast_timings

LIMITS = ConnectionLimits(head_timeout=0.5, body_timeout=0.5, keep_alive=0.5)
"""Short deadlines, so a connection left hanging is closed well within a test's patience."""

PATIENCE = 10.0
"""Seconds a raw socket waits for the server's answer or its close (deadlines are far less)."""


@pytest.fixture
def bound(tmp_path: Path) -> Iterator[BoundServer]:
    """The emulator served by uvicorn on a free loopback port, in a thread."""
    settings = EmulatorSettings(
        account=ACCOUNT,
        key=KEY,
        executor="simulated",
        data_dir=tmp_path / "emulator",
        timings=fast_timings(),
    )
    served = build_server(settings, "127.0.0.1", 0, limits=LIMITS)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    wait_for(lambda: served.server.started, "the server to start", timeout=10)
    yield served
    served.server.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture
def url(bound: BoundServer) -> str:
    return bound.url


@pytest.fixture
def raw(url: str) -> Iterator[socket.socket]:
    """A plain TCP connection to the emulator."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    sock = socket.create_connection((parts.hostname, parts.port), timeout=PATIENCE)
    yield sock
    sock.close()


def read_until_closed(sock: socket.socket) -> bytes:
    """Reads what the server sends until it closes the connection (fails after `PATIENCE`)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def signed_head(method: str, url: str, headers: dict[str, str]) -> bytes:
    """The request line and headers of a request signed for the emulator, as raw bytes."""
    request = httpx.Request(method, url, headers=headers)
    SharedKeyAuth(ACCOUNT, KEY).sign(request)
    lines = [f"{method} {request.url.raw_path.decode()} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def signed_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, auth=SharedKeyAuth(ACCOUNT, KEY), timeout=PATIENCE)


# --- oversized requests -----------------------------------------------------------------------


def test_a_128_kb_request_line_gets_414(raw: socket.socket, url: str) -> None:
    target = b"/pools?api-version=" + b"a" * (128 * 1024)
    raw.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: emulator\r\n\r\n")
    answer = read_until_closed(raw)
    assert answer.startswith(b"HTTP/1.1 414 "), answer[:200]
    assert b"connection: close" in answer.lower()
    with signed_client(url) as client:  # and the server carries on
        assert client.get("/pools", params={"api-version": API_VERSION}).status_code == 200


def test_128_kb_of_headers_gets_431(raw: socket.socket) -> None:
    raw.sendall(b"GET /pools HTTP/1.1\r\nHost: emulator\r\nX-Big: " + b"b" * (128 * 1024))
    raw.sendall(b"\r\n\r\n")
    assert read_until_closed(raw).startswith(b"HTTP/1.1 431 ")


def test_a_malformed_request_line_still_gets_400(raw: socket.socket) -> None:
    raw.sendall(b"NOT A REQUEST\r\n\r\n")
    assert read_until_closed(raw).startswith(b"HTTP/1.1 400 ")


# --- connections that never finish a request --------------------------------------------------


def test_a_connection_that_sends_nothing_is_closed(raw: socket.socket) -> None:
    started = time.monotonic()
    assert read_until_closed(raw) == b""
    assert time.monotonic() - started >= LIMITS.head_timeout * 0.9


def test_a_head_that_never_ends_is_closed_even_if_bytes_keep_coming(raw: socket.socket) -> None:
    raw.sendall(b"GET /pools HTTP/1.1\r\nHost: emulator\r\n")
    raw.settimeout(0.05)  # the pace of a slowloris client: one header byte per 50 ms
    started, closed = time.monotonic(), False
    while not closed and time.monotonic() - started < PATIENCE:
        try:
            raw.sendall(b"X")
            closed = raw.recv(1024) == b""
        except TimeoutError:
            continue
        except OSError:  # the server's close reached us as a reset or a broken pipe
            closed = True
    assert closed, "the server kept a request head open for the whole test"
    assert time.monotonic() - started < PATIENCE


def test_a_body_that_stops_coming_is_closed_and_changes_nothing(
    raw: socket.socket, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": "500"}
    raw.sendall(signed_head("POST", f"{url}/pools?api-version={API_VERSION}", headers))
    raw.sendall(b'{"id": "half')
    assert read_until_closed(raw) == b""
    with signed_client(url) as client:
        assert client.get("/pools", params={"api-version": API_VERSION}).json()["value"] == []
    assert "internal error" not in caplog.text  # a client that left is not a bug


def test_an_idle_keep_alive_connection_is_closed(raw: socket.socket, url: str) -> None:
    raw.sendall(b"GET /pools HTTP/1.1\r\nHost: emulator\r\n\r\n")
    answer = read_until_closed(raw)  # a 401 (unsigned), then the keep-alive timeout
    assert answer.startswith(b"HTTP/1.1 401 ")


# --- the official SDK and batch-tui's client against the served emulator ---------------------


def test_the_sdk_signs_fresh_dates_and_a_stale_one_is_refused(url: str) -> None:
    client = BatchClient(url, AzureNamedKeyCredential(ACCOUNT, KEY))
    try:
        assert list(client.list_pools()) == []
        for skew in (timedelta(minutes=-20), timedelta(minutes=20)):
            with pytest.raises(HttpResponseError) as info:
                list(client.list_pools(ocp_date=datetime.now(timezone.utc) + skew))
            assert info.value.status_code == 403
            assert info.value.error is not None and info.value.error.code == "AuthenticationFailed"
    finally:
        client.close()


def test_the_control_endpoints_take_requests_signed_by_our_client(url: str) -> None:
    with signed_client(url) as client:
        body = {**POOL_BODY, "targetDedicatedNodes": 0, "targetLowPriorityNodes": 1}
        created = client.post("/pools", json=body, params={"api-version": API_VERSION})
        assert created.status_code == 201, created.text
        assert client.put("/_emulator/faults", json={"spec": "latency:ms=1"}).status_code == 200
        assert client.get("/_emulator/faults").json()["rules"][0]["kind"] == "latency"
        assert client.delete("/_emulator/faults").status_code == 200
        answer = client.post("/_emulator/pools/pool1/preempt", json={"recover": False})
        assert answer.status_code in (200, 409), answer.text  # 409: its node is not up yet
    unsigned = httpx.post(f"{url}/_emulator/pools/pool1/preempt", timeout=PATIENCE)
    assert unsigned.status_code == 401
    assert httpx.get(f"{url}/_emulator/faults", timeout=PATIENCE).status_code == 401
