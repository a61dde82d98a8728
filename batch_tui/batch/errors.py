"""Defines the one error tree that every failure of the Batch API layer is raised as.

Nothing leaves ``batch_tui.batch`` as a bare httpx or msgspec exception. The tree::

    BatchError                 base; carries code, message, status, request ids, values
    ├── TransportError         no usable HTTP response: DNS, refused, TLS, timeout, reset,
    │   │                      a body cut short by the connection
    │   └── OutcomeUnknown     a POST/PUT/PATCH/DELETE went out and its answer was lost
    │                          (read timeout, reset, cut response): it may have been applied
    ├── AuthFailed             401 / 403 (wrong key, clock skew, expired or missing token),
    │                          or the credential could not get a token at all
    ├── NotFound               404
    ├── Conflict               409 (wrong state for the action, already exists, being deleted)
    ├── PreconditionFailed     412 (If-Match / If-Unmodified-Since failed on a write)
    ├── NotModified            304; only when the caller sent If-None-Match (the cache does)
    ├── BadRequest             400, 416 and any other 4xx: the request itself is wrong
    ├── Throttled              429 / 503 still answered after the retries; has retry_after
    ├── ServiceError           any other 5xx
    ├── MalformedResponse      a success status with a body that is not what the API sends:
    │   │                      not JSON, an HTML page from a proxy, JSON of the wrong shape
    │   ├── ResponseTooLarge   a body over the client's bound (64 MB), refused unread
    │   └── ListStopped        a listing the client ended: has ``items``, the count it got
    │       ├── PagingLoop     the service sent a next page link it had sent before
    │       └── ListTooLong    more items than the client's bound (2,000,000)
    ├── ReadOnly               a mutating request refused before sending: the client is read-only
    └── InvalidBody            a body a person edited is not one to send (not JSON, no id):
                               found before sending, with its line and column

A transport failure before the request went out (DNS, refused, connect timeout, no free
connection) is a plain `TransportError` with ``sent`` False: nothing was applied, and the client
retries it. Once a mutating request has gone out, a lost answer is an `OutcomeUnknown`: the
client never resends it, and the caller must say "may have been applied" and refresh, never
"failed" (a reboot whose answer was lost had been applied).

Error statuses map by status whatever the body: a 502 HTML page from a gateway is a
`ServiceError`, a 503 one is `Throttled`. ``message`` holds only the first line of the
service's message (it appends ``RequestId:...`` and ``Time:...`` lines). ``str(error)`` is
one line for a status bar. Secrets never appear: requests and their bodies are not kept,
and the request's own ``Authorization`` value is scrubbed from anything the service echoes.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from urllib.parse import unquote

import httpx
import msgspec

from batch_tui.batch.models import ErrorBody, decode
from batch_tui.batch.retry import IDEMPOTENT_METHODS, parse_retry_after

_REDACTED = "***"


class BatchError(Exception):
    """Base class of every error raised by the Batch API layer.

    Attributes:
        message: The first line of the service's message, or a description of the failure.
        code: The Batch error code (``JobNotFound``, ``ServerBusy`` ...), or None.
        status: The HTTP status, or None when no response arrived.
        request_id: The service's ``request-id`` header, for support tickets.
        client_request_id: The ``client-request-id`` this client sent.
        values: The error body's ``values`` as a key -> value mapping (e.g. ``Reason``).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        client_request_id: str | None = None,
        values: Mapping[str, str] | None = None,
    ) -> None:
        self.message = first_line(message)
        self.code = code
        self.status = status
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.values: dict[str, str] = dict(values or {})
        super().__init__(self.message)

    def __str__(self) -> str:
        head = " ".join(str(part) for part in (self.status, self.code) if part)
        text = f"{head}: {self.message}" if head else self.message
        return f"{text} (request-id {self.request_id})" if self.request_id else text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class TransportError(BatchError):
    """No usable response: connect, DNS, TLS, timeout, reset, or a truncated body.

    Attributes:
        sent: Whether the request may have reached the service (decides retries).
        retryable: False for failures that a retry cannot fix (bad URL, TLS verification).
    """

    def __init__(
        self,
        message: str,
        *,
        sent: bool,
        retryable: bool = True,
        client_request_id: str | None = None,
    ) -> None:
        super().__init__(message, client_request_id=client_request_id)
        self.sent = sent
        self.retryable = retryable


class OutcomeUnknown(TransportError):
    """A mutating request went out and its answer was lost: it may have been applied.

    Raised for POST, PUT, PATCH and DELETE when the connection broke after the request was
    sent: a read or write timeout, a reset, a response cut short. The client does not resend
    it (a second reboot or terminate is not harmless), so the caller should say the outcome is
    unknown and refresh to learn it. ``sent`` is always True.

    Attributes:
        method: The HTTP method, e.g. ``POST``.
        target: The last segment of the request's path: the action (``reboot``,
            ``terminate``) for a POST action, else the entity's id or collection.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        target: str,
        client_request_id: str | None = None,
    ) -> None:
        super().__init__(message, sent=True, client_request_id=client_request_id)
        self.method = method
        self.target = target


class AuthFailed(BatchError):
    """401/403, or no token could be obtained: wrong key, clock skew, expired sign-in."""


class NotFound(BatchError):
    """404: the pool, node, job, task or file does not exist (any more)."""


class Conflict(BatchError):
    """409: the entity is in the wrong state for the request, exists, or is being deleted."""


class PreconditionFailed(BatchError):
    """412: an If-Match / If-Unmodified-Since condition failed on a write."""


class NotModified(BatchError):
    """304: the entity still has the ETag the caller sent in If-None-Match."""


class BadRequest(BatchError):
    """400, 416 and other 4xx: a bad filter, property, range or parameter."""


class Throttled(BatchError):
    """429/503 still answered once the retries were used up.

    Attributes:
        retry_after: Seconds the service asked to wait, or None if it did not say.
    """

    retry_after: float | None = None


class ServiceError(BatchError):
    """Any 5xx other than 503: the service failed."""


class MalformedResponse(BatchError):
    """A success status with a body that is not what the API sends."""


class ResponseTooLarge(MalformedResponse):
    """A response body over the client's bound (`ListLimits.max_page_bytes`): refused by its
    ``Content-Length`` before it is read, or as soon as the bytes read pass the bound, so a
    hostile or broken endpoint cannot exhaust memory."""


class ListStopped(MalformedResponse):
    """A listing the client stopped because the service's pages would never end.

    Attributes:
        items: How many items the listing had yielded when it stopped.
    """

    def __init__(self, message: str, *, items: int) -> None:
        super().__init__(message)
        self.items = items


class PagingLoop(ListStopped):
    """The service sent an ``odata.nextLink`` it had sent before (or the page's own link):
    following it would page forever."""


class ListTooLong(ListStopped):
    """A listing passed the client's bound on items (`ListLimits.max_items`)."""


class ReadOnly(BatchError):
    """A mutating request was refused locally because the client is read-only (`--read-only`)."""


class InvalidBody(BatchError):
    """A body a person edited (`add_bodies.parse_task_add`) is not one to send: not JSON, not
    a JSON object, or without an id. Nothing was sent.

    Attributes:
        reason: What is wrong, one line.
        line: Where, 1-based.
        column: Where on the line, 1-based.
    """

    def __init__(self, reason: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"line {line}, column {column}: {reason}")
        self.reason = reason
        self.line = line
        self.column = column


def first_line(text: str) -> str:
    """Return the first non-empty line of ``text``, stripped."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _status_class(status: int) -> type[BatchError]:
    exact: dict[int, type[BatchError]] = {
        304: NotModified,
        401: AuthFailed,
        403: AuthFailed,
        404: NotFound,
        409: Conflict,
        412: PreconditionFailed,
        429: Throttled,
        503: Throttled,
    }
    if status in exact:
        return exact[status]
    if 400 <= status < 500:
        return BadRequest
    if status >= 500:
        return ServiceError
    return MalformedResponse


def _secret_of(response: httpx.Response) -> str | None:
    try:
        header = response.request.headers.get("authorization", "")
    except RuntimeError:  # a Response built without a request
        return None
    _, _, credential = header.partition(" ")
    return credential or None


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, _REDACTED) if secret else text


def _parse_body(content: bytes) -> ErrorBody | None:
    try:
        return decode(content, ErrorBody)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _body_fields(body: ErrorBody | None) -> tuple[str | None, str | None, dict[str, str]]:
    if body is None:
        return None, None, {}
    message = body.message.value if body.message is not None else None
    values = {v.key: v.value or "" for v in body.values if v.key}
    return body.code or None, message, values


def error_from_response(
    response: httpx.Response, client_request_id: str | None = None
) -> BatchError:
    """Map an HTTP error response (its body already read) to the error tree.

    Args:
        response: The response; 3xx-5xx, or 2xx only to report an unexpected status.
        client_request_id: The id sent with the request, if the response did not echo it.

    Returns:
        The `BatchError` subclass for the status, carrying the service's code and message.
    """
    status = response.status_code
    code, message, values = _body_fields(_parse_body(response.content))
    if not message:
        message = _describe_non_batch_body(response)
    secret = _secret_of(response)
    error = _status_class(status)(
        _scrub(message, secret),
        code=code,
        status=status,
        request_id=response.headers.get("request-id"),
        client_request_id=response.headers.get("client-request-id") or client_request_id,
        values={k: _scrub(v, secret) for k, v in values.items()},
    )
    if isinstance(error, Throttled):
        error.retry_after = parse_retry_after(response.headers.get("retry-after"))
    return error


def _describe_non_batch_body(response: httpx.Response) -> str:
    reason = response.reason_phrase or "HTTP error"
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if media and "json" not in media:
        # An HTML page from a proxy or gateway: say so instead of showing its markup.
        return f"{reason} (a {media} response, not from the Batch service)"
    return reason


def malformed(
    response: httpx.Response, detail: str, client_request_id: str | None = None
) -> MalformedResponse:
    """Build the error for a success response whose body is not the expected JSON."""
    media = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    return MalformedResponse(
        f"Unexpected response body ({media}): {first_line(detail)}",
        status=response.status_code,
        request_id=response.headers.get("request-id"),
        client_request_id=response.headers.get("client-request-id") or client_request_id,
    )


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
"""httpx failures raised before any byte of the request reached the service."""

_FATAL = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)
"""Failures a retry cannot fix: the URL or the request itself is wrong."""


def _describe_transport(exc: Exception) -> str:
    kinds: list[tuple[type[Exception], str]] = [
        (httpx.ConnectTimeout, "Timed out connecting"),
        (httpx.ConnectError, "Could not connect"),
        (httpx.ProxyError, "The proxy refused the connection"),
        (httpx.PoolTimeout, "Timed out waiting for a free connection"),
        (httpx.ReadTimeout, "Timed out waiting for the response"),
        (httpx.WriteTimeout, "Timed out sending the request"),
        (httpx.RemoteProtocolError, "The connection closed mid-response"),
        (httpx.ReadError, "The connection failed while reading the response"),
        (httpx.WriteError, "The connection failed while sending the request"),
        (httpx.DecodingError, "The response could not be decompressed"),
        (httpx.InvalidURL, "Invalid URL"),
        (httpx.UnsupportedProtocol, "Unsupported URL scheme"),
    ]
    label = next((text for cls, text in kinds if isinstance(exc, cls)), "Network error")
    detail = first_line(str(exc))
    return f"{label}: {detail}" if detail else label


def _tls_verification_failed(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def transport_error(
    exc: Exception,
    client_request_id: str | None = None,
    *,
    method: str = "GET",
    url: str = "",
) -> TransportError:
    """Wrap an httpx exception raised while sending or reading a request.

    Args:
        exc: The httpx exception (``httpx.HTTPError`` or ``httpx.InvalidURL``).
        client_request_id: The id sent with the request.
        method: The request's method; a mutating one that went out gives `OutcomeUnknown`.
        url: The request's URL, whose last path segment names what may have been applied.

    Returns:
        A `TransportError` saying whether the request may have been sent and may be retried,
        or an `OutcomeUnknown` when a mutating request went out and its answer was lost.
    """
    fatal = isinstance(exc, _FATAL) or _tls_verification_failed(exc)
    sent = not isinstance(exc, _NOT_SENT + _FATAL)
    if sent and method.upper() not in IDEMPOTENT_METHODS:
        target = _last_segment(url)
        cause = _describe_transport(exc)
        return OutcomeUnknown(
            f"No answer from the service: {method.upper()} {target} may have been applied "
            f"({cause[:1].lower()}{cause[1:]})",
            method=method.upper(),
            target=target,
            client_request_id=client_request_id,
        )
    return TransportError(
        _describe_transport(exc),
        sent=sent,
        retryable=not fatal,
        client_request_id=client_request_id,
    )


def _last_segment(url: str) -> str:
    path = url.split("?", 1)[0].rstrip("/")
    return unquote(path.rsplit("/", 1)[-1]) if path else "the request"
