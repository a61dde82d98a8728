"""Provides a SharedKey signer for httpx written from the spec (BATCH-API.md 9.1).

It is neither `batch_tui.batch`'s signer nor the emulator's verifier, so the emulator's check of
signatures is tested against an independent reading of the spec.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Generator
from email.utils import formatdate
from urllib.parse import parse_qs

import httpx

_SIGNED = [
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
]


def string_to_sign(request: httpx.Request, account: str) -> str:
    """The SharedKey string to sign of an httpx request (BATCH-API.md 9.1)."""
    headers = {k.lower(): v for k, v in request.headers.items() if v}
    lines = [request.method] + [headers.get(name, "") for name in _SIGNED]
    text = "\n".join(lines) + "\n"
    for name, value in sorted((k, v) for k, v in headers.items() if "ocp-" in k):
        text += f"{name}:{value}\n"
    text += f"/{account}{request.url.raw_path.split(b'?')[0].decode()}"
    query = parse_qs(request.url.query.decode())
    for name in sorted(query):
        if query[name][0]:
            text += f"\n{name}:{query[name][0]}"
    return text


class SharedKeyAuth(httpx.Auth):
    """Signs each request with an account key, as the azure-batch SDK does."""

    def __init__(self, account: str, key: str, api_version: str | None = None) -> None:
        self.account = account
        self.key = key
        self.api_version = api_version

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.api_version and "api-version" not in request.url.params:
            # Next links already carry it; everything else gets the default version.
            request.url = request.url.copy_add_param("api-version", self.api_version)
        request.headers.setdefault("ocp-date", formatdate(usegmt=True))
        if request.method not in ("GET", "HEAD"):
            request.headers.setdefault("Content-Length", str(len(request.content)))
        digest = hmac.new(
            base64.b64decode(self.key),
            string_to_sign(request, self.account).encode(),
            hashlib.sha256,
        ).digest()
        signature = base64.b64encode(digest).decode()
        request.headers["Authorization"] = f"SharedKey {self.account}:{signature}"
        yield request
