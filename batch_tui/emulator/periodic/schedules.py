"""Provides the job schedule runner: the recurrence that makes `<scheduleId>:job-<n>` jobs.

A schedule's first job is due at `doNotRunUntil` (or at once), and each next one a
`recurrenceInterval` after the previous one was due; `executionInfo.nextRunTime` shows when.
A due job is made from the `jobSpecification` (through `add_job`, so it is a real job) unless:
the schedule is disabled (it waits, and runs on enable if still in its window); the previous job
is still active (a schedule has at most one; the new one waits); the `startWindow` after the due
time has passed (that run is lost and the next recurrence is planned); or `doNotRunAfter` has
passed (no more jobs). A schedule without a recurrence makes one job. A schedule completes once
no more jobs can come and its last one has completed; terminating it terminates its active job
and completes it when that job has; deleting it deletes its jobs and then it goes.
`lastModified` and the ETag change with the schedule's own data and state, not when it makes a
job (as on the service). Each step costs time proportional to the number of schedules.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import duration_seconds, iso, stamp
from batch_tui.emulator.engine.runtime import set_state
from batch_tui.emulator.ops.autopools import create_auto_pool
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.schedules import schedule_jobs
from batch_tui.emulator.state.store import Record

log = logging.getLogger("batch_tui.emulator.periodic.schedules")

_LIVE = ("active", "disabled")
_JOB_DONE = ("completed",)


def _seconds(schedule: Record, name: str) -> float | None:
    return duration_seconds((schedule.data.get("schedule") or {}).get(name))


def _time(schedule: Record, name: str) -> datetime | None:
    return stamp((schedule.data.get("schedule") or {}).get(name))


class ScheduleRunner:
    """Steps every job schedule on the emulator's clock.

    Args:
        emu: The emulator whose schedules it runs.
    """

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    # Hooks the routes call

    def plan(self, schedule: Record, at: datetime | None = None) -> None:
        """Sets `nextRunTime` after an add or a change of the schedule, then steps it.

        Args:
            schedule: The schedule.
            at: When the change was made (a new schedule's `creationTime`); now by default.
        """
        info = schedule.data.setdefault("executionInfo", {})
        info.pop("nextRunTime", None)
        now = at or self.emu.clock.now()
        start = _time(schedule, "doNotRunUntil")
        last = stamp(schedule.internal.get("lastDue"))
        every = _seconds(schedule, "recurrenceInterval")
        if start is not None and (start > now or last is None):
            info["nextRunTime"] = iso(start)
        elif last is None:
            info["nextRunTime"] = iso(now)
        elif every:
            info["nextRunTime"] = iso(last + timedelta(seconds=every))
        self.step(schedule)

    def terminate(self, schedule: Record) -> None:
        """Terminates the schedule and its active job; it completes when that job has."""
        set_state(self.emu.engine.ctx, schedule, "terminating")
        self.emu.engine.ctx.touch(schedule)
        job = self._active_job(schedule)
        if job is not None and job.data.get("state") not in ("terminating", "deleting"):
            self.emu.engine.job_terminated(job, "UserTerminate")
        self.step(schedule)

    def delete(self, schedule: Record) -> None:
        """Deletes the schedule's jobs; the schedule goes once they have."""
        set_state(self.emu.engine.ctx, schedule, "deleting")
        self.emu.engine.ctx.touch(schedule)
        for job in schedule_jobs(self.emu, schedule.id):
            if job.data.get("state") != "deleting":
                self.emu.engine.job_deleted(job)
        self.step(schedule)

    # Progress

    def tick(self) -> None:
        """Steps every schedule (a failure in one is logged and does not stop the others)."""
        for schedule in list(self.emu.store.job_schedules.values()):
            try:
                self.step(schedule)
            except Exception:
                log.exception("job schedule %s: step failed", schedule.id)

    def next_due(self) -> datetime | None:
        """The earliest `nextRunTime` of the active schedules."""
        times = (
            stamp((s.data.get("executionInfo") or {}).get("nextRunTime"))
            for s in self.emu.store.job_schedules.values()
            if s.data.get("state") == "active"
        )
        return min((t for t in times if t is not None), default=None)

    def step(self, schedule: Record) -> None:
        """Moves one schedule on: makes a due job, or completes or drops the schedule."""
        state = schedule.data.get("state")
        if state == "deleting":
            if not schedule_jobs(self.emu, schedule.id):
                self.emu.store.remove(self.emu.store.job_schedules, schedule.id.lower())
            return
        if state in _LIVE:
            self._expire(schedule)
        if state == "active":
            self._run_if_due(schedule)
        no_more = "nextRunTime" not in schedule.data.get("executionInfo", {})
        if state in (*_LIVE, "terminating") and self._active_job(schedule) is None:
            if no_more or state == "terminating":
                self._complete(schedule)

    def _active_job(self, schedule: Record) -> Record | None:
        key = schedule.internal.get("activeJob")
        job = self.emu.store.jobs.get(str(key)) if key else None
        if job is None or job.data.get("state") in _JOB_DONE:
            schedule.internal.pop("activeJob", None)
            return None
        return job

    def _expire(self, schedule: Record) -> None:
        """Drops the next run once `doNotRunAfter` has passed: no job is made after it."""
        after = _time(schedule, "doNotRunAfter")
        if after is not None and self.emu.clock.now() > after:
            schedule.data.get("executionInfo", {}).pop("nextRunTime", None)

    def _run_if_due(self, schedule: Record) -> None:
        info = schedule.data.setdefault("executionInfo", {})
        due = stamp(info.get("nextRunTime"))
        now = self.emu.clock.now()
        if due is None or now < due:
            return
        window = _seconds(schedule, "startWindow")
        if window is not None and now > due + timedelta(seconds=window):
            self._advance(schedule, due, now)  # the opportunity is lost
        elif self._active_job(schedule) is None:
            self._make_job(schedule, due)
            self._advance(schedule, due, now)

    def _advance(self, schedule: Record, due: datetime, now: datetime) -> None:
        """Plans the first recurrence after `now` (runs missed meanwhile are not made up)."""
        info = schedule.data["executionInfo"]
        every = _seconds(schedule, "recurrenceInterval")
        after = _time(schedule, "doNotRunAfter")
        if not every:
            info.pop("nextRunTime", None)
            return
        steps = math.floor((now - due).total_seconds() / every) + 1
        following = due + timedelta(seconds=steps * every)
        if after is not None and following > after:
            info.pop("nextRunTime", None)
        else:
            info["nextRunTime"] = iso(following)

    def _make_job(self, schedule: Record, due: datetime) -> None:
        number = int(schedule.internal.get("jobs", 0)) + 1
        schedule.internal["jobs"] = number
        schedule.internal["lastDue"] = iso(due)
        spec: dict[str, Any] = dict(schedule.data["jobSpecification"])
        job_id = f"{schedule.id}:job-{number}"
        try:
            pool_id = self._pool(schedule, spec)
            job = add_job(self.emu, {**spec, "id": job_id}, scheduled=True, pool_id=pool_id)
        except ServiceError as exc:
            # The spec was checked when it was set, but a job or pool may not be creatable now
            # (an id clash); that run is lost, as when the service cannot start a job.
            log.warning("job schedule %s: cannot make %s: %s", schedule.id, job_id, exc)
            return
        schedule.internal["activeJob"] = job.id.lower()
        url = self.emu.urls.of(f"/jobs/{job.id}")
        schedule.data["executionInfo"]["recentJob"] = {"id": job.id, "url": url}
        self.emu.store.version += 1

    def _pool(self, schedule: Record, spec: dict[str, Any]) -> str | None:
        """The schedule's own auto pool (`jobschedule` lifetime), made with its first job."""
        auto = (spec.get("poolInfo") or {}).get("autoPoolSpecification") or {}
        if auto.get("poolLifetimeOption") != "jobschedule":
            return None
        pool = self.emu.store.pools.get(str(schedule.internal.get("autoPool", "")).lower())
        if pool is None or pool.data.get("state") == "deleting":
            pool = create_auto_pool(self.emu, auto, "jobschedule", schedule.id)
            schedule.internal["autoPool"] = pool.id
        return pool.id

    def _complete(self, schedule: Record) -> None:
        info = schedule.data.setdefault("executionInfo", {})
        info.pop("nextRunTime", None)
        info["endTime"] = iso(self.emu.clock.now())
        set_state(self.emu.engine.ctx, schedule, "completed")
        self.emu.engine.ctx.touch(schedule)
