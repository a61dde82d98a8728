"""Tests the emulator's front door: SharedKey, api-version, routing, error bodies and headers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from batch_tui.emulator.http import sharedkey
from batch_tui.emulator.ops import pools as pool_ops
from tests.emulator.shared_key import SharedKeyAuth
from tests.emulator.support import ACCOUNT, API_VERSION, BASE_URL, KEY, assert_error


def test_string_to_sign_matches_the_documented_vector() -> None:
    key = "ZW11bGF0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
    headers = {"ocp-date": "Tue, 01 Oct 2024 12:00:00 GMT"}
    query = "api-version=2024-07-01.20.0&maxresults=10&$filter=state%20eq%20%27active%27"
    text = sharedkey.string_to_sign("GET", headers, "/pools", query, "myaccount")
    assert text == (
        "GET\n\n\n\n\n\n\n\n\n\n\n\nocp-date:Tue, 01 Oct 2024 12:00:00 GMT\n/myaccount/pools"
        "\n$filter:state eq 'active'\napi-version:2024-07-01.20.0\nmaxresults:10"
    )
    assert sharedkey.sign(key, text) == "n5vD6IjKvBGC+idtSMSdgwl3FRtc78HQlr6ILVFW0vk="
    post_headers = {
        **headers,
        "content-type": "application/json; odata=minimalmetadata",
        "content-length": "34",
    }
    post = sharedkey.string_to_sign(
        "POST", post_headers, "/pools/p1/nodes/n1/reboot", "api-version=2024-07-01.20.0",
        "myaccount",
    )  # fmt: skip
    assert sharedkey.sign(key, post) == "7BJK/11w0ReKAcQMiR6/hjqBT2AlJeME0IuGypA0o3M="


async def test_signed_request_is_accepted(http: httpx.AsyncClient) -> None:
    response = await http.get("/pools")
    assert response.status_code == 200
    assert response.json() == {"odata.metadata": f"{BASE_URL}/$metadata#pools", "value": []}
    assert response.headers["content-type"] == "application/json; odata=minimalmetadata"
    assert response.headers["dataserviceversion"] == "3.0"
    uuid.UUID(response.headers["request-id"])


async def test_missing_authorization_is_401(app: Any) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        response = await c.get("/pools", params={"api-version": API_VERSION})
    values = assert_error(response, 401, "AuthenticationFailed")
    assert "Authorization" in values["AuthenticationErrorDetail"]


@pytest.mark.parametrize(
    ("account", "key"),
    [(ACCOUNT, "d3Jvbmcta2V5LXdyb25nLWtleQ=="), ("otheraccount", KEY)],
    ids=["wrong-key", "wrong-account"],
)
async def test_bad_signature_is_403(app: Any, account: str, key: str) -> None:
    transport = httpx.ASGITransport(app=app)
    auth = SharedKeyAuth(account, key)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=auth) as c:
        response = await c.get("/pools", params={"api-version": API_VERSION})
    assert_error(response, 403, "AuthenticationFailed")


async def test_tampered_query_fails_the_signature(app: Any) -> None:
    class Tamper(SharedKeyAuth):
        def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
            signed = next(super().auth_flow(request))
            signed.url = signed.url.copy_add_param("maxresults", "5")
            yield signed

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, auth=Tamper(ACCOUNT, KEY)
    ) as c:
        response = await c.get("/pools", params={"api-version": API_VERSION})
    assert_error(response, 403, "AuthenticationFailed")


async def test_bearer_tokens_are_refused(app: Any) -> None:
    headers = {"Authorization": "Bearer abc"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        response = await c.get("/pools", params={"api-version": API_VERSION}, headers=headers)
    assert_error(response, 401, "AuthenticationFailed")


async def test_missing_api_version_is_400(app: Any) -> None:
    transport = httpx.ASGITransport(app=app)
    auth = SharedKeyAuth(ACCOUNT, KEY)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=auth) as c:
        response = await c.get("/pools")
    values = assert_error(response, 400, "MissingRequiredQueryParameter")
    assert values == {"QueryParameterName": "api-version"}


async def test_unknown_api_version_is_400(http: httpx.AsyncClient) -> None:
    response = await http.get("/pools", params={"api-version": "2099-01-01.99.0"})
    values = assert_error(response, 400, "InvalidQueryParameterValue")
    assert values["QueryParameterName"] == "api-version"
    assert values["QueryParameterValue"] == "2099-01-01.99.0"


@pytest.mark.parametrize("version", ["2023-05-01.17.0", "2024-02-01.19.0", "2025-06-01"])
async def test_published_api_versions_are_accepted(http: httpx.AsyncClient, version: str) -> None:
    response = await http.get("/pools", params={"api-version": version})
    assert response.status_code == 200


async def test_unknown_route_is_404_invalid_uri(http: httpx.AsyncClient) -> None:
    assert_error(await http.get("/nothing/here"), 404, "InvalidUri")


async def test_wrong_method_is_405_with_allow(http: httpx.AsyncClient) -> None:
    response = await http.delete("/pools")
    assert_error(response, 405, "UnsupportedHttpVerb")
    assert response.headers["allow"] == "GET, POST"


async def test_client_request_id_is_echoed_only_when_asked(http: httpx.AsyncClient) -> None:
    client_id = str(uuid.uuid4())
    plain = await http.get("/pools", headers={"client-request-id": client_id})
    assert "client-request-id" not in plain.headers
    echoed = await http.get(
        "/pools",
        headers={"client-request-id": client_id, "return-client-request-id": "true"},
    )
    assert echoed.headers["client-request-id"] == client_id
    assert echoed.headers["request-id"] != plain.headers["request-id"]


async def test_handler_crash_is_a_500_batch_error(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(pool_ops, "_pool_data", boom)
    response = await http.post("/pools", json={"id": "p", "vmSize": "a1", "virtualMachineConfiguration": {"imageReference": {}, "nodeAgentSKUId": "x"}})  # fmt: skip
    assert_error(response, 500, "InternalError")
    assert "kaboom" not in response.text
    assert "kaboom" in caplog.text


async def test_head_errors_have_no_body(http: httpx.AsyncClient) -> None:
    response = await http.head("/pools/missing")
    assert response.status_code == 404
    assert response.content == b""
