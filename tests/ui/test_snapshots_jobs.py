"""Snapshot tests of the job with its tasks, a task's detail and the file viewer.

The emulator runs the `simulated` executor on a manual clock, and the app's clock is the
emulator's, so every run draws the same screen. The snapshot's own event loop does the
seeding (`run_before`), so the emulator fixture here is a plain, synchronous one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from batch_tui.emulator import Emulator, build_emulator
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings
from tests.ui.support import pilot_settle

COMMANDS = [
    "echo preparing inputs; exit 0",
    "echo crunching; exit 0",
    "echo the model diverged; exit 3",
    "echo crunching more; exit 0",
    "sleep 100000",
    "sleep 100000",
]


@pytest.fixture
def emulator(settings: EmulatorSettings, clock: ManualClock) -> Iterator[Emulator]:
    emu = build_emulator(settings, clock)
    yield emu
    # Its engine ran in the snapshot's loop, which is closed by now: stop it in one of its own.
    asyncio.run(emu.stop())


@pytest.fixture
def seeded(emulator: Emulator, seed_pool: Any, seed_job: Any, settle: Any) -> Callable[[Any], Any]:
    """Returns a `run_before` step: a pool of 2 nodes and a job with finished, failed,
    running and waiting tasks."""

    async def seed(pilot: Any) -> None:
        await seed_pool("pool-a", 2)
        seed_job("job-1", "pool-a", COMMANDS)
        tasks = emulator.store.tasks["job-1"]

        def settled() -> bool:
            states = [tasks[f"t{i}"].data["state"] for i in range(len(COMMANDS))]
            return states[:4] == ["completed"] * 4 and states[4] == "running"

        await settle(settled)
        await pilot_settle(pilot)

    return seed


def test_snapshot_job_with_its_tasks(snap_compare, make_app, seeded) -> None:
    async def run_before(pilot: Any) -> None:
        await seeded(pilot)
        pilot.app.run_command("tasks job-1")
        await pilot_settle(pilot)

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)


def test_snapshot_job_with_its_tasks_at_80x24(snap_compare, make_app, seeded) -> None:
    async def run_before(pilot: Any) -> None:
        await seeded(pilot)
        pilot.app.run_command("tasks job-1")
        await pilot_settle(pilot)
        await pilot.press("i", "5")
        await pilot_settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_task_detail(snap_compare, make_app, seeded) -> None:
    async def run_before(pilot: Any) -> None:
        await seeded(pilot)
        pilot.app.run_command("task job-1 t2")
        await pilot_settle(pilot)

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)


def test_snapshot_file_viewer(snap_compare, make_app, seeded) -> None:
    async def run_before(pilot: Any) -> None:
        await seeded(pilot)
        pilot.app.run_command("task job-1 t2")
        await pilot_settle(pilot)
        await pilot.press("o")
        await pilot_settle(pilot)

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)
