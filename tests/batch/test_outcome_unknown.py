"""Tests that a mutating request whose answer was lost is `OutcomeUnknown`, never "failed".

"Went out, answer lost" (read timeout, reset, a response cut short) may hide an applied
reboot; "never went out" (refused, DNS, connect timeout) is a plain `TransportError` that
applied nothing. Reads keep the plain `TransportError` either way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import OutcomeUnknown, TransportError, transport_error
from batch_tui.batch.retry import RetryPolicy

HOST = "https://acct.westus.batch.azure.com"
KEY = "ZW11bGF0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="


async def _no_wait(seconds: float) -> None:
    return None


RETRY = RetryPolicy(sleep=_no_wait, random=lambda: 0.0)
"""The default attempts, without the waits."""


class CutStream(httpx.AsyncByteStream):
    """A response body that the connection cuts after its first piece."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"odata.metadata":'
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def lost_by(kind: str) -> Callable[[httpx.Request], httpx.Response]:
    """A handler that receives the request, then loses its answer in the way `kind` says."""

    def handler(request: httpx.Request) -> httpx.Response:
        errors: dict[str, httpx.TransportError] = {
            "read timeout": httpx.ReadTimeout("timed out", request=request),
            "reset": httpx.ReadError("[Errno 104] Connection reset by peer", request=request),
            "closed": httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ),
            "write error": httpx.WriteError("[Errno 32] Broken pipe", request=request),
        }
        if kind == "cut body":
            return httpx.Response(409, stream=CutStream())
        raise errors[kind]

    return handler


def counting(
    handler: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request]
) -> httpx.MockTransport:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return httpx.MockTransport(record)


Call = Callable[[BatchClient], Awaitable[None]]
MUTATIONS: dict[str, tuple[Call, str, str]] = {
    "reboot": (lambda c: c.reboot_node("p1", "n1"), "POST", "reboot"),
    "terminate": (lambda c: c.terminate_job("j1"), "POST", "terminate"),
    "delete": (lambda c: c.delete_task("j1", "t 1"), "DELETE", "t 1"),
}


@pytest.mark.parametrize("kind", ["read timeout", "reset", "closed", "write error", "cut body"])
@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_a_lost_answer_to_a_mutation_is_outcome_unknown_and_not_resent(
    kind: str, name: str
) -> None:
    call, method, target = MUTATIONS[name]
    seen: list[httpx.Request] = []
    transport = counting(lost_by(kind), seen)
    async with BatchClient.with_shared_key(
        HOST, "acct", KEY, transport=transport, retry=RETRY
    ) as client:
        with pytest.raises(OutcomeUnknown) as info:
            await call(client)
    error = info.value
    assert len(seen) == 1, "a request that may have been applied is never resent"
    assert isinstance(error, TransportError) and error.sent
    assert (error.method, error.target) == (method, target)
    assert str(error).startswith(f"No answer from the service: {method} {target} may have been")
    assert "failed" not in error.message.split("(")[0]
    assert error.client_request_id == seen[0].headers["client-request-id"]


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ConnectError("[Errno -2] Name or service not known"),
        httpx.ConnectTimeout("timed out"),
        httpx.PoolTimeout("no free connection"),
    ],
)
async def test_a_mutation_that_never_went_out_failed_plainly(exc: httpx.TransportError) -> None:
    seen: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        raise exc

    async with BatchClient.with_shared_key(
        HOST, "acct", KEY, transport=counting(refuse, seen), retry=RETRY
    ) as client:
        with pytest.raises(TransportError) as info:
            await client.reboot_node("p1", "n1")
    assert not isinstance(info.value, OutcomeUnknown)
    assert not info.value.sent
    assert len(seen) == RETRY.max_attempts, "nothing was applied, so it was retried"


@pytest.mark.parametrize("kind", ["reset", "cut body"])
async def test_a_lost_answer_to_a_read_stays_a_plain_transport_error(kind: str) -> None:
    seen: list[httpx.Request] = []
    async with BatchClient.with_shared_key(
        HOST, "acct", KEY, transport=counting(lost_by(kind), seen), retry=RETRY
    ) as client:
        with pytest.raises(TransportError) as info:
            await client.get_node("p1", "n1")
    assert not isinstance(info.value, OutcomeUnknown)
    assert info.value.sent and len(seen) == RETRY.max_attempts


@pytest.mark.parametrize("method", ["PUT", "PATCH", "post"])
def test_transport_error_names_what_may_have_been_applied(method: str) -> None:
    url = f"{HOST}/pools/p%2F1/nodes/n1/users/al%20ice?api-version=2024-07-01.20.0"
    error = transport_error(
        httpx.ReadTimeout("", request=httpx.Request(method, url)), "cid", method=method, url=url
    )
    assert isinstance(error, OutcomeUnknown)
    assert (error.method, error.target, error.client_request_id) == (
        method.upper(),
        "al ice",
        "cid",
    )
    assert error.message == (
        f"No answer from the service: {method.upper()} al ice may have been applied "
        "(timed out waiting for the response)"
    )


def test_transport_error_without_a_method_keeps_the_old_meaning() -> None:
    error = transport_error(httpx.ReadError("reset"))
    assert type(error) is TransportError and error.sent
    refused = transport_error(httpx.ConnectError("refused"), method="POST", url=f"{HOST}/jobs")
    assert type(refused) is TransportError and not refused.sent
