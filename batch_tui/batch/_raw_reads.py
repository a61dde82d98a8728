"""Provides the raw reads of `BatchClient`: one entity's JSON body, as the service sent it.

For handing an entity on to a script or a ticket (the app's `y` key). Nothing is decoded into
models or Python values: ``indent=None`` returns the body exactly as it came, and an ``indent``
re-indents it without parsing its values, so key order, number spellings (``1.50``) and string
escapes (``\\u001b``) stay as sent. The body must still be valid JSON: anything else raises
`MalformedResponse`, like every other read of the client.
"""

from __future__ import annotations

import httpx
import msgspec

from batch_tui.batch._transport import Transport, segment
from batch_tui.batch.errors import malformed


def body_text(response: httpx.Response, indent: int | None) -> str:
    """The body of a response as text, re-indented by ``indent`` spaces (None: as sent).

    Raises:
        MalformedResponse: The body is not UTF-8 JSON.
    """
    try:
        if indent is None:
            msgspec.json.decode(response.content)  # only to check that it is JSON
            return response.content.decode("utf-8")
        return msgspec.json.format(response.content, indent=indent).decode("utf-8")
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise malformed(response, str(exc)) from exc


class RawReadOperations:
    """Reads of one entity's JSON body as text; mixed into `BatchClient`."""

    _t: Transport

    async def _get_text(self, path: str, indent: int | None) -> str:
        # No $select or $expand: the whole entity, as the service describes it.
        response = await self._t.send("GET", self._t.url(path))
        return body_text(response, indent)

    async def get_pool_json(self, pool_id: str, *, indent: int | None = None) -> str:
        """Return one pool's JSON body (``indent=2`` to re-indent it for reading)."""
        return await self._get_text(f"/pools/{segment(pool_id)}", indent)

    async def get_node_json(self, pool_id: str, node_id: str, *, indent: int | None = None) -> str:
        """Return one compute node's JSON body."""
        return await self._get_text(f"/pools/{segment(pool_id)}/nodes/{segment(node_id)}", indent)

    async def get_job_json(self, job_id: str, *, indent: int | None = None) -> str:
        """Return one job's JSON body."""
        return await self._get_text(f"/jobs/{segment(job_id)}", indent)

    async def get_task_json(self, job_id: str, task_id: str, *, indent: int | None = None) -> str:
        """Return one task's JSON body."""
        return await self._get_text(f"/jobs/{segment(job_id)}/tasks/{segment(task_id)}", indent)

    async def get_job_schedule_json(
        self, job_schedule_id: str, *, indent: int | None = None
    ) -> str:
        """Return one job schedule's JSON body."""
        return await self._get_text(f"/jobschedules/{segment(job_schedule_id)}", indent)
