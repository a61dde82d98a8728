"""Lists a big collection in parts at once: merges page streams, a bounded number at a time.

The Batch list APIs page sequentially (each `odata.nextLink` comes with the page before it),
so one listing of 100,000 tasks is 100 round trips in a row. Split by a `$filter` into parts
that do not overlap (one per task state), the parts page side by side: the service works on
several pages at once and the round trips overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

from batch_tui.batch import odata
from batch_tui.batch.models.job import TaskCounts
from batch_tui.batch.models.node import NodeCounts, PoolNodeCounts

T = TypeVar("T")

_DONE = object()
"""Put on the queue by a stream that has ended."""


async def merge_pages(
    streams: Sequence[AsyncIterator[list[T]]], concurrency: int
) -> AsyncIterator[list[T]]:
    """Yields the pages of several streams as they arrive, at most `concurrency` streams
    paging at once.

    Memory stays bounded: a stream waits to fetch its next page until its last one is taken.
    The first error of any stream ends the merge with that error; ending the merge early
    (or an error) cancels the streams still running and closes them.

    Args:
        streams: Page streams (``iter_*`` results), not yet started.
        concurrency: The most streams paging at the same time (at least 1).
    """
    slots = asyncio.Semaphore(max(1, concurrency))
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=max(1, concurrency))

    async def pump(stream: AsyncIterator[list[T]]) -> None:
        async with slots:
            try:
                async for page in stream:
                    await queue.put(page)
            except Exception as error:  # noqa: BLE001 - handed to the consumer, raised there
                await queue.put(error)
                return
            finally:
                await _close(stream)
        await queue.put(_DONE)

    pumps = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        running = len(pumps)
        while running:
            item = await queue.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, Exception):
                raise item
            else:
                yield item  # type: ignore[misc]
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


async def _close(stream: AsyncIterator[object]) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()


def busy_states(counts: TaskCounts, page_size: int) -> tuple[str, ...]:
    """The task states worth a stream of their own: those with more than a page of tasks,
    when at least two have. Otherwise none: one stream lists the job in fewer requests.

    The counts only plan the split; `state_parts` lists every other state too, so counts
    that are out of date (the service's are, by seconds) never lose a task.
    """
    states = tuple(
        state
        for state, count in (
            ("active", counts.active),
            ("running", counts.running),  # the service counts preparing tasks as running
            ("completed", counts.completed),
        )
        if count > page_size
    )
    return states if len(states) > 1 else ()


def busy_node_states(counts: PoolNodeCounts | None, page_size: int) -> tuple[str, ...]:
    """The node states worth a stream of their own in a pool: as `busy_states` for tasks,
    from the pool's node counts (dedicated and Spot/low-priority together)."""
    if counts is None:
        return ()
    parts = [part for part in (counts.dedicated, counts.low_priority) if part is not None]
    states = tuple(
        # A count's field is its state without the underscores: start_task_failed counts
        # "starttaskfailed" nodes.
        field.replace("_", "")
        for field in NodeCounts.__struct_fields__
        if field != "total" and sum(getattr(part, field) for part in parts) > page_size
    )
    return states if len(states) > 1 else ()


def listed_by_state(
    part: Callable[[odata.Filter | None], AsyncIterator[list[T]]],
    states: Sequence[str],
    base: odata.Filter | str | None,
    concurrency: int,
) -> AsyncIterator[list[T]]:
    """Lists in parts by state (`state_parts`), `concurrency` parts at once; with no states,
    the one listing `part(base)`.

    Args:
        part: Opens the page stream of the items a filter selects.
        states: The states listed by a stream of their own.
        base: The filter every part stays within, or None.
        concurrency: The most streams paging at once.
    """
    streams = [part(where) for where in state_parts(states, base)]
    return streams[0] if len(streams) == 1 else merge_pages(streams, concurrency)


def state_parts(
    states: Sequence[str], base: odata.Filter | str | None = None
) -> list[odata.Filter | None]:
    """Splits a listing by state: one filter per state, plus one for every other state (so
    a state the service adds later is still listed), each within `base` if given.

    The parts never overlap, and together they hold every item `base` does. With no states,
    the one part is `base` itself (None: everything).
    """
    within = None if base is None or not str(base) else odata.Filter(str(base))
    if not states:
        return [within]
    parts = [odata.eq("state", state) for state in states]
    parts.append(odata.and_(*(odata.ne("state", state) for state in states)))
    return [part if within is None else odata.and_(within, part) for part in parts]
