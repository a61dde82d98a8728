"""Tests listing a job in ranges of ids: exactly the tasks of one listing, whatever the ids,
the service's order, its comparison of strings, a stale count or throttling."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_tui.batch.id_range_listing import ListingStats, list_in_id_ranges
from batch_tui.batch.id_ranges import ID_CHARS, IdRange


@dataclass
class FakeTask:
    id: str
    state: str = "active"


class FakeJob:
    """A job's task list as the service pages it: `$filter` on id ranges, `maxresults`,
    continuation, in id order or in the order tasks were added; tasks change state between
    pages; every `throttle_every`-th request is answered 429 first (then retried)."""

    def __init__(self, ids: list[str], *, order: str, folded: bool, page_size: int) -> None:
        self.tasks = [FakeTask(i) for i in ids]
        if order == "id":
            self.tasks.sort(key=lambda t: t.id.lower() if folded else t.id)
        self.folded = folded
        self.page_size = page_size
        self.requests = 0
        self.throttled = 0
        self.throttle_every = 0

    def _holds(self, part: IdRange, task_id: str) -> bool:
        key = task_id.lower() if self.folded else task_id
        return (part.low is None or key >= part.low) and (part.high is None or key < part.high)

    async def pages_of(self, part: IdRange) -> AsyncIterator[list[FakeTask]]:
        position = 0
        while True:
            await asyncio.sleep(0)
            self.requests += 1
            if self.throttle_every and self.requests % self.throttle_every == 0:
                self.throttled += 1
            for task in self.tasks:  # the job goes on while it is listed
                if random.random() < 0.05:
                    task.state = "completed"
            matching = [t for t in self.tasks if self._holds(part, t.id)]
            page = matching[position : position + self.page_size]
            position += len(page)
            yield [FakeTask(t.id, t.state) for t in page]
            if position >= len(matching):
                return


async def _listed(job: FakeJob, count: int, concurrency: int) -> tuple[list[str], ListingStats]:
    async def counted() -> int:
        return count

    stats = ListingStats()
    ids: list[str] = []
    async for page in list_in_id_ranges(
        job.pages_of,
        counted(),
        page_size=job.page_size,
        concurrency=concurrency,
        throttles=lambda: job.throttled,
        stats=stats,
    ):
        ids.extend(t.id for t in page)
    return ids, stats


def _id_shapes() -> st.SearchStrategy[list[str]]:
    padded = st.integers(1, 400).map(lambda n: [f"task-{i:05d}" for i in range(n)])
    unpadded = st.integers(1, 400).map(lambda n: [f"frame-{i}" for i in range(1, n + 1)])
    guids = st.integers(1, 300).map(
        lambda n: [f"{random.Random(n + i).getrandbits(64):016x}" for i in range(n)]
    )
    anything = st.lists(
        st.text(alphabet=ID_CHARS + "ABQZ", min_size=1, max_size=12),
        min_size=1,
        max_size=300,
        unique_by=str.lower,
    )
    return st.one_of(padded, unpadded, guids, anything)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ids=_id_shapes(),
    order=st.sampled_from(["id", "added"]),
    folded=st.booleans(),
    page_size=st.integers(2, 12),
    stale=st.sampled_from([0.5, 1.0, 1.0, 2.0]),
    concurrency=st.integers(1, 6),
    throttle_every=st.sampled_from([0, 0, 3]),
    shuffle_seed=st.integers(0, 1000),
)
def test_the_listing_holds_exactly_the_job_s_tasks(
    ids: list[str],
    order: str,
    folded: bool,
    page_size: int,
    stale: float,
    concurrency: int,
    throttle_every: int,
    shuffle_seed: int,
) -> None:
    ids = list(dict.fromkeys(ids))
    random.Random(shuffle_seed).shuffle(ids)
    job = FakeJob(ids, order=order, folded=folded, page_size=page_size)
    job.throttle_every = throttle_every
    listed, stats = asyncio.run(_listed(job, int(len(ids) * stale), concurrency))
    assert set(listed) == set(ids)
    # A task comes twice only from a page listed again: the first page, one per split.
    assert len(listed) - len(ids) <= page_size * (1 + stats.splits)
    assert stats.requests == job.requests


def _run(ids: list[str], page_size: int = 100, **kw: object) -> tuple[FakeJob, ListingStats]:
    job = FakeJob(ids, order="id", folded=False, page_size=page_size)
    listed, stats = asyncio.run(_listed(job, len(ids), concurrency=16, **kw))  # type: ignore[arg-type]
    assert sorted(set(listed)) == sorted(ids)
    return job, stats


def test_a_big_job_of_padded_ids_takes_at_most_a_quarter_more_requests_than_one_stream() -> None:
    ids = [f"task-{n:06d}" for n in range(100_000)]
    job, stats = _run(ids, page_size=1000)
    assert stats.ordered and stats.splits == 0
    assert job.requests <= 1.25 * 100


def test_unpadded_ids_are_listed_within_budget() -> None:
    ids = [f"frame-{n}" for n in range(1, 100_001)]
    job, stats = _run(ids, page_size=1000)
    assert job.requests <= 1.3 * 100


def test_a_family_of_ids_the_first_page_did_not_show_is_cut_when_it_shows() -> None:
    # The first page holds only the a-* ids: the cuts all fall among them, and the b-* are
    # all in the last, open range until its first page shows them.
    ids = [f"a-{n:05d}" for n in range(1000)] + [f"b-{n:05d}" for n in range(99_000)]
    job, stats = _run(ids, page_size=1000)
    assert stats.splits >= 1
    assert job.requests <= 1.3 * 100


def test_a_throttled_listing_halves_its_concurrency_then_climbs_back() -> None:
    ids = [f"task-{n:05d}" for n in range(20_000)]
    job = FakeJob(ids, order="id", folded=False, page_size=100)
    job.throttle_every = 40
    _, stats = asyncio.run(_listed(job, len(ids), concurrency=16))
    assert stats.lowest_concurrency <= 8
    assert job.throttled >= 1


def test_a_job_that_fits_two_pages_is_listed_as_one_stream() -> None:
    job, stats = _run([f"t{n}" for n in range(150)], page_size=100)
    assert job.requests == 2 and stats.ranges == 0


def test_an_empty_job_costs_one_request() -> None:
    job, stats = _run([], page_size=100)
    assert job.requests == 1


def test_closing_the_listing_early_stops_every_range() -> None:
    ids = [f"task-{n:05d}" for n in range(5_000)]
    job = FakeJob(ids, order="id", folded=False, page_size=100)

    async def take_three() -> set[asyncio.Task[object]]:
        async def counted() -> int:
            return len(ids)

        pages = list_in_id_ranges(
            job.pages_of, counted(), page_size=100, concurrency=8, throttles=lambda: 0
        )
        for _ in range(3):
            await anext(pages)
        await pages.aclose()
        # Closed means closed now: no page fetch is left running to ask for more later.
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    left = asyncio.run(take_three())
    assert left == set()
