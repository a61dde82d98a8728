"""Provides the httpx auth flows for Batch: SharedKey signing and Entra ID bearer tokens.

`SharedKeyAuth` signs each request exactly as the service verifies it (the string to sign
of ``azure-batch``'s ``BatchSharedKeyAuthPolicy``, see BATCH-API.md 9.1, except in two
corner cases where that SDK departs from the documentation: see `string_to_sign`).
`TokenCredentialAuth` puts an Entra ID token from an azure-identity credential on each
request, caches it until shortly before it expires, and retries once with a fresh token
when the service answers 401, or after a sign-out. `make_credential` builds the credential
for ``--auth``; a ``device-code`` one is remembered across starts (`batch_tui.batch.sign_in`).

Neither flow ever shows its secret in ``repr``/``str`` or in an error message.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import inspect
import time
from collections.abc import AsyncGenerator, Callable, Generator
from datetime import datetime
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

import httpx

from batch_tui.batch.errors import AuthFailed, first_line

if TYPE_CHECKING:
    from batch_tui.batch.sign_in import SignInStore

SCOPE = "https://batch.core.windows.net//.default"
"""The Batch token scope as the SDK sends it: the resource id keeps its trailing slash."""

CREDENTIAL_METHODS = ("default", "cli", "device-code", "managed-identity")
"""The Entra ID sign-ins `make_credential` builds a credential for: every ``--auth`` choice
but ``shared-key``, which signs requests with the account key and needs no credential."""

_SIGNED_HEADERS = (
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


def rfc1123_now() -> str:
    """Return the current time as an RFC 1123 date, the format of ``ocp-date``."""
    return formatdate(usegmt=True)


def string_to_sign(request: httpx.Request, account: str) -> str:
    """Return the SharedKey string to sign for a request, as the service computes it.

    The path is signed as sent (not percent-decoded); query values are decoded, names
    sorted, empty values skipped and only the first of repeated values used.

    Two rules follow the service's documentation ("Authenticate requests to Azure Batch")
    where ``azure-batch``'s ``BatchSharedKeyAuthPolicy`` does otherwise: the Date slot is
    empty whenever ``ocp-date`` is set (the SDK signs a Date header's value, which the
    service then does not), and the canonicalized headers are those whose lower-cased name
    *begins* with ``ocp-`` (the SDK tests for ``"ocp-"`` anywhere in the name as stored, so
    it misses ``Ocp-Range`` and signs ``x-ocp-trace``). Neither arises with the headers this
    client sends; tests/batch/test_signer_properties.py pins both.
    """
    headers = {k.lower(): v for k, v in request.headers.items() if v}
    if "ocp-date" in headers:
        headers.pop("date", None)
    if request.method not in ("GET", "HEAD"):
        headers.setdefault("content-length", "0")
    lines = [request.method, *(headers.get(name, "") for name in _SIGNED_HEADERS)]
    text = "\n".join(lines) + "\n"
    ocp = sorted((k, v) for k, v in headers.items() if k.startswith("ocp-"))
    text += "".join(f"{k}:{v}\n" for k, v in ocp)
    path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
    text += f"/{account}{path}"
    query = parse_qs(request.url.query.decode("ascii"))
    for name in sorted(query):
        if query[name][0]:
            text += f"\n{name}:{query[name][0]}"
    return text


class SharedKeyAuth(httpx.Auth):
    """Signs requests with the Batch account's shared key (``Authorization: SharedKey``).

    Adds ``ocp-date`` if the request has none and ``Content-Length: 0`` on a bodiless
    non-GET/HEAD request, so what is signed is exactly what is sent.
    """

    def __init__(self, account: str, key: str) -> None:
        """Args:
        account: The Batch account name.
        key: The account's base64 access key.

        Raises:
            ValueError: If the key is not valid base64 (the message never shows it).
        """
        if not account:
            raise ValueError("the account name is empty")
        try:
            self._key = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the account key is not valid base64") from None
        self.account = account

    def __repr__(self) -> str:
        return f"SharedKeyAuth(account={self.account!r}, key=***)"

    __str__ = __repr__

    def sign(self, request: httpx.Request) -> None:
        """Set ``ocp-date`` (if missing), ``Content-Length`` and ``Authorization``."""
        if not request.headers.get("ocp-date"):
            request.headers["ocp-date"] = rfc1123_now()
        if request.method not in ("GET", "HEAD") and "content-length" not in request.headers:
            request.headers["Content-Length"] = "0"
        digest = hmac.new(
            self._key, string_to_sign(request, self.account).encode("utf-8"), hashlib.sha256
        ).digest()
        signature = base64.b64encode(digest).decode("ascii")
        request.headers["Authorization"] = f"SharedKey {self.account}:{signature}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    async def aclose(self) -> None:
        """Nothing to release; present so every auth can be closed alike."""


class AccessTokenLike(Protocol):
    """What ``get_token`` returns (``azure.core.credentials.AccessToken``)."""

    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> int: ...


class TokenCredentialAuth(httpx.Auth):
    """Adds ``Authorization: Bearer`` tokens from an azure-identity credential.

    Works with async credentials (``azure.identity.aio``) and sync ones such as
    ``DeviceCodeCredential``, whose blocking ``get_token`` runs in a worker thread.
    AsyncClient only.
    """

    def __init__(
        self,
        credential: Any,
        scope: str = SCOPE,
        *,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.time,
        owns_credential: bool = True,
    ) -> None:
        """Args:
        credential: An object with ``get_token(scope)`` (sync or async) and optionally
            ``close()``.
        scope: The token scope; `SCOPE` unless a sovereign cloud needs another.
        refresh_margin: Seconds before expiry at which a cached token is replaced.
        clock: Seconds since the epoch, like ``AccessToken.expires_on``; for tests.
        owns_credential: `aclose` closes the credential; False for one shared with others
            (one sign-in for Resource Manager and every account opened after it).
        """
        self.credential = credential
        self._owns = owns_credential
        self.scope = scope
        self._margin = refresh_margin
        self._clock = clock
        self._token: AccessTokenLike | None = None
        self._token_sign_outs = 0
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        kind = type(self.credential).__name__
        return f"TokenCredentialAuth(credential={kind}, scope={self.scope!r})"

    __str__ = __repr__

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("TokenCredentialAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        sent_token = await self.token()
        request.headers["Authorization"] = f"Bearer {sent_token}"
        response = yield request
        if response.status_code == 401:
            # Revoked or expired early: one retry with a token fetched now.
            fresh = await self.token(stale=sent_token)
            request.headers["Authorization"] = f"Bearer {fresh}"
            yield request

    async def token(self, stale: str | None = None) -> str:
        """Return a valid token, fetching one if none is cached, it nears expiry or is ``stale``.

        Raises:
            AuthFailed: If the credential cannot get a token.
        """
        async with self._lock:  # concurrent requests share one token fetch
            current = self._token
            if current is None or current.token == stale or self._outdated(current):
                self._token_sign_outs = self._sign_outs()
                current = self._token = await self._fetch()
            return current.token

    def _outdated(self, token: AccessTokenLike) -> bool:
        if self._sign_outs() != self._token_sign_outs:
            return True  # signed out since (`DeviceCodeSignIn.sign_out`): not to be used
        return token.expires_on - self._margin <= self._clock()

    def _sign_outs(self) -> int:
        return int(getattr(self.credential, "sign_outs", 0))

    async def _fetch(self) -> AccessTokenLike:
        get_token = self.credential.get_token
        try:
            if inspect.iscoroutinefunction(get_token):
                token: AccessTokenLike = await get_token(self.scope)
            else:
                token = await asyncio.to_thread(get_token, self.scope)
        except Exception as exc:  # azure-identity raises several unrelated types
            name = type(exc).__name__
            raise AuthFailed(
                f"Could not get an Entra ID token ({name}): {first_line(str(exc))}"
            ) from exc
        return token

    async def aclose(self) -> None:
        """Close the credential (its HTTP session, its token cache handles) if it is ours."""
        close = getattr(self.credential, "close", None)
        if close is None or not self._owns:
            return
        result = close()
        if inspect.isawaitable(result):
            await result


PromptCallback = Callable[[str, str, datetime], None]
"""Called with (verification_uri, user_code, expires_on) when device-code sign-in starts.

It runs in a worker thread (the device-code flow blocks), so a UI must hand it over to its
event loop (``App.call_from_thread``)."""


def make_credential(
    method: str,
    *,
    tenant_id: str | None = None,
    prompt_callback: PromptCallback | None = None,
    client_id: str | None = None,
    store: SignInStore | None = None,
) -> Any:
    """Build the azure-identity credential for an ``--auth`` method.

    The credentials are azure-identity's sync ones: the ``azure.identity.aio`` ones need
    aiohttp, which is not a dependency, while the sync ones use ``requests``, which
    azure-core already depends on. `TokenCredentialAuth` calls their ``get_token`` in a
    worker thread, about once an hour, so the event loop never blocks.

    Args:
        method: One of `CREDENTIAL_METHODS`.
        tenant_id: The Entra tenant. With ``default`` it applies to the workload identity,
            shared cache and VS Code credentials (azure-identity accepts no tenant for the
            whole chain); use ``cli`` to pin the Azure CLI to a tenant.
        prompt_callback: For ``device-code``: shows the code instead of printing it.
        client_id: For ``managed-identity``: a user-assigned identity's client id.
        store: For ``device-code``: where the sign-in is remembered (a `DeviceCodeSignIn`:
            one device code, then none on later starts); the user data directory by default.
            ``cli`` and ``default`` need none: the Azure CLI keeps its own sign-in.

    Returns:
        The credential; close it with `TokenCredentialAuth.aclose` (the client does).

    Raises:
        ValueError: For an unknown method.
    """
    from azure.identity import (
        AzureCliCredential,
        DefaultAzureCredential,
        ManagedIdentityCredential,
    )

    if method == "default":
        tenants: dict[str, str] = {}
        if tenant_id:
            tenants = {
                key: tenant_id
                for key in (
                    "workload_identity_tenant_id",
                    "shared_cache_tenant_id",
                    "visual_studio_code_tenant_id",
                )
            }
        return DefaultAzureCredential(**tenants)
    if method == "cli":
        return AzureCliCredential(tenant_id=tenant_id or "")
    if method == "device-code":
        from batch_tui.batch.sign_in import DeviceCodeSignIn

        return DeviceCodeSignIn(tenant_id=tenant_id, prompt_callback=prompt_callback, store=store)
    if method == "managed-identity":
        return ManagedIdentityCredential(client_id=client_id)
    expected = ", ".join(CREDENTIAL_METHODS)
    raise ValueError(f"unknown auth method {method!r}; expected one of {expected}")
