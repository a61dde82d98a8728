"""Tests uploading a node's Batch service logs over HTTP: the files the emulated node agent wrote
as the node lived, for the time window asked, land in the container (a local directory)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from batch_tui.emulator import Emulator
from batch_tui.emulator.base.times import iso
from tests.emulator.support import ACCOUNT, Settle, add_pool, assert_error, create_job, idle

ACCOUNT_TAG = hashlib.sha256(ACCOUNT.encode()).hexdigest()[:16].upper()


async def one_node(http: httpx.AsyncClient, emulator: Emulator, settle: Settle) -> dict[str, Any]:
    """An idle node of `pool1` that ran its start task and one job task."""
    await add_pool(http, targetDedicatedNodes=1, startTask={"commandLine": "echo hi"})
    await settle(idle(emulator))
    await create_job(http)
    added = await http.post("/jobs/job1/tasks", json={"id": "t1", "commandLine": "exit 0"})
    assert added.status_code == 201
    tasks = emulator.store.tasks["job1"]
    await settle(lambda: tasks["t1"].data["state"] == "completed")
    await settle(idle(emulator))
    (node,) = (await http.get("/pools/pool1/nodes")).json()["value"]
    return dict(node)


async def upload(http: httpx.AsyncClient, node: dict[str, Any], **body: Any) -> httpx.Response:
    return await http.post(f"/pools/pool1/nodes/{node['id']}/uploadbatchservicelogs", json=body)


async def test_the_logs_land_in_the_container(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle, tmp_path: Path
) -> None:
    node = await one_node(http, emulator, settle)
    since = iso(emulator.clock.now() - timedelta(minutes=10))
    response = await upload(http, node, containerUrl=(tmp_path / "logs").as_uri(), startTime=since)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["odata.metadata"].endswith(
        "#Microsoft.Azure.Batch.Protocol.Entities.UploadBatchServiceLogsResult"
    )
    # `<account>-<16 hex>/<pool>/<node>/<request-id>`, as the live service answers (recordings).
    directory = result["virtualDirectoryName"]
    request_id = response.headers["request-id"]
    assert directory == f"{ACCOUNT}-{ACCOUNT_TAG}/pool1/{node['id']}/{request_id}"
    files = sorted(p for p in (tmp_path / "logs" / directory).rglob("*") if p.is_file())
    assert result["numberOfFilesUploaded"] == len(files) > 0
    text = "".join(p.read_text() for p in files)
    for event in ("creating", "starting", "idle", "start task", "job1", "t1", "running"):
        assert event in text, event
    assert all(re.match(r"\d{4}-\d\d-\d\dT", line) for line in text.splitlines())


async def test_only_the_files_of_the_time_window_are_uploaded(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle, tmp_path: Path
) -> None:
    node = await one_node(http, emulator, settle)
    container = (tmp_path / "logs").as_uri()
    before = emulator.clock.now() - timedelta(days=2)
    early = await upload(
        http, node, containerUrl=container, startTime=iso(before),
        endTime=iso(before + timedelta(hours=1)),
    )  # fmt: skip
    assert early.json()["numberOfFilesUploaded"] == 0
    assert not (tmp_path / "logs").exists()
    later = iso(emulator.clock.now() + timedelta(days=1))
    assert (await upload(http, node, containerUrl=container, startTime=later)).json()[
        "numberOfFilesUploaded"
    ] == 0


async def test_a_loopback_container_is_a_directory_of_the_data_dir(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    node = await one_node(http, emulator, settle)
    url = "http://127.0.0.1:10000/devstoreaccount1/nodelogs?sv=2023&sig=secret"
    since = iso(emulator.clock.now() - timedelta(hours=1))
    result = (await upload(http, node, containerUrl=url, startTime=since)).json()
    assert emulator.settings.data_dir is not None
    where = emulator.settings.data_dir / "containers" / "nodelogs" / result["virtualDirectoryName"]
    assert len([p for p in where.iterdir() if p.is_file()]) == result["numberOfFilesUploaded"] > 0


async def test_a_container_off_the_machine_is_answered_but_not_written(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    node = await one_node(http, emulator, settle)
    since = iso(emulator.clock.now() - timedelta(hours=1))
    url = "https://someaccount.blob.core.windows.net/logs?sig=secret"
    # The service answers with the files it will upload and uploads them later; an upload
    # that fails is not reported. The emulator never sends data off the machine.
    response = await upload(http, node, containerUrl=url, startTime=since)
    assert response.json()["numberOfFilesUploaded"] > 0
    # The failure is in the node agent's log, which the next upload carries.
    local = await upload(http, node, containerUrl="http://localhost/again", startTime=since)
    assert local.status_code == 200
    assert emulator.settings.data_dir is not None
    again = emulator.settings.data_dir / "containers" / "again"
    text = "".join(p.read_text() for p in again.rglob("*") if p.is_file())
    assert "someaccount.blob.core.windows.net/logs" in text and "secret" not in text


async def test_the_request_is_validated(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    node = await one_node(http, emulator, settle)
    missing = await upload(http, node, containerUrl="file:///tmp/x")
    assert_error(missing, 400, "MissingRequiredProperty")
    url = "/pools/pool1/nodes/tvmps_missing/uploadbatchservicelogs"
    body = {"containerUrl": "file:///tmp/x", "startTime": "2024-10-01T00:00:00Z"}
    assert_error(await http.post(url, json=body), 404, "NodeNotFound")
