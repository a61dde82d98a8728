"""Tests SharedKey signing (vectors and the official SDK) and the Entra ID token flow."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from azure.batch._patch import BatchSharedKeyAuthPolicy
from azure.core.credentials import AccessToken, AzureNamedKeyCredential
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest

from batch_tui.batch.auth import (
    SCOPE,
    SharedKeyAuth,
    TokenCredentialAuth,
    make_credential,
    string_to_sign,
)
from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import AuthFailed

ACCOUNT = "myaccount"
KEY = "ZW11bGF0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
DATE = "Tue, 01 Oct 2024 12:00:00 GMT"
HOST = "https://myaccount.westus.batch.azure.com"
JSON = "application/json; odata=minimalmetadata"


def signed(method: str, url: str, content: bytes | None = None, **headers: str) -> httpx.Request:
    request = httpx.Request(method, url, content=content, headers={"ocp-date": DATE, **headers})
    SharedKeyAuth(ACCOUNT, KEY).sign(request)
    return request


def test_get_vector_from_batch_api_notes() -> None:
    url = (
        f"{HOST}/pools?api-version=2024-07-01.20.0&maxresults=10&$filter=state%20eq%20%27active%27"
    )
    request = signed("GET", url)
    assert string_to_sign(request, ACCOUNT) == (
        "GET\n\n\n\n\n\n\n\n\n\n\n\nocp-date:Tue, 01 Oct 2024 12:00:00 GMT\n/myaccount/pools\n"
        "$filter:state eq 'active'\napi-version:2024-07-01.20.0\nmaxresults:10"
    )
    expected = "SharedKey myaccount:n5vD6IjKvBGC+idtSMSdgwl3FRtc78HQlr6ILVFW0vk="
    assert request.headers["Authorization"] == expected


def test_post_vector_from_batch_api_notes() -> None:
    url = f"{HOST}/pools/p1/nodes/n1/reboot?api-version=2024-07-01.20.0"
    body = b'{"nodeRebootOption":"requeue"}    '  # 34 bytes, as in the vector
    assert len(body) == 34
    request = signed("POST", url, body, **{"Content-Type": JSON})
    assert string_to_sign(request, ACCOUNT) == (
        "POST\n\n\n34\n\napplication/json; odata=minimalmetadata\n\n\n\n\n\n\n"
        "ocp-date:Tue, 01 Oct 2024 12:00:00 GMT\n/myaccount/pools/p1/nodes/n1/reboot\n"
        "api-version:2024-07-01.20.0"
    )
    expected = "SharedKey myaccount:7BJK/11w0ReKAcQMiR6/hjqBT2AlJeME0IuGypA0o3M="
    assert request.headers["Authorization"] == expected


def sdk_authorization(method: str, url: str, content: bytes | None, headers: dict[str, str]) -> str:
    policy = BatchSharedKeyAuthPolicy(AzureNamedKeyCredential(ACCOUNT, KEY))
    request = HttpRequest(method, url, content=content, headers=headers)
    policy.on_request(PipelineRequest(request, PipelineContext(None)))
    return str(request.headers["Authorization"])


API = "api-version=2024-07-01.20.0"
SDK_CASES = [
    pytest.param(
        "GET",
        f"{HOST}/jobs/j1/tasks?{API}&$filter=state%20eq%20%27completed%27&$select=id%2Cstate&maxresults=1000",
        None,
        {},
        id="get-filter-select",
    ),
    pytest.param(
        "POST",
        f"{HOST}/pools/p1/nodes/n1/reboot?{API}",
        b'{"nodeRebootOption":"terminate"}',
        {"Content-Type": JSON},
        id="post-json",
    ),
    pytest.param("POST", f"{HOST}/jobs/j1/enable?{API}", None, {}, id="post-no-body"),
    pytest.param("DELETE", f"{HOST}/jobs/j1/tasks/t1?{API}", None, {}, id="delete-no-body"),
    pytest.param(
        "GET",
        f"{HOST}/jobs/j1/tasks/t1/files/stdout.txt?{API}",
        None,
        {"ocp-range": "bytes=100-199"},
        id="file-range",
    ),
    pytest.param(
        "HEAD",
        f"{HOST}/pools/p1/nodes/n1/files/workitems%5Cjob-1%5Ctask%201%5Cstdout.txt?{API}",
        None,
        {},
        id="backslash-path",
    ),
    pytest.param(
        "GET",
        f"{HOST}/jobs?{API}&$skipToken=abc%2Bdef&timeout=",
        None,
        {"If-None-Match": "0x8DBAED6F7336C7A"},
        id="skiptoken-conditional",
    ),
]


@pytest.mark.parametrize(("method", "url", "content", "headers"), SDK_CASES)
def test_signature_matches_the_official_sdk(
    method: str, url: str, content: bytes | None, headers: dict[str, str]
) -> None:
    ours = signed(method, url, content, **headers)
    sdk_headers = {"ocp-date": DATE, **headers}
    if content is not None:
        sdk_headers["Content-Type"] = headers["Content-Type"]
    assert ours.headers["Authorization"] == sdk_authorization(method, url, content, sdk_headers)


def test_bodiless_post_sends_the_content_length_it_signs() -> None:
    request = httpx.Request("DELETE", f"{HOST}/jobs/j1?{API}", headers={"ocp-date": DATE})
    SharedKeyAuth(ACCOUNT, KEY).sign(request)
    assert request.headers["Content-Length"] == "0"
    assert "\n0\n" in string_to_sign(request, ACCOUNT)


def test_sign_adds_ocp_date_when_missing() -> None:
    request = httpx.Request("GET", f"{HOST}/pools?{API}")
    SharedKeyAuth(ACCOUNT, KEY).sign(request)
    assert request.headers["ocp-date"].endswith(" GMT")


def test_shared_key_hides_the_key() -> None:
    auth = SharedKeyAuth(ACCOUNT, KEY)
    client = BatchClient(HOST, auth)
    for text in (repr(auth), str(auth), repr(client), str(client)):
        assert KEY not in text
        assert "***" in text or "SharedKeyAuth" in text


def test_invalid_key_error_does_not_show_it() -> None:
    with pytest.raises(ValueError) as info:
        SharedKeyAuth(ACCOUNT, "not base64!!")
    assert "not base64!!" not in str(info.value)


class FakeCredential:
    """An async credential whose tokens expire when the test says."""

    def __init__(self, lifetimes: list[int]) -> None:
        self.lifetimes = lifetimes
        self.calls: list[str] = []
        self.closed = False
        self.now = 1_000_000

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.calls.extend(scopes)
        number = len(self.calls)
        return AccessToken(f"token-{number}", self.now + self.lifetimes[number - 1])

    async def close(self) -> None:
        self.closed = True


def bearer_client(credential: Any, handler: Any, clock: Any) -> BatchClient:
    auth = TokenCredentialAuth(credential, clock=clock)
    return BatchClient(HOST, auth, transport=httpx.MockTransport(handler))


async def test_token_is_cached_and_refreshed_before_expiry() -> None:
    credential = FakeCredential([3600, 3600])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"id": "p1"})

    async with bearer_client(credential, handler, lambda: credential.now) as client:
        await client.get_pool("p1")
        await client.get_pool("p1")
        credential.now += 3600 - 299  # inside the 5-minute refresh margin
        await client.get_pool("p1")
    assert seen == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert credential.calls == [SCOPE, SCOPE]
    assert credential.closed


async def test_one_retry_with_a_fresh_token_on_401() -> None:
    credential = FakeCredential([3600, 3600, 3600])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer token-1":
            return httpx.Response(401, json={"code": "InvalidAuthenticationToken"})
        return httpx.Response(200, json={"id": "p1"})

    async with bearer_client(credential, handler, lambda: credential.now) as client:
        pool = await client.get_pool("p1")
    assert pool.id == "p1"
    assert seen == ["Bearer token-1", "Bearer token-2"]


async def test_persistent_401_raises_auth_failed_after_one_retry() -> None:
    credential = FakeCredential([3600, 3600, 3600])
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(401, json={"code": "Unauthorized", "message": {"value": "no"}})

    async with bearer_client(credential, handler, lambda: credential.now) as client:
        with pytest.raises(AuthFailed) as info:
            await client.get_pool("p1")
    assert count == 2
    assert "token-" not in str(info.value) and "token-" not in repr(info.value)


async def test_concurrent_requests_share_one_token_fetch() -> None:
    credential = FakeCredential([3600] * 5)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "p1"})

    async with bearer_client(credential, handler, lambda: credential.now) as client:
        await asyncio.gather(*(client.get_pool("p1") for _ in range(5)))
    assert len(credential.calls) == 1


async def test_sync_credential_runs_in_a_thread_and_is_closed() -> None:
    class SyncCredential:
        closed = False

        def get_token(self, *scopes: str, **_: Any) -> AccessToken:
            return AccessToken("sync-token", 10**10)

        def close(self) -> None:
            self.closed = True

    credential = SyncCredential()
    auth = TokenCredentialAuth(credential)
    assert await auth.token() == "sync-token"
    await auth.aclose()
    assert credential.closed


async def test_credential_failure_is_auth_failed() -> None:
    class Broken:
        async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
            raise RuntimeError("Please run 'az login'.\nMore detail on another line")

    auth = TokenCredentialAuth(Broken())
    with pytest.raises(AuthFailed) as info:
        await auth.token()
    assert "az login" in str(info.value)
    assert "\n" not in str(info.value)


def test_token_auth_repr_hides_the_token() -> None:
    auth = TokenCredentialAuth(FakeCredential([1]))
    auth._token = AccessToken("secret-token", 10**10)
    assert "secret-token" not in repr(auth)
    assert "secret-token" not in str(BatchClient(HOST, auth))


async def test_make_credential_builds_each_method() -> None:
    from azure.identity import (
        AzureCliCredential,
        DefaultAzureCredential,
        DeviceCodeCredential,
        ManagedIdentityCredential,
    )

    kinds = {
        "default": DefaultAzureCredential,
        "cli": AzureCliCredential,
        "device-code": DeviceCodeCredential,
        "managed-identity": ManagedIdentityCredential,
    }
    for method, kind in kinds.items():
        credential = make_credential(
            method, tenant_id="contoso.onmicrosoft.com", prompt_callback=lambda u, c, e: None
        )
        assert isinstance(credential, kind)
        await TokenCredentialAuth(credential).aclose()
    with pytest.raises(ValueError, match="unknown auth method"):
        make_credential("password")
