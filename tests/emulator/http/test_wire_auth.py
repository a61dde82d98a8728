"""Tests the emulator's front door: SharedKey, api-version, routing, error bodies and headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.http import sharedkey
from batch_tui.emulator.ops import pools as pool_ops
from tests.emulator.shared_key import SharedKeyAuth, string_to_sign
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


# --- freshness: a signed request is good for 15 minutes either side of the server's clock ---


def sign_as_is(request: httpx.Request, account: str = ACCOUNT, key: str = KEY) -> httpx.Request:
    """Signs `request` with the headers it has: no `ocp-date` is added (a hand-made client)."""
    digest = hmac.new(
        base64.b64decode(key), string_to_sign(request, account).encode(), hashlib.sha256
    ).digest()
    request.headers["Authorization"] = f"SharedKey {account}:{base64.b64encode(digest).decode()}"
    return request


def minutes_from_now(minutes: float) -> str:
    """An RFC 1123 date `minutes` from the wall clock (negative: in the past)."""
    return formatdate(time.time() + minutes * 60, usegmt=True)


async def send_dated(app: Any, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        request = client.build_request(
            method, path, params={"api-version": API_VERSION}, headers=headers
        )
        if method not in ("GET", "HEAD"):
            request.headers["Content-Length"] = "0"
        return await client.send(sign_as_is(request))


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Request date header not specified"),
        ({"ocp-date": "yesterday"}, "The Date header in the request is incorrect."),
        ({"ocp-date": "2024-10-01T12:00:00Z"}, "The Date header in the request is incorrect."),
        ({"ocp-date": "Tue, 01 Oct 2024 12:00:00"}, "The Date header in the request is incorrect."),
        ({"ocp-date": "Fri, 31 Dec 1999 23:59:59 GMT"}, "Request date header too old"),
        ({"ocp-date": "Thu, 01 Jan 2099 00:00:00 GMT"}, "Request date header too new"),
        ({"Date": "Fri, 31 Dec 1999 23:59:59 GMT"}, "Request date header too old"),
    ],
    ids=["none", "garbage", "iso-8601", "no-zone", "1999", "2099", "date-1999"],
)
async def test_a_request_without_a_fresh_date_is_403(
    app: Any, headers: dict[str, str], detail: str
) -> None:
    response = await send_dated(app, "GET", "/pools", headers)
    values = assert_error(response, 403, "AuthenticationFailed")
    assert values["AuthenticationErrorDetail"].startswith(detail)
    assert response.json()["message"]["value"].startswith(sharedkey.AUTH_FAILED_MESSAGE)


@pytest.mark.parametrize("minutes", [-16, 16])
async def test_a_date_more_than_15_minutes_off_is_403(app: Any, minutes: int) -> None:
    sent = minutes_from_now(minutes)
    response = await send_dated(app, "GET", "/pools", {"ocp-date": sent})
    values = assert_error(response, 403, "AuthenticationFailed")
    assert sent in values["AuthenticationErrorDetail"]


@pytest.mark.parametrize("minutes", [-14, 0, 14])
@pytest.mark.parametrize("header", ["ocp-date", "Date"])
async def test_a_date_within_15_minutes_is_accepted(app: Any, header: str, minutes: int) -> None:
    response = await send_dated(app, "GET", "/pools", {header: minutes_from_now(minutes)})
    assert response.status_code == 200, response.text


async def test_ocp_date_is_the_date_that_counts(app: Any) -> None:
    fresh, stale = minutes_from_now(0), "Fri, 31 Dec 1999 23:59:59 GMT"
    assert (await send_dated(app, "GET", "/pools", {"ocp-date": fresh, "Date": stale})).is_success
    refused = await send_dated(app, "GET", "/pools", {"ocp-date": stale, "Date": fresh})
    assert_error(refused, 403, "AuthenticationFailed")


async def test_the_date_is_checked_against_the_wall_clock_not_the_emulators(
    app: Any, clock: ManualClock
) -> None:
    # The tests' manual clock stands in 2024; clients sign with the time of day.
    assert abs(clock.now() - datetime.now(timezone.utc)) > timedelta(minutes=15)
    ok = await send_dated(app, "GET", "/pools", {"ocp-date": minutes_from_now(0)})
    assert ok.status_code == 200
    then = formatdate(clock.now().timestamp(), usegmt=True)
    assert_error(await send_dated(app, "GET", "/pools", {"ocp-date": then}), 403, "AuthenticationFailed")  # fmt: skip


async def test_a_captured_delete_replayed_20_minutes_later_is_refused(
    http: httpx.AsyncClient, app: Any
) -> None:
    assert (await http.post("/jobs", json={"id": "job1", "poolInfo": {"poolId": "p"}})).status_code == 201  # fmt: skip
    replay = await send_dated(app, "DELETE", "/jobs/job1", {"ocp-date": minutes_from_now(-20)})
    assert_error(replay, 403, "AuthenticationFailed")
    assert (await http.get("/jobs/job1")).json()["state"] == "active"
