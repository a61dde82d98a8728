"""Provides `screens(pool, node, job, task)`: a builder of every screen of an open account, for
the tests that walk them all (the read-only proof, burst typing), and `seed_schedule`: the job
schedule their schedule screens show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from textual.screen import Screen

from batch_tui.emulator import Emulator
from batch_tui.emulator.ops.schedules import add_job_schedule
from batch_tui.ui.byte_sources import TaskFileRef
from batch_tui.ui.screens.file_viewer import FileViewerScreen
from batch_tui.ui.screens.heatmap import HeatmapScreen
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.jobs import JobsScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.nodes import NodesScreen
from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.screens.pool_detail import PoolDetailScreen
from batch_tui.ui.screens.pools import PoolsScreen
from batch_tui.ui.screens.prep_release import PrepReleaseScreen
from batch_tui.ui.screens.schedule_detail import ScheduleDetailScreen
from batch_tui.ui.screens.schedules import SchedulesScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen

ScreenBuilder = Callable[[], Screen[Any]]
"""Builds a screen, fresh on each call."""

SCHEDULE: Final = "hourly"
"""The job schedule the schedule screens show (`seed_schedule`)."""


def seed_schedule(emulator: Emulator, pool: str) -> None:
    """Adds `SCHEDULE`, which makes a job on `pool` at once (it stays active: no tasks)."""
    spec = {"poolInfo": {"poolId": pool}}
    add_job_schedule(
        emulator,
        {"id": SCHEDULE, "schedule": {"recurrenceInterval": "PT1H"}, "jobSpecification": spec},
    )


def screens(pool: str, node: str, job: str, task: str) -> dict[str, ScreenBuilder]:
    """Every screen of an open account, built fresh on each call."""
    return {
        "overview": OverviewScreen,
        "pools": PoolsScreen,
        "pool": lambda: PoolDetailScreen(pool),
        "nodes": lambda: NodesScreen(pool),
        "heatmap": lambda: HeatmapScreen(pool),
        "node": lambda: NodeDetailScreen(pool, node),
        "jobs": JobsScreen,
        "job": lambda: JobDetailScreen(job),
        "prep-release": lambda: PrepReleaseScreen(job),
        "task": lambda: TaskDetailScreen(job, task),
        "file": lambda: FileViewerScreen(TaskFileRef(job, task, "stdout.txt")),
        "schedules": SchedulesScreen,
        "schedule": lambda: ScheduleDetailScreen(SCHEDULE),
    }
