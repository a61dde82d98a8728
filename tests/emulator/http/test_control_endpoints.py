"""Tests that the control endpoints (`/_emulator/faults`, `/_emulator/pools/{id}/preempt`) let
nothing in without the account key, and take JSON bodies only.

A browser's "simple request" from any web page (a POST with a `text/plain` body, no custom
headers) must not preempt nodes nor change the fault plan: it carries no signature, and its
content type is refused even when signed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.http.app import create_served_app
from batch_tui.emulator.http.faults import CONTROL_PATH, FaultInjector
from tests.emulator.shared_key import SharedKeyAuth
from tests.emulator.support import ACCOUNT, BASE_URL, KEY, POOL_BODY, Settle, assert_error

PREEMPT = "/_emulator/pools/pool1/preempt"
WRONG_KEY = "d3Jvbmcta2V5LXdyb25nLWtleQ=="
STALE = "Fri, 31 Dec 1999 23:59:59 GMT"


@pytest.fixture
def served_app(emulator: Emulator) -> FaultInjector:
    """The app as `batch-tui emulator` serves it: the emulator inside the fault injector."""
    return create_served_app(emulator)


def client(app: Any, auth: httpx.Auth | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=auth)


@pytest.fixture
async def signed(served_app: FaultInjector) -> AsyncIterator[httpx.AsyncClient]:
    async with client(served_app, SharedKeyAuth(ACCOUNT, KEY)) as http:
        yield http


@pytest.fixture
async def unsigned(served_app: FaultInjector) -> AsyncIterator[httpx.AsyncClient]:
    async with client(served_app) as http:
        yield http


@pytest.fixture
async def spot_pool(signed: httpx.AsyncClient, settle: Settle, emulator: Emulator) -> None:
    body = {**POOL_BODY, "targetDedicatedNodes": 0, "targetLowPriorityNodes": 2}
    response = await signed.post("/pools", json=body, params={"api-version": "2025-06-01"})
    assert response.status_code == 201, response.text
    nodes = emulator.store.pool_nodes("pool1")
    await settle(lambda: len(nodes) == 2 and all(n.data["state"] == "idle" for n in nodes.values()))


def states(emulator: Emulator) -> list[str]:
    return sorted(n.data["state"] for n in emulator.store.pool_nodes("pool1").values())


# --- the fault plan ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_faults_refuse_an_unsigned_request(
    unsigned: httpx.AsyncClient, served_app: FaultInjector, method: str
) -> None:
    served_app.set_plan("500:path=/pools")
    response = await unsigned.request(method, CONTROL_PATH, json={"spec": "429"})
    values = assert_error(response, 401, "AuthenticationFailed")
    assert "Authorization" in values["AuthenticationErrorDetail"]
    assert served_app.plan.to_spec() == "500:rate=1:path=/pools"


@pytest.mark.parametrize(
    ("auth", "headers"),
    [
        (SharedKeyAuth(ACCOUNT, WRONG_KEY), {}),
        (SharedKeyAuth("otheraccount", KEY), {}),
        (SharedKeyAuth(ACCOUNT, KEY), {"ocp-date": STALE}),
    ],
    ids=["wrong-key", "wrong-account", "stale-date"],
)
async def test_faults_refuse_a_bad_signature(
    served_app: FaultInjector, auth: httpx.Auth, headers: dict[str, str]
) -> None:
    async with client(served_app, auth) as http:
        response = await http.put(CONTROL_PATH, json={"spec": "429"}, headers=headers)
    assert_error(response, 403, "AuthenticationFailed")
    assert served_app.plan.rules == ()


async def test_faults_refuse_a_text_plain_body_even_signed(
    signed: httpx.AsyncClient, served_app: FaultInjector
) -> None:
    for content_type in ["text/plain", "text/plain;charset=UTF-8", None]:
        headers = {"Content-Type": content_type} if content_type else {}
        response = await signed.put(CONTROL_PATH, content=b'{"spec": "429"}', headers=headers)
        assert response.status_code == 415, content_type
        assert "application/json" in response.json()["error"]
    assert served_app.plan.rules == ()


async def test_faults_take_a_signed_json_plan(
    signed: httpx.AsyncClient, served_app: FaultInjector
) -> None:
    response = await signed.put(CONTROL_PATH, json={"spec": "seed=3;429:count=1"})
    assert response.status_code == 200, response.text
    assert (await signed.get(CONTROL_PATH)).json()["rules"][0]["count"] == 1
    assert (await signed.delete(CONTROL_PATH)).status_code == 200
    assert served_app.plan.rules == ()


# --- preemption ------------------------------------------------------------------------------


@pytest.mark.usefixtures("spot_pool")
async def test_a_browser_simple_request_cannot_preempt(
    unsigned: httpx.AsyncClient, emulator: Emulator
) -> None:
    headers = {"Content-Type": "text/plain"}
    response = await unsigned.post(PREEMPT, content=b'{"count": 2}', headers=headers)
    assert_error(response, 401, "AuthenticationFailed")
    assert (await unsigned.post(PREEMPT)).status_code == 401
    assert states(emulator) == ["idle", "idle"]


@pytest.mark.usefixtures("spot_pool")
async def test_preempt_refuses_a_stale_or_wrong_signature(
    served_app: FaultInjector, emulator: Emulator
) -> None:
    async with client(served_app, SharedKeyAuth(ACCOUNT, WRONG_KEY)) as wrong:
        assert_error(await wrong.post(PREEMPT, json={"count": 1}), 403, "AuthenticationFailed")
    async with client(served_app, SharedKeyAuth(ACCOUNT, KEY)) as http:
        stale = await http.post(PREEMPT, json={"count": 1}, headers={"ocp-date": STALE})
    assert_error(stale, 403, "AuthenticationFailed")
    assert states(emulator) == ["idle", "idle"]


@pytest.mark.usefixtures("spot_pool")
async def test_preempt_refuses_a_signed_text_plain_body(
    signed: httpx.AsyncClient, emulator: Emulator
) -> None:
    headers = {"Content-Type": "text/plain"}
    response = await signed.post(PREEMPT, content=b'{"count": 1}', headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    assert states(emulator) == ["idle", "idle"]


@pytest.mark.usefixtures("spot_pool")
async def test_preempt_takes_a_signed_json_request(
    signed: httpx.AsyncClient, emulator: Emulator
) -> None:
    response = await signed.post(PREEMPT, json={"count": 1, "recoverAfter": 3600})
    assert response.status_code == 200, response.text
    assert len(response.json()["preempted"]) == 1
    assert (await signed.post(PREEMPT)).status_code == 200  # no body: every node left
    assert states(emulator) == ["preempted", "preempted"]


async def test_a_fresh_date_is_what_the_signers_send() -> None:
    # The signers the callers use add a fresh ocp-date when a request has none.
    request = httpx.Request("POST", f"{BASE_URL}{PREEMPT}")
    signed = next(SharedKeyAuth(ACCOUNT, KEY).auth_flow(request))
    assert signed.headers["ocp-date"][:16] == formatdate(usegmt=True)[:16]
