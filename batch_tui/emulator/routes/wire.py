"""Provides the emulator's HTTP wire format: headers, JSON bodies, entities and BatchError."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.state.store import Record

JSON_CONTENT_TYPE = "application/json; odata=minimalmetadata"
"""The content type of every JSON response of the live service (recordings)."""

ERROR_METADATA = "Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
"""The `odata.metadata` fragment of a BatchError body, as the live service sends it."""


def rfc1123(dt: datetime) -> str:
    """Formats a timestamp for HTTP headers (`Last-Modified`, `ocp-creation-time`)."""
    return format_datetime(dt, usegmt=True)


def new_request_id() -> str:
    """Returns a fresh `request-id`: the service answers every request with a new GUID."""
    return str(uuid.uuid4())


def base_headers(request: Request) -> dict[str, str]:
    """Returns the headers every response carries: `request-id`, `DataServiceVersion`, and the
    echoed `client-request-id` when the caller asked for it with `return-client-request-id`."""
    headers = {"request-id": request.state.request_id, "DataServiceVersion": "3.0"}
    client_id = request.headers.get("client-request-id")
    wants_echo = request.headers.get("return-client-request-id", "").lower() == "true"
    if client_id and wants_echo:
        headers["client-request-id"] = client_id
    return headers


def metadata_url(base_url: str, fragment: str) -> str:
    """Returns the `odata.metadata` value for a body, e.g. `.../$metadata#pools/@Element`."""
    return f"{base_url}/$metadata#{fragment}"


def json_response(
    request: Request,
    body: Mapping[str, Any],
    *,
    metadata: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Returns a JSON response with `odata.metadata` first, as the service writes it."""
    base_url = request.state.emulator.settings.base_url
    payload = {"odata.metadata": metadata_url(base_url, metadata), **body}
    all_headers = {**base_headers(request), "Content-Type": JSON_CONTENT_TYPE, **(headers or {})}
    content = msgspec.json.encode(payload)
    if request.method == "HEAD":
        content = b""
    return Response(content, status_code=status, headers=all_headers)


def empty_response(
    request: Request, status: int, headers: Mapping[str, str] | None = None
) -> Response:
    """Returns a response with no body (creates, updates, actions, deletes)."""
    all_headers = {**base_headers(request), **(headers or {})}
    if status == 204:
        # The live service sends an explicit zero length on its 204s (recordings).
        all_headers["Content-Length"] = "0"
    return Response(b"", status_code=status, headers=all_headers)


def error_body(err: ServiceError, request_id: str, now: datetime) -> dict[str, Any]:
    """Returns the BatchError JSON of `err` (without `odata.metadata`)."""
    body: dict[str, Any] = {
        "code": err.code,
        "message": {
            "lang": "en-US",
            "value": f"{err.message}\nRequestId:{request_id}\nTime:{iso(now)}",
        },
    }
    if err.values:
        body["values"] = [{"key": k, "value": v} for k, v in err.values.items()]
    return body


def error_response(request: Request, err: ServiceError) -> Response:
    """Renders `err` as the service does: the BatchError body, or no body on HEAD and 304."""
    headers = dict(err_headers(err))
    if err.status == 304 or request.method == "HEAD":
        return empty_response(request, err.status, headers)
    now = request.state.emulator.clock.now()
    body = error_body(err, request.state.request_id, now)
    return json_response(request, body, metadata=ERROR_METADATA, status=err.status, headers=headers)


class HeaderedError(ServiceError):
    """A ServiceError that also sends headers, e.g. `Allow` on a 405 or `WWW-Authenticate`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        values: dict[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, code, message, values)
        self.headers = dict(headers or {})


def err_headers(err: ServiceError) -> Mapping[str, str]:
    """Returns the extra headers an error carries."""
    return err.headers if isinstance(err, HeaderedError) else {}


@functools.lru_cache(maxsize=65536)
def fast_iso(dt: datetime) -> str:
    """Formats like `store.iso` (7 fractional digits and a `Z`) for list rendering: a list
    formats a timestamp per item, and many items share one (a batch of tasks), so it is cached
    and avoids strftime."""
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:"
        f"{dt.second:02d}.{dt.microsecond:06d}0Z"
    )


def entity(
    record: Record, url: str, *, stamps: bool = True, data: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Returns a record's wire JSON: its data plus `url`, `eTag` and `lastModified`, in the
    service's order (id, url, eTag, lastModified, then the rest). Nodes have no `eTag` or
    `lastModified` in their body (ComputeNode), so they pass `stamps=False`; `data` replaces the
    record's stored data (the view a client's api-version is shown)."""
    if data is None:
        data = record.data
    out: dict[str, Any] = {"id": data["id"], "url": url}
    if stamps and record.etag:
        out["eTag"] = record.etag
    if stamps and record.last_modified is not None:
        out["lastModified"] = fast_iso(record.last_modified)
    # `id` keeps its first place: update() does not move a key that is already there.
    out.update(data)
    return out


def entity_headers(record: Record) -> dict[str, str]:
    """Returns `ETag` and `Last-Modified` for a record, as GETs and writes send them."""
    headers = {"ETag": record.etag}
    if record.last_modified is not None:
        headers["Last-Modified"] = rfc1123(record.last_modified)
    return headers


def created_headers(record: Record, url: str) -> dict[str, str]:
    """Returns the headers of a 201: `Location`, `DataServiceId`, `ETag`, `Last-Modified`."""
    return {"Location": url, "DataServiceId": url, **entity_headers(record)}


def action_headers(record: Record, action_url: str) -> dict[str, str]:
    """Returns the headers of an update or action: `DataServiceId` (the URL that was called)
    plus the entity's new `ETag` and `Last-Modified` (recordings)."""
    return {"DataServiceId": action_url, **entity_headers(record)}
