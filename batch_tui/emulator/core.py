"""Provides the Emulator: one emulated Batch account's settings, clock, state and engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from batch_tui.emulator.clock import Clock
from batch_tui.emulator.engine import Engine
from batch_tui.emulator.settings import EmulatorSettings
from batch_tui.emulator.store import Store


@dataclass
class Emulator:
    """Everything one emulated account is made of; routes and scenarios receive this.

    Args:
        settings: Account, key, executor and timings.
        clock: The time source (a `ManualClock` in deterministic tests).
        store: Every entity as its wire JSON.
        engine: The state machine that moves nodes and tasks.
    """

    settings: EmulatorSettings
    clock: Clock
    store: Store
    engine: Engine
    _start_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _started: bool = field(default=False, repr=False)
    _seeded: bool = field(default=False, repr=False)
    _director: asyncio.Task[None] | None = field(default=None, repr=False)

    def url(self, path: str) -> str:
        """Returns the absolute URL of `path` (e.g. `/pools/p1`) as clients see it."""
        return f"{self.settings.base_url}{path}"

    async def start(self) -> None:
        """Starts the engine once; the app calls it from its lifespan and on the first request
        (an in-process `httpx.ASGITransport` never runs the lifespan)."""
        async with self._start_lock:
            if not self._started:
                await self.engine.start()
                self._started = True
                self._start_scenario()

    def _start_scenario(self) -> None:
        """Seeds the scenario once, and runs its director (if it has one) while started."""
        # Imported here: scenarios build on the routes, which import this module.
        from batch_tui.emulator.scenarios import scenario

        seed, director = scenario(self.settings.scenario)
        if seed is not None and not self._seeded:
            seed(self)
        self._seeded = True
        if director is not None:
            self._director = asyncio.get_running_loop().create_task(director(self))

    async def stop(self) -> None:
        """Stops the engine (and the processes of running tasks)."""
        async with self._start_lock:
            if self._started:
                if self._director is not None:
                    self._director.cancel()
                    self._director = None
                await self.engine.stop()
                self._started = False


def build_emulator(settings: EmulatorSettings, clock: Clock | None = None) -> Emulator:
    """Builds an emulator: an empty store and an engine, not yet started.

    Args:
        settings: The account, key, executor and timings.
        clock: The clock to use; the real clock when None.

    Returns:
        The Emulator; call `await emulator.start()` (or serve its app) to bring it to life.
    """
    clock = clock or Clock()
    store = Store(clock)
    engine = Engine(store, settings, clock)
    return Emulator(settings=settings, clock=clock, store=store, engine=engine)
