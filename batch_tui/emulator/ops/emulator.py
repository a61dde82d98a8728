"""Provides the Emulator: one emulated Batch account's settings, clock, state, engine and
timed work, which every operation receives."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from batch_tui.emulator.base.clock import Clock
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.base.urls import Urls
from batch_tui.emulator.engine.engine import Engine
from batch_tui.emulator.ops.timed import TimedWork
from batch_tui.emulator.state.persistence import Persistence
from batch_tui.emulator.state.store import Store

Seed = Callable[["Emulator"], None]
"""Fills a new account with a scenario's entities."""

Director = Callable[["Emulator"], Coroutine[Any, Any, None]]
"""Runs while the emulator does, acting as a scenario's users would (adding tasks...)."""


@dataclass
class Emulator:
    """Everything one emulated account is made of; routes and scenarios receive this.

    Args:
        settings: Account, key, executor and timings.
        clock: The time source (a `ManualClock` in deterministic tests).
        store: Every entity as its wire JSON.
        engine: The state machine that moves nodes and tasks.
        periodic: The timed work besides the engine (job schedules, auto pools, autoscale).
        persistence: Keeps the store on disk (with a data dir), or None to run in memory.
        seed: Fills a new account with the scenario's entities (not a restored one).
        director: Runs while the emulator does, as the scenario's users would.
    """

    settings: EmulatorSettings
    clock: Clock
    store: Store
    engine: Engine
    periodic: TimedWork = field(init=False, repr=False)
    """Job schedules, auto pools and autoscale; `build_emulator` sets it."""
    persistence: Persistence | None = None
    seed: Seed | None = field(default=None, repr=False)
    director: Director | None = field(default=None, repr=False)
    _restore_pending: bool = field(default=False, repr=False)
    _start_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _started: bool = field(default=False, repr=False)
    _seeded: bool = field(default=False, repr=False)
    _director: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def urls(self) -> Urls:
        """The URLs of the account's entities, as clients see them."""
        return self.settings.urls

    async def start(self) -> None:
        """Starts the engine once; the app calls it from its lifespan and on the first request
        (an in-process `httpx.ASGITransport` never runs the lifespan)."""
        async with self._start_lock:
            if not self._started:
                await self._open_state()
                await self.engine.start()
                await self.periodic.start()
                self._started = True
                self._start_scenario()
                if self.persistence is not None:
                    # The seed, or what the restart changed, in the database before it serves.
                    await self.persistence.checkpoint()

    async def _open_state(self) -> None:
        """Opens the state files and, the first time, takes back the state they held."""
        if self.persistence is None:
            return
        await self.persistence.open()
        if self._restore_pending:
            self._restore_pending = False
            # Only now, with the data directory locked: an emulator that cannot have it
            # must not end the runs of the one that does.
            self.engine.executor.restarted()
            self.engine.adopt()
            self.periodic.resume()

    async def commit(self) -> None:
        """Returns once every change so far is on disk (at once without a data dir); the app
        awaits it before answering a mutating request."""
        if self.persistence is not None:
            await self.persistence.commit()

    def _start_scenario(self) -> None:
        """Seeds the scenario once, and runs its director (if it has one) while started."""
        if self.seed is not None and not self._seeded:
            self.seed(self)
        self._seeded = True
        if self.director is not None:
            self._director = asyncio.get_running_loop().create_task(self.director(self))

    async def stop(self) -> None:
        """Stops the engine (and the processes of running tasks)."""
        async with self._start_lock:
            if self._started:
                if self._director is not None:
                    self._director.cancel()
                    self._director = None
                await self.periodic.stop()
                await self.engine.stop()
                if self.persistence is not None:
                    await self.persistence.close()
                self._started = False
