"""Finds the Batch accounts a signed-in user can see, through Azure Resource Manager.

Two list calls: the user's subscriptions, then the Batch accounts of each subscription. Both page
through `nextLink`. A subscription whose listing fails (no permission, provider not registered)
is skipped, so one bad subscription never hides the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import msgspec

from batch_tui.batch.errors import BatchError, error_from_response, malformed, transport_error

ARM_ENDPOINT = "https://management.azure.com"
ARM_SCOPE = "https://management.azure.com/.default"
"""The scope of a Resource Manager token (the same credential signs Batch and ARM calls)."""
SUBSCRIPTIONS_API = "2022-12-01"
BATCH_ACCOUNTS_API = "2024-07-01"
MAX_PARALLEL_SUBSCRIPTIONS = 4
"""How many subscriptions are listed at once; ARM throttles per principal."""


class DiscoveredAccount(msgspec.Struct, frozen=True, kw_only=True):
    """A Batch account found through Resource Manager."""

    name: str
    endpoint: str
    """`https://` plus the account endpoint, ready for `BatchClient`."""
    location: str
    subscription_id: str
    subscription_name: str
    resource_group: str


class _Subscription(msgspec.Struct, rename="camel"):
    subscription_id: str
    display_name: str = ""
    state: str = "Enabled"


class _AccountProperties(msgspec.Struct, rename="camel"):
    account_endpoint: str = ""


class _Account(msgspec.Struct):
    id: str
    name: str
    location: str = ""
    properties: _AccountProperties = msgspec.field(default_factory=_AccountProperties)


class _SubscriptionPage(msgspec.Struct, rename="camel"):
    value: list[_Subscription] = []
    next_link: str | None = None


class _AccountPage(msgspec.Struct, rename="camel"):
    value: list[_Account] = []
    next_link: str | None = None


async def _pages(
    http: httpx.AsyncClient, url: str, page_type: type[_SubscriptionPage] | type[_AccountPage]
) -> AsyncIterator[_SubscriptionPage | _AccountPage]:
    """Yields the pages of an ARM list, following `nextLink`."""
    next_url: str | None = url
    while next_url:
        try:
            response = await http.get(next_url)
        except httpx.HTTPError as exc:
            raise transport_error(exc) from exc
        if response.status_code != 200:
            raise error_from_response(response)
        try:
            page = msgspec.json.decode(response.content, type=page_type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise malformed(response, str(exc)) from exc
        yield page
        next_url = page.next_link


def _resource_group(resource_id: str) -> str:
    parts = resource_id.split("/")
    lowered = [part.lower() for part in parts]
    if "resourcegroups" in lowered:
        index = lowered.index("resourcegroups") + 1
        return parts[index] if index < len(parts) else ""
    return ""


async def _accounts_of(http: httpx.AsyncClient, sub: _Subscription) -> list[DiscoveredAccount]:
    url = (
        f"/subscriptions/{sub.subscription_id}/providers/Microsoft.Batch/batchAccounts"
        f"?api-version={BATCH_ACCOUNTS_API}"
    )
    found = []
    async for page in _pages(http, url, _AccountPage):
        assert isinstance(page, _AccountPage)
        for account in page.value:
            endpoint = account.properties.account_endpoint
            if not endpoint:
                continue
            found.append(
                DiscoveredAccount(
                    name=account.name,
                    endpoint=endpoint if "://" in endpoint else f"https://{endpoint}",
                    location=account.location,
                    subscription_id=sub.subscription_id,
                    subscription_name=sub.display_name,
                    resource_group=_resource_group(account.id),
                )
            )
    return found


async def discover_accounts(
    auth: httpx.Auth,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    base_url: str = ARM_ENDPOINT,
    timeout: float = 30.0,
) -> list[DiscoveredAccount]:
    """Lists the Batch accounts of every enabled subscription the credential can see.

    Args:
        auth: An httpx auth flow that adds an ARM token (`TokenCredentialAuth(cred, ARM_SCOPE)`).
        transport: For tests: a stand-in for Resource Manager.
        base_url: The Resource Manager endpoint (another one for sovereign clouds).
        timeout: Seconds per request.

    Returns:
        The accounts, sorted by subscription name and account name.

    Raises:
        BatchError: When the subscriptions themselves cannot be listed.
    """
    async with httpx.AsyncClient(
        base_url=base_url, auth=auth, transport=transport, timeout=timeout, trust_env=True
    ) as http:
        subscriptions: list[_Subscription] = []
        async for page in _pages(
            http, f"/subscriptions?api-version={SUBSCRIPTIONS_API}", _SubscriptionPage
        ):
            assert isinstance(page, _SubscriptionPage)
            subscriptions.extend(s for s in page.value if s.state.lower() == "enabled")
        gate = asyncio.Semaphore(MAX_PARALLEL_SUBSCRIPTIONS)

        async def one(sub: _Subscription) -> list[DiscoveredAccount]:
            async with gate:
                try:
                    return await _accounts_of(http, sub)
                except BatchError:
                    return []

        results = await asyncio.gather(*(one(sub) for sub in subscriptions))
    accounts = [account for result in results for account in result]
    return sorted(accounts, key=lambda a: (a.subscription_name.lower(), a.name.lower()))
