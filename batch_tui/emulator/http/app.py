"""Provides the emulator's ASGI app: one dispatcher from authentication to the error body.

It authenticates (the SharedKey signature and its date), checks the api-version and the body's
content type, routes, and turns every error into the service's BatchError body. The control
endpoints (`/_emulator/...`) pass the same signature check (`control.refusal`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.build import build_emulator
from batch_tui.emulator.http import control, sharedkey
from batch_tui.emulator.http.faults import FaultInjector
from batch_tui.emulator.http.faults_spec import FaultPlan
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.preemption import PREEMPT_PATH, preempt_endpoint
from batch_tui.emulator.query.filter import invalid_query
from batch_tui.emulator.routes import ROUTES
from batch_tui.emulator.routes.common import Call, Handler, query_params
from batch_tui.emulator.routes.wire import HeaderedError, error_response, new_request_id
from batch_tui.emulator.state import SaveFailed

log = logging.getLogger(__name__)

API_VERSIONS = frozenset(
    {
        "2021-06-01.14.0",
        "2022-01-01.15.0",
        "2022-10-01.16.0",
        "2023-05-01.17.0",
        "2023-11-01.18.0",
        "2024-02-01.19.0",
        "2024-07-01.20.0",
        "2025-06-01",
        "2025-06-01.21.0",
    }
)
"""The data-plane versions the emulator answers (the 15.1 SDK sends `2025-06-01`). The older ones
share the 2024-07-01.20.0 spec's shapes; 2025-06-01 and 2025-06-01.21.0 have their own (no
certificates, managed data disks...: `validation/schemas.py` and `validation/views.py`)."""

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
READ_METHODS = ("GET", "HEAD", "OPTIONS")
"""Methods that change nothing, so their answers wait for no write."""


@dataclass(frozen=True)
class _Compiled:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _compile(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+)", path)
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(f"^{regex}$")


_TABLE = [_Compiled(method, _compile(path), handler) for method, path, handler in ROUTES]


def _match(method: str, path: str) -> tuple[Handler, dict[str, str]]:
    allowed: list[str] = []
    for route in _TABLE:
        m = route.pattern.match(path)
        if m and route.method == method:
            return route.handler, m.groupdict()
        if m:
            allowed.append(route.method)
    if allowed:
        raise HeaderedError(
            405,
            "UnsupportedHttpVerb",
            "The resource doesn't support the specified HTTP verb.",
            {"HttpVerb": method},
            {"Allow": ", ".join(sorted(set(allowed)))},
        )
    raise ServiceError(
        404, "InvalidUri", "The requested URI does not represent any resource on the service."
    )


def _check_api_version(request: Request) -> None:
    version = request.query_params.get("api-version")
    if not version:
        raise ServiceError(
            400,
            "MissingRequiredQueryParameter",
            "A query parameter that's mandatory for this request is not specified.",
            {"QueryParameterName": "api-version"},
        )
    if version not in API_VERSIONS:
        raise invalid_query("api-version", version, "The specified api-version is not supported.")


def _check_content_type(request: Request) -> None:
    """Refuses a body sent as anything but JSON, as the service does (a body sent without a
    Content-Type is read as JSON, and a bodiless request is not checked)."""
    content_type = request.headers.get("content-type")
    if content_type is None or not control.has_body(request.headers):
        return
    if control.media_type(content_type) != control.JSON_MEDIA_TYPE:
        raise ServiceError(
            400,
            "InvalidHeaderValue",
            "The value for one of the HTTP headers is not in the correct format.",
            {"HeaderName": "Content-Type", "HeaderValue": content_type},
        )


async def _preempt(request: Request) -> Response:
    """The preemption endpoint, behind the control endpoints' guard (`control.refusal`)."""
    refused = control.refusal(request, request.app.state.emulator.settings, "preemption")
    return refused if refused is not None else await preempt_endpoint(request)


async def _dispatch(request: Request) -> Response:
    emu: Emulator = request.app.state.emulator
    request.state.emulator = emu
    request.state.request_id = new_request_id()
    try:
        sharedkey.verify_request(request, emu.settings)
        _check_api_version(request)
        _check_content_type(request)
        handler, params = _match(request.method, request.scope["path"])
        await emu.start()
        response = await handler(Call(request, emu, params, query_params(request)))
        if request.method not in READ_METHODS:
            await emu.commit()  # with a data dir: nothing is acknowledged before it is on disk
        return response
    except ServiceError as err:
        return error_response(request, err)
    except ClientDisconnect:
        # The client went (or its body stopped and the server closed it): nobody to answer.
        return Response(status_code=400)
    except SaveFailed as exc:
        # Not a bug: a full disk. The change stays pending (and is saved once it can be), but
        # nothing that is not in the database is ever acknowledged.
        log.error("emulator: %s %s: not saved: %s", request.method, request.url.path, exc)
        unsaved = ServiceError(
            500, "InternalError", "Server encountered an internal error. Please try again."
        )
        return error_response(request, unsaved)
    except Exception:
        # A handler bug must still answer like the service, never with a bare traceback.
        log.exception("emulator: internal error on %s %s", request.method, request.url.path)
        internal = ServiceError(
            500, "InternalError", "Server encountered an internal error. Please try again."
        )
        return error_response(request, internal)


def create_app(settings_or_emulator: EmulatorSettings | Emulator) -> Starlette:
    """Builds the ASGI app of an emulator.

    Args:
        settings_or_emulator: Settings to build a new emulator from, or an existing Emulator
            (tests and scenarios keep a handle on its store and engine).

    Returns:
        A Starlette app; `app.state.emulator` holds the Emulator. Its lifespan starts and stops
        the engine; without a lifespan (httpx.ASGITransport) the first request starts it.
    """
    if isinstance(settings_or_emulator, Emulator):
        emu = settings_or_emulator
    else:
        emu = build_emulator(settings_or_emulator)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await emu.start()
        try:
            yield
        finally:
            await emu.stop()

    routes = [
        Route(PREEMPT_PATH, _preempt, methods=["POST"]),  # signed, JSON, loopback only
        Route("/{path:path}", _dispatch, methods=_METHODS),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emu
    return app


def create_served_app(settings_or_emulator: EmulatorSettings | Emulator) -> FaultInjector:
    """Builds the app as it is served over HTTP: the emulator inside the fault injector.

    The injector is always there (with no faults unless `settings.faults` says so), so faults
    can be turned on and off at `/_emulator/faults` while the emulator runs. It must be the
    outermost layer: it cuts connections by raising past everything inside it.

    Raises:
        ValueError: When `settings.faults` is not a valid fault spec.
    """
    app = create_app(settings_or_emulator)
    if app.state.emulator.persistence is not None:
        app.state.emulator.persistence.threaded = True  # see `Persistence`: group commit
    settings = app.state.emulator.settings
    plan = FaultPlan.from_spec(settings.faults) if settings.faults else None
    return FaultInjector(app, plan, credentials=settings)
