"""Provides the operations of `BatchClient` that create a task or a job from an edited body.

The body goes as it was written (`add_bodies.TaskAddBody`, `JobAddBody`): the service checks
it and answers 400 with the property and the reason (`BadRequest`, whose ``values`` hold
``PropertyName``, ``Reason`` ...), or 409 when the id is taken (`Conflict`, ``TaskExists``,
``JobExists``). A create is not idempotent: the client resends it only when the service
certainly did not apply it (429/503, or the connection never opened).
"""

from __future__ import annotations

from batch_tui.batch._transport import Transport, segment
from batch_tui.batch.add_bodies import JobAddBody, TaskAddBody


class CreateOperations:
    """Task Add and Job Add; mixed into `BatchClient`."""

    _t: Transport

    async def add_task(self, job_id: str, body: TaskAddBody) -> None:
        """Add a task to a job (``POST /jobs/{jobId}/tasks``; 201 on success)."""
        url = self._t.url(f"/jobs/{segment(job_id)}/tasks")
        await self._t.send("POST", url, body=dict(body.properties))

    async def add_job(self, body: JobAddBody) -> None:
        """Add a job to the account (``POST /jobs``; 201 on success)."""
        await self._t.send("POST", self._t.url("/jobs"), body=dict(body.properties))
