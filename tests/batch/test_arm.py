"""Tests account discovery through the two Resource Manager list calls."""

from __future__ import annotations

import httpx
import pytest

from batch_tui.batch.arm import discover_accounts
from batch_tui.batch.errors import AuthFailed
from tests.arm_standin import StaticTokenAuth, arm_transport


async def test_discovers_accounts_across_pages_and_subscriptions() -> None:
    seen: list[httpx.Request] = []
    accounts = await discover_accounts(StaticTokenAuth(), transport=arm_transport(seen))
    assert [(a.subscription_name, a.name) for a in accounts] == [
        ("Production", "archive"),
        ("Production", "prodbatch"),
        ("Research", "render"),
    ]
    render = accounts[-1]
    assert render.endpoint == "https://render.westeurope.batch.azure.com"
    assert render.resource_group == "rg-render"
    assert render.location == "westeurope"
    # The disabled subscription is never listed; the locked one is tried and skipped.
    listed = {r.url.path.split("/")[2] for r in seen if r.url.path != "/subscriptions"}
    assert listed == {"sub-1", "sub-2", "sub-4"}
    assert all(r.url.params["api-version"] for r in seen)


async def test_unauthenticated_listing_is_auth_failed() -> None:
    class NoAuth(httpx.Auth):
        def auth_flow(self, request):  # type: ignore[no-untyped-def]
            yield request

    with pytest.raises(AuthFailed):
        await discover_accounts(NoAuth(), transport=arm_transport())
