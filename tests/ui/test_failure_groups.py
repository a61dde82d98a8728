"""Tests FailureGroups: failed tasks grouped by signature, moving as their tails arrive."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from batch_tui.batch.models.common import TaskFailureInfo
from batch_tui.batch.models.task import NodeInfo, Task, TaskExecutionInfo
from batch_tui.ui.failure_groups import FailedTask, FailureGroups, failed_task
from batch_tui.ui.failure_signatures import Signature

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def failed(task_id: str, node: str = "n1", exit_code: int = 1, minute: int = 0) -> FailedTask:
    signature = Signature(exit_code, "usererror", "FailureExitCode")
    return FailedTask(task_id, node, "pool-a", T0 + timedelta(minutes=minute), signature)


def test_a_task_from_the_service_keeps_what_triage_needs() -> None:
    info = TaskExecutionInfo(
        exit_code=137,
        result="failure",
        end_time=T0,
        failure_info=TaskFailureInfo(category="UserError", code="FailureExitCode"),
    )
    task = Task(id="t1", state="completed", execution_info=info,
                node_info=NodeInfo(node_id="tvm-1", pool_id="pool-a"))  # fmt: skip
    kept = failed_task(task)
    assert kept == FailedTask("t1", "tvm-1", "pool-a", T0,
                              Signature(137, "usererror", "FailureExitCode"))  # fmt: skip


def test_tasks_wait_in_their_exit_code_group_then_move_by_stderr() -> None:
    groups = FailureGroups()
    for index in range(4):
        assert groups.add(failed(f"t{index}", node=f"n{index % 2}", minute=index))
    [pending] = groups.groups
    assert len(pending.tasks) == 4 and pending.signature.stderr == "pending"
    groups.classify("t0", "line", "out of memory <n>")
    groups.classify("t1", "line", "out of memory <n>")
    groups.classify("t2", "missing")
    changed, gone = groups.take_changes()
    assert {len(group.tasks) for group in groups.groups} == {2, 1}
    biggest = groups.groups[0]
    assert biggest.signature.line == "out of memory <n>"
    summary = biggest.summary()
    assert summary.count == 2 and summary.first == T0 and summary.last == T0 + timedelta(minutes=1)
    assert summary.example == "t1" and summary.one_node is None  # on n0 and n1
    groups.classify("t3", "missing")
    _, gone = groups.take_changes()
    assert gone == [pending.key]  # every task read: the pending group is gone
    assert list(groups.pending()) == []


def test_a_group_on_one_node_says_so() -> None:
    groups = FailureGroups()
    for index in range(3):
        groups.add(failed(f"t{index}", node="bad-node"))
        groups.classify(f"t{index}", "line", "No space left on device")
    assert groups.groups[0].summary().one_node == "bad-node"
    lone = FailureGroups()
    lone.add(failed("t9", node="n1"))
    assert lone.groups[0].summary().one_node is None  # one task: nothing to conclude


def test_a_task_listed_again_keeps_its_tail_unless_it_failed_again() -> None:
    groups = FailureGroups()
    groups.add(failed("t1"))
    groups.classify("t1", "line", "boom")
    assert not groups.add(failed("t1"))  # the same run: no read needed
    assert groups.groups[0].signature.line == "boom"
    assert groups.add(failed("t1", minute=5))  # failed again: read again
    assert groups.groups[0].signature.stderr == "pending"


def test_discarded_and_unlisted_tasks_leave_their_groups() -> None:
    groups = FailureGroups()
    for task_id in ("a", "b", "c"):
        groups.add(failed(task_id))
    groups.discard(["a"])
    groups.keep_only({"b"})
    assert len(groups) == 1 and "b" in groups and groups.task("a") is None


@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["x", "y", "z", ""])), max_size=60))
def test_every_task_is_in_exactly_one_group(moves: list[tuple[int, str]]) -> None:
    groups = FailureGroups()
    for task_index, line in moves:
        task_id = f"t{task_index}"
        if task_id not in groups:
            node = f"n{task_index % 4}"
            groups.add(failed(task_id, node=node, exit_code=task_index % 3, minute=task_index))
        elif line:
            groups.classify(task_id, "line", line)
        else:
            groups.discard([task_id])
        groups.take_changes()
    members = [task_id for group in groups.groups for task_id in group.tasks]
    assert sorted(members) == sorted(set(members))
    assert len(members) == len(groups)
    assert sum(group.summary().count for group in groups.groups) == len(groups)
    for group in groups.groups:  # kept up to date change by change: as if counted afresh
        summary = group.summary()
        ends = [task.ended for task in group.tasks.values()]
        assert (summary.first, summary.last) == (min(ends), max(ends))
        assert group.tasks[summary.example].ended == summary.last
        assert summary.nodes == Counter(task.node for task in group.tasks.values())
