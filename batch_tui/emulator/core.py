"""Provides the Emulator: one emulated Batch account's settings, clock, state and engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batch_tui.emulator.clock import Clock
from batch_tui.emulator.engine import Engine
from batch_tui.emulator.restore import resume_autoscale
from batch_tui.emulator.settings import EmulatorSettings, key_problem
from batch_tui.emulator.state.persistence import Persistence
from batch_tui.emulator.store import Store

if TYPE_CHECKING:
    from batch_tui.emulator.periodic import PeriodicRunner

STATE_DIR = "state"
"""The data dir's subdirectory for the saved state (node directories are under `nodes`)."""


@dataclass
class Emulator:
    """Everything one emulated account is made of; routes and scenarios receive this.

    Args:
        settings: Account, key, executor and timings.
        clock: The time source (a `ManualClock` in deterministic tests).
        store: Every entity as its wire JSON.
        engine: The state machine that moves nodes and tasks.
        persistence: Keeps the store on disk (with a data dir), or None to run in memory.
    """

    settings: EmulatorSettings
    clock: Clock
    store: Store
    engine: Engine
    persistence: Persistence | None = None
    _restore_pending: bool = field(default=False, repr=False)
    _start_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _started: bool = field(default=False, repr=False)
    _seeded: bool = field(default=False, repr=False)
    _director: asyncio.Task[None] | None = field(default=None, repr=False)
    _periodic: PeriodicRunner | None = field(default=None, repr=False)

    @property
    def periodic(self) -> PeriodicRunner:
        """The timed work besides the engine: job schedules, auto pools and autoscale."""
        if self._periodic is None:
            # Imported here: the periodic parts build on the routes, which import this module.
            from batch_tui.emulator.periodic import PeriodicRunner

            self._periodic = PeriodicRunner(self)
        return self._periodic

    def url(self, path: str) -> str:
        """Returns the absolute URL of `path` (e.g. `/pools/p1`) as clients see it."""
        return f"{self.settings.base_url}{path}"

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
            resume_autoscale(self.store, self.periodic.autoscaler)

    async def commit(self) -> None:
        """Returns once every change so far is on disk (at once without a data dir); the app
        awaits it before answering a mutating request."""
        if self.persistence is not None:
            await self.persistence.commit()

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
                await self.periodic.stop()
                await self.engine.stop()
                if self.persistence is not None:
                    await self.persistence.close()
                self._started = False


def build_emulator(settings: EmulatorSettings, clock: Clock | None = None) -> Emulator:
    """Builds an emulator: a store and an engine, not yet started.

    With `settings.data_dir` the state saved there is loaded (and the scenario is not seeded
    over it); `start` then takes it back and keeps it on disk.

    Args:
        settings: The account, key, executor and timings.
        clock: The clock to use; the real clock when None.

    Returns:
        The Emulator; call `await emulator.start()` (or serve its app) to bring it to life.

    Raises:
        StateError: When the saved state is corrupt or of another format.
        ValueError: When the account key is not base64 (no request could be signed).
    """
    problem = key_problem(settings.key)
    if problem:
        raise ValueError(f"the account key {problem}")
    clock = clock or Clock()
    store = Store(clock)
    engine = Engine(store, settings, clock)
    emu = Emulator(settings=settings, clock=clock, store=store, engine=engine)
    if settings.data_dir is not None and settings.persist:
        emu.persistence = Persistence(store, settings.data_dir / STATE_DIR)
        emu._seeded = emu._restore_pending = emu.persistence.load()
    return emu
