"""Tests that the overview samples its reads into the history: the emulator's counts, per
pool and job, one sample per refresh, and the trends and ETAs drawn from them."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from batch_tui.ui.history import BAD_NODE_STATES, History
from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.screens.pool_detail import PoolDetailScreen
from tests.ui.support import node_states, pilot_settle, screen_text


def task_states(emulator: Any, job_id: str) -> Counter[str]:
    """Task state -> count of a job, read from the emulator's store."""
    tasks = emulator.store.tasks.get(job_id.lower(), {})
    return Counter(record.data["state"] for record in tasks.values())


async def quiet(emulator: Any, pool_id: str, job_id: str) -> None:
    """Runs the engine, the clock still, until its nodes and tasks stop changing: what the
    refresh reads is then what the test reads after it."""
    seen: list[Any] = []
    for _ in range(200):
        seen.append((node_states(emulator, pool_id), task_states(emulator, job_id)))
        if len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]:
            return
        await emulator.engine.tick()
        await asyncio.sleep(0)  # a yield, not a wait: the simulated runs report back
    raise AssertionError("the emulator kept changing")


async def refresh(pilot: Any) -> None:
    await pilot.press("r")
    await pilot_settle(pilot)


def history_of(app: Any) -> History:
    history = app.session.history
    assert history is not None, "the overview's first refresh opens the history"
    return history


async def test_each_refresh_samples_the_emulators_counts(
    make_app, seed_pool, seed_job, emulator, settle, clock
):
    await seed_pool("pool-a", 2)
    seed_job("job-1", "pool-a", [f"echo {index}" for index in range(6)])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        samples = []
        for _ in range(3):
            await settle(lambda: True)  # let the engine run: nodes take tasks, tasks end
            clock.advance(10)
            await settle(lambda: "completed" in task_states(emulator, "job-1"))
            await quiet(emulator, "pool-a", "job-1")
            await refresh(pilot)
            pool = history_of(app).pool("pool-a")
            job = history_of(app).job("job-1")
            assert pool is not None and job is not None
            nodes = Counter(node_states(emulator, "pool-a").values())
            tasks = task_states(emulator, "job-1")
            assert pool.latest("idle") == nodes["idle"]
            assert pool.latest("running") == nodes["running"]
            assert pool.latest("tasks") == tasks["running"] + tasks["preparing"]
            assert job.latest("completed") == tasks["completed"]
            samples.append((len(pool), pool.times()[-1], job.latest("completed")))
        assert [count for count, _, _ in samples] == [2, 3, 4], "one sample per refresh"
        times = [at for _, at, _ in samples]
        assert times == sorted(times) and len(set(times)) == 3, "each at the clock's time"
        assert int(clock.now().timestamp()) == times[-1]


async def test_bad_nodes_show_marked_in_the_trend_and_the_pool_detail(
    make_app, seed_pool, emulator, settle, clock
):
    nodes = await seed_pool("pool-a", 2)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        record = emulator.store.nodes["pool-a"][nodes[0].lower()]
        emulator.engine.node_action(record, "disablescheduling", "requeue")
        await settle(lambda: node_states(emulator, "pool-a")[nodes[0]] == "offline")
        clock.advance(10)  # a sample in the same second as the last would replace it
        await refresh(pilot)
        ring = history_of(app).pool("pool-a")
        assert ring is not None and ring.values("offline") == [0, 1]
        assert "offline" in BAD_NODE_STATES
        assert "✗" in screen_text(app), "a shape, not only a colour, marks the bad nodes"
        await pilot.press("d")
        await pilot_settle(pilot)
        assert isinstance(app.screen, PoolDetailScreen)
        text = screen_text(app)
        assert "History" in text and "Samples           2 over" in text
        line = next(line for line in text.splitlines() if "✗ offline" in line)
        assert line.rstrip().endswith(" 1")


async def test_a_job_shows_its_eta_once_it_has_a_rate(
    make_app, seed_pool, seed_job, emulator, settle, clock
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", [f"echo {index}" for index in range(8)])
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot_settle(pilot)
        overview = app.screen
        assert isinstance(overview, OverviewScreen)
        first = overview.jobs_table.get_row("job-1").cells
        assert str(first[-1]) in ("-", "done"), "one sample: no rate yet"
        clock.advance(30)
        await settle(lambda: task_states(emulator, "job-1")["completed"] >= 2)
        await refresh(pilot)
        tasks = task_states(emulator, "job-1")
        cell = str(overview.jobs_table.get_row("job-1").cells[-1])
        if tasks["completed"] < 8:
            assert cell.endswith("/m") and cell != "-"
        else:
            assert cell == "done"
