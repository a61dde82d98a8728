"""Tests the promise of `--data-dir` the hard way: SIGKILL in a burst of task adds, then a restart.

The emulator runs as a user runs it (`python -m batch_tui emulator`), several clients add task
collections to it at once, and it is killed with SIGKILL while their requests are in flight.
Restarted on the same data dir, it must have every task whose add was answered with success
(tasks whose answer was lost in the kill may be there too, but nothing else).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from batch_tui.emulator.node.executors.leftovers import leftover_pids
from tests.emulator.shared_key import SharedKeyAuth
from tests.emulator.support import ACCOUNT, API_VERSION, KEY, POOL_BODY
from tests.polling import until

CLIENTS = 6
BATCH = 100
KILL_AFTER = 3000
"""Acknowledged tasks after which the emulator is killed (the clients are still adding)."""
STARTUP_SECONDS = 60.0


async def _banner(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    url = ""
    while line := await proc.stdout.readline():
        text = line.decode()
        if "listening on " in text:
            url = text.split("listening on ", 1)[1].strip()
        if text.startswith("Press Ctrl-C"):
            return url
    raise AssertionError("the emulator exited before it served")


async def _serving(url: str) -> None:
    """Waits until the emulator accepts connections: the banner comes before the state is
    loaded and the socket listens."""
    async with client(url) as http:

        async def answers() -> bool:
            try:
                await http.get("/pools")
            except httpx.ConnectError:
                return False
            return True

        await until(answers, seconds=STARTUP_SECONDS, every=0.05)


@dataclass
class Running:
    proc: asyncio.subprocess.Process
    url: str


@asynccontextmanager
async def emulator(
    data_dir: Path, log: Path, executor: str = "simulated"
) -> AsyncIterator[Running]:
    """Runs the emulator on `data_dir` until the block ends (or it is killed)."""
    with log.open("ab") as errors:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "batch_tui", "emulator", "--data-dir", str(data_dir),
            "--port", "0", "--key", KEY, "--account", ACCOUNT, "--executor", executor,
            stdout=asyncio.subprocess.PIPE, stderr=errors,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        url = await asyncio.wait_for(_banner(proc), STARTUP_SECONDS)
        await asyncio.wait_for(_serving(url), STARTUP_SECONDS)
        yield Running(proc, url)
    finally:
        if proc.returncode is None:
            proc.terminate()  # a clean stop: the emulator ends its runs
            try:
                await asyncio.wait_for(proc.wait(), STARTUP_SECONDS)
            except asyncio.TimeoutError:
                proc.kill()
        await asyncio.wait_for(proc.wait(), STARTUP_SECONDS)


def client(url: str) -> httpx.AsyncClient:
    auth = SharedKeyAuth(ACCOUNT, KEY, API_VERSION)
    return httpx.AsyncClient(base_url=url, auth=auth, timeout=30.0)


async def add_until_gone(url: str, number: int, sent: set[str], acked: set[str]) -> None:
    """Adds collections of tasks until the emulator stops answering."""
    async with client(url) as http:
        for batch in range(10_000):
            ids = [f"c{number}-{batch}-{i}" for i in range(BATCH)]
            sent.update(ids)
            body = {"value": [{"id": task_id, "commandLine": "echo hi"} for task_id in ids]}
            try:
                response = await http.post("/jobs/job1/addtaskcollection", json=body)
            except httpx.TransportError:
                return  # killed: this request's answer is lost
            assert response.status_code == 200, response.text
            results = response.json()["value"]
            acked.update(r["taskId"] for r in results if r["status"] == "success")


async def task_ids(http: httpx.AsyncClient) -> set[str]:
    ids: set[str] = set()
    url: str | None = "/jobs/job1/tasks?$select=id&maxresults=1000"
    for _ in range(1000):
        if url is None:
            return ids
        response = await http.get(url)
        assert response.status_code == 200, response.text
        ids.update(item["id"] for item in response.json()["value"])
        url = response.json().get("odata.nextLink")
    raise AssertionError("the task list did not end")


async def test_every_acknowledged_task_survives_a_sigkill(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "emulator.log"
    sent: set[str] = set()
    acked: set[str] = set()
    async with emulator(data, log) as running:
        url = running.url
        async with client(url) as http:
            assert (await http.post("/pools", json=POOL_BODY)).status_code == 201
            job = {"id": "job1", "poolInfo": {"poolId": "pool1"}}
            assert (await http.post("/jobs", json=job)).status_code == 201
        adders = [asyncio.create_task(add_until_gone(url, n, sent, acked)) for n in range(CLIENTS)]
        await until(lambda: len(acked) >= KILL_AFTER or any(a.done() for a in adders), seconds=120)
        running.proc.kill()  # SIGKILL, mid-burst: every client has a request on its way
        await asyncio.wait_for(asyncio.gather(*adders), STARTUP_SECONDS)
    assert len(acked) >= KILL_AFTER, log.read_text()
    async with emulator(data, log) as running, client(running.url) as http:
        assert (await http.get("/pools/pool1")).status_code == 200
        assert (await http.get("/jobs/job1")).status_code == 200
        found = await task_ids(http)
    assert acked <= found, f"{len(acked - found)} acknowledged tasks were lost"
    assert found <= sent  # and nothing that was never sent
    assert "Traceback" not in log.read_text()


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, killed but not yet reaped by anyone, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def task_state(http: httpx.AsyncClient, task_id: str) -> dict[str, object]:
    response = await http.get(f"/jobs/job1/tasks/{task_id}")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds processes in /proc")
async def test_a_restart_ends_the_task_processes_a_sigkill_left_running(tmp_path: Path) -> None:
    """SIGKILL leaves a local run's processes going; the emulator that takes back the data
    dir ends them before it runs the requeued task again."""
    data, log = tmp_path / "data", tmp_path / "emulator.log"
    nodes = data / "nodes"
    try:
        async with emulator(data, log, executor="local") as running, client(running.url) as http:
            assert (await http.post("/pools", json=POOL_BODY)).status_code == 201
            job = {"id": "job1", "poolInfo": {"poolId": "pool1"}}
            assert (await http.post("/jobs", json=job)).status_code == 201
            task = {"id": "long", "commandLine": "/bin/sh -c 'sleep 600; echo never'"}
            assert (await http.post("/jobs/job1/tasks", json=task)).status_code == 201

            async def started() -> bool:
                return (await task_state(http, "long"))["state"] == "running" and bool(
                    leftover_pids(nodes)
                )

            await until(started, seconds=STARTUP_SECONDS, every=0.1)
            await until(lambda: len(leftover_pids(nodes)) >= 2, seconds=10, every=0.05)  # sh, sleep
            left = set(leftover_pids(nodes))
            running.proc.kill()
        assert all(alive(pid) for pid in left), "the kill took the task's processes with it"
        async with emulator(data, log, executor="local") as running, client(running.url) as http:
            await until(lambda: not any(alive(pid) for pid in left), seconds=STARTUP_SECONDS)

            async def rerun() -> bool:
                state = await task_state(http, "long")
                return state["state"] == "running" and bool(set(leftover_pids(nodes)) - left)

            await until(rerun, seconds=STARTUP_SECONDS, every=0.1)
            again = set(leftover_pids(nodes)) - left
        assert not any(alive(pid) for pid in again), "a clean stop ends the runs"
        assert "Traceback" not in log.read_text()
        assert "left running by an earlier emulator" in log.read_text()
    finally:  # a failing run leaves no process behind
        for pid in leftover_pids(nodes):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
