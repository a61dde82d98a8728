"""Provides what every route module shares: the call context, lookups, bodies and list replies."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter, itemgetter
from typing import Any, TypeVar, cast

from starlette.requests import Request
from starlette.responses import Response

from batch_tui.emulator.ops.defaults import account_subscription
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.query.filter import (
    FilterProp,
    compile_filter,
    filter_properties,
    invalid_query,
)
from batch_tui.emulator.query.id_bounds import id_bounds
from batch_tui.emulator.query.paging import MAX_RESULTS, next_link, parse_paging, take_page
from batch_tui.emulator.query.select import compile_select, parse_expand, selected_properties, shape
from batch_tui.emulator.routes import conditions
from batch_tui.emulator.routes.wire import entity_headers, json_response
from batch_tui.emulator.state.store import Record
from batch_tui.emulator.validation.checks import MAX_BODY_BYTES, parse_json, too_large, validate
from batch_tui.emulator.validation.views import shown, viewer

T = TypeVar("T")
Handler = Callable[["Call"], Awaitable[Response]]
RouteTable = list[tuple[str, str, Handler]]


_TIMEOUT = re.compile(r"[+-]?[0-9]{1,10}")
INT32_MAX = 2**31 - 1


def _check_timeout(name: str, value: str) -> None:
    """Refuses a `timeout` that is not an integer, as the service does (400, not ignored)."""
    if not _TIMEOUT.fullmatch(value) or abs(int(value)) > INT32_MAX:
        raise invalid_query(name, value, "The value must be an integer number of seconds.")


def query_params(request: Request) -> dict[str, str]:
    """Returns the query parameters with lower-cased names (the service reads `timeout` and
    `timeOut`, `$skiptoken` and `$skipToken` alike), first value of each.

    Raises:
        ServiceError: 400 InvalidQueryParameterValue for a `timeout` that is not an integer
            (any valid one is accepted; the service caps it at 30 seconds, 120 for a task
            collection, and the emulator answers well within that).
    """
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        key = name.lower()
        if key == "timeout" and key not in params:
            _check_timeout(name, value)
        params.setdefault(key, value)
    return params


@dataclass
class Call:
    """One request as a route handler sees it."""

    request: Request
    emu: Emulator
    params: dict[str, str]
    """Path parameters, e.g. `pool_id`."""
    query: dict[str, str]

    async def raw_body(self) -> bytes:
        """Reads the body, refusing more than the service's 1 MB limit."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise too_large(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)

    @property
    def api_version(self) -> str | None:
        """The request's api-version: which schemas check its body and which properties its
        answer shows (the dispatcher has already refused a version the emulator does not
        answer)."""
        return self.query.get("api-version")

    def validate(self, body: Any, type_name: str) -> dict[str, Any]:
        """Checks a parsed body against the request's api-version and the account."""
        return validate(
            body,
            type_name,
            version=self.api_version,
            subscription=account_subscription(self.emu),
        )

    async def body(self, type_name: str, *, optional: bool = False) -> dict[str, Any]:
        """Parses and validates the JSON body against a schema definition of the request's
        api-version.

        Args:
            type_name: The definition, e.g. "PoolAddParameter".
            optional: Whether an empty body is allowed (node actions); it reads as `{}`.
        """
        raw = await self.raw_body()
        if optional and not raw.strip():
            return {}
        body = parse_json(raw)
        if optional and body is None:
            return {}
        return self.validate(body, type_name)

    def shown(self, data: Mapping[str, Any], entity: str) -> Mapping[str, Any]:
        """An entity's stored data as this request's api-version shows it (`views.shown`)."""
        return shown(data, entity, self.api_version)

    def viewer(self, entity: str) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
        """`shown` for a list of one kind of entity, worked out once (`views.viewer`)."""
        return viewer(entity, self.api_version)

    async def json(self) -> Any:
        """Parses the JSON body without validating it (an operation validates it later)."""
        return parse_json(await self.raw_body())

    def check(self, record: Record) -> None:
        """Applies the conditional headers to `record` (304/412 ConditionNotMet)."""
        read = self.request.method in ("GET", "HEAD")
        conditions.check(self.request.headers, record, read=read)

    def bool_param(self, name: str) -> bool:
        """Reads a boolean query parameter such as `recursive` or `force`."""
        value = self.query.get(name, "false").lower()
        if value not in ("true", "false"):
            raise invalid_query(name, value, "The value must be true or false.")
        return value == "true"


@dataclass(frozen=True)
class ListSpec:
    """How one list operation filters, selects, expands and names its items."""

    metadata: str
    """The `odata.metadata` fragment, e.g. `pools`."""
    filter: Mapping[str, FilterProp] | None = None
    select: Collection[str] | None = None
    expand: bool = False
    maximum: int = MAX_RESULTS


RENDERED_ONLY = frozenset({"url", "eTag", "lastModified"})
"""Wire properties `entity` adds to a record's stored data as it renders it."""


def list_response(
    call: Call,
    items: Sequence[T],
    spec: ListSpec,
    *,
    key: Callable[[T], str],
    render: Callable[[T, bool], dict[str, Any]],
    stored: Callable[[T], Mapping[str, Any]] | None = None,
) -> Response:
    """Answers a list operation: `$filter`, `$select`, `$expand`, `maxresults` and paging.

    Args:
        call: The request.
        items: Every item in the service's order.
        spec: The list's capabilities.
        key: An item's stable key, for continuation tokens.
        render: Builds an item's wire dict; its second argument says whether stats are expanded.
        stored: An item's stored wire dict, which `render` adds `url`, `eTag` and
            `lastModified` to. A filter or `$select` that names none of those works on it: a
            filtered page of a 100,000-task job scans many items it does not return, and
            rendering each one just to test it would cost most of the request.
    """
    paging = parse_paging(call.query, spec.maximum)
    accept = _acceptor(call, spec, render, stored)
    page, token = take_page(items, key, accept, paging, _id_candidates(call, spec, items))
    body: dict[str, Any] = {"value": list(map(_wire_maker(call, spec, render, stored), page))}
    if token:
        scope = call.request.scope
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        body["odata.nextLink"] = next_link(call.emu.settings.base_url, raw_path, query, token)
    return json_response(call.request, body, metadata=spec.metadata)


def _acceptor(
    call: Call,
    spec: ListSpec,
    render: Callable[[T, bool], dict[str, Any]],
    stored: Callable[[T], Mapping[str, Any]] | None,
) -> Callable[[T], bool] | None:
    """The `$filter` test of an item, on its stored dict when the filter reads no property
    that only rendering adds."""
    text = call.query.get("$filter")
    predicate = compile_filter(text, spec.filter or {}) if spec.filter else None
    if predicate is None:
        return None
    if stored is not None and not filter_properties(text) & RENDERED_ONLY:
        return lambda item: predicate(stored(item))
    return lambda item: predicate(render(item, False))


def _id_candidates(
    call: Call, spec: ListSpec, items: Sequence[T]
) -> Callable[[int], Iterator[int]] | None:
    """The positions of the items a filter's bounds on `id` leave (`id_bounds`), for a list of
    records (whose `data` holds the `id` the filter compares)."""
    bounds = id_bounds(call.query.get("$filter")) if spec.filter and "id" in spec.filter else None
    if bounds is None or not items or not isinstance(items[0], Record):
        return None
    records = cast("Sequence[Record]", items)

    def candidates(start: int) -> Iterator[int]:
        datas = map(attrgetter("data"), islice(records, start, None))
        return bounds.candidates(map(itemgetter("id"), datas), start)

    return candidates


def _wire_maker(
    call: Call,
    spec: ListSpec,
    render: Callable[[T, bool], dict[str, Any]],
    stored: Callable[[T], Mapping[str, Any]] | None,
) -> Callable[[T], dict[str, Any]]:
    """Builds an item's wire dict with `$select` and `$expand` applied: straight from its
    stored dict when the `$select` names only stored properties (a list view's usually do),
    which skips building the whole entity of each of a page's 1,000 items."""
    text = call.query.get("$select")
    projector = compile_select(text, spec.select) if spec.select else None
    expand = parse_expand(call.query.get("$expand")) if spec.expand else False
    if projector is not None and stored is not None and not expand:
        if not selected_properties(text) & (RENDERED_ONLY | {"stats"}):
            return lambda item: projector(stored(item))
    return lambda item: shape(render(item, expand), projector, expand_stats=expand)


def entity_response(
    call: Call,
    record: Record,
    props: Any,
    metadata: str,
    render: Callable[[bool], dict[str, Any]],
) -> Response:
    """Answers the GET of one entity: conditional headers, `$select`, `$expand=stats`, its ETag.

    Args:
        call: The request.
        record: The entity.
        props: The properties `$select` may name (the list view's allow-list).
        metadata: The `odata.metadata` suffix, e.g. `pools/@Element`.
        render: Builds the entity's wire dict, with statistics when given True.
    """
    call.check(record)
    projector = compile_select(call.query.get("$select"), props)
    expand = parse_expand(call.query.get("$expand"))
    body = shape(render(expand), projector, expand_stats=expand)
    return json_response(call.request, body, metadata=metadata, headers=entity_headers(record))
