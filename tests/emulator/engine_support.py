"""Helpers for the engine tests: an emulator on a manual clock and short ways to seed it.

Records are created through the WIRE helper's plain functions (`add_pool`, `add_job`,
`add_tasks`), exactly as the HTTP routes and the scenarios create them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from batch_tui.emulator import Emulator, build_emulator
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings, Timings
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.pools import add_pool
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.emulator.state.store import NodeRecord, Record, TaskRecord
from tests import polling

IMAGE = {
    "imageReference": {
        "publisher": "canonical",
        "offer": "0001-com-ubuntu-server-jammy",
        "sku": "22_04-lts",
        "version": "latest",
    },
    "nodeAgentSKUId": "batch.node.ubuntu 22.04",
}

TIMINGS = Timings(
    tick=0.01,
    node_creating=1.0,
    node_starting=1.0,
    node_rebooting=2.0,
    node_reimaging=3.0,
    node_deallocating=2.0,
    node_leaving=1.0,
    task_preparing=0.0,
    simulated_task_seconds=2.0,
)
"""Whole seconds on a manual clock, so tests can say exactly when things happen; a simulated
`sleep N` lasts N seconds and other simulated tasks 1 to 3 seconds."""

BOOT = TIMINGS.node_creating + TIMINGS.node_starting
"""Seconds from a pool's creation until its nodes (without a start task) are idle."""


def make_emulator(tmp_path: Path, executor: str = "simulated") -> Emulator:
    """Returns an emulator on a ManualClock with `TIMINGS`."""
    settings = EmulatorSettings(
        account="engineacct",
        executor=executor,
        data_dir=tmp_path / "data",
        base_url="https://engineacct.westus.batch.azure.com",
        timings=TIMINGS,
    )
    return build_emulator(settings, ManualClock())


async def stop(emu: Emulator) -> None:
    """Stops an emulator and collects its garbage now.

    The emulator is a graph of cycles holding asyncio tasks and subprocess transports, whose
    finalizers would otherwise run at some later collection; CPython 3.11.7 can fail an
    `ast.parse` that such a collection interrupts (gh-106905), e.g. pytest rewriting a module.
    """
    await emu.stop()
    gc.collect()


def clock(emu: Emulator) -> ManualClock:
    assert isinstance(emu.clock, ManualClock)
    return emu.clock


async def advance(emu: Emulator, seconds: float, step: float = 0.5) -> None:
    """Moves the manual clock forward in steps, ticking the engine after each."""
    await emu.engine.tick()
    moved = 0.0
    while moved < seconds - 1e-9:
        delta = min(step, seconds - moved)
        clock(emu).advance(delta)
        moved += delta
        await emu.engine.tick()


async def until(
    emu: Emulator, condition: Callable[[], bool], *, step: float = 0.5, limit: int = 400
) -> None:
    """Advances the clock and ticks until `condition` holds (a bounded condition wait).

    Real processes (the `local` executor) finish in real time, so each round also yields
    to the event loop for a moment.
    """

    async def ticked() -> bool:
        await emu.engine.tick()
        if condition():
            return True
        clock(emu).advance(step)
        return False

    seconds = limit * 0.05  # as many looks as before, with room for a slow machine
    await polling.until(ticked, seconds=seconds, every=0.005, what="the engine did not get there")


def pool(emu: Emulator, pool_id: str = "p1", nodes: int = 2, **extra: Any) -> Record:
    body = {
        "id": pool_id,
        "vmSize": "STANDARD_D2S_V3",
        "virtualMachineConfiguration": IMAGE,
        "targetDedicatedNodes": nodes,
        **extra,
    }
    return add_pool(emu, body)


def job(emu: Emulator, job_id: str = "j1", pool_id: str = "p1", **extra: Any) -> Record:
    return add_job(emu, {"id": job_id, "poolInfo": {"poolId": pool_id}, **extra})


def tasks(emu: Emulator, job_id: str, *bodies: dict[str, Any]) -> list[TaskRecord]:
    return add_tasks(emu, job_id, list(bodies))


def task_body(task_id: str, command: str = "/bin/sh -c 'sleep 5'", **extra: Any) -> dict[str, Any]:
    return {"id": task_id, "commandLine": command, **extra}


def nodes(emu: Emulator, pool_id: str = "p1") -> list[NodeRecord]:
    return list(emu.store.pool_nodes(pool_id.lower()).values())


def task(emu: Emulator, job_id: str, task_id: str) -> TaskRecord:
    return emu.store.job_tasks(job_id.lower())[task_id.lower()]


def states(emu: Emulator, job_id: str = "j1") -> dict[str, str]:
    """Returns task id -> state for a job."""
    return {t.id: t.data["state"] for t in emu.store.job_tasks(job_id.lower()).values()}


def node_of(emu: Emulator, record: TaskRecord) -> str:
    return str(record.data["nodeInfo"]["nodeId"])


async def ready_pool(emu: Emulator, pool_id: str = "p1", count: int = 2, **extra: Any) -> Record:
    """Creates a pool and waits until all its nodes are idle."""
    record = pool(emu, pool_id, count, **extra)
    await until(
        emu,
        lambda: (
            len(nodes(emu, pool_id)) == count
            and all(n.data["state"] == "idle" for n in nodes(emu, pool_id))
        ),
    )
    return record
