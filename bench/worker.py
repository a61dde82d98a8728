"""Lists one job's tasks or one pool's nodes with one client, in a process of its own.

Run by `bench/run.py`, one process per measurement so that peak memory (`ru_maxrss`) is the
client's own. Usage: `python bench/worker.py '<json>'` with `client` (ours, sdk, sdk-aio),
`kind` (tasks, nodes), `id`, `select` (a list or null), `filter` (or null), `url` and, for
ours, `by_state` (list tasks a stream per state, as the task view did) or `by_ranges` (ranges
of ids side by side: `BatchClient.list_job_tasks`, as the task view does now); the
account and key come from `BENCH_ACCOUNT` and `BENCH_KEY`. It prints one JSON line: `items`,
`pages`, `seconds` and `rss_mb` (peak resident memory, imports included).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

PAGE_SIZE = 1000


Result = tuple[int, int, float]
"""Items, pages and seconds: the clock runs from the first request to the last item, after
the client is imported and built (a one-off cost, not a listing's)."""


async def ours(job: dict[str, Any], account: str, key: str) -> Result:
    """Lists with our client, keeping every item (as the task list view does)."""
    from batch_tui.batch.client import BatchClient
    from batch_tui.batch.id_range_listing import ListingStats

    items: list[Any] = []
    pages = 0
    async with BatchClient.with_shared_key(job["url"], account, key) as client:
        options = {"select": job["select"], "filter": job["filter"]}
        stream: AsyncIterator[list[Any]]
        began = time.perf_counter()
        if job["kind"] == "tasks" and job.get("by_ranges"):
            stats = ListingStats()
            tasks = await client.list_job_tasks(job["id"], select=job["select"], stats=stats)
            return len(tasks), stats.requests, time.perf_counter() - began
        if job["kind"] == "tasks" and job.get("by_state"):
            # As the task view lists a whole job: its task counts pick the streams.
            from batch_tui.batch.client import PAGE_SIZE
            from batch_tui.batch.streams import busy_states

            counts = (await client.get_task_counts(job["id"])).task_counts
            states = busy_states(counts, PAGE_SIZE)
            stream = client.iter_tasks_by_state(job["id"], states=states, **options)
        elif job["kind"] == "tasks":
            stream = client.iter_tasks(job["id"], **options)
        else:
            stream = client.iter_nodes(job["id"], **options)
        async for page in stream:
            items.extend(page)
            pages += 1
        seconds = time.perf_counter() - began
    return len(items), pages, seconds


def _sdk_call(client: Any, job: dict[str, Any]) -> Any:
    options = {"select": job["select"], "filter": job["filter"], "max_results": PAGE_SIZE}
    if job["kind"] == "tasks":
        return client.list_tasks(job["id"], **options)
    return client.list_nodes(job["id"], **options)


def sdk(job: dict[str, Any], account: str, key: str) -> Result:
    """Lists with the official SDK's sync client, as its documentation shows."""
    from azure.batch import BatchClient
    from azure.core.credentials import AzureNamedKeyCredential

    credential = AzureNamedKeyCredential(account, key)
    with BatchClient(endpoint=job["url"], credential=credential) as client:
        items: list[Any] = []
        pages = 0
        began = time.perf_counter()
        for page in _sdk_call(client, job).by_page():
            items.extend(page)
            pages += 1
        seconds = time.perf_counter() - began
    return len(items), pages, seconds


async def sdk_aio(job: dict[str, Any], account: str, key: str) -> Result:
    """Lists with the SDK's async client. Its default transport needs aiohttp, which is not
    a dependency; azure-core's `AsyncioRequestsTransport` (requests in a thread) needs none."""
    from azure.batch.aio import BatchClient
    from azure.core.credentials import AzureNamedKeyCredential
    from azure.core.pipeline.transport import AsyncioRequestsTransport

    credential = AzureNamedKeyCredential(account, key)
    transport = AsyncioRequestsTransport()
    async with BatchClient(endpoint=job["url"], credential=credential, transport=transport) as c:
        items: list[Any] = []
        pages = 0
        began = time.perf_counter()
        async for page in _sdk_call(c, job).by_page():
            items.extend([item async for item in page])
            pages += 1
        seconds = time.perf_counter() - began
    return len(items), pages, seconds


def run(job: dict[str, Any]) -> dict[str, Any]:
    account, key = os.environ["BENCH_ACCOUNT"], os.environ["BENCH_KEY"]
    if job["client"] in ("ours", "ours-by-state", "ours-ranges"):
        job["by_state"] = job["client"] == "ours-by-state"
        job["by_ranges"] = job["client"] == "ours-ranges"
        items, pages, seconds = asyncio.run(ours(job, account, key))
    elif job["client"] == "sdk":
        items, pages, seconds = sdk(job, account, key)
    elif job["client"] == "sdk-aio":
        items, pages, seconds = asyncio.run(sdk_aio(job, account, key))
    else:
        raise SystemExit(f"unknown client {job['client']!r}")
    return {"items": items, "pages": pages, "seconds": seconds, "rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """Returns this process's peak RSS. On Linux it is `VmHWM`: `ru_maxrss` would report the
    parent's size instead, since a child inherits its high-water mark through fork and exec."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    scale = 1 if sys.platform != "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / scale


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
