"""Provides the scenarios an emulator can start with: `empty`, `demo` and `large`.

The demo is what `batch-tui --demo` opens: three pools (one healthy, one whose start task fails on
every node, one where a node is taken offline), and jobs with running, completed, failed, retried
and waiting tasks, a job with preparation and release tasks, task dependencies, a big log and a
log full of terminal escape sequences, and two job schedules (one makes a short job every
minute, one a nightly report). Tasks take seconds, so the screens show live change for
several minutes. Everything is created through the same functions the REST routes use, so the
demo's entities are exactly what the API would have made.

The `large` scenario (2,000 nodes, a 100,000-task job) is in `scenario_large`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import datetime, timedelta
from typing import Any

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.pools import add_pool
from batch_tui.emulator.ops.schedules import add_job_schedule
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.emulator.scenarios.shell import UBUNTU, sh

log = logging.getLogger(__name__)


ADD_COLLECTION_LIMIT = 100
"""The service takes at most 100 tasks per add-collection call; the demo adds them the same way."""

DIRECTOR_POLL = 0.5
"""Seconds between the demo director's looks at the node states."""

FRAMES = 90
"""Frames of the render job: with 12 task slots and 6-18 s a frame, it renders for minutes."""

STREAM_JOB = "ingest-stream"
STREAM_EVERY = 3.0
"""Seconds between two tasks of the never-ending stream job, so the demo never goes still."""


def _pools() -> list[dict[str, Any]]:
    return [
        {
            "id": "render-pool",
            "displayName": "Frame rendering",
            "vmSize": "standard_d4s_v3",
            "virtualMachineConfiguration": UBUNTU,
            "targetDedicatedNodes": 4,
            "targetLowPriorityNodes": 2,
            "taskSlotsPerNode": 2,
            "startTask": {
                "commandLine": sh("echo installing renderer 4.2; sleep 1; echo ready"),
                "waitForSuccess": True,
            },
        },
        {
            "id": "gpu-pool",
            "displayName": "Model training (GPU)",
            "vmSize": "standard_nc6s_v3",
            "virtualMachineConfiguration": UBUNTU,
            "targetDedicatedNodes": 2,
            "startTask": {
                "commandLine": sh(
                    'echo checking GPU driver; echo "nvidia-smi: command not found" >&2; exit 127'
                ),
                "waitForSuccess": True,
                "maxTaskRetryCount": 1,
            },
        },
        {
            "id": "etl-pool",
            "displayName": "ETL workers",
            "vmSize": "standard_e8s_v3",
            "virtualMachineConfiguration": UBUNTU,
            "targetDedicatedNodes": 3,
            "taskSlotsPerNode": 4,
            "taskSchedulingPolicy": {"nodeFillType": "pack"},
        },
    ]


def _frame(n: int) -> dict[str, Any]:
    task: dict[str, Any] = {
        "id": f"frame-{n:04d}",
        "displayName": f"Render frame {n}",
        "commandLine": sh(
            f"echo rendering frame {n}; for t in 1 2 3 4 5 6; do sleep {1 + n % 3}; "
            'echo "  tile $t/6 done"; done; '
            "echo frame written to $AZ_BATCH_TASK_WORKING_DIR/frame.exr"
        ),
        "environmentSettings": [{"name": "FRAME", "value": str(n)}],
    }
    if n in (13, 37):
        task["commandLine"] = sh(
            f"echo rendering frame {n}; sleep 2; "
            'echo "error: out of memory while rendering tile 3 (needed 18.2 GiB)" >&2; exit 137'
        )
    if n == 42:
        task["commandLine"] = sh(
            'echo loading scene; echo "scene.usd: checksum mismatch" >&2; exit 2'
        )
        task["constraints"] = {"maxTaskRetryCount": 2}
    if n == 61:  # the out-of-memory failure of frames 13 and 37 again, other numbers
        task["commandLine"] = sh(
            f"echo rendering frame {n}; sleep 2; "
            'echo "error: out of memory while rendering tile 7 (needed 17.9 GiB)" >&2; exit 137'
        )
    if n in (24, 77):  # a crash: failure triage shows it as a group of its own
        task["commandLine"] = sh(
            f"echo rendering frame {n}; sleep 1; "
            f'echo "renderer: segmentation fault at 0x7f3a{n:02d}e0 in denoise()" >&2; exit 139'
        )
    return task


def _render_job() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    job = {
        "id": "nightly-render",
        "displayName": "Nightly render of shot 042",
        "priority": 100,
        "poolInfo": {"poolId": "render-pool"},
        "usesTaskDependencies": True,
        "jobPreparationTask": {
            "commandLine": sh("echo fetching assets; sleep 1; echo 1.2 GB of assets ready"),
        },
        "jobReleaseTask": {"commandLine": sh("echo removing scratch files")},
    }
    frames = [_frame(n) for n in range(1, FRAMES + 1)]
    encode = {
        "id": "encode-video",
        "commandLine": sh(f"echo encoding {FRAMES} frames; sleep 3; echo shot042.mp4 written"),
        "dependsOn": {"taskIds": [f["id"] for f in frames[:12]]},
    }
    return job, [*frames, encode]


def _etl_tasks() -> list[dict[str, Any]]:
    tasks = [
        {
            "id": f"ingest-{n:03d}",
            "commandLine": sh(
                f"echo ingesting partition {n}; sleep {1 + n % 4}; echo {n * 1731} rows loaded"
            ),
        }
        for n in range(1, 241)
    ]
    tasks.append(
        {
            "id": "big-log",
            "displayName": "A task with a 10 MB log",
            "commandLine": sh('seq -f "%g INFO merged batch into warehouse table events" 1 250000'),
        }
    )
    tasks.append(
        {
            "id": "ansi-log",
            "displayName": "A log full of terminal escape sequences",
            "commandLine": sh(
                r'printf "\033[1;32mOK\033[0m colours\n\033]0;evil title\007title change\n'
                r"\033]52;c;ZWNobyBwd25lZA==\007clipboard write\n\033[2J\033[Hclear screen\n"
                r'bell \007 and control \001\002 chars\n"'
            ),
        }
    )
    return tasks


def _other_jobs() -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    backfill = {
        "id": "backfill-2024",
        "poolInfo": {"poolId": "etl-pool"},
        "onAllTasksComplete": "terminatejob",
    }
    backfill_tasks = [
        {"id": f"month-{m:02d}", "commandLine": sh(f"echo backfilling 2024-{m:02d}; echo ok")}
        for m in range(1, 13)
    ]
    training = {"id": "train-model", "priority": 50, "poolInfo": {"poolId": "gpu-pool"}}
    training_tasks = [
        {"id": f"epoch-{n}", "commandLine": sh(f"python3 train.py --epoch {n}")}
        for n in range(1, 6)
    ]
    etl = {"id": "etl-daily", "displayName": "Daily ETL", "poolInfo": {"poolId": "etl-pool"}}
    stream = {
        "id": STREAM_JOB,
        "displayName": "Continuous ingest (a new task every few seconds)",
        "poolInfo": {"poolId": "etl-pool"},
    }
    return [
        (backfill, backfill_tasks),
        (training, training_tasks),
        (etl, _etl_tasks()),
        (stream, []),
    ]


def _schedules(now: datetime) -> list[dict[str, Any]]:
    """A job every minute whose job manager takes seconds (on the render pool, ahead of the
    render: its jobs finish, so an hour of demo leaves 60 small completed jobs, not a queue),
    and a nightly report whose first run is at the next 02:00 UTC."""
    rollup = {
        "id": "metrics-rollup",
        "displayName": "Roll up metrics every minute",
        "schedule": {"recurrenceInterval": "PT1M", "startWindow": "PT1M"},
        "jobSpecification": {
            "priority": 200,
            "poolInfo": {"poolId": "render-pool"},
            "onAllTasksComplete": "terminatejob",
            "constraints": {"maxWallClockTime": "PT5M"},
            "jobManagerTask": {
                "id": "rollup",
                "commandLine": sh("echo rolling up the last minute; sleep 3; echo 1440 rows"),
                "killJobOnCompletion": True,
            },
        },
    }
    tonight = (now + timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)
    if tonight - now > timedelta(days=1):
        tonight -= timedelta(days=1)
    report = {
        "id": "nightly-report",
        "displayName": "Nightly usage report",
        "schedule": {"doNotRunUntil": iso(tonight), "recurrenceInterval": "P1D"},
        "jobSpecification": {
            "poolInfo": {"poolId": "etl-pool"},
            "onAllTasksComplete": "terminatejob",
            "jobManagerTask": {"id": "report", "commandLine": sh("echo usage report written")},
        },
    }
    return [rollup, report]


def _add_tasks(emu: Emulator, job_id: str, tasks: list[dict[str, Any]]) -> None:
    for start in range(0, len(tasks), ADD_COLLECTION_LIMIT):
        add_tasks(emu, job_id, tasks[start : start + ADD_COLLECTION_LIMIT])


def seed_demo(emu: Emulator) -> None:
    """Creates the demo's pools, jobs and tasks."""
    for pool in _pools():
        add_pool(emu, pool)
    for job, tasks in [_render_job(), *_other_jobs()]:
        add_job(emu, job)
        _add_tasks(emu, job["id"], tasks)
    for schedule in _schedules(emu.clock.now()):
        add_job_schedule(emu, schedule)


async def demo_director(emu: Emulator) -> None:
    """Keeps the demo alive: takes one ETL node offline once it is up, then adds a task to the
    stream job every few seconds for as long as the emulator runs."""
    for _ in itertools.count():  # polls: node states change inside the engine, no event to wait on
        if _take_one_node_offline(emu):
            break
        await asyncio.sleep(DIRECTOR_POLL)
    for n in itertools.count(1):
        try:
            add_tasks(emu, STREAM_JOB, [_stream_task(n)])
        except ServiceError as exc:  # the user deleted or terminated the job: stop adding
            log.debug("demo director: %s", exc)
            return
        await asyncio.sleep(STREAM_EVERY)


def _take_one_node_offline(emu: Emulator) -> bool:
    for node in emu.store.pool_nodes("etl-pool").values():
        if node.data.get("state") in ("idle", "running"):
            try:
                emu.engine.node_action(node, "disablescheduling", "taskcompletion")
            except ServiceError as exc:  # the node moved on; try again later
                log.debug("demo director: %s", exc)
                return False
            return True
    return False


def _stream_task(n: int) -> dict[str, Any]:
    return {
        "id": f"chunk-{n:05d}",
        "commandLine": sh(
            f"echo reading chunk {n}; sleep {4 + n % 6}; echo {n * 977 % 10000} events stored"
        ),
    }
