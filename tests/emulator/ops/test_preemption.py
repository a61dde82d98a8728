"""Tests low-priority node preemption: the Python API on a manual clock, and the control endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch_tui.emulator import Emulator, create_app
from batch_tui.emulator.ops.account import node_counts
from batch_tui.emulator.ops.preemption import PreemptionError, default_recovery, preempt
from tests.emulator.engine_support import (
    TIMINGS,
    advance,
    job,
    node_of,
    nodes,
    pool,
    task,
    task_body,
    tasks,
    until,
)
from tests.emulator.support import BASE_URL, POOL_BODY, Settle


async def spot_pool(emu: Emulator, low: int = 2, dedicated: int = 0, **extra: Any) -> None:
    """A pool of `low` low-priority (and `dedicated` dedicated) nodes, all idle."""
    pool(emu, "p1", dedicated, targetLowPriorityNodes=low, **extra)
    await until(
        emu,
        lambda: (
            len(nodes(emu)) == low + dedicated
            and all(n.data["state"] == "idle" for n in nodes(emu))
        ),
    )


def state_of(emu: Emulator, node_id: str) -> str:
    return str(emu.store.pool_nodes("p1")[node_id.lower()].data["state"])


async def test_preempting_a_busy_node_requeues_its_task_and_the_pool_gets_it_back(
    emu: Emulator,
) -> None:
    await spot_pool(emu, startTask={"commandLine": "/bin/sh -c 'echo boot'"})
    job(emu)
    tasks(emu, "j1", task_body("long", "/bin/sh -c 'sleep 100'"))
    await until(emu, lambda: task(emu, "j1", "long").data["state"] == "running")
    first = node_of(emu, task(emu, "j1", "long"))

    assert preempt(emu, "p1", count=1) == [first]  # the busy node goes first

    assert state_of(emu, first) == "preempted"
    info = task(emu, "j1", "long").data["executionInfo"]
    assert info["requeueCount"] == 1 and "lastRequeueTime" in info
    await until(emu, lambda: task(emu, "j1", "long").data["state"] == "running")
    assert node_of(emu, task(emu, "j1", "long")) != first
    record = emu.store.pools["p1"]
    assert record.data["currentLowPriorityNodes"] == 2  # preempted nodes still count (spec)
    counts = node_counts(emu, record)
    assert counts["lowPriority"]["preempted"] == 1 and counts["lowPriority"]["total"] == 2
    preempted = emu.store.pool_nodes("p1")[first.lower()]
    assert "startTaskInfo" not in preempted.data and preempted.data["runningTasksCount"] == 0

    delay = default_recovery(emu.settings.timings)
    await advance(emu, delay - 1)
    assert state_of(emu, first) == "preempted"
    seen: set[str] = set()

    def back() -> bool:
        seen.add(state_of(emu, first))
        return state_of(emu, first) == "idle"

    await until(emu, back)
    assert {"creating", "starting"} <= seen  # created again with the same id, as on Azure
    assert preempted.data["startTaskInfo"]["result"] == "success"  # its start task ran again


async def test_preempt_by_id_keeps_dedicated_nodes_and_refuses_what_it_cannot_do(
    emu: Emulator,
) -> None:
    await spot_pool(emu, low=2, dedicated=1)
    dedicated = next(n for n in nodes(emu) if n.data["isDedicated"])
    spot = [n for n in nodes(emu) if not n.data["isDedicated"]]
    for node_ids, status in (([dedicated.id], 409), (["tvmps_missing_p"], 404)):
        with pytest.raises(PreemptionError) as info:
            preempt(emu, "p1", node_ids=node_ids)
        assert info.value.status == status
    for kwargs in ({"count": 0}, {"recover_after": -1.0}):
        with pytest.raises(PreemptionError) as info:
            preempt(emu, "p1", **kwargs)
        assert info.value.status == 400
    with pytest.raises(PreemptionError) as info:
        preempt(emu, "nope")
    assert info.value.status == 404

    assert preempt(emu, "p1", node_ids=[spot[1].id.upper()], recover=False) == [spot[1].id]
    with pytest.raises(PreemptionError) as info:
        preempt(emu, "p1", node_ids=[spot[1].id])
    assert info.value.status == 409  # already preempted
    await advance(emu, 10 * default_recovery(TIMINGS))
    assert state_of(emu, spot[1].id) == "preempted"  # recover=False: no capacity comes back
    assert dedicated.data["state"] == "idle"

    # A shrink takes the preempted node first: it is doing nothing.
    record = emu.store.pools["p1"]
    record.data["targetLowPriorityNodes"] = 1
    emu.engine.pool_resized(record, "requeue")
    await until(emu, lambda: len(nodes(emu)) == 2)
    assert spot[1].id.lower() not in emu.store.pool_nodes("p1")
    assert state_of(emu, spot[0].id) == "idle"


async def test_preempting_the_whole_pool_loses_users_and_files(emu: Emulator) -> None:
    await spot_pool(emu)
    job(emu)
    tasks(emu, "j1", task_body("t1", "/bin/sh -c 'echo hi; exit 0'"))
    await until(emu, lambda: task(emu, "j1", "t1").data["state"] == "completed")
    ran_on = emu.store.pool_nodes("p1")[node_of(emu, task(emu, "j1", "t1")).lower()]
    ran_on.users["alice"] = {"name": "alice", "isAdmin": False}
    assert "workitems/j1/job-1/t1/stdout.txt" in {
        f.name for f in emu.engine.node_files(ran_on).list(recursive=True)
    }

    assert sorted(preempt(emu, "p1")) == sorted(n.id for n in nodes(emu))
    assert {n.data["state"] for n in nodes(emu)} == {"preempted"}
    assert ran_on.users == {}
    names = {f.name for f in emu.engine.node_files(ran_on).list(recursive=True)}
    assert not any(name.startswith("workitems/j1") for name in names)
    assert preempt(emu, "p1") == []  # nothing left to preempt
    # A task added while every node is preempted waits for capacity to come back.
    tasks(emu, "j1", task_body("t2", "/bin/sh -c 'exit 0'"))
    await advance(emu, 1)
    assert task(emu, "j1", "t2").data["state"] == "active"
    await until(emu, lambda: task(emu, "j1", "t2").data["state"] == "completed")


# The control endpoint, through HTTP in process.

PREEMPT = "/_emulator/pools/pool1/preempt"


@pytest.fixture
async def spot_http(
    http: httpx.AsyncClient, settle: Settle, emulator: Emulator
) -> httpx.AsyncClient:
    body = {**POOL_BODY, "targetDedicatedNodes": 0, "targetLowPriorityNodes": 3}
    assert (await http.post("/pools", json=body)).status_code == 201
    await settle(
        lambda: (
            [n.data["state"] for n in emulator.store.pool_nodes("pool1").values()] == ["idle"] * 3
        )
    )
    return http


async def test_endpoint_preempts_and_the_node_counts_show_it(
    spot_http: httpx.AsyncClient, emulator: Emulator
) -> None:
    response = await spot_http.post(PREEMPT, json={"count": 2, "recoverAfter": 3600})
    assert response.status_code == 200
    answer = response.json()
    assert answer["poolId"] == "pool1" and len(answer["preempted"]) == 2
    counts = (await spot_http.get("/nodecounts")).json()["value"][0]
    assert counts["lowPriority"]["preempted"] == 2 and counts["lowPriority"]["idle"] == 1
    node = (await spot_http.get(f"/pools/pool1/nodes/{answer['preempted'][0]}")).json()
    assert node["state"] == "preempted" and node["isDedicated"] is False
    listed = await spot_http.get("/pools/pool1/nodes", params={"$filter": "state eq 'preempted'"})
    assert sorted(n["id"] for n in listed.json()["value"]) == sorted(answer["preempted"])
    assert (await spot_http.get("/pools/pool1")).json()["currentLowPriorityNodes"] == 3

    rest = await spot_http.post(PREEMPT)  # no body: every node that can still be preempted
    assert len(rest.json()["preempted"]) == 1


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (PREEMPT, b"{not json", 400),
        (PREEMPT, b'{"count": 1, "nodeIds": ["x"]}', 400),
        (PREEMPT, b'{"count": true}', 400),
        (PREEMPT, b'{"nodeIds": []}', 400),
        (PREEMPT, b'{"speed": 1}', 400),
        (PREEMPT, b'{"nodeIds": ["tvmps_none_p"]}', 404),
        ("/_emulator/pools/missing/preempt", b"", 404),
    ],
)
async def test_endpoint_refuses_bad_requests(
    spot_http: httpx.AsyncClient, path: str, body: bytes, status: int
) -> None:
    json_type = {"Content-Type": "application/json"}  # the endpoint takes JSON bodies only
    response = await spot_http.post(path, content=body, headers=json_type)
    assert response.status_code == status
    assert "error" in response.json()


async def test_endpoint_answers_loopback_clients_only(emulator: Emulator) -> None:
    transport = httpx.ASGITransport(app=create_app(emulator), client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as remote:
        response = await remote.post(PREEMPT, json={"count": 1})
    assert response.status_code == 403
