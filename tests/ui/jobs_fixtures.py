"""Helpers for the job, task and file viewer tests: a `local` emulator, byte counting, waits.

The UI conftest's emulator is `simulated` (deterministic, for snapshots). Tests that need real
task output override its `emulator` fixture with `local_emulator(...)`, whose tasks run as real
processes in node directories. `real_settle` ticks the engine and yields to the event loop so
that those processes can finish. `ByteCounter` wraps the client's transport and counts the
bytes of file content that came back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from textual.pilot import Pilot

from batch_tui.emulator import Emulator, build_emulator
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings
from tests.polling import until
from tests.ui.conftest import ACCOUNT, BASE_URL, KEY, fast_timings, pilot_settle, screen_text

T = TypeVar("T")

SH = "/bin/sh -c"


def sh(script: str) -> str:
    """A command line that runs `script` with /bin/sh (tasks do not run under a shell)."""
    return f"{SH} '{script}'"


@asynccontextmanager
async def local_emulator(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Emulator]:
    """An emulator whose tasks run as real processes under `tmp_path/emulator`."""
    settings = EmulatorSettings(
        account=ACCOUNT,
        key=KEY,
        executor="local",
        data_dir=tmp_path / "emulator",
        base_url=BASE_URL,
        timings=fast_timings(),
    )
    emu = build_emulator(settings, clock)
    try:
        yield emu
    finally:
        await emu.stop()


async def real_settle(
    emulator: Emulator, clock: ManualClock, condition: Callable[[], bool], *, seconds: float = 30.0
) -> None:
    """Ticks the engine until `condition()` holds, letting real processes run meanwhile.

    A bounded condition wait (`tests.polling.until`): each look advances the manual clock,
    ticks the engine, and lets the loop idle a moment so that process exits are reported.
    """

    async def ticked() -> bool:
        if condition():
            return True
        clock.advance(0.05)
        await emulator.engine.tick()
        return condition()

    await until(ticked, seconds=seconds, every=0.005, what="the emulator did not get there")


def task_state(emulator: Emulator, job_id: str, task_id: str) -> str:
    """A task's state as the emulator's store has it."""
    record = emulator.store.tasks[job_id.lower()][task_id.lower()]
    return str(record.data["state"])


def node_root(emulator: Emulator, node_id: str) -> Path:
    """The directory of a node of the `local` executor."""
    assert emulator.settings.data_dir is not None
    return emulator.settings.data_dir / "nodes" / node_id


class ByteCounter(httpx.AsyncBaseTransport):
    """Wraps a transport; counts file-content bytes received (GET .../files/...)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.file_bytes = 0
        self.ranges: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "GET" and "/files/" in request.url.path:
            body = await response.aread()
            self.file_bytes += len(body)
            self.ranges.append(request.headers.get("ocp-range", ""))
            return httpx.Response(
                response.status_code, headers=response.headers, content=body, request=request
            )
        return response


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], *, rounds: int = 400) -> None:
    """Waits (pausing the pilot) until `condition()` holds; fails after `rounds` pauses."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the condition did not hold in time")


async def wait_async(condition: Callable[[], Awaitable[bool]], *, seconds: float = 5.0) -> None:
    """Like `wait_for` for an async condition, without a pilot."""
    await until(condition, seconds=seconds)


async def open_screen(pilot: Pilot[Any], command: str, screen_type: type[T]) -> T:
    """Runs a `:` command and waits until its screen has finished its first refresh."""
    pilot.app.run_command(command)  # type: ignore[attr-defined]
    return await await_screen(pilot, screen_type)


async def await_screen(pilot: Pilot[Any], screen_type: type[T]) -> T:
    """Waits until the top screen is a `screen_type` that has finished its first refresh."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, screen_type) and app.screen.is_mounted)
    screen = app.screen
    assert isinstance(screen, screen_type)
    await settle_screen(pilot, screen)
    return screen


async def settle_screen(pilot: Pilot[Any], screen: Any) -> None:
    """Waits until a screen has refreshed at least once and every worker is done."""
    await wait_for(pilot, lambda: screen.last_refreshed is not None or screen.error is not None)
    await pilot_settle(pilot)


async def shows(pilot: Pilot[Any], text: str) -> None:
    """Waits until `text` is on the screen (the screen redraws a frame after the data)."""
    await wait_for(pilot, lambda: text in screen_text(pilot.app))
