"""Provides list paging: `maxresults` limits and `odata.nextLink` URLs carrying a `$skipToken`.

The token names the position after the last item returned and that item's key, so a page stays
correct when items before it are added or deleted between requests (the service's tokens are
likewise opaque continuation keys, e.g. a node id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qsl, quote

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.query.filter import invalid_query

T = TypeVar("T")

MAX_RESULTS = 1000
"""The maximum and default page size of every pageable list (spec: "A maximum of 1000")."""
NODE_COUNTS_MAX_RESULTS = 10
"""The maximum and default page size of `/nodecounts` (spec: "A maximum of 10")."""
SKIP_TOKEN = "$skipToken"
"""The continuation parameter, spelled as in the service's next links (spec examples)."""


@dataclass(frozen=True)
class PageRequest:
    """The paging parameters of one list request."""

    size: int
    token: str | None


def parse_paging(query: Mapping[str, str], maximum: int = MAX_RESULTS) -> PageRequest:
    """Reads `maxresults` and `$skipToken` from a request's query (names lower-cased).

    Raises:
        ServiceError: 400 InvalidQueryParameterValue when `maxresults` is not an integer, 400
            OutOfRangeQueryParameterValue when it is outside 1..maximum.
    """
    raw = query.get("maxresults")
    size = maximum
    if raw is not None:
        try:
            size = int(raw)
        except ValueError as exc:
            raise invalid_query("maxresults", raw, "The value is not an integer.") from exc
        if not 1 <= size <= maximum:
            raise ServiceError(
                400,
                "OutOfRangeQueryParameterValue",
                "A query parameter value specified in the request URI is outside the "
                "permissible range.",
                {
                    "QueryParameterName": "maxresults",
                    "QueryParameterValue": raw,
                    "Reason": f"The value must be between 1 and {maximum}.",
                },
            )
    return PageRequest(size, query.get(SKIP_TOKEN.lower()))


def _resume(items: Sequence[T], key: Callable[[T], str], token: str | None) -> int:
    if not token:
        return 0
    pos_text, sep, last = token.partition("-")
    if not sep or not pos_text.isdigit():
        raise invalid_query(SKIP_TOKEN, token, "The continuation token is not valid.")
    pos = int(pos_text)
    if 0 < pos <= len(items) and key(items[pos - 1]) == last:
        return pos
    # Items moved since the previous page: find the last item returned by its key.
    for index, item in enumerate(items):
        if key(item) == last:
            return index + 1
    return min(pos, len(items))


def take_page(
    items: Sequence[T],
    key: Callable[[T], str],
    accept: Callable[[T], bool] | None,
    request: PageRequest,
    candidates: Callable[[int], Iterator[int]] | None = None,
) -> tuple[list[T], str | None]:
    """Returns one page of the accepted items and the token of the next page (None at the end).

    Args:
        items: Every item of the list, in the service's order.
        key: Returns an item's stable key (lower-cased id, file name ...).
        accept: The `$filter` predicate, or None.
        request: The page size and the incoming token.
        candidates: Returns, in order, the positions from a given one of the items `accept`
            may take (the others it refuses for certain): a filter on a range of ids tests
            only the items in the range, not every item before and after it (`id_bounds`).
    """
    index = _resume(items, key, request.token)
    positions: Iterator[int] = iter(range(index, len(items)))
    if candidates is not None and accept is not None:
        positions = candidates(index)
    page: list[T] = []
    for position in positions:
        if accept is None or accept(items[position]):
            page.append(items[position])
            if len(page) == request.size:
                index = position + 1
                break
    else:
        return page, None
    # A next link only when another item is accepted: the service gives no empty last page.
    more = any(accept is None or accept(items[i]) for i in positions)
    if not more:
        return page, None
    return page, f"{index}-{key(page[-1])}"


def next_link(base_url: str, raw_path: str, query_string: str, token: str) -> str:
    """Returns the absolute `odata.nextLink`: the same request with the `$skipToken` added, so
    a client can GET it as it is (it keeps `api-version`, `$filter`, `$select`, `maxresults`)."""
    pairs = [
        (name, value)
        for name, value in parse_qsl(query_string, keep_blank_values=True)
        if name.lower() != SKIP_TOKEN.lower()
    ]
    pairs.append((SKIP_TOKEN, token))
    query = "&".join(f"{quote(n, safe='$')}={quote(v, safe='')}" for n, v in pairs)
    return f"{base_url}{raw_path}?{query}"
