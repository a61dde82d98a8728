"""Provides what the engine's parts share: timers, durations, URLs and failure records.

The engine is split by responsibility (`allocation`, `nodes`, `scheduler`, `taskrun`,
`multiinstance`, `jobflow`, `preprelease`); they all reach each other and the store through one
`Context`, so each module keeps its own rules and none needs to know how the others are built.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from batch_tui.emulator.base.clock import Clock
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.base.urls import Urls
from batch_tui.emulator.state.store import Record, Store

if TYPE_CHECKING:
    from batch_tui.emulator.engine.allocation import Allocator
    from batch_tui.emulator.engine.jobflow import JobFlow
    from batch_tui.emulator.engine.multiinstance import MultiInstance
    from batch_tui.emulator.engine.nodes import NodeManager
    from batch_tui.emulator.engine.scheduler import Scheduler
    from batch_tui.emulator.engine.taskrun import TaskRunner
    from batch_tui.emulator.node.executors import Executor

log = logging.getLogger("batch_tui.emulator.engine.engine")


def failure(code: str, message: str, detail: str | None = None) -> dict[str, Any]:
    """Returns a `failureInfo` of category usererror, with an optional `Message` detail."""
    info: dict[str, Any] = {"category": "usererror", "code": code, "message": message}
    if detail:
        info["details"] = [{"name": "Message", "value": detail}]
    return info


EXIT_CODE_FAILURE = ("FailureExitCode", "The task exited with an exit code representing a failure")
"""The failureInfo code and message of a task that exits nonzero (task fail event docs)."""

TASK_ENDED = ("TaskEnded", "Task Was Ended by User Request")
"""The failureInfo of a task the service terminated (user request or timeout)."""

WALL_CLOCK_DETAIL = "The maximum execution time configured on the task was exceeded"


class Timer:
    """A scheduled callback; `cancel` makes it a no-op."""

    __slots__ = ("when", "fn", "cancelled")

    def __init__(self, when: float, fn: Callable[[], None]) -> None:
        self.when = when
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """A heap of callbacks due on the clock's monotonic time."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        """Schedules `fn` `delay` seconds from now."""
        timer = Timer(self.clock.monotonic() + max(delay, 0.0), fn)
        heapq.heappush(self._heap, (timer.when, next(self._seq), timer))
        return timer

    def canceller(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        """Schedules `fn` and returns its `cancel` (the executors' `CallLater`)."""
        return self.call_later(delay, fn).cancel

    def next_deadline(self) -> float | None:
        """Returns when the earliest live timer is due, or None."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def pop_due(self) -> list[Timer]:
        """Removes and returns the live timers that are due now, earliest first."""
        now = self.clock.monotonic()
        due: list[Timer] = []
        while self._heap and self._heap[0][0] <= now:
            timer = heapq.heappop(self._heap)[2]
            if not timer.cancelled:
                due.append(timer)
        return due


@dataclass
class Context:
    """The engine's shared state: the store, the clock, timers and the engine's parts."""

    store: Store
    settings: EmulatorSettings
    clock: Clock
    timers: Timers
    executor: Executor
    wake: Callable[[], None] = lambda: None
    pending: deque[Callable[[], Awaitable[None]]] = field(default_factory=deque)
    """Async work queued by synchronous code (launches); the tick awaits it in order."""
    events: deque[Callable[[], None]] = field(default_factory=deque)
    """Run outcomes reported by executors; the tick handles them in arrival order."""
    _stamp: tuple[datetime | None, str] = (None, "")
    alloc: Allocator = field(init=False)
    nodes: NodeManager = field(init=False)
    sched: Scheduler = field(init=False)
    tasks: TaskRunner = field(init=False)
    jobs: JobFlow = field(init=False)
    multi: MultiInstance = field(init=False)

    def now(self) -> str:
        """Returns the current time as the service formats it (formatted once per instant:
        a busy tick stamps thousands of records with the same time)."""
        current = self.clock.now()
        if current != self._stamp[0]:
            self._stamp = (current, iso(current))
        return self._stamp[1]

    @property
    def urls(self) -> Urls:
        """The URLs of the account's entities (for the URLs in task environments)."""
        return self.settings.urls

    def touch(self, record: Record) -> None:
        """Marks a record changed (new ETag) and asks for a tick."""
        self.store.touch(record)
        self.wake()

    def defer(self, work: Callable[[], Awaitable[None]]) -> None:
        """Queues async work for the tick to await."""
        self.pending.append(work)
        self.wake()

    def report(self, event: Callable[[], None]) -> None:
        """Queues an outcome handler for the tick (executors call this from callbacks)."""
        self.events.append(event)
        self.wake()


def set_state(ctx: Context, record: Record, state: str) -> None:
    """Moves an entity to `state`, keeping `previousState` and the transition times."""
    data = record.data
    if data.get("state") == state:
        return
    now = ctx.now()
    if "state" in data:
        data["previousState"] = data["state"]
        data["previousStateTransitionTime"] = data.get("stateTransitionTime", now)
    data["state"] = state
    data["stateTransitionTime"] = now
