"""Tests `--data-dir` persistence in process: round trips, requeues, order, background writes,
one emulator per data dir, and the migration of a data dir of the journal format."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from batch_tui.emulator import Emulator, build_emulator, create_app
from batch_tui.emulator.base.clock import Clock, ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.ops.preemption import preempt
from batch_tui.emulator.state import StateError
from batch_tui.emulator.state.database import read
from batch_tui.emulator.state.records import encode, entities
from batch_tui.emulator.state.store import Store
from tests.emulator.shared_key import SharedKeyAuth
from tests.emulator.support import ACCOUNT, API_VERSION, BASE_URL, KEY, POOL_BODY, fast_timings
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
    """Every entity's saved form, to compare two stores exactly."""
    return {location: encode(value) for location, value in entities(store)}


def on_disk(data_dir: Path) -> Store:
    """Reads what the database holds now into a new store (the emulator may still run)."""
    store = Store(ManualClock())
    read(data_dir / "state" / "emulator.db", store)
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


async def test_a_2xx_is_only_sent_for_changes_in_the_database(tmp_path: Path) -> None:
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
        await ok(await http.delete("/jobs/job1"), 202)
        await settle(emu, lambda: "job1" not in emu.store.jobs)
        await emu.commit()
        gone = on_disk(tmp_path)
        assert "job1" not in gone.jobs and not gone.job_tasks("job1")  # its tasks went with it
    await emu.stop()


async def test_the_order_of_tasks_survives_a_restart(tmp_path: Path) -> None:
    """Lists return a job's tasks in the order they were added: an update keeps a task's
    place, a task deleted and added again goes to the end, as in the store."""
    emu = make(tmp_path)
    async with serving(emu) as http:
        await ok(await http.post("/pools", json=POOL_BODY))
        await ok(await http.post("/jobs", json={"id": "job1", "poolInfo": {"poolId": "pool1"}}))
        tasks = [{"id": f"t{i}", "commandLine": "echo"} for i in (5, 1, 9, 3, 7)]
        await ok(await http.post("/jobs/job1/addtaskcollection", json={"value": tasks}), 200)
        await ok(
            await http.put("/jobs/job1/tasks/t1", json={"constraints": {"maxTaskRetryCount": 2}}),
            200,
        )
        await ok(await http.delete("/jobs/job1/tasks/t9"), 200)
        await ok(await http.post("/jobs/job1/tasks", json={"id": "t9", "commandLine": "echo"}))
        listed = [t["id"] for t in (await http.get("/jobs/job1/tasks")).json()["value"]]
        assert listed == ["t5", "t1", "t3", "t7", "t9"]
    await emu.stop()
    again = make(tmp_path, later(1))
    async with serving(again) as http:
        assert [t["id"] for t in (await http.get("/jobs/job1/tasks")).json()["value"]] == listed
    await again.stop()


async def test_what_the_engine_changes_is_written_in_the_background(tmp_path: Path) -> None:
    emu = make(tmp_path)
    async with serving(emu) as http:
        await ok(await http.post("/pools", json=POOL_BODY))
        assert emu.persistence is not None
        emu.persistence.interval = 0.01
        await settle(emu, nodes_idle(emu))  # the engine's doing: no request answered for it
        await until(lambda: all(n.data["state"] == "idle"
                                for n in on_disk(tmp_path).pool_nodes("pool1").values()))  # fmt: skip
    await emu.stop()


async def test_a_data_dir_serves_one_emulator_at_a_time(tmp_path: Path) -> None:
    emu = make(tmp_path)
    await emu.start()
    with pytest.raises(StateError, match="in use by another emulator"):
        make(tmp_path)  # refused before it serves: the command line says so in one line
    await emu.stop()
    early = make(tmp_path)  # read while free ...
    other = make(tmp_path)
    await other.start()
    with pytest.raises(StateError, match="in use by another emulator"):
        await early.start()
    async with serving(other) as http:
        await ok(await http.post("/pools", json=POOL_BODY))
    await other.stop()
    with pytest.raises(StateError, match="changed by another emulator since this one read it"):
        await early.start()  # ... so it would write over what the other one saved
    assert "pool1" in make(tmp_path).store.pools


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


# The journal format (before SQLite)


def put_line(location: tuple[str, ...], body: bytes) -> bytes:
    key = json.dumps(list(location[1:])).encode()
    return b'{"op":"put","kind":"%s","key":%s,"rec":%s}\n' % (location[0].encode(), key, body)


COMMIT = b'{"op":"commit"}\n'


async def journal_format_dir(tmp_path: Path) -> tuple[Path, Snapshot]:
    """A data dir as the journal format left it: a snapshot of a served account, then a
    journal that deletes a task, adds one, and ends in a batch a crash cut off."""
    emu = make(tmp_path)
    async with serving(emu) as http:
        await seed_account(http, emu)
    await emu.stop()
    saved = snapshot(emu.store)
    state = tmp_path / "state"
    for path in state.iterdir():
        path.unlink()
    lines = [b'{"op":"snapshot","gen":1,"format":1}\n']
    lines += [put_line(location, body) for location, body in saved.items()]
    (state / "snapshot.jsonl").write_bytes(b"".join(lines) + COMMIT)
    t0 = saved[("task", "job1", "t0")]
    added = t0.replace(b'"id":"t0"', b'"id":"t7"')
    journal = b'{"op":"del","kind":"task","key":["job1","t1"]}\n'
    journal += put_line(("task", "job1", "t7"), added) + COMMIT
    journal += put_line(("pool", "ghost"), b'{"data":{"id":"ghost"}}')  # never committed
    (state / "journal-00000001.jsonl").write_bytes(journal + b'{"op":"comm')
    expected = {loc: body for loc, body in saved.items() if loc != ("task", "job1", "t1")}
    expected[("task", "job1", "t7")] = added
    return state, expected


async def test_a_data_dir_of_the_journal_format_is_migrated_once(tmp_path: Path) -> None:
    state, expected = await journal_format_dir(tmp_path)
    old = {path.name: path.read_bytes() for path in state.iterdir()}
    emu = make(tmp_path, later(60))
    assert snapshot(emu.store) == expected  # read exactly, the cut-off batch left out
    async with serving(emu) as http:
        await ok(await http.get("/jobs/job1/tasks/t7"), 200)
        await ok(await http.get("/jobs/job1/tasks/t1"), 404)
        await ok(await http.get("/pools/ghost"), 404)
    await emu.stop()
    moved = state / "journal-format"
    assert {path.name: path.read_bytes() for path in moved.iterdir()} == old  # kept, unchanged
    assert not list(state.glob("*.jsonl"))
    with sqlite3.connect(state / "emulator.db") as db:
        meta = dict(db.execute("SELECT name, value FROM meta"))
    assert meta["migrated_from"] == "journal format 1"
    again = make(tmp_path, later(61))  # from the database now
    assert {loc for loc in snapshot(again.store)} == set(snapshot(emu.store))


async def test_a_journal_without_its_snapshot_is_refused(tmp_path: Path) -> None:
    state, _ = await journal_format_dir(tmp_path)
    (state / "snapshot.jsonl").unlink()  # the journal format's case (a): it started empty
    with pytest.raises(StateError) as refused:
        make(tmp_path)
    message = str(refused.value)
    assert f"{state / 'snapshot.jsonl'}: is missing" in message and "\n" not in message
    assert not (state / "emulator.db").exists()


async def test_a_database_beside_journal_files_it_was_not_made_from_is_refused(
    tmp_path: Path,
) -> None:
    emu = make(tmp_path)
    await emu.start()
    await emu.stop()
    (tmp_path / "state" / "snapshot.jsonl").write_bytes(b'{"op":"snapshot","gen":1}\n' + COMMIT)
    with pytest.raises(StateError, match="holds both emulator.db and snapshot.jsonl"):
        make(tmp_path)
