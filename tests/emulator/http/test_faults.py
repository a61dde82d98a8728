"""Tests the emulator's fault injection: spec parsing, seeded decisions, every fault kind as a
real httpx client sees it (in process and over a loopback socket), counts and the control API."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.http.background import free_port
from batch_tui.emulator.http.faults import (
    CONTROL_PATH,
    FaultInjector,
    InjectedReset,
    describe_plan,
    plan_from_json,
)
from batch_tui.emulator.http.faults_spec import FaultPlan, FaultRule, RoutePattern, parse_spec
from tests.emulator.shared_key import SharedKeyAuth
from tests.emulator.support import ACCOUNT, API_VERSION, BASE_URL, KEY
from tests.polling import wait_until

BODY = json.dumps({"value": [{"id": f"task-{n}", "state": "active"} for n in range(200)]})
"""A list body of a few KB, big enough to cut in the middle and to send in pieces."""

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z")


class Backend:
    """A tiny Starlette app standing in for the emulator; it counts the requests it served."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/jobs/{job}/tasks", self.tasks, methods=["GET", "POST", "HEAD"]),
                Route("/pools", self.pools),
                Route("/empty", self.empty, methods=["DELETE"]),
                Route("/stream", self.stream),
            ]
        )

    async def tasks(self, request: Request) -> Response:
        self.calls.append(f"{request.method} {request.url.path}")
        content = b"" if request.method == "HEAD" else BODY.encode()
        return Response(content, media_type="application/json")

    async def pools(self, request: Request) -> Response:
        self.calls.append(f"GET {request.url.path}")
        return JSONResponse({"value": []})

    async def empty(self, request: Request) -> Response:
        self.calls.append(f"DELETE {request.url.path}")
        return Response(status_code=204)

    async def stream(self, request: Request) -> Response:
        async def pieces() -> AsyncIterator[bytes]:
            for n in range(4):
                yield f"piece-{n};".encode()

        return StreamingResponse(pieces(), media_type="text/plain")


@pytest.fixture
def backend() -> Backend:
    return Backend()


CREDENTIALS = EmulatorSettings(account=ACCOUNT, key=KEY)
"""The account whose key signs requests to the control endpoint."""


@pytest.fixture
def injector(backend: Backend) -> FaultInjector:
    return FaultInjector(backend.app, credentials=CREDENTIALS)


def client_of(app: Any, host: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client of `app` as `host`, signing its requests (the control endpoint needs it)."""
    transport = httpx.ASGITransport(app=app, client=(host, 50000))
    auth = SharedKeyAuth(ACCOUNT, KEY)
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765", auth=auth)


@pytest.fixture
async def http(injector: FaultInjector) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(injector) as client:
        yield client


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """Returns `serve(app) -> base URL`: uvicorn on a free loopback port in a thread."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any) -> str:
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        wait_until(lambda: server.started, every=0.005, what="uvicorn did not start")
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


# --- spec strings and JSON -------------------------------------------------------------------


def test_spec_parses_seed_rules_and_parameters() -> None:
    seed, rules = parse_spec(
        "seed=7; 429:rate=0.2:path=GET /jobs/*/tasks:retry-after=3 ;latency:ms=50:jitter=20;"
        "reset:rate=0.05:after=512:count=2;slow:chunk=64:delay=5;truncate;503;500:regex=^/pools"
    )
    assert seed == 7
    assert [r.kind for r in rules] == ["429", "latency", "reset", "slow", "truncate", "503", "500"]
    throttle, latency, reset, slow, truncate, busy, internal = rules
    assert (throttle.rate, throttle.retry_after, throttle.path) == (0.2, 3, "GET /jobs/*/tasks")
    assert (latency.ms, latency.jitter, latency.rate) == (50.0, 20.0, 1.0)
    assert (reset.after, reset.count) == (512, 2)
    assert (slow.chunk, slow.delay) == (64, 5.0)
    assert truncate.after is None and busy.retry_after == 1
    assert internal.route is not None and internal.route.is_regex


@pytest.mark.parametrize("spec", ["", "  ", "off", "none", ";;"])
def test_an_empty_spec_means_no_faults(spec: str) -> None:
    assert parse_spec(spec) == (None, [])


def test_a_plan_round_trips_through_its_spec_and_its_json() -> None:
    spec = "seed=3;429:rate=0.5:count=4:path=GET,HEAD /pools/**:retry-after=2;latency:ms=5:jitter=1.5;reset:regex=^/jobs/(?:a|b)$:after=10"
    plan = FaultPlan.from_spec(spec)
    again = FaultPlan.from_spec(plan.to_spec())
    assert (again.seed, again.rules) == (plan.seed, plan.rules)
    described = json.loads(json.dumps(describe_plan(plan)))
    from_json = plan_from_json({"seed": described["seed"], "rules": described["rules"]})
    assert (from_json.seed, from_json.rules) == (plan.seed, plan.rules)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("boom", "item 1 ('boom'): unknown fault kind 'boom'"),
        ("latency;429:rate=1.5", "item 2 ('429:rate=1.5'): rate must be between 0 and 1, got 1.5"),
        ("429:rate=often", "rate must be a number, got 'often'"),
        ("429:ms=5", "429 takes no 'ms' (keys: rate, count, path, regex, retry-after)"),
        ("latency:retry-after=1", "latency takes no 'retry-after'"),
        ("429:rate=0.1:rate=0.2", "'rate' given twice"),
        ("429:retry-after=1.5", "retry-after must be a whole number, got '1.5'"),
        ("reset:after=-1", "after must be at least 0, got -1"),
        ("500:count=0", "count must be at least 1, got 0"),
        ("slow:chunk=0", "chunk must be at least 1, got 0"),
        ("500:path=FETCH /pools", "unknown HTTP method 'FETCH'"),
        ("500:path=pools/*", "path glob 'pools/*' must start with '/'"),
        ("500:regex=^/pools/(", "bad route regex '^/pools/('"),
        ("500:path=/a:regex=/b", "either path or regex, not both"),
        ("seed=1;seed=2", "item 2 ('seed=2'): seed given twice"),
        ("seed=x", "seed must be a whole number, got 'x'"),
        ("429:rate", "expected key=value parameters after '429'"),
        ("latency:profile=moon", "unknown latency profile 'moon' (profiles: realistic, lan)"),
        ("latency:per-item-us=-1", "per-item-us must be at least 0, got -1"),
        ("500:profile=lan", "500 takes no 'profile'"),
        ("429:per-item-us=5", "429 takes no 'per-item-us'"),
    ],
)
def test_a_bad_spec_names_the_item_and_the_problem(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match="^fault spec item") as raised:
        FaultPlan.from_spec(spec)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a fault plan must be a JSON object"),
        ({"rules": [{"rate": 1}]}, 'fault rule 0: a rule must be an object with a "kind"'),
        ({"rules": [{"kind": "429", "rate": True}]}, "rate must be a number, got True"),
        ({"rules": "429"}, "rules must be a list"),
        ({"seed": 1, "faults": []}, "unknown plan key 'faults'"),
        ({"spec": "429", "seed": 1}, '{"spec": "..."} alone'),
    ],
)
def test_a_bad_json_plan_says_what_is_wrong(data: object, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        plan_from_json(data)
    assert message in str(raised.value)


def test_python_rules_are_checked_like_spec_rules() -> None:
    with pytest.raises(ValueError, match="unknown fault kind 'teapot'"):
        FaultRule("teapot")
    with pytest.raises(ValueError, match="slow takes no 'after'"):
        FaultRule("slow", after=3)
    assert FaultRule("429", path="GET /pools").matches("GET", "/pools")


# --- the latency model: per request plus per item -------------------------------------------


def test_latency_profiles_expand_to_their_keys_and_explicit_keys_win() -> None:
    _, (realistic, lan, slower) = parse_spec(
        "latency:profile=realistic;latency:profile=lan;latency:profile=realistic:ms=300"
    )
    assert (realistic.ms, realistic.per_item_us) == (150.0, 200.0)
    assert (lan.ms, lan.per_item_us) == (20.0, 0.0)
    assert (slower.ms, slower.per_item_us) == (300.0, 200.0)
    # The old spelling means what it did: a flat latency, nothing per item.
    (_, (old,)) = parse_spec("latency:ms=50:jitter=20")
    assert (old.ms, old.jitter, old.per_item_us) == (50.0, 20.0, 0.0)
    # A profile is spelled out in the plan's own spec, which reads back to the same rule.
    plan = FaultPlan.from_spec("latency:profile=realistic:path=GET /jobs/**")
    assert plan.to_spec().endswith(":ms=150:jitter=0:per-item-us=200")
    assert FaultPlan.from_spec(plan.to_spec()).rules == plan.rules
    from_json = plan_from_json({"rules": [{"kind": "latency", "profile": "realistic"}]})
    assert from_json.rules == (realistic,)


class SleepRecorder:
    """Stands in for `asyncio.sleep`: records each delay the injector asks for, waits none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def list_app(calls: list[int] | None = None) -> Starlette:
    """A backend whose `/items/{n}` is a list page of n items, and `/file` a text file."""

    async def items(request: Request) -> Response:
        count = int(request.path_params["n"])
        return JSONResponse({"value": [{"id": f"t{n}"} for n in range(count)]})

    async def file(request: Request) -> Response:
        return Response(b"x" * 5000, media_type="application/octet-stream")

    return Starlette(routes=[Route("/items/{n}", items), Route("/file", file)])


async def test_a_page_of_many_items_is_slower_by_the_per_item_latency() -> None:
    sleeps = SleepRecorder()
    injector = FaultInjector(list_app(), "latency:ms=150:per-item-us=200", sleep=sleeps)
    async with client_of(injector) as http:
        one = await http.get("/items/1")
        sleeps_one, sleeps.delays = sleeps.delays, []
        thousand = await http.get("/items/1000")
    assert len(one.json()["value"]) == 1 and len(thousand.json()["value"]) == 1000
    assert sleeps_one == [0.15, pytest.approx(0.0002)]
    assert sleeps.delays == [0.15, pytest.approx(0.2)]
    assert sum(sleeps.delays) - sum(sleeps_one) >= 0.2 - 0.0002 - 1e-9
    assert injector.plan.counts() == {"0:latency": 2}


async def test_the_realistic_profile_paces_a_page_and_passes_files_through() -> None:
    sleeps = SleepRecorder()
    injector = FaultInjector(list_app(), "latency:profile=realistic", sleep=sleeps)
    async with client_of(injector) as http:
        await http.get("/items/500")
        page, sleeps.delays = sleeps.delays, []
        response = await http.get("/file")
    assert page == [0.15, pytest.approx(0.1)]
    assert sleeps.delays == [0.15]  # a file is not a list page: no per-item wait, not held
    assert response.content == b"x" * 5000


async def test_per_item_latency_adds_up_over_a_real_clock() -> None:
    injector = FaultInjector(list_app(), "latency:ms=0:per-item-us=200")
    async with client_of(injector) as http:
        started = time.perf_counter()
        await http.get("/items/250")
        took = time.perf_counter() - started
    assert took >= 0.049  # 250 items at 200 us; the loop may wake up to 1 ms early


async def test_per_item_latency_combines_with_a_body_fault() -> None:
    sleeps = SleepRecorder()
    injector = FaultInjector(list_app(), "latency:ms=10:per-item-us=100;truncate", sleep=sleeps)
    async with client_of(injector) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/items/100")
    assert sleeps.delays == [0.01, pytest.approx(0.01)]
    assert injector.plan.totals() == {"latency": 1, "truncate": 1}


# --- route patterns --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "method", "path", "expected"),
    [
        ("GET /jobs/*/tasks", "GET", "/jobs/j1/tasks", True),
        ("GET /jobs/*/tasks", "POST", "/jobs/j1/tasks", False),
        ("GET /jobs/*/tasks", "GET", "/jobs/j1/tasks/t1", False),
        ("GET /jobs/*/tasks", "GET", "/jobs/a/b/tasks", False),
        ("get,head /jobs/*/tasks", "HEAD", "/jobs/j1/tasks", True),
        ("/jobs/*/tasks", "DELETE", "/jobs/j1/tasks", True),
        ("/pools/**", "GET", "/pools/p1/nodes/n1/files/stdout.txt", True),
        ("/pools/**", "GET", "/poolsx", False),
        ("/pools/p?", "GET", "/pools/p1", True),
        ("/pools/p?", "GET", "/pools/p/", False),
        ("/jobs/a.b", "GET", "/jobs/axb", False),
    ],
)
def test_globs_match_whole_paths_by_segment(
    route: str, method: str, path: str, expected: bool
) -> None:
    assert RoutePattern.parse(route).matches(method, path) is expected


def test_regex_routes_are_searched_with_optional_methods() -> None:
    route = RoutePattern.parse(r"POST /nodes/[^/]+/(?:reboot|reimage)$", is_regex=True)
    assert route.matches("POST", "/pools/p/nodes/n1/reboot")
    assert not route.matches("GET", "/pools/p/nodes/n1/reboot")
    assert not route.matches("POST", "/pools/p/nodes/n1/reboot/x")
    assert RoutePattern.parse("tasks", is_regex=True).matches("GET", "/jobs/j/tasks/t")


async def test_a_route_faults_only_the_requests_it_names(
    injector: FaultInjector, http: httpx.AsyncClient, backend: Backend
) -> None:
    injector.set_plan("500:path=GET /jobs/*/tasks")
    assert (await http.get("/jobs/j1/tasks")).status_code == 500
    assert (await http.post("/jobs/j1/tasks")).status_code == 200
    assert (await http.get("/pools")).status_code == 200
    assert backend.calls == ["POST /jobs/j1/tasks", "GET /pools"]
    assert injector.plan.counts() == {"0:500": 1}
    assert injector.plan.requests == 3


# --- seeds, rates and limits -----------------------------------------------------------------


def decisions(plan: FaultPlan, n: int) -> list[tuple[float, int | None, int | None]]:
    paths = ["/pools", "/jobs/j1/tasks", "/jobs/j2/tasks"]
    out = []
    for i in range(n):
        d = plan.decide("GET", paths[i % 3])
        out.append((d.delay, d.reply, d.body))
    return out


SPEC = "429:rate=0.2:path=/jobs/*/tasks;latency:ms=1:jitter=5:rate=0.5;reset:rate=0.3"


def test_the_same_seed_repeats_the_same_decisions() -> None:
    first = decisions(FaultPlan.from_spec(f"seed=7;{SPEC}"), 300)
    again = decisions(FaultPlan.from_spec(f"seed=7;{SPEC}"), 300)
    other = decisions(FaultPlan.from_spec(f"seed=8;{SPEC}"), 300)
    assert first == again
    assert first != other


def test_rates_are_honoured_over_many_requests() -> None:
    plan = FaultPlan.from_spec("seed=11;503:rate=0.2;latency:ms=0:rate=0.7")
    for _ in range(3000):
        plan.decide("GET", "/pools")
    totals = plan.totals()
    # Binomial 3000 x 0.2: sd ~22, so +-90 is 4 sd; the seed makes the result fixed anyway.
    assert 510 <= totals["503"] <= 690
    assert 2010 <= totals["latency"] <= 2190
    assert plan.requests == 3000


def test_jitter_stays_within_its_range_and_varies() -> None:
    plan = FaultPlan.from_spec("seed=5;latency:ms=10:jitter=4")
    delays = [plan.decide("GET", "/pools").delay for _ in range(200)]
    assert all(0.010 <= d <= 0.014 for d in delays)
    assert len(set(delays)) > 100


async def test_a_count_limits_how_many_times_a_rule_fires(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_plan("429:count=3")
    statuses = [(await http.get("/pools")).status_code for _ in range(6)]
    assert statuses == [429, 429, 429, 200, 200, 200]
    assert injector.plan.counts() == {"0:429": 3}


async def test_faults_follow_request_order_as_a_client_sees_them(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    spec = "seed=42;429:rate=0.3;500:rate=0.2"
    injector.set_plan(spec)
    seen = [(await http.get("/pools")).status_code for _ in range(60)]
    reference = FaultPlan.from_spec(spec)
    expected = []
    for _ in range(60):
        reply = reference.decide("GET", "/pools").reply
        expected.append(200 if reply is None else int(reference.rules[reply].kind))
    assert seen == expected
    assert injector.plan.totals() == {"429": seen.count(429), "500": seen.count(500)}
    assert 0 < seen.count(429) and 0 < seen.count(500)


# --- each fault kind, in process -------------------------------------------------------------


def assert_batch_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json; odata=minimalmetadata"
    assert response.headers["DataServiceVersion"] == "3.0"
    body = response.json()
    assert list(body) == ["odata.metadata", "code", "message"]
    assert body["odata.metadata"] == (
        "http://127.0.0.1:8765/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
    )
    assert body["code"] == code
    assert body["message"]["lang"] == "en-US"
    first, request_id, when = body["message"]["value"].split("\n")
    assert first and request_id == f"RequestId:{response.headers['request-id']}"
    assert ISO_TIME.fullmatch(when.removeprefix("Time:"))


@pytest.mark.parametrize(
    ("spec", "status", "code", "retry_after"),
    [
        ("429:retry-after=7", 429, "TooManyRequests", "7"),
        ("503", 503, "ServerBusy", "1"),
        ("500", 500, "InternalError", None),
    ],
)
async def test_reply_faults_answer_like_the_service_without_calling_the_app(
    injector: FaultInjector,
    http: httpx.AsyncClient,
    backend: Backend,
    spec: str,
    status: int,
    code: str,
    retry_after: str | None,
) -> None:
    injector.set_plan(spec)
    headers = {"client-request-id": "abc-123", "return-client-request-id": "true"}
    response = await http.get("/jobs/j1/tasks", headers=headers)
    assert_batch_error(response, status, code)
    assert response.headers.get("Retry-After") == retry_after
    assert response.headers["client-request-id"] == "abc-123"
    assert backend.calls == []
    head = await http.head("/jobs/j1/tasks")
    assert head.status_code == status and head.content == b""
    assert injector.plan.totals() == {spec.split(":")[0]: 2}


async def test_latency_delays_the_response(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_plan("latency:ms=40")
    started = time.perf_counter()
    response = await http.get("/jobs/j1/tasks")
    assert time.perf_counter() - started >= 0.035  # the event loop may wake up to 1 ms early
    assert response.text == BODY
    assert injector.plan.counts() == {"0:latency": 1}


async def test_latency_combines_with_a_reply_and_a_reply_wins_over_a_body_fault(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_plan("latency:ms=20;reset;503")
    started = time.perf_counter()
    response = await http.get("/jobs/j1/tasks")
    assert time.perf_counter() - started >= 0.015
    assert response.status_code == 503
    assert injector.plan.counts() == {"0:latency": 1, "1:reset": 0, "2:503": 1}


async def test_a_pre_empted_body_fault_keeps_its_count_for_later(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_plan("503:count=1;reset:count=1")
    assert (await http.get("/jobs/j1/tasks")).status_code == 503
    with pytest.raises(httpx.ReadError):
        await http.get("/jobs/j1/tasks")
    assert (await http.get("/jobs/j1/tasks")).text == BODY
    assert injector.plan.counts() == {"0:503": 1, "1:reset": 1}


async def test_a_reset_reaches_an_in_process_client_as_an_httpx_read_error(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_plan("reset:after=100:count=1")
    with pytest.raises(httpx.ReadError, match="Connection reset by peer") as raised:
        await http.get("/jobs/j1/tasks")
    assert raised.value.request.url.path == "/jobs/j1/tasks"
    assert isinstance(raised.value, InjectedReset)
    assert (await http.get("/jobs/j1/tasks")).text == BODY
    assert injector.plan.counts() == {"0:reset": 1}


async def test_a_truncation_reaches_an_in_process_client_as_a_protocol_error(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_plan("truncate")
    expected = f"received {len(BODY) // 2} bytes, expected {len(BODY)}"
    with pytest.raises(httpx.RemoteProtocolError, match=expected):
        await http.get("/jobs/j1/tasks")
    assert injector.plan.counts() == {"0:truncate": 1}


@pytest.mark.parametrize("kind", ["reset", "truncate", "slow"])
async def test_empty_bodies_cannot_be_cut_and_are_not_counted(
    http: httpx.AsyncClient, injector: FaultInjector, kind: str
) -> None:
    injector.set_plan(kind)
    assert (await http.delete("/empty")).status_code == 204
    head = await http.head("/jobs/j1/tasks")
    assert head.status_code == 200
    assert injector.plan.counts() == {f"0:{kind}": 0}
    # The released slot is free again: a count of 1 still fires on the next real body.
    injector.set_plan(f"{kind}:count=1" + (":delay=1" if kind == "slow" else ""))
    await http.delete("/empty")
    if kind == "slow":
        assert (await http.get("/jobs/j1/tasks")).text == BODY
    else:
        with pytest.raises(httpx.TransportError):
            await http.get("/jobs/j1/tasks")
    assert injector.plan.counts() == {f"0:{kind}": 1}


async def test_a_slow_body_arrives_whole_but_late(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_plan("slow:chunk=1024:delay=10")
    pieces = -(-len(BODY) // 1024)
    started = time.perf_counter()
    response = await http.get("/jobs/j1/tasks")
    assert time.perf_counter() - started >= (pieces - 1) * 0.009
    assert response.text == BODY
    streamed = await http.get("/stream")
    assert streamed.text == "piece-0;piece-1;piece-2;piece-3;"
    assert injector.plan.counts() == {"0:slow": 2}


async def test_a_streamed_body_can_be_cut(http: httpx.AsyncClient, injector: FaultInjector) -> None:
    injector.set_plan("truncate:after=8")
    with pytest.raises(httpx.RemoteProtocolError, match="received 8 bytes, expected \\?"):
        await http.get("/stream")


# --- over a real socket ----------------------------------------------------------------------


async def test_over_a_socket_a_reset_is_a_real_reset_and_the_server_carries_on(
    injector: FaultInjector, serve: Callable[[Any], str]
) -> None:
    url = serve(injector)
    injector.set_plan("reset:after=64:count=1;truncate:path=/pools")
    async with httpx.AsyncClient(base_url=url) as client:
        with pytest.raises(httpx.ReadError):
            await client.get("/jobs/j1/tasks")
        assert (await client.get("/jobs/j1/tasks")).text == BODY
    assert injector.plan.counts() == {"0:reset": 1, "1:truncate": 0}


async def test_over_a_socket_a_truncated_body_is_short_of_its_content_length(
    injector: FaultInjector, serve: Callable[[Any], str]
) -> None:
    url = serve(injector)
    injector.set_plan("truncate:after=300")
    async with httpx.AsyncClient(base_url=url) as client:
        with pytest.raises(
            httpx.RemoteProtocolError, match=f"received 300 bytes, expected {len(BODY)}"
        ):
            await client.get("/jobs/j1/tasks")
        injector.clear()
        assert (await client.get("/jobs/j1/tasks")).text == BODY


async def test_over_a_socket_a_slow_body_streams_in_pieces(
    injector: FaultInjector, serve: Callable[[Any], str]
) -> None:
    url = serve(injector)
    injector.set_plan("slow:chunk=2000:delay=30")
    async with httpx.AsyncClient(base_url=url) as client:
        async with client.stream("GET", "/jobs/j1/tasks") as response:
            arrivals = [(time.perf_counter(), len(c)) async for c in response.aiter_raw()]
    assert sum(n for _, n in arrivals) == len(BODY)
    assert len(arrivals) >= 2
    assert arrivals[-1][0] - arrivals[0][0] >= 0.025


# --- the control endpoint and the Python API -------------------------------------------------


async def test_the_control_endpoint_turns_faults_on_and_off_while_serving(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    assert (await http.get(CONTROL_PATH)).json()["rules"] == []
    put = await http.put(CONTROL_PATH, json={"spec": "seed=1;503:path=/pools:retry-after=2"})
    assert put.status_code == 200
    assert put.json()["rules"][0] == {
        "kind": "503",
        "rate": 1.0,
        "path": "/pools",
        "retry-after": 2,
        "label": "0:503",
        "injected": 0,
    }
    assert (await http.get("/pools")).status_code == 503
    state = (await http.get(CONTROL_PATH)).json()
    assert (state["seed"], state["requests"], state["counts"]) == (1, 1, {"0:503": 1})
    assert (
        state["totals"] == {"503": 1}
        and state["spec"] == "seed=1;503:rate=1:path=/pools:retry-after=2"
    )
    removed = (await http.delete(CONTROL_PATH)).json()
    assert removed["counts"] == {"0:503": 1}
    assert (await http.get(CONTROL_PATH)).json()["rules"] == []
    assert (await http.get("/pools")).status_code == 200


async def test_the_control_endpoint_takes_json_plans(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    plan = {"seed": 3, "rules": [{"kind": "429", "path": "GET /pools", "count": 1}]}
    assert (await http.put(CONTROL_PATH, json=plan)).status_code == 200
    assert [(await http.get("/pools")).status_code for _ in range(2)] == [429, 200]
    assert (await http.put(CONTROL_PATH, json={"spec": "500"})).status_code == 200
    assert injector.plan.rules == (FaultRule("500"),)


async def test_the_control_endpoint_rejects_a_bad_plan_and_keeps_the_old_one(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_plan("500:path=/pools")
    json_type = {"Content-Type": "application/json"}
    for body in ['{"spec": "429:rate=2"}', '{"rules": [{"kind": "nope"}]}', "{not json", "429"]:
        response = await http.put(CONTROL_PATH, content=body, headers=json_type)
        assert response.status_code == 400
        assert response.json()["error"]
    assert (
        "rate must be between 0 and 1"
        in (await http.put(CONTROL_PATH, json={"spec": "429:rate=2"})).json()["error"]
    )
    assert injector.plan.rules == (FaultRule("500", path="/pools"),)
    post = await http.post(CONTROL_PATH)
    assert post.status_code == 405 and post.headers["Allow"] == "GET, PUT, DELETE"


async def test_the_control_endpoint_is_never_faulted(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    injector.set_plan("500;reset;latency:ms=500")
    started = time.perf_counter()
    response = await http.get(CONTROL_PATH)
    assert response.status_code == 200 and time.perf_counter() - started < 0.4
    assert response.json()["requests"] == 0


async def test_the_control_endpoint_refuses_clients_off_loopback(injector: FaultInjector) -> None:
    async with client_of(injector, host="10.1.2.3") as remote:
        assert (await remote.delete(CONTROL_PATH)).status_code == 403
        assert (await remote.get(CONTROL_PATH)).status_code == 403
    async with client_of(injector, host="::1") as local6:
        assert (await local6.get(CONTROL_PATH)).status_code == 200


async def test_the_control_endpoint_answers_over_a_loopback_socket(
    injector: FaultInjector, serve: Callable[[Any], str]
) -> None:
    url = serve(injector)
    async with httpx.AsyncClient(base_url=url, auth=SharedKeyAuth(ACCOUNT, KEY)) as client:
        assert (await client.put(CONTROL_PATH, json={"spec": "429:count=1"})).status_code == 200
        assert (await client.get("/pools")).status_code == 429
        assert (await client.get(CONTROL_PATH)).json()["counts"] == {"0:429": 1}


async def test_the_python_api_switches_plans_at_runtime(
    http: httpx.AsyncClient, injector: FaultInjector
) -> None:
    plan = injector.set_plan(FaultPlan([FaultRule("503", path="/pools")], seed=1))
    assert plan is injector.plan
    assert (await http.get("/pools")).status_code == 503
    injector.clear()
    assert (await http.get("/pools")).status_code == 200
    assert plan.counts() == {"0:503": 1}
    with pytest.raises(ValueError, match="unknown fault kind"):
        injector.set_plan("418")
    assert FaultInjector(Starlette(), "429").plan.rules == (FaultRule("429"),)


async def test_lifespan_messages_pass_through_unfaulted() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message["type"])

    injector = FaultInjector(Starlette(lifespan=lifespan), "500;reset")
    await injector({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert events == ["startup", "shutdown"]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert injector.plan.requests == 0


# --- around the real emulator ----------------------------------------------------------------


@pytest.fixture
async def emulator_http(app: Any) -> AsyncIterator[tuple[FaultInjector, httpx.AsyncClient]]:
    faulty = FaultInjector(app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=faulty),
        base_url=BASE_URL,
        auth=SharedKeyAuth(ACCOUNT, KEY),
        params={"api-version": API_VERSION},
    ) as client:
        yield faulty, client


async def test_faults_wrap_the_real_emulator(
    emulator_http: tuple[FaultInjector, httpx.AsyncClient],
) -> None:
    faulty, http = emulator_http
    faulty.set_plan("503:path=GET /pools:count=1:retry-after=4;truncate:path=GET /jobs")
    busy = await http.get("/pools")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "4"
    assert busy.json()["odata.metadata"].startswith(f"{BASE_URL}/$metadata#")
    ok = await http.get("/pools")
    assert ok.status_code == 200 and ok.json()["value"] == []
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get("/jobs")
    missing = await http.get("/pools/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "PoolNotFound"
    assert faulty.plan.counts() == {"0:503": 1, "1:truncate": 1}


def test_the_fault_modules_load_neither_httpx_nor_rich() -> None:
    # httpx imports its CLI, and with it rich: the emulator must stay headless without it.
    code = (
        "import sys, batch_tui.emulator.http.faults\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'rich'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == ""
