"""Sends Batch requests: URLs, the standard headers, retries, error mapping and decoding.

`Transport` is the one place that touches httpx requests and responses; `BatchClient`
builds on it. Every request carries a ``client-request-id`` (one uuid4 per logical
request, kept across its retries so the service can correlate them),
``return-client-request-id: true`` and a fresh ``ocp-date`` per attempt, set before the
auth flow signs it.

A hostile or broken endpoint cannot hang a listing or exhaust memory (`ListLimits`): a body
over 64 MB is refused by its ``Content-Length`` before it is read, or once the bytes read
pass the bound; a listing ends with an error when a next page link repeats (or names its own
page) and when it passes 2,000,000 items.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from batch_tui import __version__
from batch_tui.batch.auth import rfc1123_now
from batch_tui.batch.errors import (
    ListTooLong,
    MalformedResponse,
    PagingLoop,
    ReadOnly,
    ResponseTooLarge,
    Throttled,
    error_from_response,
    malformed,
    transport_error,
)
from batch_tui.batch.models import decode, decode_page
from batch_tui.batch.models.decoding import count_items
from batch_tui.batch.odata import Filter
from batch_tui.batch.retry import IDEMPOTENT_METHODS, RetryPolicy

T = TypeVar("T")

Select = Sequence[str] | None
"""``$select``: the property names a view shows, or None for whole entities."""
FilterArg = Filter | str | None
"""``$filter``: a `Filter` from ``odata.py`` (or a raw string), or None."""
Expand = str | Sequence[str] | None
"""``$expand``: e.g. ``"stats"``."""

API_VERSION = "2024-07-01.20.0"
"""The Batch data-plane REST version this client speaks (the azure-batch 15.0 default)."""

JSON_CONTENT_TYPE = "application/json; odata=minimalmetadata"
"""The request body type the spec's ``consumes`` names; signed exactly as sent."""

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
"""The service gives up on a request after 30 s; 60 s leaves room for a slow link."""

DEFAULT_USER_AGENT = f"batch-tui/{__version__} python-httpx/{httpx.__version__}"
"""Identifies the client in the service's logs."""

MB = 1024 * 1024


@dataclass(frozen=True)
class ListLimits:
    """How much the client takes from the service before it stops, whatever the service sends.

    Attributes:
        max_items: The most items one listing yields (twice the biggest job the app is
            built for, a million tasks); past it the listing ends with `ListTooLong`.
        max_page_bytes: The biggest JSON body (a page or an entity) the client reads: a
            page of 1,000 full tasks is a few MB, and decoding costs a multiple of the body
            in memory. A bigger one is refused with `ResponseTooLarge`.
    """

    max_items: int = 2_000_000
    max_page_bytes: int = 64 * MB


def segment(value: str) -> str:
    """Percent-encode one path segment (an id): ``/``, ``:``, spaces and all.

    A segment of only dots is encoded too: URL normalisation would otherwise take ``..`` as
    "the parent", and ``GET /jobs/..`` would ask for another resource.
    """
    if value.strip(".") == "":
        return value.replace(".", "%2E")
    return quote(value, safe="")


def file_path(path: str) -> str:
    """Percent-encode a node file path, keeping ``/`` as the separator.

    Backslashes (Windows names such as ``wd\\out.txt``) and spaces are encoded, as the SDK
    sends them.
    """
    return quote(path.lstrip("/"), safe="/")


def query_string(query: Mapping[str, str]) -> str:
    """Encode a query as the SDK does: names as they are, values with ``%20`` for spaces.

    httpx's own encoder writes spaces as ``+``; percent-encoding everything keeps a ``+``
    in a filter value from ever meaning a space.
    """
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in query.items())


class Transport:
    """One long-lived ``httpx.AsyncClient`` plus the Batch request conventions."""

    def __init__(
        self,
        endpoint: str,
        auth: httpx.Auth,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        read_only: bool = False,
        limits: ListLimits | None = None,
    ) -> None:
        if not endpoint.startswith(("https://", "http://")):
            raise ValueError(f"the Batch endpoint must be an http(s) URL: {endpoint!r}")
        self.endpoint = endpoint.rstrip("/")
        self.auth = auth
        self.retry = retry or RetryPolicy()
        self.read_only = read_only
        self.throttled = 0
        """429s answered so far: a listing that pages side by side slows down when it grows."""
        self.limits = limits or ListLimits()
        self.client = httpx.AsyncClient(
            auth=auth,
            transport=transport,
            timeout=timeout,
            trust_env=True,  # proxies and CA bundles come from the environment
            follow_redirects=False,  # never carry a signature or token to another host
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )

    async def aclose(self) -> None:
        """Close the connection pool, then the auth's credential."""
        await self.client.aclose()
        close = getattr(self.auth, "aclose", None)
        if close is not None:
            await close()

    def url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        """Return the absolute URL of an (already encoded) path with ``api-version``."""
        full = {**(query or {}), "api-version": API_VERSION}
        return f"{self.endpoint}{path}?{query_string(full)}"

    def next_url(self, link: str | None) -> str | None:
        """Return the URL to GET for an ``odata.nextLink``.

        The link is used as sent, except that it is always aimed at this client's endpoint:
        a link naming another host never receives our signature or token.
        """
        if not link:
            return None
        try:
            raw = httpx.URL(link).raw_path.decode("ascii")
        except (httpx.InvalidURL, UnicodeDecodeError):
            raise MalformedResponse(f"Invalid odata.nextLink: {link[:200]!r}") from None
        if "api-version=" not in raw:
            raw += ("&" if "?" in raw else "?") + f"api-version={API_VERSION}"
        return f"{self.endpoint}{raw}"

    async def send(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        max_body: int | None = None,
    ) -> httpx.Response:
        """Send a request with retries and return its successful response, body read.

        Args:
            method: The HTTP method.
            url: The absolute URL (see `url`).
            body: A JSON-encodable body, or None for none.
            headers: Extra headers (conditional headers, ``ocp-range``).
            stream: Return the successful response with its body not read yet (a file
                download reads it in chunks); the caller must ``aclose`` it. Retries cover
                the request up to the response's headers, not a body cut short later.
            max_body: The most body bytes to read (JSON to decode); None for no bound
                (file contents, which the caller asks for by range).

        Raises:
            ResponseTooLarge: The body is over ``max_body`` (not retried).
            BatchError: The mapped error once retries are used up or not allowed.
        """
        if self.read_only and method not in ("GET", "HEAD"):
            # The last line of defence for --read-only: the UI hides mutating keys, and even a
            # path it missed cannot reach the service.
            raise ReadOnly(f"Read-only mode: refused to send {method} {url.split('?')[0]}")
        content = None if body is None else msgspec.json.encode(body)
        idempotent = method in IDEMPOTENT_METHODS
        client_request_id = str(uuid.uuid4())
        state = self.retry.start()
        while True:
            try:
                response = await self._send_once(
                    method, url, content, headers, client_request_id, stream, max_body
                )
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                failure = transport_error(exc, client_request_id, method=method, url=url)
                retryable = failure.retryable
                delay = state.after_transport_error(failure.sent, idempotent) if retryable else None
                if delay is None:
                    raise failure from exc
            else:
                if response.is_success:
                    return response
                if response.status_code == 429:
                    self.throttled += 1
                error = error_from_response(response, client_request_id)
                retry_after = error.retry_after if isinstance(error, Throttled) else None
                delay = state.after_status(response.status_code, idempotent, retry_after)
                if delay is None:
                    raise error
            await self.retry.sleep(delay)

    async def _send_once(
        self,
        method: str,
        url: str,
        content: bytes | None,
        extra: Mapping[str, str] | None,
        client_request_id: str,
        stream: bool = False,
        max_body: int | None = None,
    ) -> httpx.Response:
        headers = {
            "client-request-id": client_request_id,
            "return-client-request-id": "true",
            "ocp-date": rfc1123_now(),
            **(extra or {}),
        }
        if content is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
        request = self.client.build_request(method, url, content=content, headers=headers)
        if stream:
            # A file's body, read by the caller in chunks: it must `aclose` the response.
            response = await self.client.send(request, stream=True)
            if not response.is_success:
                # An error's body names the error: read it (small) and free the connection.
                try:
                    await response.aread()
                finally:
                    await response.aclose()
            return response
        if max_body is None:
            return await self.client.send(request)
        response = await self.client.send(request, stream=True)
        try:
            await read_within(response, max_body)
        finally:
            await response.aclose()
        return response

    async def get(self, url: str, type_: type[T], headers: Mapping[str, str] | None = None) -> T:
        """GET a URL and decode its body as ``type_``."""
        response = await self.send("GET", url, headers=headers, max_body=self.limits.max_page_bytes)
        return decode_body(response, type_)

    async def pages(self, url: str, item_type: type[T]) -> AsyncIterator[list[T]]:
        """GET a list and its ``odata.nextLink`` pages, yielding each page's items.

        Raises:
            PagingLoop: A next page link the listing had already followed (or its first
                URL): the items so far were yielded, the rest would repeat them forever.
            ListTooLong: The listing passed `ListLimits.max_items`.
            ResponseTooLarge: A page over `ListLimits.max_page_bytes`.
        """
        limits = self.limits
        followed = {url}
        items = 0
        next_url: str | None = url
        while next_url is not None:
            response = await self.send("GET", next_url, max_body=limits.max_page_bytes)
            room = limits.max_items - items
            try:
                # An item takes 2 bytes at least ("1,"): only a page that could hold more
                # items than are left is counted before it is decoded.
                if len(response.content) // 2 > room and count_items(response.content) > room:
                    raise _too_long(limits, items)
                page = decode_page(response.content, item_type)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise malformed(response, str(exc)) from exc
            del response  # the body is decoded: its bytes need not outlive this page
            items += len(page.value)
            yield page.value
            next_url = self.next_url(page.next_link)
            if next_url is not None and next_url in followed:
                raise PagingLoop(
                    "the service sent the same next page link twice; "
                    f"the list stopped at {items:,} items",
                    items=items,
                )
            if next_url is not None:
                followed.add(next_url)


def _too_long(limits: ListLimits, items: int) -> ListTooLong:
    return ListTooLong(
        f"the list has more than {limits.max_items:,} items; it stopped at {items:,} items",
        items=items,
    )


async def read_within(response: httpx.Response, limit: int) -> None:
    """Reads a streamed response's body, refusing one over ``limit`` bytes.

    The declared ``Content-Length`` is checked before any byte is read; the bytes read (after
    content decoding: what is held and decoded) are counted as they arrive, so a body sent
    without a length, or with a false one, is cut off at the bound too.

    Raises:
        ResponseTooLarge: The body is (or says it is) over ``limit``.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(response, f"{_megabytes(int(declared))} declared", limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_large(response, f"more than {_megabytes(limit)} sent", limit)
        chunks.append(chunk)
    # What `aread` does once the stream is consumed: the body as `response.content`.
    response._content = b"".join(chunks)


def _too_large(response: httpx.Response, what: str, limit: int) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"the response to {response.request.url.path} is too large ({what}; the limit is "
        f"{_megabytes(limit)}); it was not read",
        status=response.status_code,
        request_id=response.headers.get("request-id"),
    )


def _megabytes(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= MB else f"{size:,} bytes"


def decode_body(response: httpx.Response, type_: type[T]) -> T:
    """Decode a response body as ``type_``, raising `MalformedResponse` if it does not fit."""
    try:
        return decode(response.content, type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise malformed(response, str(exc)) from exc


def list_query(
    *,
    select: Sequence[str] | None = None,
    filter_: object = None,
    expand: str | Sequence[str] | None = None,
    maxresults: int | None = None,
    **extra: str,
) -> dict[str, str]:
    """Build the OData query of a list or get: ``$filter``, ``$select``, ``$expand``, ...

    Args:
        select: Property names for ``$select``; None or empty for all.
        filter_: A ``Filter`` or a filter string; None or empty for none.
        expand: ``stats`` or several names for ``$expand``.
        maxresults: The page size (the service allows 1 to 1000, 10 for node counts).
        extra: Further parameters, already as strings.
    """
    query: dict[str, str] = {}
    text = str(filter_) if filter_ is not None else ""
    if text:
        query["$filter"] = text
    if select:
        query["$select"] = ",".join(select)
    if expand:
        query["$expand"] = expand if isinstance(expand, str) else ",".join(expand)
    if maxresults is not None:
        query["maxresults"] = str(maxresults)
    query.update(extra)
    return query


async def collect(pages: AsyncIterator[list[T]]) -> list[T]:
    """Concatenate the pages of an ``iter_*`` call into one list."""
    items: list[T] = []
    async for page in pages:
        items.extend(page)
    return items
