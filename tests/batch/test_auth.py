"""Tests SharedKey signing (vectors and the official SDK) and the Entra ID token flow."""

from __future__ import annotations

import asyncio
import base64
import json
import stat
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken

from batch_tui.batch.auth import (
    SCOPE,
    SharedKeyAuth,
    TokenCredentialAuth,
    make_credential,
    string_to_sign,
)
from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import AuthFailed
from batch_tui.batch.sign_in import DeviceCodeSignIn, SignInStore
from tests.batch.signing import ACCOUNT, DATE, HOST, JSON, KEY, sdk_authorization, signed
from tests.sign_in_standin import ALICE, BOB, stand_in


def test_get_vector_from_batch_api_notes() -> None:
    url = (
        f"{HOST}/pools?api-version=2024-07-01.20.0&maxresults=10&$filter=state%20eq%20%27active%27"
    )
    request = signed("GET", url)
    assert string_to_sign(request, ACCOUNT) == (
        "GET\n\n\n\n\n\n\n\n\n\n\n\nocp-date:Tue, 01 Oct 2024 12:00:00 GMT\n/myaccount/pools\n"
        "$filter:state eq 'active'\napi-version:2024-07-01.20.0\nmaxresults:10"
    )
    expected = "SharedKey myaccount:n5vD6IjKvBGC+idtSMSdgwl3FRtc78HQlr6ILVFW0vk="
    assert request.headers["Authorization"] == expected


def test_post_vector_from_batch_api_notes() -> None:
    url = f"{HOST}/pools/p1/nodes/n1/reboot?api-version=2024-07-01.20.0"
    body = b'{"nodeRebootOption":"requeue"}    '  # 34 bytes, as in the vector
    assert len(body) == 34
    request = signed("POST", url, body, **{"Content-Type": JSON})
    assert string_to_sign(request, ACCOUNT) == (
        "POST\n\n\n34\n\napplication/json; odata=minimalmetadata\n\n\n\n\n\n\n"
        "ocp-date:Tue, 01 Oct 2024 12:00:00 GMT\n/myaccount/pools/p1/nodes/n1/reboot\n"
        "api-version:2024-07-01.20.0"
    )
    expected = "SharedKey myaccount:7BJK/11w0ReKAcQMiR6/hjqBT2AlJeME0IuGypA0o3M="
    assert request.headers["Authorization"] == expected


API = "api-version=2024-07-01.20.0"
SDK_CASES = [
    pytest.param(
        "GET",
        f"{HOST}/jobs/j1/tasks?{API}&$filter=state%20eq%20%27completed%27&$select=id%2Cstate&maxresults=1000",
        None,
        {},
        id="get-filter-select",
    ),
    pytest.param(
        "POST",
        f"{HOST}/pools/p1/nodes/n1/reboot?{API}",
        b'{"nodeRebootOption":"terminate"}',
        {"Content-Type": JSON},
        id="post-json",
    ),
    pytest.param("POST", f"{HOST}/jobs/j1/enable?{API}", None, {}, id="post-no-body"),
    pytest.param("DELETE", f"{HOST}/jobs/j1/tasks/t1?{API}", None, {}, id="delete-no-body"),
    pytest.param(
        "GET",
        f"{HOST}/jobs/j1/tasks/t1/files/stdout.txt?{API}",
        None,
        {"ocp-range": "bytes=100-199"},
        id="file-range",
    ),
    pytest.param(
        "HEAD",
        f"{HOST}/pools/p1/nodes/n1/files/workitems%5Cjob-1%5Ctask%201%5Cstdout.txt?{API}",
        None,
        {},
        id="backslash-path",
    ),
    pytest.param(
        "GET",
        f"{HOST}/jobs?{API}&$skipToken=abc%2Bdef&timeout=",
        None,
        {"If-None-Match": "0x8DBAED6F7336C7A"},
        id="skiptoken-conditional",
    ),
]


@pytest.mark.parametrize(("method", "url", "content", "headers"), SDK_CASES)
def test_signature_matches_the_official_sdk(
    method: str, url: str, content: bytes | None, headers: dict[str, str]
) -> None:
    ours = signed(method, url, content, **headers)
    sdk_headers = {"ocp-date": DATE, **headers}
    if content is not None:
        sdk_headers["Content-Type"] = headers["Content-Type"]
    assert ours.headers["Authorization"] == sdk_authorization(method, url, content, sdk_headers)


def test_bodiless_post_sends_the_content_length_it_signs() -> None:
    request = httpx.Request("DELETE", f"{HOST}/jobs/j1?{API}", headers={"ocp-date": DATE})
    SharedKeyAuth(ACCOUNT, KEY).sign(request)
    assert request.headers["Content-Length"] == "0"
    assert "\n0\n" in string_to_sign(request, ACCOUNT)


def test_sign_adds_ocp_date_when_missing() -> None:
    request = httpx.Request("GET", f"{HOST}/pools?{API}")
    SharedKeyAuth(ACCOUNT, KEY).sign(request)
    assert request.headers["ocp-date"].endswith(" GMT")


def test_shared_key_hides_the_key() -> None:
    auth = SharedKeyAuth(ACCOUNT, KEY)
    client = BatchClient(HOST, auth)
    for text in (repr(auth), str(auth), repr(client), str(client)):
        assert KEY not in text
        assert "***" in text or "SharedKeyAuth" in text


def test_invalid_key_error_does_not_show_it() -> None:
    with pytest.raises(ValueError) as info:
        SharedKeyAuth(ACCOUNT, "not base64!!")
    assert "not base64!!" not in str(info.value)


class FakeCredential:
    """An async credential whose tokens expire when the test says."""

    def __init__(self, lifetimes: list[int]) -> None:
        self.lifetimes = lifetimes
        self.calls: list[str] = []
        self.closed = False
        self.now = 1_000_000

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.calls.extend(scopes)
        number = len(self.calls)
        return AccessToken(f"token-{number}", self.now + self.lifetimes[number - 1])

    async def close(self) -> None:
        self.closed = True


def bearer_client(credential: Any, handler: Any, clock: Any) -> BatchClient:
    auth = TokenCredentialAuth(credential, clock=clock)
    return BatchClient(HOST, auth, transport=httpx.MockTransport(handler))


async def test_token_is_cached_and_refreshed_before_expiry() -> None:
    credential = FakeCredential([3600, 3600])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"id": "p1"})

    async with bearer_client(credential, handler, lambda: credential.now) as client:
        await client.get_pool("p1")
        await client.get_pool("p1")
        credential.now += 3600 - 299  # inside the 5-minute refresh margin
        await client.get_pool("p1")
    assert seen == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert credential.calls == [SCOPE, SCOPE]
    assert credential.closed


async def test_one_retry_with_a_fresh_token_on_401() -> None:
    credential = FakeCredential([3600, 3600, 3600])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer token-1":
            return httpx.Response(401, json={"code": "InvalidAuthenticationToken"})
        return httpx.Response(200, json={"id": "p1"})

    async with bearer_client(credential, handler, lambda: credential.now) as client:
        pool = await client.get_pool("p1")
    assert pool.id == "p1"
    assert seen == ["Bearer token-1", "Bearer token-2"]


async def test_persistent_401_raises_auth_failed_after_one_retry() -> None:
    credential = FakeCredential([3600, 3600, 3600])
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(401, json={"code": "Unauthorized", "message": {"value": "no"}})

    async with bearer_client(credential, handler, lambda: credential.now) as client:
        with pytest.raises(AuthFailed) as info:
            await client.get_pool("p1")
    assert count == 2
    assert "token-" not in str(info.value) and "token-" not in repr(info.value)


async def test_concurrent_requests_share_one_token_fetch() -> None:
    credential = FakeCredential([3600] * 5)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "p1"})

    async with bearer_client(credential, handler, lambda: credential.now) as client:
        await asyncio.gather(*(client.get_pool("p1") for _ in range(5)))
    assert len(credential.calls) == 1


async def test_sync_credential_runs_in_a_thread_and_is_closed() -> None:
    class SyncCredential:
        closed = False

        def get_token(self, *scopes: str, **_: Any) -> AccessToken:
            return AccessToken("sync-token", 10**10)

        def close(self) -> None:
            self.closed = True

    credential = SyncCredential()
    auth = TokenCredentialAuth(credential)
    assert await auth.token() == "sync-token"
    await auth.aclose()
    assert credential.closed


async def test_credential_failure_is_auth_failed() -> None:
    class Broken:
        async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
            raise RuntimeError("Please run 'az login'.\nMore detail on another line")

    auth = TokenCredentialAuth(Broken())
    with pytest.raises(AuthFailed) as info:
        await auth.token()
    assert "az login" in str(info.value)
    assert "\n" not in str(info.value)


def test_token_auth_repr_hides_the_token() -> None:
    auth = TokenCredentialAuth(FakeCredential([1]))
    auth._token = AccessToken("secret-token", 10**10)
    assert "secret-token" not in repr(auth)
    assert "secret-token" not in str(BatchClient(HOST, auth))


async def test_make_credential_builds_each_method(tmp_path: Path) -> None:
    from azure.identity import (
        AzureCliCredential,
        DefaultAzureCredential,
        ManagedIdentityCredential,
    )

    kinds = {
        "default": DefaultAzureCredential,
        "cli": AzureCliCredential,
        "device-code": DeviceCodeSignIn,
        "managed-identity": ManagedIdentityCredential,
    }
    for method, kind in kinds.items():
        credential = make_credential(
            method,
            tenant_id="contoso.onmicrosoft.com",
            prompt_callback=lambda u, c, e: None,
            store=SignInStore(tmp_path),
        )
        assert isinstance(credential, kind)
        await TokenCredentialAuth(credential).aclose()
    with pytest.raises(ValueError, match="unknown auth method"):
        make_credential("password")


def test_the_real_device_code_credential_gets_the_cache_and_the_record(tmp_path: Path) -> None:
    """`make_credential("device-code")` builds azure-identity's credential with the persistent
    cache named batch-tui and, on a later start, the remembered record."""
    store = SignInStore(tmp_path)
    store.save(None, ALICE)
    credential = make_credential("device-code", store=store)
    inner = credential._credential
    assert type(inner).__name__ == "DeviceCodeCredential"
    assert inner._cache_options.name == "batch-tui"
    assert inner._cache_options.allow_unencrypted_storage
    assert inner._auth_record.username == "alice@contoso.com"
    credential.close()


def test_a_sign_in_is_remembered_0600_and_the_next_start_uses_it(tmp_path: Path) -> None:
    kind, store = stand_in(), SignInStore(tmp_path / "data")
    first = DeviceCodeSignIn(tenant_id="contoso", store=store, factory=kind)
    assert first.record is None and first.username is None
    assert first.get_token(SCOPE).token == "token-for-alice@contoso.com"
    assert first.get_token(SCOPE).token == "token-for-alice@contoso.com"
    [made] = kind.made
    assert made.prompts == 1, "one device code"
    assert made.kwargs["cache_persistence_options"].name == "batch-tui"
    assert made.kwargs["disable_automatic_authentication"] is True
    path = store.record_path("contoso")
    assert path.parent == tmp_path / "data"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "token" not in path.read_text(), "the record holds who, never a secret"

    second = DeviceCodeSignIn(tenant_id="contoso", store=store, factory=kind)  # the next start
    record = kind.made[1].kwargs["authentication_record"]
    assert (record.username, record.home_account_id) == (ALICE.username, ALICE.home_account_id)
    assert second.username == "alice@contoso.com"
    assert second.get_token(SCOPE).token == "token-for-alice@contoso.com"
    assert kind.made[1].prompts == 0, "no device code on the next start"
    other = DeviceCodeSignIn(tenant_id="fabrikam", store=store, factory=kind)
    assert other.record is None, "another tenant is another sign-in"


def test_an_unreadable_record_costs_a_new_device_code(tmp_path: Path) -> None:
    store = SignInStore(tmp_path)
    store.record_path(None).write_text("{not json")
    assert store.load(None) is None


def test_a_damaged_record_says_so_and_a_missing_one_does_not(tmp_path: Path) -> None:
    store = SignInStore(tmp_path)
    assert store.load(None) is None and store.problem is None  # never signed in: no word
    path = store.record_path(None)
    path.write_text("{not json")
    assert store.load(None) is None
    assert store.problem == f"the remembered sign-in {path} is damaged"


def test_an_expired_sign_in_asks_again_and_remembers_the_new_one(tmp_path: Path) -> None:
    kind, store = stand_in(), SignInStore(tmp_path)
    store.save(None, ALICE)
    credential = DeviceCodeSignIn(store=store, factory=kind)
    kind.expired = True
    kind.record = BOB
    assert credential.get_token(SCOPE).token == "token-for-bob@contoso.com"
    assert kind.made[0].prompts == 1
    assert credential.username == "bob@contoso.com"
    assert store.load(None) is not None and store.load(None).username == BOB.username


def test_concurrent_token_requests_wait_for_one_device_code(tmp_path: Path) -> None:
    kind = stand_in()
    credential = DeviceCodeSignIn(store=SignInStore(tmp_path), factory=kind)
    threads = [threading.Thread(target=credential.get_token, args=(SCOPE,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert kind.made[0].prompts == 1


async def test_sign_out_forgets_the_record_the_cache_and_the_tokens_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # where azure-identity keeps the cache
    kind, store = stand_in(), SignInStore(tmp_path / "data", cache_name="batch-tui-test")
    credential = DeviceCodeSignIn(store=store, factory=kind)
    auth = TokenCredentialAuth(credential)
    assert await auth.token() == "token-for-alice@contoso.com"
    cache = persistent_cache_with_tokens(store)
    assert Path(cache._persistence.get_location()) == store.cache_files()[0]
    assert store.record_path(None).exists()

    credential.sign_out()
    assert not store.record_path(None).exists()
    assert not any(path.exists() for path in store.cache_files())
    assert kind.made[0].closed and credential.record is None
    kind.record = BOB
    assert await auth.token() == "token-for-bob@contoso.com", "the old token is not used"
    assert kind.made[1].kwargs["authentication_record"] is None
    assert kind.made[1].prompts == 1


def test_a_cache_file_found_readable_by_others_is_made_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    store = SignInStore(tmp_path / "data")
    cache = store.cache_files()[0]
    cache.parent.mkdir()
    cache.write_text("{}")
    cache.chmod(0o644)
    store.save(None, ALICE)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def persistent_cache_with_tokens(store: SignInStore) -> Any:
    """The cache as azure-identity opens it (a plain file here: no libsecret in tests), holding
    the tokens of a sign-in as msal stores them."""
    from azure.identity._persistent_cache import _load_persistent_cache

    def part(claims: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    claims = {"oid": "o", "tid": "t", "preferred_username": "alice@contoso.com", "aud": "c"}
    cache = _load_persistent_cache(store.cache_options())
    response = {
        "access_token": "secret-access-token",
        "refresh_token": "secret-refresh-token",
        "id_token": f"h.{part(claims)}.s",
        "client_info": part({"uid": "o", "utid": "t"}),
        "expires_in": 3600,
    }
    endpoint = "https://login.microsoftonline.com/t/oauth2/v2.0/token"
    cache.add(
        {"client_id": "c", "scope": [SCOPE], "token_endpoint": endpoint, "response": response}
    )
    file = store.cache_files()[0]
    assert "secret-refresh-token" in file.read_text()
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    return cache


def test_emptying_the_cache_removes_its_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What sign-out does where the cache is a keyring entry that deleting a file leaves."""
    from batch_tui.batch.sign_in import _empty_cache

    monkeypatch.setenv("HOME", str(tmp_path))
    store = SignInStore(tmp_path / "data", cache_name="batch-tui-test")
    persistent_cache_with_tokens(store)
    _empty_cache(store.cache_options(), is_cae=False)
    assert "secret" not in store.cache_files()[0].read_text()
