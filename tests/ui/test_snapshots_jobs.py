"""Snapshot tests of the job with its tasks, a task's detail and the file viewer.

The emulator runs the `simulated` executor on a manual clock, and the app's clock is the
emulator's, so every run draws the same screen. The snapshot's own event loop does the
seeding (`run_before`), so the emulator fixture here is a plain, synchronous one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batch_tui.emulator import Emulator, build_emulator
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings
from tests.ui.conftest import ACCOUNT, BASE_URL, KEY, fast_timings, pilot_settle

COMMANDS = [
    "echo preparing inputs; exit 0",
    "echo crunching; exit 0",
    "echo the model diverged; exit 3",
    "echo crunching more; exit 0",
    "sleep 100000",
    "sleep 100000",
]


@pytest.fixture
def emulator(tmp_path: Path, clock: ManualClock) -> Emulator:
    settings = EmulatorSettings(
        account=ACCOUNT,
        key=KEY,
        executor="simulated",
        data_dir=tmp_path / "emulator",
        base_url=BASE_URL,
        timings=fast_timings(),
    )
    return build_emulator(settings, clock)


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
