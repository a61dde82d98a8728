"""Provides the mutating operations of `BatchClient`: node, pool, job and task actions.

Each is one POST or DELETE with the body the spec defines (BATCH-API.md section 7). They are
not idempotent, so the retry policy repeats them only when the service certainly did not
apply them (429/503, or the connection never opened). They return None on success and
raise `Conflict` when the entity is in the wrong state for the action. The one exception is
`evaluate_pool_autoscale`: a POST that changes nothing and returns the service's
`AutoScaleRun`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from batch_tui.batch._transport import Transport, decode_body, segment
from batch_tui.batch.models.pool import AutoScaleRun

MAX_REMOVE_NODES = 100
"""The service removes at most 100 nodes per request."""


def iso_duration(value: timedelta) -> str:
    """Format a duration as ISO 8601, e.g. ``PT15M`` or ``P1DT2H``."""
    total = int(value.total_seconds())
    if total < 0:
        raise ValueError("a duration cannot be negative")
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return text if text != "P" else "PT0S"


def iso_datetime(value: datetime) -> str:
    """Format a datetime as the service's UTC ISO 8601 (a naive one is taken as local time)."""
    utc = value.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def _forced(force: bool) -> dict[str, str] | None:
    """The query of the service's ``force`` flag (sent only when set: false is its default)."""
    return {"force": "true"} if force else None


class ActionOperations:
    """Mutating operations; mixed into `BatchClient`."""

    _t: Transport

    async def _post(
        self, path: str, body: dict[str, Any] | None = None, *, force: bool = False
    ) -> None:
        await self._t.send("POST", self._t.url(path, _forced(force)), body=body)

    async def _delete(self, path: str, *, force: bool = False) -> None:
        await self._t.send("DELETE", self._t.url(path, _forced(force)))

    @staticmethod
    def _node(pool_id: str, node_id: str) -> str:
        return f"/pools/{segment(pool_id)}/nodes/{segment(node_id)}"

    # Nodes

    async def reboot_node(self, pool_id: str, node_id: str, option: str = "requeue") -> None:
        """Reboot a node; ``option`` says what happens to its running tasks."""
        path = f"{self._node(pool_id, node_id)}/reboot"
        await self._post(path, {"nodeRebootOption": option})

    async def reimage_node(self, pool_id: str, node_id: str, option: str = "requeue") -> None:
        """Reinstall a node's operating system."""
        path = f"{self._node(pool_id, node_id)}/reimage"
        await self._post(path, {"nodeReimageOption": option})

    async def deallocate_node(self, pool_id: str, node_id: str, option: str = "requeue") -> None:
        """Deallocate a node (it goes ``deallocating`` then ``deallocated``)."""
        path = f"{self._node(pool_id, node_id)}/deallocate"
        await self._post(path, {"nodeDeallocateOption": option})

    async def start_node(self, pool_id: str, node_id: str) -> None:
        """Start a deallocated node."""
        await self._post(f"{self._node(pool_id, node_id)}/start")

    async def disable_node_scheduling(
        self, pool_id: str, node_id: str, option: str = "requeue"
    ) -> None:
        """Stop scheduling tasks on a node (``requeue``, ``terminate`` or ``taskcompletion``)."""
        path = f"{self._node(pool_id, node_id)}/disablescheduling"
        await self._post(path, {"nodeDisableSchedulingOption": option})

    async def enable_node_scheduling(self, pool_id: str, node_id: str) -> None:
        """Resume scheduling tasks on a node."""
        await self._post(f"{self._node(pool_id, node_id)}/enablescheduling")

    async def add_node_user(
        self,
        pool_id: str,
        node_id: str,
        name: str,
        *,
        password: str | None = None,
        ssh_public_key: str | None = None,
        is_admin: bool = False,
        expiry_time: datetime | None = None,
    ) -> None:
        """Create a user account on a node (for SSH or RDP).

        The password is sent in the body only; it never appears in errors or logs.
        """
        body = {
            "name": name,
            "isAdmin": is_admin,
            "password": password,
            "sshPublicKey": ssh_public_key,
            "expiryTime": iso_datetime(expiry_time) if expiry_time else None,
        }
        await self._post(f"{self._node(pool_id, node_id)}/users", _without_none(body))

    async def delete_node_user(self, pool_id: str, node_id: str, name: str) -> None:
        """Delete a user account from a node."""
        await self._delete(f"{self._node(pool_id, node_id)}/users/{segment(name)}")

    # Pools

    async def remove_nodes(
        self,
        pool_id: str,
        node_ids: Sequence[str],
        option: str = "requeue",
        resize_timeout: timedelta | None = None,
    ) -> None:
        """Remove up to 100 nodes from a pool (which must be ``steady``).

        Raises:
            ValueError: For no nodes or more than 100: a second request could not follow,
                since the pool is ``resizing`` after the first.
        """
        if not node_ids or len(node_ids) > MAX_REMOVE_NODES:
            raise ValueError(f"remove between 1 and {MAX_REMOVE_NODES} nodes at a time")
        body = {
            "nodeList": list(node_ids),
            "nodeDeallocationOption": option,
            "resizeTimeout": iso_duration(resize_timeout) if resize_timeout else None,
        }
        await self._post(f"/pools/{segment(pool_id)}/removenodes", _without_none(body))

    async def resize_pool(
        self,
        pool_id: str,
        *,
        target_dedicated: int | None = None,
        target_low_priority: int | None = None,
        option: str | None = None,
        resize_timeout: timedelta | None = None,
    ) -> None:
        """Resize a pool; ``option`` applies to nodes removed when shrinking."""
        body = {
            "targetDedicatedNodes": target_dedicated,
            "targetLowPriorityNodes": target_low_priority,
            "nodeDeallocationOption": option,
            "resizeTimeout": iso_duration(resize_timeout) if resize_timeout else None,
        }
        await self._post(f"/pools/{segment(pool_id)}/resize", _without_none(body))

    async def stop_resize_pool(self, pool_id: str) -> None:
        """Stop a pool's ongoing resize."""
        await self._post(f"/pools/{segment(pool_id)}/stopresize")

    async def enable_pool_autoscale(
        self,
        pool_id: str,
        formula: str | None = None,
        evaluation_interval: timedelta | None = None,
    ) -> None:
        """Turn autoscale on, or change the formula or interval of a pool that has it on.

        The service refuses it (409) while a resize runs on a pool without autoscale, and
        when called again for the same pool within 30 seconds; a formula that does not
        parse is a `BadRequest` (``AutoScalingFormulaSyntaxError``, the line and column in
        its ``values``). It evaluates the formula at once and resizes the pool to its targets.

        Args:
            pool_id: The pool.
            formula: The autoscale formula; required when autoscale is off.
            evaluation_interval: How often the service evaluates the formula (5 minutes to
                168 hours; its default is 15 minutes).
        """
        body = {
            "autoScaleFormula": formula,
            "autoScaleEvaluationInterval": (
                iso_duration(evaluation_interval) if evaluation_interval else None
            ),
        }
        await self._post(f"/pools/{segment(pool_id)}/enableautoscale", _without_none(body))

    async def disable_pool_autoscale(self, pool_id: str) -> None:
        """Turn autoscale off: the pool keeps its current targets until resized by hand."""
        await self._post(f"/pools/{segment(pool_id)}/disableautoscale")

    async def evaluate_pool_autoscale(self, pool_id: str, formula: str) -> AutoScaleRun:
        """Evaluate a formula against a pool without applying it.

        The service evaluates only on a pool with autoscale enabled (409
        ``AutoScaleNotEnabled`` otherwise). A formula that does not parse is a `BadRequest`;
        one that parses but fails while running returns a run with ``error`` set.

        Returns:
            The run: ``results`` (``$TargetDedicatedNodes=2;...``) and any ``error``.
        """
        url = self._t.url(f"/pools/{segment(pool_id)}/evaluateautoscale")
        response = await self._t.send("POST", url, body={"autoScaleFormula": formula})
        return decode_body(response, AutoScaleRun)

    async def delete_pool(self, pool_id: str) -> None:
        """Delete a pool: it goes ``deleting``, its nodes' running tasks are requeued, then it
        is gone."""
        await self._delete(f"/pools/{segment(pool_id)}")

    # Jobs

    async def terminate_job(
        self, job_id: str, reason: str | None = None, *, force: bool = False
    ) -> None:
        """Terminate a job (``reason`` defaults to ``UserTerminate`` on the service);
        ``force`` ends it even if its nodes have not fully processed the termination."""
        body = {"terminateReason": reason} if reason else None
        await self._post(f"/jobs/{segment(job_id)}/terminate", body, force=force)

    async def disable_job(self, job_id: str, disable_tasks: str) -> None:
        """Disable a job; ``disable_tasks`` is ``requeue``, ``terminate`` or ``wait``."""
        await self._post(f"/jobs/{segment(job_id)}/disable", {"disableTasks": disable_tasks})

    async def enable_job(self, job_id: str) -> None:
        """Enable a disabled job."""
        await self._post(f"/jobs/{segment(job_id)}/enable")

    async def delete_job(self, job_id: str, *, force: bool = False) -> None:
        """Delete a job and all its tasks; ``force`` deletes it even if its nodes have not
        fully processed the deletion."""
        await self._delete(f"/jobs/{segment(job_id)}", force=force)

    # Tasks

    async def terminate_task(self, job_id: str, task_id: str) -> None:
        """Terminate a task."""
        await self._post(f"/jobs/{segment(job_id)}/tasks/{segment(task_id)}/terminate")

    async def reactivate_task(self, job_id: str, task_id: str) -> None:
        """Reactivate a completed task so that it runs again."""
        await self._post(f"/jobs/{segment(job_id)}/tasks/{segment(task_id)}/reactivate")

    async def delete_task(self, job_id: str, task_id: str) -> None:
        """Delete a task."""
        await self._delete(f"/jobs/{segment(job_id)}/tasks/{segment(task_id)}")
