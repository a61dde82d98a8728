"""Provides the periodic runner: the timed work besides the engine, in one loop.

Job schedules (their recurrence), auto pools (deleted when their owner's lifetime ends) and
autoscale (samples and evaluations) all move on the emulator's clock. `Emulator.start` starts
the loop and `stop` stops it; tests on a `ManualClock` advance the clock and `await
runner.tick()` to step it deterministically. A step costs time proportional to the schedules,
auto pools and autoscale pools, never to the pools, jobs or tasks of the account.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.periodic.autopools import AutoPools
from batch_tui.emulator.periodic.autoscaler import Autoscaler
from batch_tui.emulator.periodic.schedules import ScheduleRunner

log = logging.getLogger("batch_tui.emulator.periodic.runner")

POLL_SECONDS = 0.25
"""The longest real wait between steps: how soon a completed job lets its schedule move on
(or its auto pool go) when nothing is due sooner."""


class PeriodicRunner:
    """Steps schedules, auto pools and the autoscaler.

    Args:
        emu: The emulator.
    """

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.schedules = ScheduleRunner(emu)
        self.auto_pools = AutoPools(emu)
        self.autoscaler = Autoscaler(emu)
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Starts the loop in the running event loop; idempotent."""
        if self._loop is None or self._loop.done():
            self.auto_pools.rebuild()
            self._wake = asyncio.Event()
            self._loop = asyncio.create_task(self._run(), name="batch-emulator-periodic")

    async def stop(self) -> None:
        """Stops the loop."""
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop

    def resume(self) -> None:
        """Watches again the pools of a restored state that scale automatically (their
        samples start over)."""
        for pool in self.emu.store.pools.values():
            if pool.data.get("enableAutoScale") and pool.data.get("state") != "deleting":
                self.autoscaler.watch(pool)

    def wake(self) -> None:
        """Asks for a step soon."""
        self._wake.set()

    async def tick(self) -> None:
        """Runs one step now."""
        self.step()

    def step(self) -> None:
        """Makes due jobs, settles schedules, reaps auto pools, samples and evaluates."""
        for name, part in (
            ("job schedules", self.schedules.tick),
            ("auto pools", self.auto_pools.tick),
            ("autoscale", self.autoscaler.tick),
        ):
            try:
                part()
            except Exception:
                # One failing part must not stop the others, nor the loop.
                log.exception("emulator periodic step: %s failed", name)

    def _timeout(self) -> float:
        now = self.emu.clock.now()
        # Work already due was done by the last step; if it is still due, it waits on
        # something else (a running job) that the next poll sees.
        due = [t for t in (self.schedules.next_due(), self.autoscaler.next_due()) if t and t > now]
        return min([(t - now).total_seconds() for t in due] + [POLL_SECONDS])

    async def _run(self) -> None:
        while True:
            self.step()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._timeout())
            self._wake.clear()
