"""Fixtures for the hardening tests: the UI fixtures, a fault injector, watchdogs, scanners.

The UI conftest's fixtures are re-exported so that these tests build the same in-process
emulator, recorder and app. The chain of a request here is

    client -> BreakableTransport -> ASGITransport -> FaultInjector -> Recorder -> emulator

so the recorder sits inside the injector: it sees only requests the emulator really handled,
including those whose response the injector then cut (which a client must not replay).

- `injector`: the `FaultInjector`; no faults until a test sets a plan.
- `fast_retry`: a retry policy with millisecond waits, used by this folder's session factory.
- `WorkerErrors` / `worker_errors`: every worker that ended in ERROR, with its exception.
- `LoopWatchdog`: measures the event loop's worst scheduling lag while it runs.
- `control_chars(text)`: the C0/C1 controls, DEL and ESC found in a text.
"""

from __future__ import annotations

import asyncio
import re
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from textual.worker import Worker, WorkerState

from batch_tui.accounts import AccountTarget
from batch_tui.batch.cache import BatchCache
from batch_tui.batch.client import BatchClient
from batch_tui.batch.retry import RetryPolicy
from batch_tui.emulator.faults import FaultInjector
from batch_tui.ui.session import AccountSession
from tests.ui.conftest import (  # noqa: F401 - fixtures used by this folder's tests
    BreakableTransport,
    Recorder,
    clock,
    emulator,
    make_app,
    recorder,
    seed_job,
    seed_pool,
    settle,
)

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Characters that must never reach the screen: C0 (but tab and newline), DEL, C1, incl. ESC."""


def control_chars(text: str) -> list[str]:
    """The control characters (ESC, BEL, NUL, C1 ...) in `text`, as their repr."""
    return [repr(char) for char in _CONTROL.findall(text)]


def fast_retry() -> RetryPolicy:
    """Retries as the real policy does, with waits short enough for a test."""
    return RetryPolicy(
        max_attempts=4, base_backoff=0.01, max_backoff=0.05, max_retry_after=0.05, total_budget=5
    )


@pytest.fixture
def injector(recorder: Recorder) -> FaultInjector:  # noqa: F811 - the fixture
    return FaultInjector(recorder)


@pytest.fixture
def transport(injector: FaultInjector) -> BreakableTransport:
    return BreakableTransport(httpx.ASGITransport(app=injector))


@pytest.fixture
def session_factory(
    transport: BreakableTransport,
) -> Callable[[AccountTarget], AccountSession]:
    def factory(target: AccountTarget) -> AccountSession:
        assert target.key is not None
        client = BatchClient.with_shared_key(
            target.url, target.account, target.key, transport=transport, retry=fast_retry()
        )
        return AccountSession(target, client, BatchCache(client, ttl=0.0))

    return factory


@dataclass
class WorkerErrors:
    """Workers that ended in ERROR: (worker name, traceback)."""

    errors: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture
def worker_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkerErrors]:
    """Records every worker whose state becomes ERROR (even with `exit_on_error=False`)."""
    seen = WorkerErrors()
    original = Worker.state

    def set_state(worker: Worker[Any], state: WorkerState) -> None:
        if state == WorkerState.ERROR:
            # The state changes before `worker.error` is set, inside the `except` block.
            seen.errors.append((worker.name, traceback.format_exc()))
        assert original.fset is not None
        original.fset(worker, state)

    monkeypatch.setattr(Worker, "state", property(original.fget, set_state))
    yield seen


class LoopWatchdog:
    """Measures how late the event loop wakes a coroutine that sleeps `interval` at a time.

    A lag above the UI budget means something ran on the loop for that long without
    yielding: the app would not have drawn a frame or read a key meanwhile.
    """

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.worst = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval)
            lag = time.perf_counter() - start - self.interval
            self.worst = max(self.worst, lag)
            self.samples += 1

    def start(self) -> None:
        """Starts watching on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        """Stops watching."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
