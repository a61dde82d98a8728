"""Provides the guard of the control endpoints (`/_emulator/...`) and their BatchError answers.

The fault plan (`faults.CONTROL_PATH`) and preemption (`ops.preemption.PREEMPT_PATH`) live
outside the Batch namespace, not outside its lock. Before either acts, `refusal` checks that
the request comes from loopback, is signed with the account's SharedKey (the Batch API's own
check, date window included), and sends any body as `application/json`. The last keeps out a
browser's "simple request": a page on any site may POST `text/plain` to a local port without
a CORS preflight, and must not preempt nodes or change the plan.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from ipaddress import ip_address

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.http.sharedkey import AccountKey, verify_request
from batch_tui.emulator.routes.wire import (
    ERROR_METADATA,
    JSON_CONTENT_TYPE,
    err_headers,
    error_body,
    metadata_url,
    new_request_id,
)

JSON_MEDIA_TYPE = "application/json"
"""The only body type the control endpoints take (parameters such as `charset` are allowed)."""


def refusal(request: Request, credentials: AccountKey | None, what: str) -> Response | None:
    """Returns the answer that refuses a control request, or None to let it through.

    Args:
        request: The request to a control endpoint.
        credentials: The account name and key requests must be signed with; None refuses all.
        what: The endpoint's name, for the messages.

    Returns:
        403 `{"error": ...}` for a client off loopback or an endpoint without credentials,
        the Batch API's 401/403 AuthenticationFailed for a missing, wrong or stale signature,
        415 `{"error": ...}` for a body that is not `application/json`; else None.
    """
    if not is_loopback(request.client.host if request.client else None):
        return json_error(403, f"the {what} endpoint answers loopback clients only")
    if credentials is None:
        return json_error(403, f"the {what} endpoint was built without the account key")
    try:
        verify_request(request, credentials)
    except ServiceError as err:
        return batch_error(request.scope, err)
    problem = body_type_problem(request.headers)
    return None if problem is None else json_error(415, problem)


def body_type_problem(headers: Headers) -> str | None:
    """Says why a request's body type is refused: a body (or a `Content-Type`) that is not
    `application/json`. A request with neither, such as a bare POST, passes."""
    content_type = headers.get("content-type")
    if content_type is None and not has_body(headers):
        return None
    if media_type(content_type) == JSON_MEDIA_TYPE:
        return None
    return f"send the body as {JSON_MEDIA_TYPE} (the request's Content-Type: {content_type})"


def has_body(headers: Headers) -> bool:
    """Returns whether a request announces a body (a non-zero length, or chunks)."""
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def media_type(content_type: str | None) -> str:
    """Returns the media type of a `Content-Type` value, lower case, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_loopback(host: str | None) -> bool:
    """Returns whether a client address is a loopback address (127.0.0.0/8, ::1)."""
    try:
        return host is not None and ip_address(host).is_loopback
    except ValueError:
        return False


def json_error(status: int, message: str) -> JSONResponse:
    """The control endpoints' own error answer: `{"error": message}`."""
    return JSONResponse({"error": message}, status_code=status)


def batch_error(scope: Scope, err: ServiceError, headers: dict[str, str] | None = None) -> Response:
    """Answers with the service's BatchError body outside the emulator's dispatcher (the fault
    injector's replies, the control endpoints' authentication failures).

    Args:
        scope: The request's ASGI scope.
        err: The error to render.
        headers: Extra response headers (`Retry-After` ...).
    """
    request_id = new_request_id()
    request_headers = Headers(scope=scope)
    all_headers = {"request-id": request_id, "DataServiceVersion": "3.0", **err_headers(err)}
    all_headers.update(headers or {})
    client_id = request_headers.get("client-request-id")
    if client_id and request_headers.get("return-client-request-id", "").lower() == "true":
        all_headers["client-request-id"] = client_id
    body = error_body(err, request_id, datetime.now(timezone.utc))
    payload = {"odata.metadata": metadata_url(_base_url(scope), ERROR_METADATA), **body}
    content = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    if scope["method"] == "HEAD":
        content = b""
    return Response(content, err.status, all_headers, media_type=JSON_CONTENT_TYPE)


def _base_url(scope: Scope) -> str:
    host = Headers(scope=scope).get("host")
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"
