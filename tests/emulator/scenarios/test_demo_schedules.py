"""Tests the demo's job schedules on the manual clock: a job every minute that finishes, so an
hour of demo leaves completed jobs, not a growing queue; and a nightly one that waits."""

from __future__ import annotations

from batch_tui.emulator import Emulator
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.times import stamp
from batch_tui.emulator.ops.schedules import schedule_jobs
from batch_tui.emulator.scenarios.demo import seed_demo
from tests.emulator.support import Settle

ROLLUP = "metrics-rollup"


def job_states(emulator: Emulator) -> dict[str, str]:
    return {job.id: job.data["state"] for job in schedule_jobs(emulator, ROLLUP)}


async def minute(emulator: Emulator, clock: ManualClock, settle: Settle) -> None:
    """Lets the schedule's current job finish, then moves to its next run and steps the
    periodic runner (what its loop does on the wall clock)."""
    await settle(lambda: all(state == "completed" for state in job_states(emulator).values()))
    info = emulator.store.job_schedules[ROLLUP].data["executionInfo"]
    due = stamp(info["nextRunTime"])
    assert due is not None
    clock.advance(max(0.0, (due - clock.now()).total_seconds()))
    await emulator.periodic.tick()


async def test_the_minute_schedule_makes_jobs_that_finish(
    emulator: Emulator, clock: ManualClock, settle: Settle
) -> None:
    start = clock.now()
    seed_demo(emulator)
    # The first job comes at once, on the healthy render pool.
    assert list(job_states(emulator)) == [f"{ROLLUP}:job-1"]
    assert emulator.store.jobs[f"{ROLLUP}:job-1"].data["poolInfo"] == {"poolId": "render-pool"}
    for _ in range(60):
        await minute(emulator, clock, settle)
    states = job_states(emulator)
    # One job a minute for an hour, every one but the newest done: nothing piles up.
    assert len(states) == 61
    assert list(states.values()).count("completed") >= 60
    assert (clock.now() - start).total_seconds() >= 3600
    schedule = emulator.store.job_schedules[ROLLUP].data
    assert schedule["state"] == "active"
    assert schedule["executionInfo"]["recentJob"]["id"] == f"{ROLLUP}:job-61"


async def test_the_nightly_schedule_waits_for_two_in_the_morning(
    emulator: Emulator, clock: ManualClock
) -> None:
    seed_demo(emulator)
    report = emulator.store.job_schedules["nightly-report"].data
    due = stamp(report["executionInfo"]["nextRunTime"])
    assert due is not None and (due.hour, due.minute) == (2, 0)
    assert 0 < (due - clock.now()).total_seconds() <= 24 * 3600
    assert schedule_jobs(emulator, "nightly-report") == []
