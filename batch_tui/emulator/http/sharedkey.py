"""Provides SharedKey verification: the string to sign exactly as the Batch service computes it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qs

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


def verify(
    method: str,
    headers: Mapping[str, str],
    raw_path: str,
    query: str,
    *,
    account: str,
    key: str,
) -> None:
    """Checks a request's SharedKey `Authorization` header.

    Args:
        method: The HTTP verb.
        headers: The request headers, names lower-cased.
        raw_path: The path as sent, not decoded.
        query: The raw query string.
        account: The emulated account's name.
        key: The emulated account's key (base64).

    Raises:
        HeaderedError: 401 AuthenticationFailed without a usable Authorization header, 403 for
            another account or a wrong signature.
    """
    value = headers.get("authorization")
    if not value:
        raise _fail(401, "The request is missing the Authorization header.")
    claimed_account, signature = _parse_authorization(value)
    if claimed_account != account:
        raise _fail(403, f"The account '{claimed_account}' does not exist.")
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
