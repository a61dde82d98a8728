"""Tests `BatchClient.list_job_tasks` against the emulator: the same tasks as one listing,
in ranges of ids paging at once, while the tasks change state under it."""

from __future__ import annotations

import base64
import random
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from batch_tui.batch.client import BatchClient
from batch_tui.batch.id_range_listing import ListingStats
from batch_tui.emulator import build_emulator, create_app
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks

URL = "https://acct.westus.batch.azure.com"
KEY = base64.b64encode(b"job-tasks-test-key-0123456789abcd").decode()


async def test_the_ranges_list_the_same_tasks_as_one_stream_while_they_change(
    tmp_path: Path,
) -> None:
    settings = EmulatorSettings(
        account="acct", key=KEY, executor="simulated", data_dir=tmp_path, base_url=URL
    )
    emulator = build_emulator(settings, ManualClock())
    add_job(emulator, {"id": "big", "poolInfo": {"poolId": "nowhere"}})
    ids = [f"render-{n}" for n in range(1, 5_001)]  # unpadded: uneven in id order
    random.Random(3).shuffle(ids)  # and added in no order
    add_tasks(emulator, "big", [{"id": i, "commandLine": "x"} for i in ids])
    records = list(emulator.store.tasks["big"].values())
    filters: list[str] = []
    app = create_app(emulator)

    async def changing(scope, receive, send):  # type: ignore[no-untyped-def]
        # Between two pages, tasks complete: a listing by state would see them move.
        for record in random.Random(len(filters)).sample(records, 50):
            record.data["state"] = "completed"
        query = parse_qs(scope.get("query_string", b"").decode())
        if scope["path"].endswith("/tasks"):
            filters.append(query.get("$filter", [""])[0])
        await app(scope, receive, send)

    transport = httpx.ASGITransport(app=changing)
    stats = ListingStats()
    async with BatchClient.with_shared_key(URL, "acct", KEY, transport=transport) as client:
        one = await client.list_tasks("big", select=["id"])
        filters.clear()
        every = await client.list_job_tasks("big", select=["state"], page_size=100, stats=stats)
    await emulator.stop()
    assert stats.ranges > 1
    assert sorted(t.id for t in every) == sorted(t.id for t in one) == sorted(ids)
    assert len(every) == len({t.id for t in every})
    assert any("id ge" in f or "id lt" in f for f in filters)
    assert all(urlsplit(f).path == f for f in filters)  # plain filters, never a URL
