"""Tests, against the emulator, that a reboot whose answer was lost had been applied.

The connection closes after the emulator handled the request and before any byte of its
answer: `BatchClient` raises `OutcomeUnknown` (never a plain failure), does not reboot twice,
and a refresh shows the node rebooting.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import OutcomeUnknown
from batch_tui.emulator import Emulator
from tests.emulator.support import ACCOUNT, BASE_URL, KEY, Settle, add_pool, idle


class LosesAnswers(httpx.AsyncBaseTransport):
    """Passes requests to the emulator, and drops the answer of those that end with `suffix`."""

    def __init__(self, app: Any, suffix: str) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.suffix = suffix
        self.dropped: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith(self.suffix):
            return response
        await response.aclose()
        self.dropped.append(f"{request.method} {request.url.path}")
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )


async def test_a_reboot_whose_answer_was_lost_was_applied(
    http: httpx.AsyncClient, emulator: Emulator, app: Any, settle: Settle
) -> None:
    await add_pool(http, targetDedicatedNodes=1)
    await settle(idle(emulator))
    (record,) = emulator.store.pool_nodes("pool1").values()
    transport = LosesAnswers(app, "/reboot")
    async with BatchClient.with_shared_key(BASE_URL, ACCOUNT, KEY, transport=transport) as client:
        with pytest.raises(OutcomeUnknown, match="POST reboot may have been applied"):
            await client.reboot_node("pool1", record.id)
        node = await client.get_node("pool1", record.id)
    assert transport.dropped == [f"POST /pools/pool1/nodes/{record.id}/reboot"]
    assert node.state == "rebooting"
