"""Tests the client against hostile or broken endpoints: next page links that repeat, lists
that never end, pages too big to hold, and items that do not decode."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from batch_tui.batch import (
    BatchClient,
    BatchError,
    ListLimits,
    ListTooLong,
    MalformedResponse,
    PagingLoop,
    ResponseTooLarge,
    Task,
    undecodable_reason,
)
from batch_tui.batch import _transport as transport_module
from batch_tui.batch.models import decoding
from batch_tui.batch.retry import RetryPolicy

HOST = "https://acct.westus.batch.azure.com"
KEY = "ZW11bGF0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
TASKS = f"{HOST}/jobs/j1/tasks"


def client_of(handler: object, limits: ListLimits | None = None) -> BatchClient:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    retry = RetryPolicy(max_attempts=1)
    return BatchClient.with_shared_key(
        HOST, "acct", KEY, transport=transport, retry=retry, limits=limits
    )


def page(first: int, count: int, link: str | None) -> dict[str, object]:
    body: dict[str, object] = {"value": [{"id": f"t{n}"} for n in range(first, first + count)]}
    if link is not None:
        body["odata.nextLink"] = link
    return body


async def listed(client: BatchClient) -> tuple[list[str], BaseException | None]:
    """Lists job j1's tasks page by page: the ids yielded before the listing ended, and the
    error it ended with (None if it ended by itself)."""
    ids: list[str] = []
    try:
        async for tasks in client.iter_tasks("j1"):
            ids += [task.id for task in tasks]
    except BatchError as error:
        return ids, error
    return ids, None


# --- next page links --------------------------------------------------------------------------


async def test_a_page_that_links_to_itself_ends_the_listing_with_a_clear_error() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=page(0, 2, str(request.url)))

    async with client_of(handler) as client:
        ids, error = await listed(client)
    assert ids == ["t0", "t1"] and len(requests) == 1
    assert isinstance(error, PagingLoop) and isinstance(error, MalformedResponse)
    assert error.items == 2
    assert str(error) == (
        "the service sent the same next page link twice; the list stopped at 2 items"
    )


async def test_a_link_that_repeats_after_three_pages_stops_there() -> None:
    links = {
        "/jobs/j1/tasks": page(0, 10, f"{TASKS}?skip=a"),
        "/jobs/j1/tasks?skip=a": page(10, 10, f"{TASKS}?skip=b"),
        "/jobs/j1/tasks?skip=b": page(20, 10, f"{TASKS}?skip=a"),  # back to the second page
    }
    served: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        skip = request.url.params.get("skip")
        key = request.url.path + (f"?skip={skip}" if skip else "")
        served.append(key)
        return httpx.Response(200, json=links[key])

    async with client_of(handler) as client:
        ids, error = await listed(client)
    assert served == list(links)  # three pages, and never the second one again
    assert ids == [f"t{n}" for n in range(30)]
    assert isinstance(error, PagingLoop) and error.items == 30
    assert "the list stopped at 30 items" in str(error)


async def test_distinct_links_page_on_as_before() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("n", "0"))
        return httpx.Response(200, json=page(n, 5, f"{TASKS}?n={n + 5}" if n < 20 else None))

    async with client_of(handler) as client:
        ids, error = await listed(client)
    assert error is None and ids == [f"t{n}" for n in range(25)]


# --- bounds on items and bytes ---------------------------------------------------------------


async def test_a_list_over_the_item_bound_stops_at_the_bound() -> None:
    requests = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal requests
        requests += 1
        n = int(request.url.params.get("n", "0"))
        return httpx.Response(200, json=page(n, 4, f"{TASKS}?n={n + 4}"))  # never ends

    async with client_of(handler, ListLimits(max_items=10)) as client:
        ids, error = await listed(client)
    # The third page would pass the bound: it is counted, not decoded, and not yielded.
    assert ids == [f"t{n}" for n in range(8)] and requests == 3
    assert isinstance(error, ListTooLong) and error.items == 8
    assert str(error) == "the list has more than 10 items; it stopped at 8 items"


async def test_a_page_of_more_tiny_items_than_the_bound_is_counted_not_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[int] = []
    original = decoding.decode_page

    def counting_decode_page(data: bytes, item_type: type[Any]) -> Any:
        decoded.append(len(data))
        return original(data, item_type)

    monkeypatch.setattr(transport_module, "decode_page", counting_decode_page)
    hostile = {"value": [1] * 5000 + [{"id": "a"}] * 5000 + [[7]]}  # numbers, objects, an array

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=hostile)

    async with client_of(handler, ListLimits(max_items=10_000)) as client:
        ids, error = await listed(client)
    assert ids == [] and decoded == []
    assert isinstance(error, ListTooLong) and error.items == 0
    assert decoding.count_items(json.dumps(hostile).encode()) == 10_001


def test_the_default_bounds_are_two_million_items_and_64_mb() -> None:
    assert ListLimits() == ListLimits(max_items=2_000_000, max_page_bytes=64 * 1024 * 1024)


class Chunks(httpx.AsyncByteStream):
    """A body sent in pieces without a Content-Length; counts the pieces taken."""

    def __init__(self, piece: bytes, count: int) -> None:
        self.piece, self.count, self.taken = piece, count, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.taken += 1
            yield self.piece


async def test_an_oversize_page_is_refused_by_its_content_length_unread() -> None:
    stream = Chunks(b" " * 1024, 100)

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "application/json", "Content-Length": str(100 * 1024)}
        return httpx.Response(200, headers=headers, stream=stream)

    async with client_of(handler, ListLimits(max_page_bytes=50_000)) as client:
        ids, error = await listed(client)
    assert ids == [] and stream.taken == 0
    assert isinstance(error, ResponseTooLarge)
    assert str(error) == (
        "200: the response to /jobs/j1/tasks is too large (102,400 bytes declared; "
        "the limit is 50,000 bytes); it was not read"
    )


async def test_an_oversize_page_without_a_length_is_cut_off_at_the_bound() -> None:
    stream = Chunks(b" " * 1024, 1000)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "application/json"}, stream=stream)

    async with client_of(handler, ListLimits(max_page_bytes=50_000)) as client:
        ids, error = await listed(client)
    assert ids == [] and isinstance(error, ResponseTooLarge)
    assert "more than 50,000 bytes sent" in str(error)
    assert stream.taken == 49  # the piece that passed the bound is the last one read


async def test_a_page_within_the_bound_is_read_whole_and_an_entity_is_bounded_too() -> None:
    body = json.dumps(page(0, 500, None)).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tasks/big"):
            return httpx.Response(200, json={"id": "big", "displayName": "x" * 60_000})
        headers = {"Content-Type": "application/json"}
        return httpx.Response(200, headers=headers, stream=Chunks(body, 1))

    async with client_of(handler, ListLimits(max_page_bytes=len(body))) as client:
        ids, error = await listed(client)
        with pytest.raises(ResponseTooLarge):
            await client.get_task("j1", "big")
    assert error is None and len(ids) == 500


# --- items that do not decode ----------------------------------------------------------------


async def test_an_undecodable_item_becomes_a_placeholder_and_the_page_keeps_the_rest() -> None:
    items = [
        {"id": "t0", "state": "active"},
        {"id": 42, "state": "running"},
        "junk",
        {"id": "t3", "state": "completed", "executionInfo": {"exitCode": "oops"}},
        {"id": ["a"], "state": "active"},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"value": items})

    async with client_of(handler) as client:
        tasks = await client.list_tasks("j1")
    assert len(tasks) == 5 and all(isinstance(task, Task) for task in tasks)
    assert [undecodable_reason(task.id) for task in tasks] == [
        None,
        "id is a number",
        "not an object",
        None,  # a wrong type elsewhere is repaired: the task keeps its id and state
        "id is an array",
    ]
    assert tasks[0].id == "t0" and tasks[3].id == "t3" and tasks[3].state == "completed"
    assert tasks[1].id.startswith("undecodable item: id is a number")
    assert len({task.id for task in tasks}) == 5  # each placeholder has a row of its own


async def test_a_placeholder_id_is_the_same_at_every_listing_and_never_a_real_id() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"value": [{"id": 42}, {"id": 43}, {"id": 42}]})

    async with client_of(handler) as client:
        first = [task.id for task in await client.list_tasks("j1")]
        again = [task.id for task in await client.list_tasks("j1")]
    assert first == again and first[0] == first[2] != first[1]
    assert all(" " in key for key in first)  # Batch ids never hold a space
    assert undecodable_reason("t1") is None and undecodable_reason("") is None
