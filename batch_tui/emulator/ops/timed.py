"""Provides what the operations tell the account's timed work (`periodic/`), as protocols.

The timed work calls the operations (a schedule adds a job, the autoscaler resizes a pool),
and the operations tell it of new things to watch (a new schedule, an auto pool, a pool that
now scales automatically). The operations know it only by these protocols, so the layers
stay one-way: `build.py` hands the real `PeriodicRunner` to the `Emulator`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from batch_tui.emulator.ops.metrics import History
from batch_tui.emulator.state.store import Record


class AutoscaleWatch(Protocol):
    """Evaluates the formulas of pools that scale automatically, at their intervals."""

    def watch(self, pool: Record) -> None:
        """Starts (or restarts) evaluating `pool`'s formula."""

    def enabled(self, pool_id: str) -> None:
        """Notes that autoscale was just enabled (or its formula changed) on a pool."""

    def forget(self, pool_id: str) -> None:
        """Stops evaluating a pool's formula."""

    def history(self, pool_id: str) -> History | None:
        """The samples the formula's `$` variables read, or None when not watched."""


class ScheduleWatch(Protocol):
    """Makes the jobs of job schedules when they are due."""

    def plan(self, schedule: Record, at: datetime | None = None) -> None:
        """Works out when `schedule` runs next, from `at` (now when None)."""

    def terminate(self, schedule: Record) -> None:
        """Terminates a schedule and its active job."""

    def delete(self, schedule: Record) -> None:
        """Deletes a schedule and its jobs."""

    def step(self, schedule: Record) -> None:
        """Runs whatever is due of `schedule` now."""


class AutoPoolWatch(Protocol):
    """Deletes auto pools when what they live as long as ends."""

    def watch(self, pool: Record) -> None:
        """Starts watching an auto pool's owner."""


class TimedWork(Protocol):
    """The account's timed work besides the engine."""

    @property
    def autoscaler(self) -> AutoscaleWatch: ...

    @property
    def schedules(self) -> ScheduleWatch: ...

    @property
    def auto_pools(self) -> AutoPoolWatch: ...

    async def start(self) -> None:
        """Starts the loop."""

    async def stop(self) -> None:
        """Stops the loop."""

    async def tick(self) -> None:
        """Runs whatever is due now (tests call it after moving a manual clock)."""

    def resume(self) -> None:
        """Watches again what a restored state holds (pools that scale automatically)."""
