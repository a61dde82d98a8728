"""Tests what the emulator answers to a request body that is not sent as JSON.

The service's answer is on record: a Batch error body kept in msrestazure's tests
(`tests/test_exceptions.py`, from a real response) is 400 `InvalidHeaderValue`, "The value for
one of the HTTP headers is not in the correct format.", with `values` HeaderName
`Content-Type` and HeaderValue as sent. The REST spec's `consumes` is
`application/json; odata=minimalmetadata`; every client sends `application/json` with or
without parameters.
"""

from __future__ import annotations

import httpx
import pytest

from tests.emulator.support import POOL_BODY, assert_error


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "text/json"],
)
async def test_a_json_body_sent_as_another_type_is_400_invalid_header_value(
    http: httpx.AsyncClient, content_type: str
) -> None:
    body = httpx.Request("POST", "http://x", json=POOL_BODY).content
    response = await http.post("/pools", content=body, headers={"Content-Type": content_type})
    values = assert_error(response, 400, "InvalidHeaderValue")
    assert values == {"HeaderName": "Content-Type", "HeaderValue": content_type}
    assert response.json()["message"]["value"].startswith(
        "The value for one of the HTTP headers is not in the correct format.\n"
    )
    assert (await http.get("/pools")).json()["value"] == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; odata=minimalmetadata",
        "application/json; odata=minimalmetadata; charset=utf-8",  # msrest 14.x, the JS SDK
        "Application/JSON",
    ],
)
async def test_json_bodies_are_taken_with_any_parameters(
    http: httpx.AsyncClient, content_type: str
) -> None:
    body = httpx.Request("POST", "http://x", json=POOL_BODY).content
    response = await http.post("/pools", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text


async def test_a_patch_or_update_body_is_checked_too(http: httpx.AsyncClient) -> None:
    assert (await http.post("/pools", json=POOL_BODY)).status_code == 201
    text = {"Content-Type": "text/plain"}
    patch = await http.patch("/pools/pool1", content=b'{"metadata": []}', headers=text)
    assert_error(patch, 400, "InvalidHeaderValue")
    update = await http.post("/pools/pool1/updateproperties", content=b"{}", headers=text)
    assert_error(update, 400, "InvalidHeaderValue")


async def test_a_read_with_a_content_type_is_not_refused(http: httpx.AsyncClient) -> None:
    response = await http.get("/pools", headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
