"""Provides the emulator's fault injection middleware, FaultInjector, and its control endpoint.

`FaultInjector(app, plan)` wraps any ASGI app (the emulator's `create_app(...)`, outermost).
For each request the plan (`faults_spec.FaultPlan`, which also documents the spec format)
decides in request order which rules fire: latency first, then at most one reply (429/503/500;
the app is not called) or one body fault (reset/truncate/slow of the app's own response).

Latency is a fixed delay before the app runs plus, with `per-item-us`, a delay after it that
grows with the items of the list page it answered (the length of the JSON body's `value`
array): the service is slower to send 1,000 tasks than one, and a benchmark with a flat
latency would flatter a client that asks for big pages. A JSON response is then held until
that delay is over; other responses (file contents) pass through as they are made. The
injector sleeps with the `sleep` it was given (`asyncio.sleep`), so tests can see the delays.

A cut connection (reset, truncate) is raised as an exception after the partial body. Under
uvicorn that closes the connection (a reset also sets `SO_LINGER` 0 so the peer gets an RST);
through `httpx.ASGITransport` the exception reaches the client as it would over a socket:
`InjectedReset` is then also an `httpx.ReadError`, `InjectedTruncation` an
`httpx.RemoteProtocolError`. Both buffer the response they cut; empty bodies (HEAD, 201, 204)
cannot be cut, pass through and are not counted.

`GET CONTROL_PATH` returns the plan and its counts as JSON, `PUT` replaces it (a JSON body:
`{"spec": "..."}` or the rules, see `plan_from_json`), `DELETE` turns faults off and returns
the removed plan with its final counts. It answers loopback clients whose requests are signed
with the account's SharedKey (`control.refusal`), and it is never faulted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.http.control import batch_error, json_error, refusal
from batch_tui.emulator.http.faults_spec import FaultPlan, FaultRule, as_seed, rule_from_params
from batch_tui.emulator.http.sharedkey import AccountKey

__all__ = [
    "CONTROL_PATH",
    "FaultInjector",
    "FaultPlan",
    "FaultRule",
    "describe_plan",
    "plan_from_json",
]

CONTROL_PATH = "/_emulator/faults"
"""The control endpoint: outside the Batch namespace, whose paths never start with `/_`."""

_REPLIES = {
    "429": (429, "TooManyRequests", "The request was throttled. Retry after the interval given."),
    "503": (503, "ServerBusy", "The server is currently unable to receive requests. Please retry."),
    "500": (500, "InternalError", "Server encountered an internal error. Please try again."),
}
"""Status, code and first message line of each reply fault, as the service words them."""

Sleep = Callable[[float], Awaitable[None]]
"""How the injector waits: `asyncio.sleep`, or a stand-in that records the delays (tests)."""


class InjectedFault(Exception):
    """Marks an exception the injector raised on purpose (kept out of uvicorn's error log)."""

    httpx_base = "HTTPError"
    """The httpx exception a client sees for this fault over a real socket."""


class InjectedReset(InjectedFault):
    """A connection reset mid-response; raised as an `httpx.ReadError` when httpx is loaded."""

    httpx_base = "ReadError"


class InjectedTruncation(InjectedFault):
    """A body short of its `Content-Length`; an `httpx.RemoteProtocolError` when httpx is loaded."""

    httpx_base = "RemoteProtocolError"


def _client_error(kind: type[InjectedFault], message: str) -> InjectedFault:
    """Returns the fault as an exception that is also the httpx error a socket would give.

    The emulator must not import httpx (it loads its CLI, and with it rich); an in-process
    client that can receive this exception (`httpx.ASGITransport`) has already loaded it.
    """
    httpx = sys.modules.get("httpx")
    if httpx is None:
        return kind(message)
    error: InjectedFault = _with_httpx_base(kind, getattr(httpx, kind.httpx_base))(message)
    return error


_CLIENT_CLASSES: dict[tuple[type[InjectedFault], type[Exception]], type[InjectedFault]] = {}


def _with_httpx_base(kind: type[InjectedFault], base: type[Exception]) -> type[InjectedFault]:
    key = (kind, base)
    if key not in _CLIENT_CLASSES:
        _CLIENT_CLASSES[key] = type(kind.__name__, (base, kind), {"__module__": __name__})
    return _CLIENT_CLASSES[key]


class FaultInjector:
    """ASGI middleware that injects the faults of a plan into an app's responses.

    Args:
        app: The ASGI app to wrap (the emulator); wrap it outermost, so that nothing between
            the server and the injector catches the exceptions that cut connections.
        plan: A FaultPlan, a spec string, or None for no faults.
        control_path: Where the control endpoint is served.
        credentials: The account whose SharedKey signs control requests (the emulator's
            settings, read at each request); None closes the control endpoint.
        sleep: Waits the injected latency (`asyncio.sleep`; tests pass one that records).
    """

    def __init__(
        self,
        app: ASGIApp,
        plan: FaultPlan | str | None = None,
        *,
        control_path: str = CONTROL_PATH,
        credentials: AccountKey | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.app = app
        self.sleep = sleep
        self.control_path = control_path
        self.credentials = credentials
        self._plan = FaultPlan()
        if plan is not None:
            self.set_plan(plan)
        _quiet_uvicorn()

    @property
    def plan(self) -> FaultPlan:
        """The plan in force."""
        return self._plan

    def set_plan(self, plan: FaultPlan | str) -> FaultPlan:
        """Replaces the plan (requests under way finish under the old one) and returns it.

        Raises:
            ValueError: When `plan` is a bad spec string.
        """
        self._plan = FaultPlan.from_spec(plan) if isinstance(plan, str) else plan
        return self._plan

    def clear(self) -> None:
        """Turns all faults off."""
        self._plan = FaultPlan()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["path"] == self.control_path:
            await self._control(scope, receive, send)
        else:
            await self._faulted(scope, receive, send)

    async def _faulted(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self._plan
        if not plan.rules:
            await self.app(scope, receive, send)
            return
        decision = plan.decide(scope["method"], scope["path"])
        if decision.delay:
            await self.sleep(decision.delay)
        if decision.reply is not None:
            await _reply(plan.rules[decision.reply], scope, receive, send)
            return
        app = self.app
        if decision.per_item:
            app = _paced_by_items(self.app, decision.per_item, self.sleep)
        if decision.body is None:
            await app(scope, receive, send)
        elif plan.rules[decision.body].kind == "slow":
            await _send_slowly(app, scope, receive, send, plan, decision.body)
        else:
            await _cut(app, scope, receive, send, plan, decision.body)

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._control_response(Request(scope, receive))
        await response(scope, receive, send)

    async def _control_response(self, request: Request) -> Response:
        refused = refusal(request, self.credentials, "fault control")
        if refused is not None:
            return refused
        if request.method == "GET":
            return JSONResponse(describe_plan(self._plan))
        if request.method == "DELETE":
            # Answer with the plan taken away, so its final counts are not lost.
            removed = self._plan
            self.clear()
            return JSONResponse(describe_plan(removed))
        if request.method == "PUT":
            try:
                plan = _plan_from_body(await request.body())
            except ValueError as err:
                return json_error(400, str(err))
            return JSONResponse(describe_plan(self.set_plan(plan)))
        response = json_error(405, f"{request.method} is not supported here")
        response.headers["Allow"] = "GET, PUT, DELETE"
        return response


_READ_ONLY_KEYS = frozenset({"label", "injected"})
"""Keys that `describe_plan` adds to each rule, ignored when the same JSON is PUT back."""


def describe_plan(plan: FaultPlan) -> dict[str, Any]:
    """Returns a plan, its counts and totals as JSON (the control endpoint's GET).

    Each rule is its spec keys plus `label` and `injected`; `plan_from_json` reads it back.
    """
    counts = plan.counts()
    rules = [
        {**rule.params(), "label": plan.label(i), "injected": counts[plan.label(i)]}
        for i, rule in enumerate(plan.rules)
    ]
    return {
        "seed": plan.seed,
        "spec": plan.to_spec(),
        "requests": plan.requests,
        "rules": rules,
        "counts": counts,
        "totals": plan.totals(),
    }


def plan_from_json(data: object) -> FaultPlan:
    """Reads a plan from JSON: `{"spec": "<spec string>"}`, or `{"seed": 7, "rules": [{"kind":
    "429", "rate": 0.2, "path": "GET /jobs/*/tasks", "retry-after": 1}]}` (the spec's keys).

    Raises:
        ValueError: When the shape or any rule is wrong.
    """
    if not isinstance(data, dict):
        raise ValueError("a fault plan must be a JSON object")
    if "spec" in data:
        if set(data) != {"spec"} or not isinstance(data["spec"], str):
            raise ValueError('give {"spec": "..."} alone, as a string')
        return FaultPlan.from_spec(data["spec"])
    unknown = sorted(set(data) - {"seed", "rules"})
    if unknown:
        raise ValueError(f"unknown plan key {unknown[0]!r} (keys: seed, rules, spec)")
    seed = data.get("seed")
    if seed is not None:
        seed = as_seed(seed)
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise ValueError("rules must be a list")
    return FaultPlan([_json_rule(n, raw) for n, raw in enumerate(raw_rules)], seed=seed)


def _json_rule(number: int, raw: object) -> FaultRule:
    try:
        if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
            raise ValueError('a rule must be an object with a "kind" string')
        params = {k: v for k, v in raw.items() if k != "kind" and k not in _READ_ONLY_KEYS}
        return rule_from_params(raw["kind"], params)
    except ValueError as err:
        raise ValueError(f"fault rule {number}: {err}") from None


def _plan_from_body(body: bytes) -> FaultPlan:
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError alike
        raise ValueError(f"the body is not valid JSON: {err}") from None
    return plan_from_json(data)


def _paced_by_items(app: ASGIApp, per_item: float, sleep: Sleep) -> ASGIApp:
    """Wraps `app` so that a JSON response is sent `per_item` seconds per item of its
    `value` array after the app made it (`items_in`); other responses pass through."""

    async def paced(scope: Scope, receive: Receive, send: Send) -> None:
        held: list[Message] = []
        passing = False  # not a list page, or already sent: nothing more to hold

        async def hold(message: Message) -> None:
            nonlocal passing
            if message["type"] == "http.response.start":
                passing = not _is_json(message)
            if passing:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await sleep(per_item * items_in(_body_of(held)))
                passing = True
                for kept in held:
                    await send(kept)

        await app(scope, receive, hold)

    return paced


def _is_json(start: Message) -> bool:
    content_type = Headers(raw=start.get("headers", [])).get("content-type", "")
    return "json" in content_type


def items_in(body: bytes) -> int:
    """Returns how many items a list page holds (its `value` array); 0 for any other body."""
    try:
        page = json.loads(body)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
        return 0
    value = page.get("value") if isinstance(page, dict) else None
    return len(value) if isinstance(value, list) else 0


async def _reply(rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
    """Answers in the app's place with the service's BatchError body."""
    status, code, message = _REPLIES[rule.kind]
    headers = {"Retry-After": str(rule.retry_after)} if rule.kind in ("429", "503") else {}
    response = batch_error(scope, ServiceError(status, code, message), headers)
    await response(scope, receive, send)


async def _send_slowly(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, plan: FaultPlan, index: int
) -> None:
    """Runs the app with its body split into small pieces sent `delay` ms apart."""
    rule = plan.rules[index]
    sent = 0

    async def slow_send(message: Message) -> None:
        nonlocal sent
        if message["type"] != "http.response.body":
            await send(message)
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        pieces = [body[i : i + rule.chunk] for i in range(0, len(body), rule.chunk)] or [b""]
        for n, piece in enumerate(pieces):
            if piece and sent:
                await asyncio.sleep(rule.delay / 1000.0)
            last = n == len(pieces) - 1
            await send({"type": message["type"], "body": piece, "more_body": more or not last})
            sent += len(piece)

    try:
        await app(scope, receive, slow_send)
    finally:
        if sent:
            plan.record(index)
        else:
            plan.release(index)


async def _cut(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, plan: FaultPlan, index: int
) -> None:
    """Runs the app to completion, then sends part of its body and drops the connection."""
    messages: list[Message] = []

    async def capture(message: Message) -> None:
        messages.append(message)

    try:
        await app(scope, receive, capture)
    except BaseException:
        plan.release(index)
        raise
    start, body = messages[0] if messages else {}, _body_of(messages)
    if not body or scope["method"] == "HEAD" or start.get("type") != "http.response.start":
        plan.release(index)
        for message in messages:
            await send(message)
        return
    rule = plan.rules[index]
    keep = min(len(body) // 2 if rule.after is None else rule.after, len(body) - 1)
    await send(start)
    if keep:
        await send({"type": "http.response.body", "body": body[:keep], "more_body": True})
    plan.record(index)
    if rule.kind == "reset":
        _reset_connection(send)
        reason = f"[Errno 104] Connection reset by peer (injected after {keep} bytes)"
        raise _client_error(InjectedReset, reason)
    declared = Headers(raw=start.get("headers", [])).get("content-length", "?")
    raise _client_error(
        InjectedTruncation,
        "peer closed connection without sending complete message body: "
        f"received {keep} bytes, expected {declared} (injected truncation)",
    )


def _body_of(messages: list[Message]) -> bytes:
    """Returns the whole body of a plain response; b"" for anything else (trailers, pathsend)."""
    if any(m["type"] not in ("http.response.start", "http.response.body") for m in messages):
        return b""
    return b"".join(m.get("body", b"") for m in messages[1:])


def _reset_connection(send: Send) -> None:
    """Aborts the socket with an RST when the server is uvicorn; a no-op elsewhere.

    ASGI gives no handle on the connection, but uvicorn's `send` is a method of its request
    cycle, which holds the asyncio transport. Elsewhere the raised exception still makes the
    server close the connection, just with a FIN instead of an RST.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if not isinstance(transport, asyncio.Transport):
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _not_injected(record: logging.LogRecord) -> bool:
    """Drops uvicorn's "Exception in ASGI application" records for the faults we injected."""
    return not (record.exc_info and isinstance(record.exc_info[1], InjectedFault))


def _quiet_uvicorn() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _not_injected not in logger.filters:
        logger.addFilter(_not_injected)
