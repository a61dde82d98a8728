"""Tests the streamed file reads of BatchClient (`stream_task_file`, `stream_node_file`) against
httpx.MockTransport: the headers sent, the chunks, errors mapped, retries and the body closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone

import httpx
import pytest

from batch_tui.batch import (
    BatchClient,
    NotFound,
    PreconditionFailed,
    RetryPolicy,
    TransportError,
)

HOST = "https://acct.westus.batch.azure.com"
KEY = "ZW11bGF0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
BODY = bytes(range(256)) * 40
LAST_MODIFIED = "Thu, 07 Sep 2023 06:26:59 GMT"


async def no_wait(seconds: float) -> None:
    return None


def make_client(
    handler: Callable[[httpx.Request], httpx.Response], attempts: int = 1
) -> BatchClient:
    retry = RetryPolicy(max_attempts=attempts, sleep=no_wait)
    return BatchClient.with_shared_key(
        HOST, "acct", KEY, transport=httpx.MockTransport(handler), retry=retry
    )


class Body(httpx.AsyncByteStream):
    """A response body in pieces; `cut_after` pieces, then a dropped connection."""

    def __init__(self, data: bytes, piece: int = 1000, cut_after: int | None = None) -> None:
        self.data = data
        self.piece = piece
        self.cut_after = cut_after
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index, start in enumerate(range(0, len(self.data), self.piece)):
            if index == self.cut_after:
                raise httpx.ReadError("connection reset by peer")
            yield self.data[start : start + self.piece]

    async def aclose(self) -> None:
        self.closed = True


def file_response(request: httpx.Request, body: Body, start: int = 0) -> httpx.Response:
    headers = {
        "Content-Length": str(len(body.data)),
        "Last-Modified": LAST_MODIFIED,
        "ETag": "0x8DBAED6F7336C7A",
        "ocp-creation-time": "Thu, 07 Sep 2023 06:26:58 GMT",
        "ocp-batch-file-isdirectory": "False",
    }
    return httpx.Response(200, headers=headers, stream=body, request=request)


async def test_a_task_file_streams_from_an_offset_in_bounded_chunks() -> None:
    sent: list[httpx.Request] = []
    body = Body(BODY[1000:])

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return file_response(request, body)

    since = datetime(2023, 9, 7, 6, 26, 59, tzinfo=timezone.utc)
    async with make_client(handler) as client:
        async with client.stream_task_file(
            "sched:job-1", "t 1", "wd\\out put.txt", start=1000, unmodified_since=since,
            chunk_bytes=4096,
        ) as stream:  # fmt: skip
            assert stream.total == len(BODY)
            assert stream.start == 1000
            assert stream.etag == "0x8DBAED6F7336C7A"
            assert stream.info.last_modified == since
            chunks = [chunk async for chunk in stream.chunks()]
    assert b"".join(chunks) == BODY[1000:]
    assert max(map(len, chunks)) <= 4096
    (request,) = sent
    path = request.url.raw_path.split(b"?")[0]
    assert path == b"/jobs/sched%3Ajob-1/tasks/t%201/files/wd%5Cout%20put.txt"
    assert request.headers["ocp-range"] == "bytes=1000-"
    assert request.headers["if-unmodified-since"] == LAST_MODIFIED
    assert body.closed


async def test_a_node_file_from_the_start_sends_no_range_and_closes_unread() -> None:
    sent: list[httpx.Request] = []
    body = Body(BODY)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return file_response(request, body)

    async with make_client(handler) as client:
        async with client.stream_node_file("p1", "n1", "startup/stdout.txt") as stream:
            assert stream.total == len(BODY)
    assert sent[0].url.path == "/pools/p1/nodes/n1/files/startup/stdout.txt"
    assert "ocp-range" not in sent[0].headers
    assert "if-unmodified-since" not in sent[0].headers
    assert body.closed  # leaving the block frees the connection, the body never read
    async with make_client(handler) as client:
        with pytest.raises(ValueError):
            async with client.stream_node_file("p1", "n1", "x", start=-1):
                pass  # pragma: no cover - never entered
    assert len(sent) == 1  # refused before sending


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [(404, "FileNotFound", NotFound), (412, "ConditionNotMet", PreconditionFailed)],
)
async def test_an_error_status_is_mapped(status: int, code: str, error: type) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"code": code, "message": {"lang": "en-US", "value": "No."}}
        return httpx.Response(status, json=body, request=request)

    async with make_client(handler) as client:
        with pytest.raises(error):
            async with client.stream_node_file("p1", "n1", "x.txt"):
                pass  # pragma: no cover - never entered


async def test_a_busy_service_is_retried_before_the_headers() -> None:
    answers = [503, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        if answers.pop(0) == 503:
            return httpx.Response(503, json={"code": "ServerBusy"}, request=request)
        return file_response(request, Body(BODY))

    async with make_client(handler, attempts=2) as client:
        async with client.stream_node_file("p1", "n1", "x.txt") as stream:
            assert b"".join([chunk async for chunk in stream.chunks()]) == BODY
    assert answers == []


async def test_a_body_cut_mid_way_is_a_retryable_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return file_response(request, Body(BODY, piece=1000, cut_after=3))

    received = b""
    async with make_client(handler) as client:
        with pytest.raises(TransportError) as info:
            async with client.stream_node_file("p1", "n1", "x.txt", chunk_bytes=1000) as stream:
                async for chunk in stream.chunks():
                    received += chunk
    assert received == BODY[:3000]  # what arrived before the cut is there to resume from
    assert info.value.retryable and info.value.sent
