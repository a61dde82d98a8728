"""Tests `--data-dir` persistence in process: round trips, requeues, torn journals, compaction."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from batch_tui.emulator import (
    Emulator,
    build_emulator,
    create_app,
    persistence,
    statedisk,
    statefiles,
)
from batch_tui.emulator.base.clock import Clock, ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.ops.preemption import preempt
from batch_tui.emulator.state.store import Store
from tests.emulator.conftest import (
    ACCOUNT,
    API_VERSION,
    BASE_URL,
    KEY,
    POOL_BODY,
    SharedKeyAuth,
    fast_timings,
)
from tests.polling import until

Snapshot = dict[tuple[str, ...], bytes]


def make(
    data_dir: Path | None, clock: Clock | None = None, executor: str = "simulated"
) -> Emulator:
    settings = EmulatorSettings(
        account=ACCOUNT,
        key=KEY,
        executor=executor,
        data_dir=data_dir,
        base_url=BASE_URL,
        timings=fast_timings(),
    )
    return build_emulator(settings, clock or ManualClock())


def later(minutes: int) -> ManualClock:
    """A manual clock further on than the previous run's (time moves on across a restart)."""
    clock = ManualClock()
    clock.advance(minutes * 60)
    return clock


@asynccontextmanager
async def serving(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(emu)),
        base_url=BASE_URL,
        auth=SharedKeyAuth(ACCOUNT, KEY, API_VERSION),
    ) as http:
        yield http


async def settle(emu: Emulator, condition: Callable[[], bool]) -> None:
    """Advances the manual clock and ticks the engine until `condition` holds (bounded)."""
    for _ in range(2000):
        if condition():
            return
        if isinstance(emu.clock, ManualClock):
            emu.clock.advance(0.05)
        await emu.engine.tick()
    raise AssertionError("the emulator did not reach the expected state")


def states(emu: Emulator, job: str) -> dict[str, str]:
    return {t.id: t.data["state"] for t in emu.store.job_tasks(job).values()}


def nodes_idle(emu: Emulator, pool: str = "pool1") -> Callable[[], bool]:
    nodes = emu.store.pool_nodes(pool)
    return lambda: bool(nodes) and all(n.data["state"] == "idle" for n in nodes.values())


def snapshot(store: Store) -> Snapshot:
    """Every entity's stored form, to compare two stores exactly."""
    entries = statefiles.puts(statefiles.listing(store))
    return {(put.kind, *put.key): statefiles.encode([put]) for put in entries}


def on_disk(data_dir: Path) -> Store:
    """Loads what is on disk now into a new store (the emulator may still be running)."""
    store = Store(ManualClock())
    statefiles.load(store, data_dir / "state")
    return store


async def ok(response: httpx.Response, status: int = 201) -> httpx.Response:
    assert response.status_code == status, response.text
    return response


async def seed_account(http: httpx.AsyncClient, emu: Emulator) -> None:
    """A pool with a node user, a job with finished and deleted tasks, a schedule, an app."""
    await ok(await http.post("/pools", json=POOL_BODY))
    await settle(emu, nodes_idle(emu))
    node_id = next(iter(emu.store.pool_nodes("pool1").values())).id
    user = {"name": "alice", "password": "Pa55word!", "isAdmin": True}
    await ok(await http.post(f"/pools/pool1/nodes/{node_id}/users", json=user))
    job = {"id": "job1", "poolInfo": {"poolId": "pool1"},
           "jobPreparationTask": {"commandLine": "echo prep"},
           "jobReleaseTask": {"commandLine": "echo release"}}  # fmt: skip
    await ok(await http.post("/jobs", json=job))
    tasks = [{"id": f"t{i}", "commandLine": f"echo {i}; exit {i % 2}"} for i in range(4)]
    await ok(await http.post("/jobs/job1/addtaskcollection", json={"value": tasks}), 200)
    await settle(emu, lambda: set(states(emu, "job1").values()) == {"completed"})
    await ok(await http.delete("/jobs/job1/tasks/t3"), 200)
    spec = {"poolInfo": {"poolId": "pool1"}, "onAllTasksComplete": "terminatejob"}
    schedule = {"id": "sched", "schedule": {"recurrenceInterval": "PT1H"}, "jobSpecification": spec}
    await ok(await http.post("/jobschedules", json=schedule))
    await settle(emu, lambda: emu.store.jobs["sched:job-1"].data["state"] == "completed")
    assert isinstance(emu.clock, ManualClock)
    emu.clock.advance(3600)  # the schedule's next job; it counts jobs without a new ETag
    await emu.periodic.tick()
    assert "sched:job-2" in emu.store.jobs
    auto = {**POOL_BODY, "id": "auto", "targetDedicatedNodes": None, "enableAutoScale": True,
            "autoScaleFormula": "$TargetDedicatedNodes = 0;"}  # fmt: skip
    await ok(await http.post("/pools", json={k: v for k, v in auto.items() if v is not None}))
    # Applications have no add operation; only scenarios make them, straight in the store.
    emu.store.applications["app1"] = {"id": "app1", "displayName": "App", "versions": ["1.0"]}


async def test_every_entity_kind_survives_a_restart(tmp_path: Path) -> None:
    emu = make(tmp_path)
    async with serving(emu) as http:
        await seed_account(http, emu)
        pool_etag = (await http.get("/pools/pool1")).headers["etag"]
    await emu.stop()
    before = snapshot(emu.store)  # everything, as it was when it stopped
    again = make(tmp_path, later(60))
    assert snapshot(again.store) == before  # loaded exactly, ETags included
    kinds = {loc[0] for loc in before}
    assert kinds == {"pool", "node", "job", "task", "schedule", "application"}
    async with serving(again) as http:
        assert (await http.get("/pools/pool1")).headers["etag"] == pool_etag
        assert (await http.get("/applications/app1")).json()["versions"] == ["1.0"]
        await ok(await http.get("/jobs/job1/tasks/t3"), 404)
        task = (await http.get("/jobs/job1/tasks/t1")).json()
        assert task["executionInfo"]["exitCode"] == 1 and task["state"] == "completed"
        prep = (await http.get("/jobs/job1/jobpreparationandreleasetaskstatus")).json()
        assert prep["value"][0]["jobPreparationTaskExecutionInfo"]["result"] == "success"
        assert any("alice" in node.users for node in again.store.pool_nodes("pool1").values())
        assert again.periodic.autoscaler.history("auto") is not None  # evaluated again
        assert again.store.job_schedules["sched"].internal["jobs"] == 2
        await settle(again, nodes_idle(again))  # nodes come back through a short reboot
        await ok(await http.post("/jobs/job1/tasks", json={"id": "t9", "commandLine": "echo"}))
        await settle(again, lambda: states(again, "job1")["t9"] == "completed")
    await again.stop()


async def test_tasks_running_at_a_restart_are_requeued_and_dependencies_hold(
    tmp_path: Path,
) -> None:
    emu = make(tmp_path)
    async with serving(emu) as http:
        await ok(await http.post("/pools", json={**POOL_BODY, "targetDedicatedNodes": 1}))
        job = {"id": "job1", "poolInfo": {"poolId": "pool1"}, "usesTaskDependencies": True}
        await ok(await http.post("/jobs", json=job))
        tasks = [{"id": "a", "commandLine": "echo a"}, {"id": "b", "commandLine": "sleep 100"},
                 {"id": "c", "commandLine": "echo c", "dependsOn": {"taskIds": ["a", "b"]}}]  # fmt: skip
        await ok(await http.post("/jobs/job1/addtaskcollection", json={"value": tasks}), 200)
        await settle(emu, lambda: states(emu, "job1") == {"a": "completed", "b": "running",
                                                           "c": "active"})  # fmt: skip
    await emu.stop()
    again = make(tmp_path, later(60))
    assert states(again, "job1")["b"] == "running"  # as it was saved
    async with serving(again) as http:
        task = (await http.get("/jobs/job1/tasks/b")).json()
        assert task["state"] == "active" and task["previousState"] == "running"
        info = task["executionInfo"]
        assert info["requeueCount"] == 1 and info["retryCount"] == 0
        assert info["lastRequeueTime"].startswith("2024-10-01T13:00")
        assert "startTime" not in info
        node = next(iter(again.store.pool_nodes("pool1").values()))
        assert node.data["state"] == "starting" and node.data["runningTasksCount"] == 0
        await settle(again, lambda: states(again, "job1")["c"] == "completed")
        assert (await http.get("/jobs/job1/tasks/b")).json()["executionInfo"]["result"] == "success"
    await again.stop()


async def test_a_preempted_node_comes_back_on_time_across_a_restart(tmp_path: Path) -> None:
    """The recovery timer lived in memory only: a restart re-arms it for the time that is left,
    and a node kept preempted (`recover: false`) stays so."""
    emu = make(tmp_path)
    spot = {**POOL_BODY, "targetDedicatedNodes": 0, "targetLowPriorityNodes": 2}
    async with serving(emu) as http:
        await ok(await http.post("/pools", json=spot))
        await settle(emu, nodes_idle(emu))
        back = preempt(emu, "pool1", count=1, recover_after=600)
        kept = preempt(emu, "pool1", count=1, recover=False)
        await emu.commit()
    await emu.stop()
    again = make(tmp_path, later(5))  # 5 of the 10 minutes gone

    def state(node_id: str) -> str:
        return str(again.store.pool_nodes("pool1")[node_id.lower()].data["state"])

    async with serving(again) as http:
        await ok(await http.get("/pools/pool1"), 200)  # starts the engine: the state is taken back
        assert (state(back[0]), state(kept[0])) == ("preempted", "preempted")
        assert isinstance(again.clock, ManualClock)
        again.clock.advance(250)  # still within the 10 minutes
        await again.engine.tick()
        assert state(back[0]) == "preempted"
        await settle(again, lambda: state(back[0]) == "idle")  # within 100 s more: back
        assert state(kept[0]) == "preempted"
    await again.stop()


async def test_a_2xx_is_only_sent_for_changes_on_disk(tmp_path: Path) -> None:
    emu = make(tmp_path)
    async with serving(emu) as http:
        await ok(await http.post("/pools", json=POOL_BODY))
        assert "pool1" in on_disk(tmp_path).pools
        await ok(await http.post("/jobs", json={"id": "job1", "poolInfo": {"poolId": "pool1"}}))
        tasks = [{"id": f"t{i}", "commandLine": "echo"} for i in range(100)]
        await ok(await http.post("/jobs/job1/addtaskcollection", json={"value": tasks}), 200)
        assert len(on_disk(tmp_path).job_tasks("job1")) == 100
        await ok(await http.delete("/jobs/job1/tasks/t7"), 200)
        assert "t7" not in on_disk(tmp_path).job_tasks("job1")
        await ok(await http.patch("/jobs/job1", json={"priority": 5}), 200)
        assert on_disk(tmp_path).jobs["job1"].data["priority"] == 5
    await emu.stop()


async def test_a_torn_journal_tail_is_ignored_and_cut_off(tmp_path: Path) -> None:
    emu = make(tmp_path)
    async with serving(emu) as http:
        await ok(await http.post("/pools", json=POOL_BODY))
    await emu.stop()
    (_, journal), *_ = statefiles.journals(tmp_path / "state")
    committed = journal.read_bytes()
    ghost = statefiles.put(("pool", "ghost"), {"id": "ghost"})
    unfinished = statefiles.encode([ghost])  # a whole line, but its batch never committed
    torn = statefiles.encode([statefiles.put(("pool", "torn"), {"id": "torn"})])[:-9]
    with journal.open("ab") as f:
        f.write(unfinished + torn)
    again = make(tmp_path, later(1))
    assert set(again.store.pools) == {"pool1"}
    async with serving(again) as http:
        await ok(await http.post("/pools", json={**POOL_BODY, "id": "pool2"}))
        content = journal.read_bytes()
        assert content.startswith(committed)  # cut back to the last commit, then appended
        assert b"ghost" not in content and b'"torn"' not in content
    await again.stop()
    assert set(make(tmp_path, later(2)).store.pools) == {"pool1", "pool2"}


async def test_a_snapshot_taken_while_things_change_is_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()  # holds the snapshot's writes until the changes below are made
    write = statedisk.SnapshotWriter.write

    def held_write(self: statedisk.SnapshotWriter, data: bytes) -> None:
        assert gate.wait(30), "the test never let the snapshot go on"
        write(self, data)

    monkeypatch.setattr(persistence, "SNAPSHOT_CHUNK", 7)
    emu = make(tmp_path)
    state = tmp_path / "state"
    async with serving(emu) as http:
        await ok(await http.post("/pools", json=POOL_BODY))
        await ok(await http.post("/jobs", json={"id": "job1", "poolInfo": {"poolId": "pool1"}}))
        tasks = [{"id": f"t{i}", "commandLine": "echo"} for i in range(100)]
        await ok(await http.post("/jobs/job1/addtaskcollection", json={"value": tasks}), 200)
        assert emu.persistence is not None
        emu.persistence.threaded = True  # as when served: the snapshot is written in a thread
        monkeypatch.setattr(statedisk.SnapshotWriter, "write", held_write)
        checkpoint = asyncio.create_task(emu.persistence.checkpoint())
        # Until it has listed the state and started journal 2 (in its thread).
        await until(lambda: statefiles.journal_path(state, 2).exists())
        for i in range(0, 50, 5):
            await ok(await http.delete(f"/jobs/job1/tasks/t{i}"), 200)
            await ok(await http.post("/jobs/job1/tasks", json={"id": f"n{i}", "commandLine": "x"}))
        await ok(await http.patch("/jobs/job1", json={"priority": 9}), 200)
        await ok(await http.delete("/pools/pool1"), 202)
        await ok(await http.post("/jobs", json={"id": "job2", "poolInfo": {"poolId": "pool1"}}))
        assert not checkpoint.done()
        gate.set()
        await checkpoint
        await settle(emu, lambda: "pool1" not in emu.store.pools)
        expected = snapshot(emu.store)
    await emu.stop()
    assert [gen for gen, _ in statefiles.journals(state)] == [2]  # 1 was made at the start
    assert b'"gen":2' in (state / statefiles.SNAPSHOT).read_bytes().split(b"\n")[0]
    assert snapshot(make(tmp_path, later(1)).store) == expected


async def test_the_journal_is_compacted_when_it_outgrows_the_snapshot(tmp_path: Path) -> None:
    emu = make(tmp_path)
    assert emu.persistence is not None
    emu.persistence.compact_bytes = 1
    emu.persistence.interval = 0.01
    async with serving(emu) as http:
        for i in range(3):
            await ok(await http.post("/pools", json={**POOL_BODY, "id": f"p{i}"}))
        state = tmp_path / "state"
        await until(lambda: [gen for gen, _ in statefiles.journals(state)] != [1])
        assert statefiles.journals(state)[0][0] > 1
        assert set(on_disk(tmp_path).pools) == {"p0", "p1", "p2"}
    await emu.stop()


async def test_a_data_dir_serves_one_emulator_at_a_time(tmp_path: Path) -> None:
    emu = make(tmp_path)
    await emu.start()
    other = make(tmp_path)
    with pytest.raises(statefiles.StateError, match="in use"):
        await other.start()
    await emu.stop()
    await other.start()  # free once the first one stopped
    await other.stop()


async def test_without_a_data_dir_nothing_is_kept(tmp_path: Path) -> None:
    emu = make(None)
    assert emu.persistence is None and emu.store.changes is None
    async with serving(emu) as http:
        await ok(await http.post("/pools", json=POOL_BODY))
    await emu.stop()
    assert not make(None).store.pools


async def test_node_directories_survive_with_the_local_executor(tmp_path: Path) -> None:

    emu = make(tmp_path, Clock(), executor="local")
    async with serving(emu) as http:
        await ok(await http.post("/pools", json={**POOL_BODY, "targetDedicatedNodes": 1}))
        await ok(await http.post("/jobs", json={"id": "job1", "poolInfo": {"poolId": "pool1"}}))
        await ok(await http.post("/jobs/job1/tasks", json={"id": "t1", "commandLine": "echo hi"}))
        await until(lambda: states(emu, "job1") == {"t1": "completed"})  # real processes
    await emu.stop()
    again = make(tmp_path, Clock(), executor="local")
    async with serving(again) as http:
        out = await http.get("/jobs/job1/tasks/t1/files/stdout.txt")
        assert out.status_code == 200 and out.content == b"hi\n"
        await until(nodes_idle(again))
    await again.stop()
