"""Tests a full disk: a write that cannot be saved is answered 5xx, never 2xx, and reads go on.

The data dir is on a 2 MiB tmpfs that the test mounts (it needs root and a `mount` that may
mount one: it runs only when asked for, `-m fulldisk`, and elsewhere fails saying why). A filler file takes part of the disk, so the
test can give space back: the changes that could not be saved stay pending and are saved by
the first write that can be.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from batch_tui.emulator import Emulator, build_emulator, create_app
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings
from tests.emulator.shared_key import SharedKeyAuth
from tests.emulator.support import ACCOUNT, API_VERSION, BASE_URL, KEY, POOL_BODY, fast_timings

pytestmark = pytest.mark.fulldisk

DISK = "2m"
FILLER = 512 * 1024
"""Bytes of the disk the test takes first and gives back once it is full."""
PADDING = "x" * 2000
"""Makes each task about 2.3 KB saved: 100 of them fill a tenth of the disk."""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, unmounted after the test. Mounting one needs root, so these tests run
    only when asked for (`-m fulldisk`, as .ci/run does), and fail, saying why, without it."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.fail("mounting a tmpfs needs root and mount(8)")
    command = ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def make(data_dir: Path) -> Emulator:
    settings = EmulatorSettings(account=ACCOUNT, key=KEY, executor="simulated", data_dir=data_dir,
                                base_url=BASE_URL, timings=fast_timings())  # fmt: skip
    emu = build_emulator(settings, ManualClock())
    assert emu.persistence is not None
    emu.persistence.threaded = True  # as served: writes in a worker thread
    return emu


def client(emu: Emulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(emu)),
                             base_url=BASE_URL, auth=SharedKeyAuth(ACCOUNT, KEY, API_VERSION))  # fmt: skip


def collection(batch: int) -> list[dict[str, str]]:
    return [{"id": f"b{batch}-{i}", "commandLine": f"echo {PADDING}"} for i in range(100)]


async def listed_tasks(http: httpx.AsyncClient) -> set[str]:
    ids: set[str] = set()
    url: str | None = "/jobs/job1/tasks?$select=id"
    while url is not None:
        response = await http.get(url)
        assert response.status_code == 200, response.text
        ids.update(task["id"] for task in response.json()["value"])
        url = response.json().get("odata.nextLink")
    return ids


async def test_a_full_disk_fails_writes_with_500_and_reads_go_on(small_disk: Path) -> None:
    (small_disk / "filler").write_bytes(b"\0" * FILLER)
    emu = make(small_disk / "data")
    acked: set[str] = set()
    async with client(emu) as http:
        assert (
            await http.post("/pools", json={**POOL_BODY, "targetDedicatedNodes": 0})
        ).status_code == 201
        assert (
            await http.post("/jobs", json={"id": "job1", "poolInfo": {"poolId": "pool1"}})
        ).status_code == 201
        for batch in range(40):  # the disk holds about 6
            tasks = collection(batch)
            response = await http.post("/jobs/job1/addtaskcollection", json={"value": tasks})
            if response.status_code != 200:
                break
            assert {r["status"] for r in response.json()["value"]} == {"success"}
            acked.update(task["id"] for task in tasks)
        else:
            pytest.fail("the disk never filled")
        assert response.status_code == 500 and response.json()["code"] == "InternalError"
        unsaved = {task["id"] for task in tasks}
        assert acked, "nothing was saved before the disk filled"

        # Reads go on, from memory; writes go on failing, never answered 2xx.
        assert (await http.get("/jobs/job1")).status_code == 200
        assert acked | unsaved <= await listed_tasks(http)
        more = await http.post("/jobs/job1/tasks", json={"id": "more", "commandLine": "echo"})
        assert more.status_code == 500
        patch = await http.patch("/jobs/job1", json={"priority": 7})
        assert patch.status_code == 500

        (small_disk / "filler").unlink()  # space again: the next write saves what was pending
        after = await http.post("/jobs/job1/tasks", json={"id": "after", "commandLine": "echo"})
        assert after.status_code == 201, after.text
    await emu.stop()

    again = make(small_disk / "data")
    saved = set(again.store.job_tasks("job1"))
    assert acked <= saved  # every acknowledged task
    assert unsaved | {"more", "after"} <= saved  # and what was pending, saved with "after"
    assert again.store.jobs["job1"].data["priority"] == 7
