"""Assembles an emulator: its store, engine, timed work, scenario and state on disk.

The one place that knows every layer; everything else sees only the layers below it.
"""

from __future__ import annotations

from batch_tui.emulator.base.clock import Clock
from batch_tui.emulator.base.settings import EmulatorSettings, key_problem
from batch_tui.emulator.engine.engine import Engine
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.periodic.runner import PeriodicRunner
from batch_tui.emulator.scenarios.catalog import scenario
from batch_tui.emulator.state.persistence import Persistence
from batch_tui.emulator.state.store import Store

STATE_DIR = "state"
"""The data dir's subdirectory for the saved state (node directories are under `nodes`)."""


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
    seed, director = scenario(settings.scenario)
    emu = Emulator(
        settings=settings, clock=clock, store=store, engine=engine, seed=seed, director=director
    )
    emu.periodic = PeriodicRunner(emu)
    if settings.data_dir is not None and settings.persist:
        emu.persistence = Persistence(store, settings.data_dir / STATE_DIR)
        emu._seeded = emu._restore_pending = emu.persistence.load()
    return emu
