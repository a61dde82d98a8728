"""Provides SharedKey verification: the string to sign exactly as the Batch service computes it,
and the freshness of the date it signs."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import parse_qs

from starlette.requests import Request

from batch_tui.emulator.routes.wire import HeaderedError

SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)
"""The standard headers in the string to sign, in order (azure-batch `BatchSharedKeyAuthPolicy`)."""

AUTH_FAILED_MESSAGE = (
    "Server failed to authenticate the request. Make sure the value of Authorization header is "
    "formed correctly including the signature."
)
"""The service's message (and HTTP reason phrase) for a failed authentication."""

FRESHNESS = timedelta(minutes=15)
"""How far a request's date may be from the server's clock, either way: the service's window
(as Azure Storage's, whose SharedKey scheme Batch shares). Past it a captured request can no
longer be replayed."""


class AccountKey(Protocol):
    """Where the account name and key are read from at each request (`EmulatorSettings`)."""

    @property
    def account(self) -> str: ...

    @property
    def key(self) -> str: ...


def string_to_sign(
    method: str, headers: Mapping[str, str], raw_path: str, query: str, account: str
) -> str:
    """Builds the SharedKey string to sign of a request.

    Args:
        method: The HTTP verb, upper case.
        headers: The request headers, names lower-cased.
        raw_path: The URL path as sent (not percent-decoded), e.g. `/pools/p1`.
        query: The raw query string (percent-encoded), without `?`.
        account: The account name the request is signed for.

    Returns:
        The canonical string: verb, the standard headers, the sorted `ocp-` headers, then
        `/account/path` and the sorted, decoded query parameters (first value, empty ones skipped).
    """
    parts = [method]
    parts.extend(headers.get(name, "") for name in SIGNED_HEADERS)
    text = "\n".join(parts) + "\n"
    ocp = sorted((k, v) for k, v in headers.items() if "ocp-" in k and v)
    text += "".join(f"{name}:{value}\n" for name, value in ocp)
    text += f"/{account}{raw_path}"
    params = parse_qs(query)
    for name in sorted(params):
        value = params[name][0]
        if value:
            text += f"\n{name}:{value}"
    return text


def sign(key: str, text: str) -> str:
    """Returns base64(HMAC-SHA256(base64decode(key), text)), the SharedKey signature."""
    digest = hmac.new(base64.b64decode(key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _fail(status: int, detail: str) -> HeaderedError:
    return HeaderedError(
        status, "AuthenticationFailed", AUTH_FAILED_MESSAGE, {"AuthenticationErrorDetail": detail}
    )


def _parse_authorization(value: str) -> tuple[str, str]:
    scheme, _, credentials = value.partition(" ")
    if scheme != "SharedKey":
        raise _fail(401, f"The authentication scheme '{scheme}' is not supported by the emulator.")
    account, sep, signature = credentials.strip().partition(":")
    if not sep or not account or not signature:
        raise _fail(403, "The Authorization header is not in the form 'SharedKey account:sig'.")
    return account, signature


def _candidates(method: str, headers: Mapping[str, str]) -> list[Mapping[str, str]]:
    """Returns the header sets a correct client may have signed: the 15.x SDK signs
    `Content-Length: 0` on a bodiless write even when its transport sends no such header."""
    if method in ("GET", "HEAD") or headers.get("content-length"):
        return [headers]
    return [headers, {**headers, "content-length": "0"}]


def check_date(headers: Mapping[str, str], now: datetime) -> None:
    """Checks that a request carries the time it was signed, within `FRESHNESS` of `now`.

    `ocp-date` counts when it is there (the SDKs always send it), else `Date`. The details are
    Azure Storage's words for the same check ("too old" and "incorrect" are seen in its
    answers; "not specified" and "too new" follow them).

    Args:
        headers: The request headers, names lower-cased.
        now: The server's wall-clock time (aware).

    Raises:
        HeaderedError: 403 AuthenticationFailed for no date, one that is not an RFC 1123 date
            in GMT, or one more than `FRESHNESS` away from `now`.
    """
    value = headers.get("ocp-date") or headers.get("date")
    if not value:
        raise _fail(403, "Request date header not specified.")
    try:
        sent = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        sent = None
    if sent is None or sent.tzinfo is None:
        raise _fail(403, "The Date header in the request is incorrect.")
    if sent < now - FRESHNESS:
        raise _fail(403, f"Request date header too old: '{value}'")
    if sent > now + FRESHNESS:
        raise _fail(403, f"Request date header too new: '{value}'")


def verify(
    method: str,
    headers: Mapping[str, str],
    raw_path: str,
    query: str,
    *,
    account: str,
    key: str,
    now: datetime,
) -> None:
    """Checks a request's SharedKey `Authorization` header and the date it signs.

    Args:
        method: The HTTP verb.
        headers: The request headers, names lower-cased.
        raw_path: The path as sent, not decoded.
        query: The raw query string.
        account: The emulated account's name.
        key: The emulated account's key (base64).
        now: The wall-clock time the date is checked against (see `check_date`).

    Raises:
        HeaderedError: 401 AuthenticationFailed without a usable Authorization header, 403 for
            another account, a missing or stale date, or a wrong signature.
    """
    value = headers.get("authorization")
    if not value:
        raise _fail(401, "The request is missing the Authorization header.")
    claimed_account, signature = _parse_authorization(value)
    if claimed_account != account:
        raise _fail(403, f"The account '{claimed_account}' does not exist.")
    check_date(headers, now)
    try:
        expected = [
            sign(key, string_to_sign(method, h, raw_path, query, account))
            for h in _candidates(method, headers)
        ]
    except (binascii.Error, ValueError) as exc:
        raise _fail(403, "The account key of the emulator is not valid base64.") from exc
    if not any(hmac.compare_digest(signature, e) for e in expected):
        raise _fail(
            403,
            f"The MAC signature found in the HTTP request '{signature}' is not the same as any "
            "computed signature.",
        )


def verify_request(request: Request, credentials: AccountKey) -> None:
    """Checks a Starlette request's signature (see `verify`) against the wall clock.

    The date is checked against the wall clock, not the emulator's clock: clients sign with
    the time of day, and the emulator's clock is the state machine's, which tests drive by hand
    (a `ManualClock` that starts in 2024 and moves only when told to).

    Raises:
        HeaderedError: As `verify`.
    """
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
    verify(
        request.method,
        {k.lower(): v for k, v in request.headers.items()},
        raw_path.decode("latin-1"),
        request.scope.get("query_string", b"").decode("latin-1"),
        account=credentials.account,
        key=credentials.key,
        now=datetime.now(timezone.utc),
    )
