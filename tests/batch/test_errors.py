"""Tests the error tree: status mapping, Batch error bodies, transport failures, secrets."""

from __future__ import annotations

import ssl

import httpx
import pytest

from batch_tui.batch.errors import (
    AuthFailed,
    BadRequest,
    BatchError,
    Conflict,
    MalformedResponse,
    NotFound,
    NotModified,
    PreconditionFailed,
    ServiceError,
    Throttled,
    TransportError,
    error_from_response,
    transport_error,
)

URL = "https://acct.westus.batch.azure.com/jobs/j1?api-version=2024-07-01.20.0"


def batch_body(code: str, text: str, **values: str) -> dict[str, object]:
    return {
        "odata.metadata": "https://acct.westus.batch.azure.com/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
        "code": code,
        "message": {
            "lang": "en-US",
            "value": f"{text}\nRequestId:a461fc08-0000\nTime:2025-06-05T00:05:48.3590438Z",
        },
        "values": [{"key": k, "value": v} for k, v in values.items()],
    }


def response(
    status: int, headers: dict[str, str] | None = None, authorization: str = "", **kw: object
) -> httpx.Response:
    request = httpx.Request(
        "GET", URL, headers={"Authorization": authorization} if authorization else {}
    )
    return httpx.Response(status, headers=headers, request=request, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "cls", "code"),
    [
        (304, NotModified, "ConditionNotMet"),
        (400, BadRequest, "InvalidQueryParameterValue"),
        (401, AuthFailed, "InvalidAuthenticationToken"),
        (403, AuthFailed, "AuthenticationFailed"),
        (404, NotFound, "JobNotFound"),
        (409, Conflict, "JobBeingDeleted"),
        (412, PreconditionFailed, "ConditionNotMet"),
        (413, BadRequest, "RequestEntityTooLarge"),
        (416, BadRequest, "InvalidRange"),
        (429, Throttled, "TooManyRequests"),
        (500, ServiceError, "InternalError"),
        (502, ServiceError, "BadGateway"),
        (503, Throttled, "ServerBusy"),
    ],
)
def test_status_maps_to_its_class_with_the_service_details(
    status: int, cls: type[BatchError], code: str
) -> None:
    headers = {"request-id": "rid-1", "client-request-id": "cid-1"}
    body = batch_body(code, "The thing failed.", Reason="because")
    error = error_from_response(response(status, headers, json=body))
    assert type(error) is cls
    assert (error.status, error.code) == (status, code)
    assert error.message == "The thing failed."
    assert (error.request_id, error.client_request_id) == ("rid-1", "cid-1")
    assert error.values == {"Reason": "because"}
    assert str(error) == f"{status} {code}: The thing failed. (request-id rid-1)"
    assert "\n" not in str(error)


def test_every_class_is_a_batch_error() -> None:
    classes: list[type[Exception]] = [
        TransportError, AuthFailed, NotFound, Conflict, PreconditionFailed, NotModified,
        BadRequest, Throttled, ServiceError, MalformedResponse,
    ]  # fmt: skip
    assert all(issubclass(cls, BatchError) for cls in classes)


def test_client_request_id_falls_back_to_the_one_sent() -> None:
    error = error_from_response(
        response(404, json=batch_body("PoolNotFound", "No pool.")), "sent-id"
    )
    assert error.client_request_id == "sent-id"


def test_throttled_carries_retry_after() -> None:
    error = error_from_response(response(429, {"Retry-After": "7"}, json=batch_body("X", "slow")))
    assert isinstance(error, Throttled)
    assert error.retry_after == 7.0


def test_html_error_page_from_a_proxy_is_described_not_shown() -> None:
    html = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
    error = error_from_response(
        response(502, {"Content-Type": "text/html; charset=utf-8"}, content=html.encode())
    )
    assert isinstance(error, ServiceError)
    assert error.code is None
    assert "text/html" in error.message and "<" not in error.message
    assert str(error).startswith("502: Bad Gateway")


def test_proxy_503_page_is_still_throttling() -> None:
    error = error_from_response(
        response(503, {"Content-Type": "text/html"}, content=b"<p>busy</p>")
    )
    assert isinstance(error, Throttled)


def test_json_of_the_wrong_shape_still_maps_by_status() -> None:
    error = error_from_response(response(404, json=["not", "an", "error"]))
    assert isinstance(error, NotFound)
    assert error.message == "Not Found"


def test_the_request_secret_is_scrubbed_from_echoed_details() -> None:
    secret = "eyJ0eXAiOiJKV1QiLCJhbGciOi.secret.token"
    body = batch_body(
        "InvalidAuthenticationToken",
        f"The token {secret} is expired.",
        AuthenticationErrorDetail=f"Bearer {secret}",
    )
    error = error_from_response(response(401, json=body, authorization=f"Bearer {secret}"))
    for text in (str(error), repr(error), error.message, *error.values.values()):
        assert secret not in text
    assert "***" in error.message


def test_transport_errors_say_whether_the_request_was_sent() -> None:
    request = httpx.Request("POST", URL)
    refused = transport_error(httpx.ConnectError("[Errno 111] Connection refused", request=request))
    assert (refused.sent, refused.retryable) == (False, True)
    assert str(refused) == "Could not connect: [Errno 111] Connection refused"
    dns = transport_error(httpx.ConnectError("[Errno -2] Name or service not known"))
    assert not dns.sent and "Name or service not known" in dns.message
    timeout = transport_error(httpx.ReadTimeout("", request=request), "cid")
    assert (timeout.sent, timeout.retryable) == (True, True)
    assert timeout.message == "Timed out waiting for the response"
    assert timeout.client_request_id == "cid"
    cut = transport_error(httpx.RemoteProtocolError("peer closed connection", request=request))
    assert cut.sent and "closed mid-response" in cut.message
    bad_url = transport_error(httpx.UnsupportedProtocol("Request URL has an unsupported protocol"))
    assert not bad_url.retryable


def test_tls_verification_failure_is_not_retryable() -> None:
    try:
        try:
            raise ssl.SSLCertVerificationError(1, "certificate verify failed")
        except ssl.SSLError as inner:
            raise httpx.ConnectError("TLS handshake failed") from inner
    except httpx.ConnectError as exc:
        error = transport_error(exc)
    assert not error.retryable
    assert not error.sent


def test_repr_names_the_class_and_fields() -> None:
    error = NotFound("Gone\nRequestId:x", code="TaskNotFound", status=404, request_id="r")
    assert error.message == "Gone"
    assert (
        repr(error) == "NotFound(status=404, code='TaskNotFound', message='Gone', request_id='r')"
    )
    assert str(BatchError("plain")) == "plain"
