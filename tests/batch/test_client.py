"""Tests BatchClient against httpx.MockTransport: wire format, paging, files, errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from azure.batch._patch import BatchSharedKeyAuthPolicy
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest

from batch_tui.batch.client import API_VERSION, BatchClient
from batch_tui.batch.errors import (
    Conflict,
    MalformedResponse,
    NotFound,
    NotModified,
    TransportError,
)
from batch_tui.batch.odata import eq
from batch_tui.batch.retry import RetryPolicy

HOST = "https://acct.westus.batch.azure.com"
KEY = "ZW11bGF0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
JSON = "application/json; odata=minimalmetadata"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
NO_RETRY = RetryPolicy(max_attempts=1)

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, retry: RetryPolicy = NO_RETRY) -> BatchClient:
    return BatchClient.with_shared_key(
        HOST, "acct", KEY, transport=httpx.MockTransport(handler), retry=retry
    )


def query(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}


def sdk_signature(request: httpx.Request) -> str:
    """What the official SDK's policy signs for the request exactly as it arrived."""
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    sdk_request = HttpRequest(request.method, str(request.url), headers=headers)
    policy = BatchSharedKeyAuthPolicy(AzureNamedKeyCredential("acct", KEY))
    policy.on_request(PipelineRequest(sdk_request, PipelineContext(None)))
    return str(sdk_request.headers["Authorization"])


class Recorder:
    """A MockTransport handler that records requests and answers from a list."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0) if self.responses else httpx.Response(200, json={})


async def test_every_request_carries_the_standard_headers() -> None:
    recorder = Recorder(httpx.Response(200, json={"value": []}))
    async with make_client(recorder) as client:
        assert await client.list_pools() == []
    (request,) = recorder.requests
    assert uuid.UUID(request.headers["client-request-id"]).version == 4
    assert request.headers["return-client-request-id"] == "true"
    sent_at = parsedate_to_datetime(request.headers["ocp-date"])
    assert abs(sent_at - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert request.headers["Authorization"].startswith("SharedKey acct:")
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("batch-tui/")
    assert query(request) == {"api-version": API_VERSION, "maxresults": "1000"}


async def test_signatures_verify_against_what_was_actually_sent() -> None:
    recorder = Recorder()
    async with make_client(recorder) as client:
        await client.list_tasks("j1", select=["id", "state"], filter=eq("state", "it's done"))
        await client.reboot_node("p1", "n1", option="terminate")
        await client.enable_job("j1")
        await client.delete_job("j1")
        await client.read_task_file("j1", "t1", "wd\\out put.txt", start=0, end=99)
    for request in recorder.requests:
        assert request.headers["Authorization"] == sdk_signature(request), request.url


async def test_paging_follows_next_link_with_select_and_filter() -> None:
    next_link = f"{HOST}/jobs/j1/tasks?api-version={API_VERSION}&$skipToken=t%2B2"
    recorder = Recorder(
        httpx.Response(200, json={"value": [{"id": "t1"}], "odata.nextLink": next_link}),
        httpx.Response(200, json={"value": [{"id": "t2"}, {"id": "t3"}]}),
    )
    async with make_client(recorder) as client:
        pages = client.iter_tasks("j1", select=["id", "state"], filter=eq("state", "completed"))
        ids = [[task.id for task in page] async for page in pages]
    assert ids == [["t1"], ["t2", "t3"]]
    first, second = recorder.requests
    assert first.url.path == "/jobs/j1/tasks"
    assert query(first) == {
        "api-version": API_VERSION,
        "$select": "id,state",
        "$filter": "state eq 'completed'",
        "maxresults": "1000",
    }
    assert b"%20eq%20%27completed%27" in first.url.query  # spaces never sent as '+'
    assert str(second.url) == next_link


async def test_list_collects_all_pages() -> None:
    link = f"{HOST}/pools?$skipToken=2&api-version={API_VERSION}"
    recorder = Recorder(
        httpx.Response(200, json={"value": [{"id": "a"}], "odata.nextLink": link}),
        httpx.Response(200, json={"value": [{"id": "b"}]}),
    )
    async with make_client(recorder) as client:
        pools = await client.list_pools(select=["id"], expand="stats")
    assert [p.id for p in pools] == ["a", "b"]
    assert query(recorder.requests[0])["$expand"] == "stats"


async def test_next_link_to_another_host_never_gets_our_signature() -> None:
    recorder = Recorder(
        httpx.Response(
            200, json={"value": [], "odata.nextLink": "https://evil.example.com/pools?$skipToken=x"}
        ),
        httpx.Response(200, json={"value": []}),
    )
    async with make_client(recorder) as client:
        await client.list_pools()
    second = recorder.requests[1]
    assert second.url.host == "acct.westus.batch.azure.com"
    assert query(second) == {"$skipToken": "x", "api-version": API_VERSION}


async def test_node_counts_pages_by_ten() -> None:
    recorder = Recorder(httpx.Response(200, json={"value": [{"poolId": "p1"}]}))
    async with make_client(recorder) as client:
        counts = await client.list_node_counts(filter=eq("poolId", "p1"))
    assert counts[0].pool_id == "p1"
    assert query(recorder.requests[0])["maxresults"] == "10"
    assert recorder.requests[0].url.path == "/nodecounts"


ACTIONS: list[tuple[Callable[[BatchClient], Any], str, str, dict[str, Any] | None]] = [
    (lambda c: c.reboot_node("p1", "n1"), "POST", "/pools/p1/nodes/n1/reboot",
     {"nodeRebootOption": "requeue"}),
    (lambda c: c.reimage_node("p1", "n1", option="taskcompletion"), "POST",
     "/pools/p1/nodes/n1/reimage", {"nodeReimageOption": "taskcompletion"}),
    (lambda c: c.deallocate_node("p1", "n1", option="retaineddata"), "POST",
     "/pools/p1/nodes/n1/deallocate", {"nodeDeallocateOption": "retaineddata"}),
    (lambda c: c.start_node("p1", "n1"), "POST", "/pools/p1/nodes/n1/start", None),
    (lambda c: c.disable_node_scheduling("p1", "n1"), "POST",
     "/pools/p1/nodes/n1/disablescheduling", {"nodeDisableSchedulingOption": "requeue"}),
    (lambda c: c.enable_node_scheduling("p1", "n1"), "POST",
     "/pools/p1/nodes/n1/enablescheduling", None),
    (lambda c: c.remove_nodes("p1", ["n1", "n2"], "terminate", timedelta(minutes=15)), "POST",
     "/pools/p1/removenodes",
     {"nodeList": ["n1", "n2"], "nodeDeallocationOption": "terminate", "resizeTimeout": "PT15M"}),
    (lambda c: c.add_node_user("p1", "n1", "me", ssh_public_key="ssh-rsa AAA", is_admin=True,
                               expiry_time=datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
     "POST", "/pools/p1/nodes/n1/users",
     {"name": "me", "isAdmin": True, "sshPublicKey": "ssh-rsa AAA",
      "expiryTime": "2030-01-02T03:04:05.000000Z"}),
    (lambda c: c.delete_node_user("p1", "n1", "me"), "DELETE", "/pools/p1/nodes/n1/users/me",
     None),
    (lambda c: c.resize_pool("p1", target_dedicated=3, target_low_priority=0,
                             option="taskcompletion"), "POST", "/pools/p1/resize",
     {"targetDedicatedNodes": 3, "targetLowPriorityNodes": 0,
      "nodeDeallocationOption": "taskcompletion"}),
    (lambda c: c.stop_resize_pool("p1"), "POST", "/pools/p1/stopresize", None),
    (lambda c: c.enable_pool_autoscale("p1", "$TargetDedicatedNodes=1;", timedelta(hours=1)),
     "POST", "/pools/p1/enableautoscale",
     {"autoScaleFormula": "$TargetDedicatedNodes=1;", "autoScaleEvaluationInterval": "PT1H"}),
    (lambda c: c.enable_pool_autoscale("p1", evaluation_interval=timedelta(minutes=5)), "POST",
     "/pools/p1/enableautoscale", {"autoScaleEvaluationInterval": "PT5M"}),
    (lambda c: c.disable_pool_autoscale("p1"), "POST", "/pools/p1/disableautoscale", None),
    (lambda c: c.delete_pool("p1"), "DELETE", "/pools/p1", None),
    (lambda c: c.terminate_job("j1", reason="enough"), "POST", "/jobs/j1/terminate",
     {"terminateReason": "enough"}),
    (lambda c: c.terminate_job("j1"), "POST", "/jobs/j1/terminate", None),
    (lambda c: c.disable_job("j1", "wait"), "POST", "/jobs/j1/disable", {"disableTasks": "wait"}),
    (lambda c: c.enable_job("j1"), "POST", "/jobs/j1/enable", None),
    (lambda c: c.delete_job("j1"), "DELETE", "/jobs/j1", None),
    (lambda c: c.terminate_task("j1", "t1"), "POST", "/jobs/j1/tasks/t1/terminate", None),
    (lambda c: c.reactivate_task("j1", "t1"), "POST", "/jobs/j1/tasks/t1/reactivate", None),
    (lambda c: c.delete_task("j1", "t1"), "DELETE", "/jobs/j1/tasks/t1", None),
]  # fmt: skip


@pytest.mark.parametrize(("call", "method", "path", "body"), ACTIONS)
async def test_actions_send_the_spec_bodies(
    call: Callable[[BatchClient], Any], method: str, path: str, body: dict[str, Any] | None
) -> None:
    recorder = Recorder(httpx.Response(202))
    async with make_client(recorder) as client:
        assert await call(client) is None
    (request,) = recorder.requests
    assert (request.method, request.url.path) == (method, path)
    if body is None:
        assert request.content == b""
        assert request.headers["Content-Length"] == "0"
        assert "Content-Type" not in request.headers
    else:
        assert json.loads(request.content) == body
        assert request.headers["Content-Type"] == JSON
        assert request.headers["Content-Length"] == str(len(request.content))


async def test_remove_nodes_refuses_more_than_a_request_can_hold() -> None:
    async with make_client(Recorder()) as client:
        with pytest.raises(ValueError):
            await client.remove_nodes("p1", [f"n{i}" for i in range(101)])
        with pytest.raises(ValueError):
            await client.remove_nodes("p1", [])


async def test_ids_and_file_paths_are_percent_encoded() -> None:
    recorder = Recorder(httpx.Response(206, content=b"0123456789"))
    async with make_client(recorder) as client:
        data = await client.read_task_file(
            "sched:job-1", "t 1", "wd\\out put.txt", start=10, end=19
        )
    assert data == b"0123456789"
    (request,) = recorder.requests
    path = request.url.raw_path.split(b"?")[0]
    assert path == b"/jobs/sched%3Ajob-1/tasks/t%201/files/wd%5Cout%20put.txt"
    assert request.headers["ocp-range"] == "bytes=10-19"


async def test_file_reads_with_open_and_no_ranges() -> None:
    recorder = Recorder(httpx.Response(200, content=b"all"), httpx.Response(200, content=b"tail"))
    async with make_client(recorder) as client:
        assert await client.read_node_file("p1", "n1", "startup/stdout.txt") == b"all"
        assert await client.read_node_file("p1", "n1", "startup/stdout.txt", start=5) == b"tail"
        with pytest.raises(ValueError):
            await client.read_node_file("p1", "n1", "x", start=9, end=3)
    first, second = recorder.requests
    assert first.url.path == "/pools/p1/nodes/n1/files/startup/stdout.txt"
    assert "ocp-range" not in first.headers
    assert second.headers["ocp-range"] == "bytes=5-"


async def test_file_properties_come_from_the_live_service_headers() -> None:
    headers = {
        "Content-Length": "13",
        "Content-Type": "text/plain",
        "Last-Modified": "Thu, 07 Sep 2023 06:26:59 GMT",
        "ocp-batch-file-isdirectory": "False",
        "ocp-batch-file-url": "https%3A%2F%2Facct.westus.batch.azure.com%2Fjobs%2Fj1%2Ftasks%2Ft1%2Ffiles%2Fstdout.txt",
        "ocp-creation-time": "Thu, 07 Sep 2023 06:26:58 GMT",
        "ocp-batch-file-mode": "0o100644",
    }
    recorder = Recorder(httpx.Response(200, headers=headers))
    async with make_client(recorder) as client:
        info = await client.get_task_file_properties("j1", "t1", "stdout.txt")
    assert recorder.requests[0].method == "HEAD"
    assert info.url == f"{HOST}/jobs/j1/tasks/t1/files/stdout.txt"
    assert info.is_directory is False
    assert info.content_length == 13
    assert info.content_type == "text/plain"
    assert info.last_modified == datetime(2023, 9, 7, 6, 26, 59, tzinfo=timezone.utc)
    assert info.creation_time == datetime(2023, 9, 7, 6, 26, 58, tzinfo=timezone.utc)
    assert info.file_mode == "0o100644"


async def test_node_file_list_decodes_the_live_recording() -> None:
    recording = SHARED / "recordings" / "test_batch.pyTestBatchtest_batch_files[async].excerpt.json"
    entry = json.loads(recording.read_text())["Entries"][0]
    recorder = Recorder(httpx.Response(200, json=entry["ResponseBody"]))
    async with make_client(recorder) as client:
        files = await client.list_node_files("p1", "n1", recursive=True)
    assert query(recorder.requests[0])["recursive"] == "true"
    by_name = {f.name: f for f in files}
    assert by_name["workitems"].is_directory
    sizes = [f.properties.content_length for f in files if f.properties is not None]
    assert sizes and all(isinstance(size, int) for size in sizes)


async def test_conditional_get_sends_the_etag_and_raises_not_modified() -> None:
    recorder = Recorder(httpx.Response(304))
    async with make_client(recorder) as client:
        with pytest.raises(NotModified):
            await client.get_job("j1", if_none_match="0x8DBAED6F7336C7A")
    assert recorder.requests[0].headers["If-None-Match"] == "0x8DBAED6F7336C7A"


async def test_single_reads_decode_models() -> None:
    recorder = Recorder(
        httpx.Response(200, json={"remoteLoginIPAddress": "1.2.3.4", "remoteLoginPort": 50000}),
        httpx.Response(200, json={"value": [{"id": 0, "state": "running"}]}),
        httpx.Response(200, json={"taskCounts": {"active": 3}}),
    )
    async with make_client(recorder) as client:
        login = await client.get_remote_login_settings("p1", "n1")
        subtasks = await client.list_subtasks("j1", "t1")
        counts = await client.get_task_counts("j1")
    assert (login.remote_login_ip_address, login.remote_login_port) == ("1.2.3.4", 50000)
    assert subtasks[0].state == "running"
    assert counts.task_counts is not None and counts.task_counts.active == 3
    paths = [r.url.path for r in recorder.requests]
    assert paths == [
        "/pools/p1/nodes/n1/remoteloginsettings",
        "/jobs/j1/tasks/t1/subtasksinfo",
        "/jobs/j1/taskcounts",
    ]


async def test_service_errors_map_to_the_tree() -> None:
    body = {
        "code": "JobNotFound",
        "message": {"value": "The specified job does not exist.\nRequestId:x"},
    }
    recorder = Recorder(httpx.Response(404, json=body, headers={"request-id": "rid"}))
    async with make_client(recorder) as client:
        with pytest.raises(NotFound) as info:
            await client.get_job("j1")
    assert info.value.code == "JobNotFound"
    assert info.value.message == "The specified job does not exist."
    assert info.value.client_request_id == recorder.requests[0].headers["client-request-id"]


async def test_a_password_never_reaches_an_error() -> None:
    body = {"code": "NodeUserExists", "message": {"value": "The user exists."}}
    async with make_client(Recorder(httpx.Response(409, json=body))) as client:
        with pytest.raises(Conflict) as info:
            await client.add_node_user("p1", "n1", "me", password="hunter2-secret")
    assert "hunter2-secret" not in f"{info.value} {info.value!r} {info.value.values}"


async def test_html_page_instead_of_json_is_malformed() -> None:
    page = b"<html><body>Please sign in to the proxy</body></html>"
    recorder = Recorder(httpx.Response(200, content=page, headers={"Content-Type": "text/html"}))
    async with make_client(recorder) as client:
        with pytest.raises(MalformedResponse) as info:
            await client.list_pools()
    assert "text/html" in str(info.value)


@pytest.mark.parametrize("content", [b'{"value": [{"id": "p1"', b"[1, 2]", b""])
async def test_truncated_or_misshapen_json_is_malformed(content: bytes) -> None:
    recorder = Recorder(httpx.Response(200, content=content))
    async with make_client(recorder) as client:
        with pytest.raises(MalformedResponse):
            await client.get_pool("p1")


class CutStream(httpx.AsyncByteStream):
    """A body that the connection drops halfway."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"value": [{"id": "p1"},'
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


async def test_body_cut_by_the_connection_is_a_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=CutStream())

    async with make_client(handler) as client:
        with pytest.raises(TransportError) as info:
            await client.list_pools()
    assert info.value.sent and "mid-response" in str(info.value)


async def test_connect_error_is_a_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    async with make_client(handler) as client:
        with pytest.raises(TransportError) as info:
            await client.get_node("p1", "n1")
    assert not info.value.sent


async def test_aclose_closes_the_credential() -> None:
    class Credential:
        closed = False

        async def get_token(self, *scopes: str, **_: Any) -> Any:
            raise AssertionError("not called")

        async def close(self) -> None:
            self.closed = True

    credential = Credential()
    async with BatchClient.with_credential(HOST, credential) as client:
        assert client.endpoint == HOST
    assert credential.closed


def test_endpoint_must_be_a_url() -> None:
    with pytest.raises(ValueError, match="http"):
        BatchClient.with_shared_key("acct.westus.batch.azure.com", "acct", KEY)


async def test_read_only_client_refuses_every_mutation_before_sending() -> None:
    from batch_tui.batch.client import BatchClient
    from batch_tui.batch.errors import ReadOnly

    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"value": []})

    client = BatchClient.with_shared_key(
        "https://acct.region.batch.azure.com",
        "acct",
        "ZW11bGF0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg==",
        transport=httpx.MockTransport(handle),
        read_only=True,
    )
    async with client:
        assert client.read_only
        mutations = [
            client.reboot_node("p", "n"),
            client.remove_nodes("p", ["n"]),
            client.delete_job("j"),
            client.terminate_task("j", "t"),
            client.add_node_user("p", "n", "me", password="pw"),
            client.resize_pool("p", target_dedicated=3),
        ]
        for call in mutations:
            with pytest.raises(ReadOnly):
                await call
        assert sent == []
        assert await client.list_pools() == []  # reads still work
    assert [r.method for r in sent] == ["GET"]
