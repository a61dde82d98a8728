"""Fixtures for the UI tests: an in-process emulator, a recorder of what reached it, the app.

- `emulator`: a `simulated` emulator on a `ManualClock`; nothing moves unless `settle` ticks it.
- `settle(condition)`: advances the clock and ticks the engine until the condition holds.
- `seed_pool(pool_id, nodes)` / `seed_job(job_id, pool_id, tasks)`: create entities through
  the emulator's own create functions and wait for the nodes to be idle.
- `recorder`: every request that reached the emulator (method, path, query, JSON body).
- `transport`: the client's transport; `transport.broken = True` makes every request fail
  like a dropped network.
- `make_app(read_only=False, **kw)`: a `BatchApp` with the demo account open, long refresh
  intervals (tests press `r`), and `now` from the emulator's clock.
- `pilot_settle(pilot)`: waits for every worker and the screen to quiet down.
- `open_nodes(app, pilot, pool_id)`: shows a pool's node list, loaded.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from textual.pilot import Pilot

from batch_tui.accounts import AccountTarget
from batch_tui.batch.cache import BatchCache
from batch_tui.batch.client import BatchClient
from batch_tui.batch.retry import RetryPolicy
from batch_tui.config import Refresh, Settings
from batch_tui.emulator import Emulator, build_emulator, create_app
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings, Timings
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.pools import add_pool
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.ui.app import BatchApp
from batch_tui.ui.session import AccountSession

ACCOUNT = "demo"
KEY = base64.b64encode(b"ui-test-key-0123456789abcdef-0123456789").decode()
BASE_URL = "https://demo.westus.batch.azure.com"
TARGET = AccountTarget(
    name="demo", url=BASE_URL, account=ACCOUNT, auth="shared-key", key=KEY, is_demo=True
)
LONG = 3600.0
"""Refresh interval in tests: the timer never fires; tests refresh with `r`."""


def fast_timings() -> Timings:
    """State changes that take a few ticks of the manual clock.

    The engine's own loop ticks rarely (`tick=5`): `settle` drives it, and a busy loop would
    keep Pilot's idle detection waiting its full second on every pause.
    """
    return Timings(
        tick=5.0,
        node_creating=0.02,
        node_starting=0.02,
        node_rebooting=0.05,
        node_reimaging=0.05,
        node_deallocating=0.05,
        node_leaving=0.02,
        task_preparing=0.01,
        simulated_task_seconds=0.02,
    )


def pool_body(pool_id: str, nodes: int, **extra: Any) -> dict[str, Any]:
    """A PoolAddParameter for a Linux pool of `nodes` dedicated nodes."""
    return {
        "id": pool_id,
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
        "targetDedicatedNodes": nodes,
        **extra,
    }


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


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emulator(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Emulator]:
    settings = EmulatorSettings(
        account=ACCOUNT,
        key=KEY,
        executor="simulated",
        data_dir=tmp_path / "emulator",
        base_url=BASE_URL,
        timings=fast_timings(),
    )
    emu = build_emulator(settings, clock)
    yield emu
    await emu.stop()


Settle = Callable[[Callable[[], bool]], Awaitable[None]]


@pytest.fixture
def settle(emulator: Emulator, clock: ManualClock) -> Settle:
    """`await settle(cond)`: advance the clock and tick the engine until `cond()` holds."""

    async def run(condition: Callable[[], bool]) -> None:
        for _ in range(2000):
            if condition():
                return
            clock.advance(0.05)
            await emulator.engine.tick()
        raise AssertionError("the emulator did not reach the expected state")

    return run


def node_states(emu: Emulator, pool_id: str) -> dict[str, str]:
    """Node id -> state of a pool, read from the emulator's store."""
    nodes = emu.store.nodes.get(pool_id.lower(), {})
    return {record.data["id"]: record.data["state"] for record in nodes.values()}


@pytest.fixture
def seed_pool(emulator: Emulator, settle: Settle) -> Callable[..., Awaitable[list[str]]]:
    """`await seed_pool("pool-a", 3)`: a pool whose nodes are all idle; returns the node ids."""

    async def run(pool_id: str, nodes: int, **extra: Any) -> list[str]:
        add_pool(emulator, pool_body(pool_id, nodes, **extra))

        def ready() -> bool:
            states = node_states(emulator, pool_id)
            return len(states) == nodes and all(s == "idle" for s in states.values())

        await settle(ready)
        return sorted(node_states(emulator, pool_id))

    return run


@pytest.fixture
def seed_job(emulator: Emulator) -> Callable[..., None]:
    """`seed_job("job-1", "pool-a", ["echo hi", ...])`: a job with one task per command line."""

    def run(job_id: str, pool_id: str, commands: list[str]) -> None:
        add_job(emulator, {"id": job_id, "poolInfo": {"poolId": pool_id}})
        bodies = [{"id": f"t{i}", "commandLine": cmd} for i, cmd in enumerate(commands)]
        if bodies:
            add_tasks(emulator, job_id, bodies)

    return run


@pytest.fixture
def recorder(emulator: Emulator) -> Recorder:
    return Recorder(create_app(emulator))


@pytest.fixture
def transport(recorder: Recorder) -> BreakableTransport:
    return BreakableTransport(httpx.ASGITransport(app=recorder))


@pytest.fixture
def session_factory(
    transport: BreakableTransport, clock: ManualClock
) -> Callable[[AccountTarget], AccountSession]:
    def factory(target: AccountTarget) -> AccountSession:
        assert target.key is not None
        client = BatchClient.with_shared_key(
            target.url,
            target.account,
            target.key,
            transport=transport,
            retry=RetryPolicy(max_attempts=1),
        )
        return AccountSession(target, client, BatchCache(client, ttl=0.0))

    return factory


def quiet_settings(**keymap: str) -> Settings:
    """Settings with refresh intervals long enough that only `r` refreshes."""
    refresh = Refresh(
        overview=LONG, pools=LONG, nodes=LONG, jobs=LONG, tasks=LONG, detail=LONG, files=LONG
    )
    return Settings(refresh=refresh, keymap=dict(keymap))


@pytest.fixture
def make_app(
    session_factory: Callable[[AccountTarget], AccountSession], clock: ManualClock
) -> Callable[..., BatchApp]:
    def build(*, read_only: bool = False, open_account: bool = True, **kw: Any) -> BatchApp:
        kw.setdefault("settings", quiet_settings())
        settings = kw.pop("settings")
        return BatchApp(
            settings,
            targets=kw.pop("targets", [TARGET]),
            open_target=TARGET if open_account else None,
            session_factory=session_factory,
            read_only=read_only,
            now=clock.now,
            **kw,
        )

    return build


def screens_loaded(app: Any) -> bool:
    """Whether every account screen on the stack finished a refresh (or failed one)."""
    from batch_tui.ui.screens.base import BatchScreen

    for screen in app.screen_stack:
        if isinstance(screen, BatchScreen):
            if screen._refreshing or (screen.last_refreshed is None and screen.error is None):
                return False
    return True


async def pilot_settle(pilot: Pilot[Any]) -> None:
    """Waits until every screen has loaded, no worker runs and messages are processed."""
    for _ in range(200):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        idle = not any(worker.is_running for worker in pilot.app.workers)
        idle = idle and not getattr(pilot.app, "keys_pending", False)
        if idle and screens_loaded(pilot.app):
            # Lay out and paint now: on a busy machine the screen's own update timer can
            # lag behind the workers, and tests read what is on screen.
            pilot.app.screen.refresh(layout=True)
            await pilot.pause()
            return
    raise AssertionError("the screens did not finish loading")


async def open_nodes(app: Any, pilot: Pilot[Any], pool_id: str = "pool-a") -> Any:
    """Shows a pool's node list and waits until it has loaded; returns the screen."""
    from batch_tui.ui.screens.nodes import NodesScreen

    app.show(NodesScreen(pool_id))
    await pilot_settle(pilot)
    assert isinstance(app.screen, NodesScreen)
    return app.screen


def screen_text(app: Any) -> str:
    """The text currently on screen, line by line (no styles)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def capture_notifications(app: Any) -> list[tuple[str, str]]:
    """Records every `notify` of the app and its screens as (message, severity).

    `app._notifications` drops a toast once its timeout passes, which a slow test run can
    outlast; this list keeps them all.
    """
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        seen.append((str(message), kwargs.get("severity", "information")))
        original(message, *args, **kwargs)

    app.notify = notify
    return seen


async def wait_for_text(pilot: Pilot[Any], text: str) -> str:
    """Waits (bounded) until `text` is on screen and returns the screen's text.

    A widget whose height changes is laid out again on a later refresh of the screen; on a busy
    machine that can come after the workers are done, so a test polls for what it expects.

    Raises:
        AssertionError: `text` did not show; the message names it and what the screen shows.
    """
    for _ in range(100):
        shown = screen_text(pilot.app)
        if text in shown:
            return shown
        await pilot.pause()
    shown = screen_text(pilot.app)
    if text in shown:
        return shown
    raise AssertionError(f"{text!r} never showed; the screen shows:\n{shown}")
