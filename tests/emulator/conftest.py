"""Fixtures for the emulator tests: fast settings, an emulator, its app, and a signed HTTP client.

The client signs with a SharedKey signer written here from the spec (BATCH-API.md 9.1), not with
`batch_tui.batch` nor the emulator's own verifier, so the emulator is checked independently.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from batch_tui.emulator import Emulator, build_emulator, create_app
from batch_tui.emulator.base.clock import Clock, ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings, Timings

API_VERSION = "2024-07-01.20.0"
ACCOUNT = "testaccount"
KEY = base64.b64encode(b"emulator-test-key-0123456789abcdef" * 2).decode()
BASE_URL = "https://testaccount.westus.batch.azure.com"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
"""The shared reference folder (spec, recordings), read but never copied into the repo."""

_SIGNED = [
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
]


def string_to_sign(request: httpx.Request, account: str) -> str:
    """The SharedKey string to sign of an httpx request (BATCH-API.md 9.1)."""
    headers = {k.lower(): v for k, v in request.headers.items() if v}
    lines = [request.method] + [headers.get(name, "") for name in _SIGNED]
    text = "\n".join(lines) + "\n"
    for name, value in sorted((k, v) for k, v in headers.items() if "ocp-" in k):
        text += f"{name}:{value}\n"
    text += f"/{account}{request.url.raw_path.split(b'?')[0].decode()}"
    query = parse_qs(request.url.query.decode())
    for name in sorted(query):
        if query[name][0]:
            text += f"\n{name}:{query[name][0]}"
    return text


class SharedKeyAuth(httpx.Auth):
    """Signs each request with an account key, as the azure-batch SDK does."""

    def __init__(self, account: str, key: str, api_version: str | None = None) -> None:
        self.account = account
        self.key = key
        self.api_version = api_version

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.api_version and "api-version" not in request.url.params:
            # Next links already carry it; everything else gets the default version.
            request.url = request.url.copy_add_param("api-version", self.api_version)
        request.headers.setdefault("ocp-date", formatdate(usegmt=True))
        if request.method not in ("GET", "HEAD"):
            request.headers.setdefault("Content-Length", str(len(request.content)))
        digest = hmac.new(
            base64.b64decode(self.key),
            string_to_sign(request, self.account).encode(),
            hashlib.sha256,
        ).digest()
        signature = base64.b64encode(digest).decode()
        request.headers["Authorization"] = f"SharedKey {self.account}:{signature}"
        yield request


def fast_timings() -> Timings:
    """Timings short enough for a whole lifecycle to take well under a second."""
    return Timings(
        tick=0.01,
        node_creating=0.02,
        node_starting=0.02,
        node_rebooting=0.05,
        node_reimaging=0.05,
        node_deallocating=0.05,
        node_leaving=0.02,
        task_preparing=0.01,
        simulated_task_seconds=0.02,
    )


@pytest.fixture
def executor() -> str:
    """The executor the emulator runs tasks with; tests parametrise it indirectly."""
    return "simulated"


@pytest.fixture
def settings(tmp_path: Path, executor: str) -> EmulatorSettings:
    return EmulatorSettings(
        account=ACCOUNT,
        key=KEY,
        executor=executor,
        data_dir=tmp_path / "emulator",
        base_url=BASE_URL,
        timings=fast_timings(),
    )


@pytest.fixture
def clock() -> Clock:
    """A manual clock: nothing moves unless a test advances it (see `settle`)."""
    return ManualClock()


@pytest.fixture
async def emulator(settings: EmulatorSettings, clock: Clock) -> AsyncIterator[Emulator]:
    emu = build_emulator(settings, clock)
    yield emu
    await emu.stop()


@pytest.fixture
def app(emulator: Emulator) -> Any:
    return create_app(emulator)


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A signed client of the in-process emulator that sends the api-version on every call."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        auth=SharedKeyAuth(ACCOUNT, KEY, API_VERSION),
    ) as client:
        yield client


Settle = Callable[[Callable[[], bool]], Awaitable[None]]


@pytest.fixture
def settle(emulator: Emulator, clock: Clock) -> Settle:
    """Returns `await settle(condition)`: advances the manual clock and runs engine ticks until
    the condition holds (a bounded condition wait, no sleeping)."""

    async def run(condition: Callable[[], bool]) -> None:
        for _ in range(2000):
            if condition():
                return
            if isinstance(clock, ManualClock):
                clock.advance(0.05)
            await emulator.engine.tick()
        raise AssertionError("the emulator did not reach the expected state")

    return run


POOL_BODY: dict[str, Any] = {
    "id": "pool1",
    "vmSize": "STANDARD_D2S_V3",
    "virtualMachineConfiguration": {
        "imageReference": {
            "publisher": "canonical",
            "offer": "0001-com-ubuntu-server-jammy",
            "sku": "22_04-lts",
            "version": "latest",
        },
        "nodeAgentSKUId": "batch.node.ubuntu 22.04",
    },
    "targetDedicatedNodes": 2,
}
