"""Tests output files: patterns, container mapping, upload conditions and upload failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.node.outputfiles import (
    UPLOAD_ERROR_LOG,
    UPLOAD_LOG,
    Match,
    blob_name,
    expand,
    find,
    wants_upload,
)
from batch_tui.emulator.node.storage import StorageError, blob_path, container_dir
from tests.emulator.engine_support import (
    job,
    make_emulator,
    ready_pool,
    stop,
    task,
    task_body,
    tasks,
    until,
)

# Patterns and mapping, without an engine.


@pytest.mark.parametrize(
    ("condition", "exit_code", "uploads"),
    [
        ("tasksuccess", 0, True),
        ("tasksuccess", 1, False),
        ("taskfailure", 0, False),
        ("taskfailure", 137, True),
        ("taskcompletion", 2, True),
        ("TaskCompletion", 0, True),
    ],
)
def test_upload_conditions(condition: str, exit_code: int, uploads: bool) -> None:
    item = {"uploadOptions": {"uploadCondition": condition}}
    assert wants_upload(item, exit_code) is uploads


def test_patterns_match_as_the_spec_says(tmp_path: Path) -> None:
    node = tmp_path / "node"
    task_dir = node / "workitems" / "j" / "job-1" / "t"
    wd = task_dir / "wd"
    for name in ("out/a.txt", "out/sub/b.txt", "out/.hidden.txt", "out/c.csv", "x[1].txt"):
        (wd / name).parent.mkdir(parents=True, exist_ok=True)
        (wd / name).write_text(name)
    (task_dir / "stdout.txt").write_text("out")
    (tmp_path / "secret.txt").write_text("outside the node")

    def names(pattern: str) -> list[str]:
        return [m.name for m in find(pattern, wd, node)]

    assert names("out/**/*.txt") == ["a.txt", "sub/b.txt"]  # dot files only when asked
    assert names("out/.*.txt") == [".hidden.txt"]
    assert names("out/*") == ["a.txt", "c.csv"]  # files only, no directories
    assert names("out/[ab].*") == ["a.txt"] and names("out/[!a]*") == ["c.csv"]
    assert names("x[[]1].txt") == ["x[1].txt"]  # a wildcard character escaped in brackets
    assert names("../stdout.txt") == names("../std*.txt") == ["stdout.txt"]
    env = {"AZ_BATCH_TASK_DIR": str(task_dir)}
    assert find(expand("$AZ_BATCH_TASK_DIR/stdout.txt", env), wd, node) == [
        Match(task_dir / "stdout.txt", "stdout.txt")
    ]
    assert names(str(tmp_path / "secret.txt")) == names("../../../../../../*.txt") == []
    assert names("missing/*.txt") == names("nothing.txt") == []
    assert expand("${A}/$B/$UNSET", {"A": "x", "B": "y"}) == "x/y/$UNSET"


def test_blob_names_follow_the_destination_path() -> None:
    nested = Match(Path("/n/wd/out/sub/b.txt"), "sub/b.txt")
    assert blob_name(None, nested, wildcard=False) == "b.txt"
    assert blob_name("logs/b-copy.txt", nested, wildcard=False) == "logs/b-copy.txt"
    assert blob_name("run1/", nested, wildcard=True) == "run1/sub/b.txt"
    assert blob_name(None, nested, wildcard=True) == "sub/b.txt"


def test_container_urls_map_to_local_directories(tmp_path: Path) -> None:
    containers = tmp_path / "containers"
    assert container_dir(f"file://{tmp_path}/out", containers) == tmp_path / "out"
    azurite = "http://127.0.0.1:10000/devstoreaccount1/results?sv=2024&sig=abc"
    assert container_dir(azurite, containers) == containers / "results"
    assert container_dir("https://localhost/logs", containers) == containers / "logs"
    assert container_dir("http://[::1]:8080/c1", containers) == containers / "c1"
    for bad in (
        "https://account.blob.core.windows.net/results?sig=x",  # never leaves the machine
        "file://relative/dir",
        "http://127.0.0.1:10000/",
        "http://127.0.0.1/..",
        "ftp://127.0.0.1/c",
    ):
        with pytest.raises(StorageError):
            container_dir(bad, containers)
    assert blob_path(containers / "c", "a/./b.txt") == containers / "c" / "a" / "b.txt"
    for bad_blob in ("../escape.txt", "/abs.txt", "", "a/../../b"):
        with pytest.raises(StorageError):
            blob_path(containers / "c", bad_blob)


# Through the engine, with real processes.


@pytest.fixture
async def local(local: Emulator) -> Emulator:
    """The engine's `local` emulator (`tests/fixtures/engine.py`) with a pool of one idle node."""
    await ready_pool(local, count=1)
    return local


def output(pattern: str, url: str, condition: str, path: str | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"containerUrl": url}
    if path is not None:
        container["path"] = path
    return {
        "filePattern": pattern,
        "destination": {"container": container},
        "uploadOptions": {"uploadCondition": condition},
    }


def task_dir(emu: Emulator, task_id: str) -> Path:
    root = emu.settings.data_dir
    assert root is not None
    node = str(task(emu, "j1", task_id).data["nodeInfo"]["nodeId"])
    return root / "nodes" / node / "workitems" / "j1" / "job-1" / task_id


async def finished(emu: Emulator, *task_ids: str) -> None:
    await until(emu, lambda: all(task(emu, "j1", t).data["state"] == "completed" for t in task_ids))


WRITE_OUTPUTS = "/bin/sh -c 'mkdir -p out/sub; echo a > out/a.txt; echo b > out/sub/b.txt; echo done; exit {code}'"


async def test_outputs_upload_on_their_conditions(local: Emulator, tmp_path: Path) -> None:
    success, failure = tmp_path / "success", tmp_path / "failure"
    logs_url = "http://127.0.0.1:10000/devstoreaccount1/logs"

    def outputs_of(task_id: str) -> list[dict[str, Any]]:
        return [
            output("out/**/*.txt", f"file://{success}", "tasksuccess", path=task_id),
            output("out/*.txt", f"file://{failure}", "taskfailure", path=task_id),
            output("../stdout.txt", logs_url, "taskcompletion", path=f"{task_id}/stdout.txt"),
        ]

    job(local)
    tasks(
        local,
        "j1",
        task_body("ok", WRITE_OUTPUTS.format(code=0), outputFiles=outputs_of("ok")),
        task_body("bad", WRITE_OUTPUTS.format(code=3), outputFiles=outputs_of("bad")),
    )
    await finished(local, "ok", "bad")

    assert task(local, "j1", "ok").data["executionInfo"]["result"] == "success"
    assert (success / "ok" / "a.txt").read_text() == "a\n"
    assert (success / "ok" / "sub" / "b.txt").read_text() == "b\n"
    assert not (failure / "ok").exists() and not (success / "bad").exists()
    bad = task(local, "j1", "bad").data["executionInfo"]
    assert bad["exitCode"] == 3 and bad["failureInfo"]["code"] == "FailureExitCode"
    assert sorted(p.name for p in (failure / "bad").iterdir()) == ["a.txt"]  # out/* is flat
    logs = tmp_path / "data" / "containers" / "logs"
    for task_id in ("ok", "bad"):
        assert "done" in (logs / task_id / "stdout.txt").read_text()
        assert "uploaded" in (task_dir(local, task_id) / UPLOAD_LOG).read_text()
        assert (task_dir(local, task_id) / UPLOAD_ERROR_LOG).read_text() == ""


async def test_upload_errors_fail_the_task_once_with_the_file_upload_exit_options(
    local: Emulator, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the container's directory should be")
    remote = "https://account.blob.core.windows.net/results?sig=secret"
    job(local, onTaskFailure="performexitoptionsjobaction")
    tasks(
        local,
        "j1",
        task_body(
            "remote",
            "/bin/sh -c 'echo hi > out.txt'",
            outputFiles=[output("out.txt", remote, "taskcompletion")],
            constraints={"maxTaskRetryCount": 3},
            exitConditions={"fileUploadError": {"jobAction": "none"}},
        ),
        task_body(
            "blocked",
            "/bin/sh -c 'echo hi > out.txt'",
            outputFiles=[output("out.txt", f"file://{blocker}", "tasksuccess")],
            # An exit code listed in exitCodes takes precedence over fileUploadError (spec).
            exitConditions={
                "exitCodes": [{"code": 0, "exitOptions": {"jobAction": "none"}}],
                "fileUploadError": {"jobAction": "terminate"},
            },
        ),
    )
    await finished(local, "remote", "blocked")

    remote_info = task(local, "j1", "remote").data["executionInfo"]
    assert remote_info["result"] == "failure" and remote_info["exitCode"] == 0
    assert remote_info["retryCount"] == 0  # file upload errors are not retried
    assert remote_info["failureInfo"]["code"] == "FileUploadMiscError"
    assert remote_info["failureInfo"]["category"] == "usererror"
    errors = (task_dir(local, "remote") / UPLOAD_ERROR_LOG).read_text()
    assert "out.txt" in errors and "account.blob.core.windows.net/results" in errors
    assert "secret" not in errors + str(remote_info["failureInfo"])  # the SAS token stays out
    blocked_info = task(local, "j1", "blocked").data["executionInfo"]
    assert blocked_info["failureInfo"]["category"] == "servererror"
    assert local.store.jobs["j1"].data["state"] == "active"

    # With no option of its own, an upload error is a failure: the job action is terminate.
    tasks(
        local,
        "j1",
        task_body(
            "last",
            "/bin/sh -c 'echo hi > out.txt'",
            outputFiles=[output("out.txt", remote, "taskcompletion")],
        ),  # fmt: skip
    )
    await until(local, lambda: local.store.jobs["j1"].data["state"] == "completed")
    assert local.store.jobs["j1"].data["executionInfo"]["terminateReason"] == "TaskFailed"


async def test_simulated_runs_pretend_their_uploads_succeed(tmp_path: Path) -> None:
    emu = make_emulator(tmp_path)
    try:
        await ready_pool(emu, count=1)
        job(emu)
        target = f"file://{tmp_path}/results"
        tasks(
            emu,
            "j1",
            task_body("t", "exit 0", outputFiles=[output("*.txt", target, "taskcompletion")]),
        )
        await finished(emu, "t")
        assert task(emu, "j1", "t").data["executionInfo"]["result"] == "success"
        assert not (tmp_path / "results").exists()
    finally:
        await stop(emu)
