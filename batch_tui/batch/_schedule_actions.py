"""Provides the job schedule actions of `BatchClient`: enable, disable, terminate and delete.

Each is one POST or DELETE without a body (BATCH-API.md, "Job schedules"): disable and
enable answer 204, terminate and delete 202. The service refuses them with 409 (`Conflict`)
in the states it does not allow: all four on a schedule being deleted, all but delete on a
completed or terminating one. Like the other actions (``_actions.py``, whose request helpers
these use) they are not idempotent, so the retry policy repeats them only when the service
certainly did not apply them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batch_tui.batch._transport import segment


def _path(job_schedule_id: str, action: str = "") -> str:
    path = f"/jobschedules/{segment(job_schedule_id)}"
    return f"{path}/{action}" if action else path


class ScheduleActionOperations:
    """Job schedule actions; mixed into `BatchClient`."""

    if TYPE_CHECKING:  # provided by ActionOperations

        async def _post(
            self, path: str, body: dict[str, Any] | None = None, *, force: bool = False
        ) -> None: ...

        async def _delete(self, path: str, *, force: bool = False) -> None: ...

    async def disable_job_schedule(self, job_schedule_id: str) -> None:
        """Disable a job schedule: it makes no new job until it is enabled again (a job it
        made earlier runs on)."""
        await self._post(_path(job_schedule_id, "disable"))

    async def enable_job_schedule(self, job_schedule_id: str) -> None:
        """Enable a disabled job schedule; a run that fell due meanwhile starts if its
        start window is still open."""
        await self._post(_path(job_schedule_id, "enable"))

    async def terminate_job_schedule(self, job_schedule_id: str, *, force: bool = False) -> None:
        """Terminate a job schedule and its active job; it completes once that job has.
        ``force`` ends it even if its nodes have not fully processed the termination."""
        await self._post(_path(job_schedule_id, "terminate"), force=force)

    async def delete_job_schedule(self, job_schedule_id: str, *, force: bool = False) -> None:
        """Delete a job schedule with all its jobs and their tasks; ``force`` deletes it even
        if its nodes have not fully processed the deletion."""
        await self._delete(_path(job_schedule_id), force=force)
