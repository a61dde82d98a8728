"""Tests resource files: sources, modes and paths, and the failures the service reports."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.node import resourcefiles
from batch_tui.emulator.node.executors import Outcome, RunSpec
from batch_tui.emulator.node.executors.local import LocalExecutor
from batch_tui.emulator.node.resourcefiles import fetch_all
from tests.emulator.engine_support import (
    job,
    nodes,
    pool,
    ready_pool,
    task,
    task_body,
    tasks,
    until,
)

FILES = {"/data.txt": b"downloaded over http\n", "/big": b"x" * 100}


class _Handler(BaseHTTPRequestHandler):
    release: threading.Event

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/slow":
            self.release.wait(10)  # holds the response until the test is over
        if path == "/away":
            self.send_response(302)
            self.send_header("Location", "http://example.com/data.txt")
            self.end_headers()
            return
        status = {"/forbidden": 403, "/broken": 500}.get(path, 200 if path in FILES else 404)
        body = FILES.get(path, b"")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (its name)
        return None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that timed out and left is expected here


@pytest.fixture
def server() -> Iterator[str]:
    """A loopback HTTP server with a few files, a slow path, a redirect and error codes."""
    release = threading.Event()
    handler = type("Handler", (_Handler,), {"release": release})
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def failure(items: list[dict[str, Any]], tmp_path: Path) -> dict[str, Any]:
    wd = tmp_path / "wd"
    wd.mkdir(exist_ok=True)
    info = fetch_all(items, wd, tmp_path / "containers")
    assert info is not None
    return info


# Failures, without an engine.


@pytest.mark.parametrize(
    ("path", "category", "code"),
    [
        ("/missing", "usererror", "BlobNotFound"),
        ("/forbidden", "usererror", "BlobAccessDenied"),
        ("/away", "usererror", "BlobAccessDenied"),  # a redirect off this machine
        ("/broken", "servererror", "BlobDownloadMiscError"),
    ],
)
def test_http_failures_map_to_the_services_codes(
    server: str, tmp_path: Path, path: str, category: str, code: str
) -> None:
    info = failure([{"httpUrl": f"{server}{path}?sig=secret", "filePath": "f.txt"}], tmp_path)
    assert (info["category"], info["code"]) == (category, code)
    assert info["details"][0] == {"name": "FilePath", "value": "f.txt"}
    assert "secret" not in str(info)
    assert list((tmp_path / "wd").iterdir()) == []


def test_downloads_are_bounded_in_size_and_time(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resourcefiles, "MAX_DOWNLOAD_BYTES", 10)
    big = failure([{"httpUrl": f"{server}/big", "filePath": "big"}], tmp_path)
    assert big["code"] == "BlobDownloadMiscError" and "larger than 10 bytes" in str(big)
    assert list((tmp_path / "wd").iterdir()) == []  # no partial file left behind
    monkeypatch.setattr(resourcefiles, "DOWNLOAD_TIMEOUT", 0.2)
    slow = failure([{"httpUrl": f"{server}/slow", "filePath": "slow"}], tmp_path)
    assert (slow["category"], slow["code"]) == ("servererror", "BlobDownloadTimedOut")


def test_sources_and_paths_that_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "wd").mkdir()
    (tmp_path / "wd" / "link").symlink_to(outside)
    source = tmp_path / "source.txt"
    source.write_text("local")
    cases = [
        ({"httpUrl": "https://example.com/f?sig=secret", "filePath": "f"}, "BlobAccessDenied"),
        ({"httpUrl": "https://example.com/f?sig=secret"}, "ResourceFileCreateFailed"),
        ({"httpUrl": f"file://{source}", "filePath": "../escape.txt"}, "ResourceFileCreateFailed"),
        ({"httpUrl": f"file://{source}", "filePath": "link/x.txt"}, "ResourceFileCreateFailed"),
        (
            {"httpUrl": f"file://{source}", "filePath": "m", "fileMode": "rwx"},
            "ResourceFileCreateFailed",
        ),
        ({"httpUrl": f"file://{tmp_path}/nothing", "filePath": "f"}, "BlobNotFound"),
        ({"storageContainerUrl": f"file://{tmp_path}/no-container"}, "BlobNotFound"),
        (
            {"storageContainerUrl": "https://acct.blob.core.windows.net/c?sig=secret"},
            "BlobAccessDenied",
        ),
        ({"filePath": "f"}, "ResourceFileCreateFailed"),
    ]
    for item, code in cases:
        info = failure([item], tmp_path)
        assert info["code"] == code, item
        assert "secret" not in str(info)
    assert list(outside.iterdir()) == []


# Through the engine, with real processes.


def wd_of(emu: Emulator, task_id: str) -> Path:
    assert emu.settings.data_dir is not None
    node = str(task(emu, "j1", task_id).data["nodeInfo"]["nodeId"])
    return emu.settings.data_dir / "nodes" / node / "workitems" / "j1" / "job-1" / task_id / "wd"


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_resource_files_are_in_place_before_the_command_runs(
    local: Emulator, server: str, tmp_path: Path
) -> None:
    tool = tmp_path / "tool.sh"
    tool.write_text("#!/bin/sh\necho tool ran\n")
    plain = tmp_path / "plain.txt"
    plain.write_text("plain path\n")
    blobs = tmp_path / "blobs"
    for name in ("inputs/a.txt", "inputs/deep/b.txt", "other/c.txt"):
        (blobs / name).parent.mkdir(parents=True, exist_ok=True)
        (blobs / name).write_text(f"blob {name}\n")
    assert local.settings.data_dir is not None
    shared = local.settings.data_dir / "containers" / "shared"
    shared.mkdir(parents=True)
    (shared / "auto.txt").write_text("auto storage\n")
    files = [
        {"httpUrl": f"{server}/data.txt", "filePath": "in/data.txt", "fileMode": "0644"},
        {"httpUrl": f"file://{tool}", "filePath": "tool.sh", "fileMode": "755"},
        {"httpUrl": str(plain), "filePath": "plain.txt"},
        {"storageContainerUrl": f"file://{blobs}", "blobPrefix": "inputs/", "filePath": "blobs"},
        {"autoStorageContainerName": "shared"},
    ]
    await ready_pool(local, count=1)
    job(local)
    command = "/bin/sh -c './tool.sh && cat in/data.txt plain.txt auto.txt blobs/inputs/deep/b.txt'"
    tasks(local, "j1", task_body("t1", command, resourceFiles=files))
    await until(local, lambda: task(local, "j1", "t1").data["state"] == "completed")

    assert task(local, "j1", "t1").data["executionInfo"]["result"] == "success"
    wd = wd_of(local, "t1")
    assert (wd.parent / "stdout.txt").read_text() == (
        "tool ran\ndownloaded over http\nplain path\nauto storage\nblob inputs/deep/b.txt\n"
    )
    assert (mode(wd / "in" / "data.txt"), mode(wd / "tool.sh")) == (0o644, 0o755)
    assert mode(wd / "plain.txt") == 0o770  # the spec's default on Linux
    assert sorted(
        p.relative_to(wd / "blobs").as_posix() for p in (wd / "blobs").rglob("*.txt")
    ) == [
        "inputs/a.txt",
        "inputs/deep/b.txt",
    ]


async def test_a_failed_download_fails_the_task_before_it_runs(
    local: Emulator, server: str
) -> None:
    await ready_pool(local, count=1)
    job(local, usesTaskDependencies=True)
    tasks(
        local,
        "j1",
        task_body(
            "t1",
            "/bin/sh -c 'echo never'",
            resourceFiles=[{"httpUrl": f"{server}/missing", "filePath": "input.txt"}],
            constraints={"maxTaskRetryCount": 2},
            exitConditions={"preProcessingError": {"dependencyAction": "satisfy"}},
        ),
        task_body("after", "/bin/sh -c 'exit 0'", dependsOn={"taskIds": ["t1"]}),
    )
    await until(local, lambda: task(local, "j1", "after").data["state"] == "completed")

    info = task(local, "j1", "t1").data["executionInfo"]
    assert info["result"] == "failure" and "exitCode" not in info
    assert info["retryCount"] == 0  # pre-processing errors are not retried
    assert (info["failureInfo"]["category"], info["failureInfo"]["code"]) == (
        "usererror",
        "BlobNotFound",
    )
    assert not (wd_of(local, "t1").parent / "stdout.txt").exists()  # the command never ran


async def test_start_and_preparation_tasks_get_their_resource_files(
    local: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "setup.txt"
    source.write_text("prepared\n")
    resource = [{"httpUrl": f"file://{source}", "filePath": "setup.txt"}]
    start = {"commandLine": "/bin/sh -c 'cat setup.txt'", "resourceFiles": resource}
    await ready_pool(local, count=1, startTask=start)
    node = nodes(local)[0]
    assert node.data["startTaskInfo"]["result"] == "success"
    job(local, jobPreparationTask={"commandLine": "/bin/sh -c 'exit 0'", "resourceFiles": resource})
    command = "/bin/sh -c 'cat \"$AZ_BATCH_JOB_PREP_WORKING_DIR/setup.txt\"'"
    tasks(local, "j1", task_body("t1", command))
    await until(local, lambda: task(local, "j1", "t1").data["state"] == "completed")
    assert (wd_of(local, "t1").parent / "stdout.txt").read_text() == "prepared\n"

    # A start task whose resource file cannot be fetched fails the node that waits for it.
    broken = {**start, "resourceFiles": [{"httpUrl": f"file://{tmp_path}/gone", "filePath": "x"}]}
    pool(local, "p2", 1, startTask=broken)
    await until(local, lambda: [n.data["state"] for n in nodes(local, "p2")] == ["starttaskfailed"])
    failed = nodes(local, "p2")[0]
    info = failed.data["startTaskInfo"]
    assert info["failureInfo"]["code"] == "BlobNotFound" and "exitCode" not in info
    assert info["retryCount"] == 0
    assert failed.data["errors"][0]["code"] == "BlobNotFound"  # the node says why


async def test_a_run_killed_while_it_downloads_never_starts(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The abandoned download thread gives up soon, so the event loop can close without waiting.
    monkeypatch.setattr(resourcefiles, "DOWNLOAD_TIMEOUT", 0.3)
    executor = LocalExecutor(tmp_path)
    executor.node_created("node")
    outcomes: list[Outcome] = []
    spec = RunSpec(
        node_id="node",
        pool_id="p",
        task_dir="workitems/j/job-1/t",
        command_line="/bin/sh -c 'echo ran > ran.txt'",
        kind="task",
        resource_files=[{"httpUrl": f"{server}/slow", "filePath": "slow.bin"}],
    )
    handle = await executor.launch(spec, outcomes.append)
    await asyncio.sleep(0)  # let the download begin
    handle.kill()
    await asyncio.wait_for(executor.shutdown(), 5)
    assert outcomes == []
    assert not (
        tmp_path / "nodes" / "node" / "workitems" / "j" / "job-1" / "t" / "wd" / "ran.txt"
    ).exists()
    assert os.listdir(tmp_path / "nodes" / "node" / "workitems" / "j" / "job-1" / "t" / "wd") == []


@pytest.mark.parametrize("name", ["inputs\n", "..", "", "in puts"])
def test_a_container_name_with_a_newline_or_dots_maps_nowhere(tmp_path: Path, name: str) -> None:
    from batch_tui.emulator.node.storage import StorageError, named_container

    assert named_container(tmp_path, "inputs") == tmp_path / "inputs"
    with pytest.raises(StorageError):
        named_container(tmp_path, name)


async def test_every_instance_gets_the_common_resource_files(
    local: Emulator, tmp_path: Path
) -> None:
    """`commonResourceFiles` land in each instance's task directory (one above `wd`); the
    task's own `resourceFiles` only in the primary's `wd`."""
    common, own = tmp_path / "common.txt", tmp_path / "own.txt"
    common.write_text("for everyone\n")
    own.write_text("primary only\n")
    await ready_pool(local, count=2)
    job(local)
    settings = {
        "numberOfInstances": 2,
        "coordinationCommandLine": "/bin/sh -c 'cat ../common.txt; ls'",
        "commonResourceFiles": [{"httpUrl": f"file://{common}", "filePath": "common.txt"}],
    }
    command = "/bin/sh -c 'sleep 0.5; cat ../common.txt own.txt'"
    own_files = [{"httpUrl": f"file://{own}", "filePath": "own.txt"}]
    tasks(
        local,
        "j1",
        task_body("mpi", command, multiInstanceSettings=settings, resourceFiles=own_files),
    )
    await until(local, lambda: task(local, "j1", "mpi").data["state"] == "completed")

    record = task(local, "j1", "mpi")
    assert record.data["executionInfo"]["result"] == "success"
    primary = wd_of(local, "mpi")
    assert (primary.parent / "stdout.txt").read_text() == "for everyone\nprimary only\n"
    (subtask,) = local.engine.subtasks(record)
    assert subtask["exitCode"] == 0
    helper = local.store.find_node(subtask["nodeInfo"]["nodeId"])
    assert helper is not None
    out = b"".join(
        local.engine.node_files(helper).read("workitems/j1/job-1/mpi/1/stdout.txt", 0, None)
    )
    assert out == b"for everyone\n"  # and an empty `wd`: no own.txt on the subtask's node


async def test_a_common_resource_file_that_cannot_be_fetched_fails_the_task(
    local: Emulator, tmp_path: Path
) -> None:
    await ready_pool(local, count=2)
    job(local)
    settings = {
        "numberOfInstances": 2,
        "coordinationCommandLine": "/bin/sh -c 'exit 0'",
        "commonResourceFiles": [{"httpUrl": f"file://{tmp_path}/gone", "filePath": "x"}],
    }
    tasks(local, "j1", task_body("mpi", "/bin/sh -c 'echo never'", multiInstanceSettings=settings))
    await until(local, lambda: task(local, "j1", "mpi").data["state"] == "completed")

    info = task(local, "j1", "mpi").data["executionInfo"]
    assert info["result"] == "failure" and "exitCode" not in info
    assert info["failureInfo"]["code"] == "BlobNotFound"
    assert not (wd_of(local, "mpi").parent / "stdout.txt").exists()  # the command never ran
