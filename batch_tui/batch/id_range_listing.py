"""Lists a big job's tasks as ranges of ids paging side by side, split where they prove big.

One listing of 100,000 tasks is 100 round trips in a row: at the real service's latency
(about 150 ms a request plus a little per task) that is half a minute. Cut into ranges of
ids (`id_ranges`), the ranges page at once, each a few pages long.

How it goes (`list_in_id_ranges`):

1. The first page of the whole job comes first, as one stream would give it: a view shows
   it at once. A job of fewer than `PAGES_PER_RANGE` pages just goes on paging.
2. From that page's ids and the job's task count, the job is cut into ranges of about
   `PAGES_PER_RANGE` pages each (`id_ranges.extrapolated_cuts` or `sample_cuts`). The first
   page is listed again by its range: one page of the job twice, so that no guess about the
   service's order can lose a task.
3. Up to `concurrency` ranges page at a time, the ones still waiting start as others end.
4. A range whose first page shows it holds far more than its share (ids sparser than the
   guess, where the service lists in id order) is split, and its pieces listed instead: at
   most one page of it twice.
5. A 429 halves the number of ranges paging at once; pages that go through raise it again,
   one at a time, back up to `concurrency`.

Every task of the job is in exactly one range (the first has no lower bound, the last no
upper one, and a split's pieces cover their range), and ids never change, so the listing
holds exactly the tasks one stream would, even while they change state. A task is yielded
twice only where a page was listed again (above): the later copy is the newer one.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

from batch_tui.batch.id_ranges import (
    IdRange,
    IdSpace,
    extrapolated_cuts,
    is_ascending,
    ranges_between,
    sample_cuts,
    split_range,
)

PAGES_PER_RANGE: Final = 6
"""How long a range is planned to be, in pages: each range ends on a short page, so fewer,
longer ranges cost fewer requests; this keeps the total within 1.25x of one stream."""

MAX_RANGES: Final = 256
"""The most ranges a listing starts with (a job of millions of tasks)."""

SPLIT_FACTOR: Final = 1.6
"""A range is split when its first page shows it holds this many times its planned pages."""

RAISE_AFTER: Final = 8
"""Pages that go through without a 429 before one more range may page at once."""


class HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=HasId)


@dataclass
class ListingStats:
    """What a listing did: for benchmarks and the view's status line.

    Attributes:
        requests: Pages requested (a page retried by the transport counts once).
        items: Tasks yielded (a task listed twice counts twice).
        ranges: Ranges listed, split ones and their pieces included.
        splits: Ranges split because they proved big.
        ordered: Whether the first page came in id order (cuts extrapolated, not sampled).
        concurrency: The number of ranges allowed to page at once, now.
        lowest_concurrency: The lowest it went after a 429.
    """

    requests: int = 0
    items: int = 0
    ranges: int = 0
    splits: int = 0
    ordered: bool = False
    concurrency: int = 0
    lowest_concurrency: int = 0
    throttles_seen: int = field(default=0, repr=False)


def planned_ranges(count: int, page_size: int) -> int:
    """How many ranges a job of `count` tasks is cut into (1: it is listed as one stream)."""
    pages = math.ceil(max(count, 0) / page_size)
    return max(1, min(MAX_RANGES, math.ceil(pages / PAGES_PER_RANGE)))


async def list_in_id_ranges(
    pages_of: Callable[[IdRange], AsyncIterator[list[T]]],
    count: Awaitable[int],
    *,
    page_size: int,
    concurrency: int,
    throttles: Callable[[], int] = lambda: 0,
    stats: ListingStats | None = None,
) -> AsyncIterator[list[T]]:
    """Yields every task of a job page by page, ranges of ids paging side by side.

    Args:
        pages_of: Lists one range: the page stream of ``$filter`` `IdRange.filter()`. A
            stream requests its next page only when asked for it.
        count: How many tasks the job has (its task counts), awaited once the first page
            is in (so the two requests overlap); only the cuts depend on it.
        page_size: The ``maxresults`` of each page.
        concurrency: The most ranges paging at once.
        throttles: How many 429s the client has had so far (it goes up on each).
        stats: Filled in as the listing goes.
    """
    stats = stats if stats is not None else ListingStats()
    stats.concurrency = stats.lowest_concurrency = max(1, concurrency)
    stats.throttles_seen = throttles()
    whole = pages_of(IdRange())
    counting = asyncio.ensure_future(count)
    try:
        stats.requests += 1
        first = await anext(whole, None)
        if first is None:
            return
        stats.items += len(first)
        yield first
        total = await counting
        if total <= 2 * page_size or planned_ranges(total, page_size) < 2:
            # A job of a few pages: going on costs nothing if the page was the last one.
            async for page in whole:
                stats.requests += 1
                stats.items += len(page)
                yield page
            return
    finally:
        if not counting.done():
            counting.cancel()
            with contextlib.suppress(BaseException):
                await counting
        await _close(whole)
    ids = [task.id for task in first]
    stats.ordered = is_ascending(ids)
    parts = planned_ranges(total, page_size)
    cuts = extrapolated_cuts(ids, total, parts) if stats.ordered else sample_cuts(ids, parts)
    space = IdSpace(ids)
    ranges = ranges_between(cuts)
    average = total / max(1, len(ranges))
    plan = _Plan(space, total, average, page_size)
    # aclosing: a caller that stops early stops every range now, not when collected.
    side_by_side = _page_side_by_side(pages_of, ranges, plan, concurrency, throttles, stats)
    async with contextlib.aclosing(side_by_side) as pages:
        async for page in pages:
            yield page


@dataclass(frozen=True)
class _Plan:
    """What the cuts assumed: a range holding far more than `average` tasks is split."""

    space: IdSpace
    total: int
    average: float
    page_size: int

    @property
    def share(self) -> float:
        """What a range was planned to hold."""
        return max(self.average, self.page_size)


@dataclass(eq=False)
class _Running:
    """A range being listed: its page stream and what it gave so far."""

    part: IdRange
    space: IdSpace
    """The id space its cuts were made in (a re-cut open range has one of its own)."""
    stream: AsyncIterator[Any]
    pages: int = 0
    items: int = 0
    ended: bool = False
    estimate: float | None = None
    """How many tasks it holds, once its first page is in (exact once it ended)."""
    first_ids: list[str] | None = None


async def _page_side_by_side(
    pages_of: Callable[[IdRange], AsyncIterator[list[T]]],
    ranges: Sequence[IdRange],
    plan: _Plan,
    concurrency: int,
    throttles: Callable[[], int],
    stats: ListingStats,
) -> AsyncGenerator[list[T], None]:
    waiting = [(part, plan.space) for part in ranges]
    stats.ranges += len(waiting)
    in_flight: dict[asyncio.Future[Any], _Running] = {}
    listed: list[_Running] = []
    held: _Running | None = None
    """An open last range whose first page went past the cuts, waiting for the other
    ranges' first pages to tell how many tasks it holds."""
    clean_pages = 0

    def start(running: _Running) -> None:
        stats.requests += 1
        fetch = asyncio.ensure_future(anext(running.stream, None))
        in_flight[fetch] = running

    def open_new() -> None:
        while waiting and len(in_flight) < stats.concurrency:
            part, space = waiting.pop(0)
            running = _Running(part, space, pages_of(part))
            listed.append(running)
            start(running)

    async def split(running: _Running, pieces: list[IdRange], space: IdSpace) -> None:
        await _close(running.stream)
        running.ended = True
        running.estimate = 0.0  # its pieces hold its tasks now
        waiting[:0] = [(piece, space) for piece in pieces]
        stats.ranges += len(pieces)
        stats.splits += 1

    try:
        while waiting or in_flight or held is not None:
            open_new()
            if (
                held is not None
                and not waiting
                and all(r.estimate is not None for r in listed if r is not held)
            ):
                others = sum(r.estimate or 0.0 for r in listed if r is not held)
                pieces, space = _recut_open(plan, held, plan.total - others)
                if pieces:
                    await split(held, pieces, space)
                else:
                    start(held)
                held = None
                continue
            if not in_flight:
                continue
            done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for fetch in done:
                running = in_flight.pop(fetch)
                page = fetch.result()  # an error of any range ends the listing with it
                if page is None:
                    stats.requests -= 1  # the stream ended without asking for a page
                    running.ended = True
                    running.estimate = float(running.items)
                    await _close(running.stream)
                    continue
                running.pages += 1
                running.items += len(page)
                stats.items += len(page)
                yield page
                clean_pages = _adjust_concurrency(stats, throttles(), clean_pages, concurrency)
                if running.pages > 1:
                    start(running)
                    continue
                running.estimate = _estimate(plan, running, page, stats)
                if running.estimate is None:
                    running.first_ids = [task.id for task in page]
                    held = running
                    continue
                pieces = _split_if_big(plan, running, page, running.estimate)
                if pieces:
                    await split(running, pieces, running.space)
                else:
                    start(running)
    finally:
        for fetch, running in in_flight.items():
            fetch.cancel()
            with contextlib.suppress(BaseException):
                await fetch
            with contextlib.suppress(Exception):
                await _close(running.stream)
        if held is not None:
            with contextlib.suppress(Exception):
                await _close(held.stream)


async def _close(stream: AsyncIterator[Any]) -> None:
    """Closes a page stream that may not have asked for its next page yet."""
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()


def _adjust_concurrency(stats: ListingStats, throttles: int, clean_pages: int, ceiling: int) -> int:
    """Halves the ranges paging at once after a 429, raises it by one after `RAISE_AFTER`
    pages without one (up to `ceiling`); returns the pages since the last change."""
    if throttles > stats.throttles_seen:
        stats.throttles_seen = throttles
        stats.concurrency = max(1, stats.concurrency // 2)
        stats.lowest_concurrency = min(stats.lowest_concurrency, stats.concurrency)
        return 0
    clean_pages += 1
    if clean_pages >= RAISE_AFTER and stats.concurrency < ceiling:
        stats.concurrency += 1
        return 0
    return clean_pages


def _estimate(
    plan: _Plan, running: _Running, page: Sequence[HasId], stats: ListingStats
) -> float | None:
    """How many tasks a range holds, from its first page: exact when the page was short,
    measured by how much of the range's width the page spans when the service lists in id
    order, else what was planned. None for an open last range whose first page went past
    every cut: the others' first pages tell (`_recut_open`)."""
    if len(page) < plan.page_size:
        return float(len(page))
    ids = [task.id for task in page]
    if not stats.ordered or not is_ascending(ids):
        return plan.share
    space = running.space
    part = running.part
    if part.high is None:
        return None
    low = space.value(part.low) if part.low is not None else space.value(ids[0])
    covered = space.value(ids[-1]) - low
    width = space.value(part.high) - low
    if covered <= 0:  # ids the space cannot tell apart: no measure
        return plan.share
    return len(page) * max(width, covered) / covered


def _split_if_big(
    plan: _Plan, running: _Running, page: Sequence[HasId], estimate: float
) -> list[IdRange]:
    """The pieces of a range that holds far more than its share, or []."""
    if estimate < SPLIT_FACTOR * plan.share:
        return []
    pieces = min(MAX_RANGES, math.ceil(estimate / plan.share))
    split = split_range(running.space, running.part, pieces, page[0].id)
    return split if len(split) > 1 else []


def _recut_open(plan: _Plan, running: _Running, remaining: float) -> tuple[list[IdRange], IdSpace]:
    """The pieces of an open last range that holds the `remaining` tasks of the job, cut
    from its own first page as the job was from the job's (a job of two families of ids,
    a-* then b-*, whose first page showed only the a-*), or [] when it holds its share."""
    ids = running.first_ids or []
    if remaining < SPLIT_FACTOR * plan.share or not ids:
        return [], running.space
    pieces = min(MAX_RANGES, math.ceil(remaining / plan.share))
    cuts = [c for c in extrapolated_cuts(ids, int(remaining), pieces) if running.part.holds(c)]
    return (ranges_between(cuts, low=running.part.low) if cuts else []), IdSpace(ids)
