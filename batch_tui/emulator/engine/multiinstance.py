"""Provides multi-instance tasks: a primary and `numberOfInstances - 1` subtasks on other nodes.

The scheduler gives such a task one slot on each of `numberOfInstances` distinct nodes. When the
task starts running, every subtask runs the `coordinationCommandLine` on its node in
`workitems/<job>/job-1/<task>/<n>` (a subtask without one completes at once) while the primary
runs the task's command line. Each instance first gets the `commonResourceFiles` in its task
directory (one above `wd`), and the primary its `resourceFiles` in `wd`. Each subtask frees its
slot when it ends. When the primary ends, subtasks still running are stopped and complete as
ended (`TaskEnded`). Their state is kept in the task's `internal["subtasks"]` as the wire
SubtaskInformation items the subtasks API lists. Every instance sees `AZ_BATCH_HOST_LIST`,
`AZ_BATCH_NODE_LIST`, `AZ_BATCH_MASTER_NODE` and `AZ_BATCH_IS_CURRENT_NODE_MASTER`. The job
preparation task runs on the primary's node only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batch_tui.emulator.engine.exitrules import set_result
from batch_tui.emulator.engine.runtime import TASK_ENDED, Context, failure
from batch_tui.emulator.node.executors import KILLED_EXIT_CODE, Outcome, RunHandle, RunSpec
from batch_tui.emulator.node.files import task_dir
from batch_tui.emulator.state.store import NodeRecord, Record, TaskRecord

if TYPE_CHECKING:
    from batch_tui.emulator.engine.taskrun import Placement

MASTER_PORT = 6000
"""The port in `AZ_BATCH_MASTER_NODE` (the docs' example: `10.0.0.4:6000`)."""


def instances(task: TaskRecord) -> int:
    """Returns how many nodes a task needs (1 unless it is a multi-instance task)."""
    settings = task.data.get("multiInstanceSettings") or {}
    return max(int(settings.get("numberOfInstances") or 1), 1)


def common_files(task: TaskRecord) -> list[dict[str, Any]]:
    """Returns a multi-instance task's `commonResourceFiles`: every instance gets them, the
    primary included (its `resourceFiles` are the primary's alone)."""
    settings = task.data.get("multiInstanceSettings") or {}
    return list(settings.get("commonResourceFiles") or [])


def instance_env(nodes: list[NodeRecord], me: NodeRecord) -> dict[str, str]:
    """Returns the multi-instance variables one instance sees."""
    ips = [str(node.data["ipAddress"]) for node in nodes]
    return {
        "AZ_BATCH_HOST_LIST": ",".join(ips),
        "AZ_BATCH_NODE_LIST": ";".join(ips),
        "AZ_BATCH_MASTER_NODE": f"{ips[0]}:{MASTER_PORT}",
        "AZ_BATCH_IS_CURRENT_NODE_MASTER": "true" if me is nodes[0] else "false",
    }


class MultiInstance:
    """Runs the subtasks of multi-instance tasks."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._runs: dict[tuple[str, str, int], RunHandle] = {}
        self._gen: dict[tuple[str, str], int] = {}

    def nodes_of(self, p: Placement) -> list[NodeRecord]:
        """Returns the primary's node and the subtasks' nodes that still exist."""
        pool = self.ctx.store.nodes.get(p.pool_key, {})
        keys = [p.node_key, *p.subtask_nodes.values()]
        return [pool[key] for key in keys if key in pool]

    def start(self, job: Record, task: TaskRecord, p: Placement) -> None:
        """Starts the subtasks of a primary that starts running."""
        nodes = self.nodes_of(p)
        gen = self._gen.get((p.job_key, p.task_key), 0) + 1
        self._gen[(p.job_key, p.task_key)] = gen
        items = []
        for number, node_key in p.subtask_nodes.items():
            node = self.ctx.store.nodes.get(p.pool_key, {}).get(node_key)
            if node is not None:
                items.append(self._new_item(job, task, number, node))
                self._queue(job, task, p, number, node, nodes, gen)
        task.internal["subtasks"] = items

    def _new_item(
        self, job: Record, task: TaskRecord, number: int, node: NodeRecord
    ) -> dict[str, Any]:
        now = self.ctx.now()
        pool_id = str(task.data["nodeInfo"]["poolId"])
        node_url = self.ctx.urls.node(pool_id, node.id)
        rel = f"{task_dir(job.id, task.id)}/{number}"
        info = {
            "affinityId": node.data["affinityId"],
            "nodeUrl": node_url,
            "poolId": pool_id,
            "nodeId": node.id,
            "taskRootDirectory": rel,
            "taskRootDirectoryUrl": f"{node_url}/files/{rel}",
        }
        return {
            "id": number,
            "nodeInfo": info,
            "startTime": now,
            "state": "running",
            "stateTransitionTime": now,
        }

    def _queue(
        self,
        job: Record,
        task: TaskRecord,
        p: Placement,
        number: int,
        node: NodeRecord,
        nodes: list[NodeRecord],
        gen: int,
    ) -> None:
        self.ctx.defer(lambda: self._launch(job, task, p, number, node, nodes, gen))

    def env(self, p: Placement, me: NodeRecord) -> dict[str, str]:
        # Built from all instance nodes, not just the subtasks still running: a fast
        # coordination command may have finished before the primary's command starts.
        pool = self.ctx.store.nodes.get(p.pool_key, {})
        nodes = [pool[key] for key in p.instance_nodes if key in pool]
        return instance_env(nodes, me) if nodes else {}

    async def _launch(
        self,
        job: Record,
        task: TaskRecord,
        p: Placement,
        number: int,
        node: NodeRecord,
        nodes: list[NodeRecord],
        gen: int,
    ) -> None:
        key = (p.job_key, p.task_key)
        if self._gen.get(key) != gen or number not in p.subtask_nodes:
            return
        command = (task.data.get("multiInstanceSettings") or {}).get("coordinationCommandLine")
        if not command:
            self._ended(task, p, number, gen, Outcome(0))
            return
        env = self.ctx.tasks.job_env(job, node, task.data.get("environmentSettings"), task.id)
        spec = RunSpec(
            node_id=node.id,
            pool_id=str(task.data["nodeInfo"]["poolId"]),
            task_dir=f"{task_dir(job.id, task.id)}/{number}",
            command_line=str(command),
            kind="subtask",
            job_id=job.id,
            task_id=f"{task.id}/{number}",
            env={**env, **instance_env(nodes, node)},
            common_resource_files=common_files(task),
        )
        handle = await self.ctx.executor.launch(
            spec, lambda out: self.ctx.report(lambda: self._ended(task, p, number, gen, out))
        )
        if self._gen.get(key) != gen:
            handle.kill()
            return
        self._runs[(p.job_key, p.task_key, number)] = handle

    def _item(self, task: TaskRecord, number: int) -> dict[str, Any] | None:
        items: list[dict[str, Any]] = task.internal.get("subtasks") or []
        return next((item for item in items if item["id"] == number), None)

    def _ended(self, task: TaskRecord, p: Placement, number: int, gen: int, out: Outcome) -> None:
        if self._gen.get((p.job_key, p.task_key)) != gen:
            return
        self._runs.pop((p.job_key, p.task_key, number), None)
        self._complete(task, number, out.exit_code, out.failure)
        self.ctx.tasks.free_subtask_slot(p, number)

    def _complete(
        self, task: TaskRecord, number: int, code: int | None, fail: dict[str, Any] | None
    ) -> None:
        item = self._item(task, number)
        if item is None or item["state"] == "completed":
            return
        now = self.ctx.now()
        item.update(
            previousState=item["state"],
            previousStateTransitionTime=item["stateTransitionTime"],
            state="completed",
            stateTransitionTime=now,
            endTime=now,
        )
        set_result(item, code, fail)
        self.ctx.touch(task)

    def stop(self, p: Placement, task: TaskRecord | None) -> None:
        """Ends the subtasks of a primary that ended (or was killed)."""
        key = (p.job_key, p.task_key)
        self._gen[key] = self._gen.get(key, 0) + 1
        for number in list(p.subtask_nodes):
            handle = self._runs.pop((p.job_key, p.task_key, number), None)
            if handle is not None:
                handle.kill()
            if task is not None:
                code = KILLED_EXIT_CODE if handle is not None else None
                self._complete(task, number, code, failure(*TASK_ENDED))
