"""Helpers for the job, task and file viewer tests: waits, a job to open, byte counting.

The `emulator` fixture's tasks are `simulated` (deterministic, for snapshots). A module that
needs real task output picks the `local` executor (`pytestmark =
pytest.mark.parametrize("executor", ["local"])`), whose tasks run as real processes in node
directories. `real_settle` ticks the engine and yields to the event loop so that those
processes can finish. `ByteCounter` wraps the client's transport and counts the bytes of file
content that came back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from textual.pilot import Pilot

from batch_tui.emulator import Emulator
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.ui.screens.job_detail import JobDetailScreen
from tests.polling import until
from tests.ui.support import pilot_settle, screen_text

T = TypeVar("T")

SH = "/bin/sh -c"


def sh(script: str) -> str:
    """A command line that runs `script` with /bin/sh (tasks do not run under a shell)."""
    return f"{SH} '{script}'"


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


async def open_job(app: Any, pilot: Any, job_id: str = "job-1") -> JobDetailScreen:
    """Opens a job's task list and waits until every page of it has arrived."""
    screen = await open_screen(pilot, f"tasks {job_id}", JobDetailScreen)
    await wait_for(pilot, lambda: not screen.streaming)
    await pilot_settle(pilot)
    return screen


async def three_tasks(seed_pool: Any, seed_job: Any, settle: Any, emulator: Any) -> None:
    """A job with a succeeded (t0), a failed (t1) and another succeeded task (t2)."""
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo ok; exit 0", "echo bad; exit 2", "echo ok; exit 0"])
    tasks = emulator.store.tasks["job-1"]
    await settle(lambda: all(t.data["state"] == "completed" for t in tasks.values()))
