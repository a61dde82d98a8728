"""Tests the kept task listings: round trip, privacy, bounds, and damage read as nothing."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from batch_tui.batch.models import Task
from batch_tui.batch.task_snapshot import (
    TaskListSnapshot,
    file_of,
    load_task_list,
    save_task_list,
)

NOW = datetime(2026, 12, 8, 1, 0, tzinfo=timezone.utc)
URL = "https://acct.westus.batch.azure.com"


def _tasks(n: int) -> list[Task]:
    raw = [{"id": f"t{i:06d}", "state": "completed", "stateTransitionTime": "2026-12-08T00:00:00Z",
            "executionInfo": {"exitCode": i % 3, "retryCount": 0, "requeueCount": 0}}
           for i in range(n)]  # fmt: skip
    return msgspec.json.decode(msgspec.json.encode(raw), type=list[Task])


def test_a_listing_comes_back_as_it_was_saved_in_a_private_file(tmp_path: Path) -> None:
    tasks = _tasks(2_000)
    assert save_task_list(tmp_path, _snapshot("job", tasks, since=NOW))
    back = load_task_list(tmp_path, URL + "/", "job")
    assert back is not None and back.tasks == tasks and back.since == NOW
    mode = stat.S_IMODE(file_of(tmp_path, URL, "job").stat().st_mode)
    assert mode == 0o600
    assert load_task_list(tmp_path, URL, "other-job") is None


def test_a_damaged_or_foreign_file_reads_as_nothing(tmp_path: Path) -> None:
    save_task_list(tmp_path, _snapshot("job", _tasks(10)))
    path = file_of(tmp_path, URL, "job")
    path.write_bytes(path.read_bytes()[:-7])
    assert load_task_list(tmp_path, URL, "job") is None
    path.write_bytes(b"\x00garbage")
    assert load_task_list(tmp_path, URL, "job") is None


def test_only_the_most_recent_jobs_are_kept(tmp_path: Path) -> None:
    for n in range(4):
        save_task_list(tmp_path, _snapshot(f"job-{n}", _tasks(3)), max_jobs=2)
        for older, path in enumerate(sorted(tmp_path.glob("*.msgpack"), key=_mtime)):
            os.utime(path, (older, older))  # the order files are dropped in, whatever the clock
        os.utime(file_of(tmp_path, URL, f"job-{n}"), (100 + n, 100 + n))
    assert len(list(tmp_path.glob("*.msgpack"))) == 2
    assert load_task_list(tmp_path, URL, "job-3") is not None
    assert load_task_list(tmp_path, URL, "job-0") is None


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


def _snapshot(job_id: str, tasks: list[Task], since: datetime | None = None) -> TaskListSnapshot:
    return TaskListSnapshot(
        endpoint=URL, job_id=job_id, saved_at=NOW, since=since, listing_seconds=2, tasks=tasks
    )
