"""Provides the task list's rows: its fields, columns, state filters and one row per task.

- `TASK_FIELDS`, `TASK_COLUMNS`: what the list asks for (`$select`) and shows.
- `STATE_FILTERS`: the task list's state filters (all, active, running, completed, failed),
  each with its server-side `$filter` (built with `batch_tui.batch.odata`) and the same
  test done locally, so that a delta refresh can drop a task that left the filter.
- `task_row(task, now)`: a task list row; failed tasks in the failure style.
- `task_failed(task)`: whether a task completed and failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final

from textual.content import Content

from batch_tui.batch import odata
from batch_tui.batch.models.common import TaskFailureInfo
from batch_tui.batch.models.constants import TaskExecutionResult, TaskState
from batch_tui.batch.models.task import Task
from batch_tui.ui.filter_terms import Choice, FilterColumn
from batch_tui.ui.formatting import (
    FAILED,
    MISSING,
    format_duration,
    state_style,
)
from batch_tui.ui.widgets.table_rows import Cell, Column, RowData

TASK_FIELDS: Final = ("id", "state", "stateTransitionTime", "executionInfo", "nodeInfo")
"""The task fields the list shows ($select): a sixth of a full task's bytes."""

TASK_COLUMNS: Final = (
    Column("id", "Task", min_width=8, max_width=40, cut="middle"),
    Column("state", "State", min_width=9, max_width=10),
    Column("exit", "Exit", min_width=4, max_width=6, align="right"),
    Column("retries", "Retry", min_width=5, max_width=5, align="right"),
    Column("node", "Node", min_width=8, max_width=30, cut="middle"),
    Column("ran", "Ran", min_width=5, max_width=8, align="right"),
    Column("age", "Changed", min_width=7, max_width=8, align="right"),
    # The code first: cut short, the column still tells failures apart.
    Column("failure", "Failure", min_width=7, max_width=32),
)
"""The task list's columns; they fit 80 cells."""


@dataclass(frozen=True)
class StateFilter:
    """One state filter of a task list.

    Attributes:
        key: Its id ("failed").
        label: What the state bar shows.
        server: The `$filter` sent to the service, or None for every task.
        matches: The same test on a task in hand.
    """

    key: str
    label: str
    server: odata.Filter | None
    matches: Callable[[Task], bool]


_COMPLETED: Final = TaskState.COMPLETED.value
_FAILURE: Final = TaskExecutionResult.FAILURE.value
# Plain strings: comparing with an Enum member costs microseconds, times 100,000 tasks.


def task_failed(task: Task) -> bool:
    """Whether a task completed and failed (the service's `executionInfo.result`)."""
    info = task.execution_info
    return task.state == _COMPLETED and info is not None and info.result == _FAILURE


_RUNNING: Final = (TaskState.PREPARING.value, TaskState.RUNNING.value)
_FAILED_SERVER: Final = odata.and_(
    odata.eq("state", _COMPLETED), odata.eq("executionInfo/result", _FAILURE)
)

STATE_FILTERS: Final[Mapping[str, StateFilter]] = {
    f.key: f
    for f in (
        StateFilter("all", "all", None, lambda task: True),
        StateFilter(
            "active", "active", odata.eq("state", "active"), lambda task: task.state == "active"
        ),
        # Preparing tasks are on a node already: users think of them as running.
        StateFilter(
            "running", "running", odata.any_of("state", _RUNNING), lambda t: t.state in _RUNNING
        ),
        StateFilter(
            "completed",
            "completed",
            odata.eq("state", "completed"),
            lambda task: task.state == "completed",
        ),
        StateFilter(
            "failed",
            "failed",
            _FAILED_SERVER,
            task_failed,
        ),
    )
}
"""The task list's state filters, in the order of their keys (1-5)."""

_SUCCESS: Final = TaskExecutionResult.SUCCESS.value


def _task_succeeded(task: Task) -> bool:
    info = task.execution_info
    return task.state == _COMPLETED and info is not None and info.result == _SUCCESS


def _info_field(name: str) -> Callable[[Task], object]:
    """Reads a field of a task's execution info (None without one)."""

    def read(task: Task) -> object:
        info = task.execution_info
        return None if info is None else getattr(info, name)

    return read


TASK_FILTER_COLUMNS: Final[tuple[FilterColumn[Task], ...]] = (
    FilterColumn(
        "exit", "number", service_property="executionInfo/exitCode", read=_info_field("exit_code")
    ),
    FilterColumn(
        "state",
        "choice",
        service_property="state",
        read=lambda task: task.state,
        choices=(*(state.value for state in TaskState), "failed", "succeeded"),
        special={
            "failed": Choice(_FAILED_SERVER, task_failed),
            "succeeded": Choice(
                odata.and_(
                    odata.eq("state", _COMPLETED), odata.eq("executionInfo/result", _SUCCESS)
                ),
                _task_succeeded,
            ),
        },
    ),
    FilterColumn(
        "result",
        "choice",
        service_property="executionInfo/result",
        read=_info_field("result"),
        choices=tuple(result.value for result in TaskExecutionResult),
    ),
    FilterColumn(
        "retry",
        "number",
        service_property="executionInfo/retryCount",
        read=_info_field("retry_count"),
    ),
    FilterColumn("node", "text", cell="node"),
    FilterColumn("id", "text", cell="id", aliases=("task",)),
    FilterColumn("failure", "text", cell="failure", aliases=("fail",)),
)
"""What `/` can name in a task list. The service filters exit codes, states, results and
retries (the "list tasks" table of its filter docs); node, id and failure are filtered here."""


def task_row(task: Task, now: datetime) -> RowData:
    """Returns the list row of a task: state coloured, failures in the failure style.

    It runs for every task of a 100,000-task job, so the few distinct state cells and
    duration texts are cached rather than rebuilt per row.
    """
    info = task.execution_info
    failed = task_failed(task)
    exit_code = retries = None
    ran = MISSING
    if info is not None:
        exit_code, retries = info.exit_code, info.retry_count
        if info.start_time is not None:
            ran = _seconds_text(_seconds((info.end_time or now) - info.start_time))
    changed = task.state_transition_time
    node = task.node_info.node_id if task.node_info is not None else None
    cells: tuple[Cell, ...] = (
        task.id,
        _state_cell(task.state, failed),
        MISSING if exit_code is None else str(exit_code),
        str(retries or 0),
        node or MISSING,
        ran,
        MISSING if changed is None else _seconds_text(max(0, _seconds(now - changed))),
        failure_text(info.failure_info if info is not None else None),
    )
    stamp = -changed.timestamp() if changed is not None else None
    sort_values = (None, None, exit_code, retries, None, None, stamp, None)
    return RowData(task.id, cells, style=FAILED if failed else None, sort_values=sort_values)


def failure_text(failure: TaskFailureInfo | None) -> str:
    """A task's failure as the list shows it: its code, then its category
    ("FailureExitCode (usererror)"), or "-"."""
    if failure is None:
        return MISSING
    code, category = failure.code, failure.category
    if code and category:
        return f"{code} ({category})"
    return code or category or MISSING


def _seconds(delta: timedelta) -> int:
    return delta.days * 86_400 + delta.seconds


@lru_cache(maxsize=8192)
def _seconds_text(seconds: int) -> str:
    return format_duration(timedelta(seconds=seconds))


@lru_cache(maxsize=64)
def _state_cell(state: str, failed: bool) -> Content:
    return Content.styled(state or MISSING, state_style("task", state, failed=failed))
