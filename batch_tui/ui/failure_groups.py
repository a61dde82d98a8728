"""Provides FailureGroups: a job's failed tasks grouped by signature, as their tails arrive (pure).

A failed task joins a group as soon as it is listed, under its exit code and failure code
with its stderr "pending"; when the tail of its `stderr.txt` has been read it moves to the
group of its last line (`classify`). So the groups are on screen at once and sharpen as the
tails come in. Each group knows its count, the first and last time one of its tasks ended,
the nodes they ran on (all on one node: a bad node) and an example task.

Nothing here imports Textual or reads anything: the screen feeds it (`screens/failures.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from batch_tui.batch.models.task import Task
from batch_tui.ui.failure_signatures import Signature, StderrKind

ONE_NODE_MINIMUM: Final = 2
"""Tasks a group needs before "one node" means something (one task is always on one node)."""


@dataclass(frozen=True, slots=True)
class FailedTask:
    """What triage keeps of a failed task (10,000 of them: no more than this).

    Attributes:
        id: The task id.
        node: The node it last ran on ("" if none: terminated before it ran).
        pool: The node's pool ("" if none).
        ended: When it ended (`executionInfo.endTime`, else its state change).
        failure: Its signature before its stderr is read.
    """

    id: str
    node: str
    pool: str
    ended: datetime | None
    failure: Signature


def failed_task(task: Task) -> FailedTask:
    """What triage keeps of a failed task from the service."""
    info = task.execution_info
    exit_code = info.exit_code if info is not None else None
    failure = info.failure_info if info is not None else None
    category = (failure.category or "") if failure is not None else ""
    code = (failure.code or "") if failure is not None else ""
    node = task.node_info
    ended = info.end_time if info is not None and info.end_time else task.state_transition_time
    return FailedTask(
        id=task.id,
        node=(node.node_id or "") if node is not None else "",
        pool=(node.pool_id or "") if node is not None else "",
        ended=ended,
        failure=Signature(exit_code, category.lower(), code),
    )


@dataclass(frozen=True)
class GroupSummary:
    """What a group shows: counted from its tasks when it last changed."""

    count: int
    first: datetime | None
    last: datetime | None
    nodes: Counter[str]
    """Tasks per node id ("" for none); the group's own, read it before the group changes."""
    example: str
    """A task id of the group: the one that ended last."""

    @property
    def one_node(self) -> str | None:
        """The node, when every task of a group of several ran on the same one."""
        if self.count < ONE_NODE_MINIMUM or len(self.nodes) != 1:
            return None
        node = next(iter(self.nodes))
        return node or None


class FailureGroup:
    """The failed tasks of one signature.

    Its count and nodes follow each change; its first and last times and its example are
    counted again only when a task that held one of them leaves (the group of tasks whose
    stderr is being read loses thousands of tasks, a few at a time, while it is on screen).
    """

    def __init__(self, signature: Signature) -> None:
        self.signature = signature
        self.tasks: dict[str, FailedTask] = {}
        """By task id, in the order they joined."""
        self.nodes: Counter[str] = Counter()
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._example = ""
        self._stale = False

    @property
    def key(self) -> str:
        return self.signature.key

    def add(self, task: FailedTask) -> None:
        if task.id in self.tasks:
            self.remove(task.id)
        self.tasks[task.id] = task
        self.nodes[task.node] += 1
        if self._stale:
            return
        ended = task.ended
        if not self._example:
            self._example = task.id
        if ended is None:
            return
        if self._first is None or ended < self._first:
            self._first = ended
        if self._last is None or ended > self._last:
            self._last, self._example = ended, task.id

    def remove(self, task_id: str) -> None:
        task = self.tasks.pop(task_id, None)
        if task is None:
            return
        self.nodes[task.node] -= 1
        if self.nodes[task.node] <= 0:
            del self.nodes[task.node]
        if task_id == self._example or task.ended in (self._first, self._last):
            self._stale = True

    def summary(self) -> GroupSummary:
        """Its count, times, nodes and example."""
        if self._stale:
            self._first, self._last, self._example = _extremes(self.tasks.values())
            self._stale = False
        return GroupSummary(len(self.tasks), self._first, self._last, self.nodes, self._example)


def _extremes(tasks: Iterable[FailedTask]) -> tuple[datetime | None, datetime | None, str]:
    """The first and last end times of tasks, and the task that ended last (else the first)."""
    first: datetime | None = None
    last: datetime | None = None
    example = ""
    for task in tasks:
        ended = task.ended
        if not example:
            example = task.id
        if ended is None:
            continue
        if first is None or ended < first:
            first = ended
        if last is None or ended > last:
            last, example = ended, task.id
    return first, last, example


class FailureGroups:
    """A job's failed tasks by signature; each task is in exactly one group."""

    def __init__(self) -> None:
        self._groups: dict[str, FailureGroup] = {}
        self._task_group: dict[str, str] = {}
        """Task id -> the key of its group."""
        self._stderr: dict[str, tuple[StderrKind, str]] = {}
        """What is known of each task's stderr, kept when the task is listed again."""
        self._changed: set[str] = set()
        self._gone: set[str] = set()

    def __len__(self) -> int:
        """The number of failed tasks."""
        return len(self._task_group)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._task_group

    @property
    def groups(self) -> list[FailureGroup]:
        """The non-empty groups, biggest first."""
        live = [group for group in self._groups.values() if group.tasks]
        return sorted(live, key=lambda group: (-len(group.tasks), group.key))

    def group(self, key: str) -> FailureGroup | None:
        """The group with this key, or None."""
        group = self._groups.get(key)
        return group if group is not None and group.tasks else None

    def task(self, task_id: str) -> FailedTask | None:
        """A failed task by id."""
        key = self._task_group.get(task_id)
        return None if key is None else self._groups[key].tasks.get(task_id)

    def pending(self) -> Iterator[str]:
        """The ids of the tasks whose stderr is not known yet."""
        return (task_id for task_id in self._task_group if task_id not in self._stderr)

    def add(self, task: FailedTask) -> bool:
        """Adds (or updates) a failed task; returns whether its stderr is still to be read.

        A task listed again after it failed again (reactivated, failed once more) has a new
        end time: its stderr is read again.
        """
        known = self.task(task.id)
        if known is not None and known.ended != task.ended:
            self._stderr.pop(task.id, None)
        stderr = self._stderr.get(task.id)
        signature = task.failure if stderr is None else task.failure.with_stderr(*stderr)
        self._place(task, signature)
        return stderr is None

    def classify(self, task_id: str, kind: StderrKind, line: str = "") -> None:
        """Moves a task to the group of its stderr, now read (a task no longer failed: kept
        for if it is listed again, nothing moves)."""
        self._stderr[task_id] = (kind, line)
        task = self.task(task_id)
        if task is not None:
            self._place(task, task.failure.with_stderr(kind, line))

    def discard(self, task_ids: Iterable[str]) -> None:
        """Drops tasks that are no longer failed (reactivated, deleted)."""
        for task_id in task_ids:
            key = self._task_group.pop(task_id, None)
            self._stderr.pop(task_id, None)
            if key is not None:
                self._groups[key].remove(task_id)
                self._touch(key)

    def keep_only(self, task_ids: set[str]) -> None:
        """Drops every task not in `task_ids` (after a full listing)."""
        self.discard([task_id for task_id in self._task_group if task_id not in task_ids])

    def _place(self, task: FailedTask, signature: Signature) -> None:
        key = signature.key
        old = self._task_group.get(task.id)
        if old is not None and old != key:
            self._groups[old].remove(task.id)
            self._touch(old)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = FailureGroup(signature)
        group.add(task)
        self._task_group[task.id] = key
        self._touch(key)

    def _touch(self, key: str) -> None:
        if self._groups[key].tasks:
            self._changed.add(key)
            self._gone.discard(key)
        else:
            self._gone.add(key)
            self._changed.discard(key)

    def take_changes(self) -> tuple[list[FailureGroup], list[str]]:
        """The groups that changed and the keys of those that emptied since the last call."""
        changed = [self._groups[key] for key in self._changed if self._groups[key].tasks]
        gone = list(self._gone)
        for key in gone:
            self._groups.pop(key, None)
        self._changed, self._gone = set(), set()
        return changed, gone
