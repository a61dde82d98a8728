"""Provides the account's history: counts sampled at each refresh, in bounded rings.

No request is made for it: the screens hand over what they have just read.

- `Ring(fields, capacity)`: one entity's samples, a fixed array of unsigned ints (a time in
  epoch seconds, then one number per field); the oldest sample is overwritten once full.
- `History()`: the rings of an account: per pool `POOL_FIELDS` (its nodes by state and the
  tasks running on it), per job `JOB_FIELDS` (its completed tasks).
  `record_pools(when, nodes_by_pool, running_by_pool)` and `record_jobs(when, completed)`
  sample; `pool(id)` / `job(id)` read a ring back. At most `MAX_SERIES` rings per kind: the
  one sampled longest ago goes first.
- `pool_sample(states, running)`: a pool's numbers from its node counts by state.
- `job_rate(ring, window)` and `eta_text(rate, remaining)`: the recent rate of completions
  and the ETA from it ("~14 min left at 212 tasks/min").
- `History.dump()` / `History.load(data)`: the rings as plain data (bytes per ring), for
  `history_store`.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

CAPACITY: Final = 720
"""Samples per ring: two hours at the overview's 10 s, six at 30 s. It bounds the memory:
50 pools and 500 jobs hold about 4 MB (bench/history.py)."""

MAX_SERIES: Final = 500
"""Rings kept per kind (pools, jobs); the one sampled longest ago is dropped for a new one."""

BAD_NODE_STATES: Final = ("starttaskfailed", "unusable", "offline", "unknown")
"""Node states that need attention: drawn apart from the others, with a marker."""

POOL_FIELDS: Final = ("idle", "running", *BAD_NODE_STATES, "other", "tasks")
"""A pool's numbers per sample: its nodes by state (the states not named go to "other") and
"tasks", the tasks running on it (its jobs' running counts added up)."""

JOB_FIELDS: Final = ("completed",)
"""A job's numbers per sample: its completed tasks (the rate and the ETA come from them)."""

RATE_WINDOW: Final = 600.0
"""Seconds of samples the rate is measured over: recent enough to follow a change of pace,
long enough to smooth the refreshes' jitter."""

MIN_RATE_SPAN: Final = 5.0
"""Seconds two samples must span before a rate is shown (closer, the rate is noise)."""

_MAX_VALUE: Final = 2**32 - 1


class Ring:
    """One entity's samples: a time and a number per field, in one fixed array.

    The array is allocated once, full size; appending never allocates.
    """

    __slots__ = ("_count", "_data", "_start", "capacity", "fields", "width")

    def __init__(self, fields: Sequence[str], capacity: int = CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("a ring holds at least one sample")
        self.fields = tuple(fields)
        self.capacity = capacity
        self.width = 1 + len(self.fields)
        self._data = array("I", bytes(4 * capacity * self.width))
        self._start = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _slot(self, index: int) -> int:
        return ((self._start + index) % self.capacity) * self.width

    def append(self, when: int, values: Sequence[int]) -> None:
        """Adds a sample; one at the same second as the last replaces it."""
        if len(values) != len(self.fields):
            raise ValueError(f"expected {len(self.fields)} values, got {len(values)}")
        if self._count and when <= self.last_time():
            # A second sample in the same second, or a clock gone back: the times stay in order.
            at = self._slot(self._count - 1)
            when = self.last_time()
        elif self._count < self.capacity:
            at = self._slot(self._count)
            self._count += 1
        else:
            at = self._slot(0)  # full: the oldest goes
            self._start = (self._start + 1) % self.capacity
        self._data[at] = max(0, min(when, _MAX_VALUE))
        for offset, value in enumerate(values, 1):
            self._data[at + offset] = max(0, min(int(value), _MAX_VALUE))

    def last_time(self) -> int:
        """The newest sample's time (epoch seconds); 0 when empty."""
        return self._data[self._slot(self._count - 1)] if self._count else 0

    def _ordered(self) -> array[int]:
        """The samples oldest first, as one array (two slices: C copies, no Python loop)."""
        cut = self._start * self.width
        end = self._count * self.width if self._count < self.capacity else len(self._data)
        return self._data[cut:end] + self._data[:cut]

    def times(self) -> list[int]:
        """The samples' times, oldest first."""
        return self._ordered()[:: self.width].tolist()

    def values(self, field: str) -> list[int]:
        """One field's numbers, oldest first."""
        return self.columns(field)[0]

    def series(self, field: str) -> tuple[list[int], list[int]]:
        """The samples' times and one field's numbers, oldest first, from one copy."""
        ordered = self._ordered()
        offset = 1 + self.fields.index(field)
        return ordered[:: self.width].tolist(), ordered[offset :: self.width].tolist()

    def columns(self, *fields: str, last: int | None = None) -> list[list[int]]:
        """Several fields' numbers, oldest first, from one copy of the ring; only the newest
        `last` samples' if given."""
        ordered = self._ordered()
        if last is not None:
            ordered = ordered[-last * self.width :] if last > 0 else array("I")
        offsets = [1 + self.fields.index(field) for field in fields]
        return [ordered[offset :: self.width].tolist() for offset in offsets]

    def latest(self, field: str) -> int | None:
        """The newest number of a field; None when empty."""
        if not self._count:
            return None
        return self._data[self._slot(self._count - 1) + 1 + self.fields.index(field)]

    @property
    def nbytes(self) -> int:
        """The memory of the samples."""
        return self._data.itemsize * len(self._data)

    def dump(self) -> bytes:
        """The samples, oldest first, as bytes (native unsigned ints: `load` reads them back)."""
        return self._ordered().tobytes()

    @classmethod
    def load(cls, fields: Sequence[str], data: bytes, capacity: int = CAPACITY) -> Ring:
        """A ring from `dump()`'s bytes; the newest `capacity` samples are kept.

        Raises:
            ValueError: The bytes do not hold whole samples of these fields.
        """
        ring = cls(fields, capacity)
        numbers = array("I")
        numbers.frombytes(data)
        if len(numbers) % ring.width:
            raise ValueError("the data does not hold whole samples")
        kept = numbers[-capacity * ring.width :]
        times = kept[:: ring.width]
        if any(later < earlier for earlier, later in zip(times, times[1:], strict=False)):
            raise ValueError("the samples are not in time order")
        ring._data[: len(kept)] = kept
        ring._count = len(kept) // ring.width
        return ring


def pool_sample(states: Mapping[str, int], running_tasks: int) -> list[int]:
    """A pool's numbers in `POOL_FIELDS` order from its node counts by state."""
    named = {"idle", "running", *BAD_NODE_STATES}
    other = sum(count for state, count in states.items() if state not in named)
    by_field = {**{state: states.get(state, 0) for state in named}, "other": other}
    by_field["tasks"] = running_tasks
    return [by_field[field] for field in POOL_FIELDS]


def epoch_seconds(when: datetime) -> int:
    """A moment as whole epoch seconds."""
    return int(when.timestamp())


class History:
    """The rings of one account, by pool and by job."""

    def __init__(self, capacity: int = CAPACITY, max_series: int = MAX_SERIES) -> None:
        self.capacity = capacity
        self.max_series = max_series
        self.pools: dict[str, Ring] = {}
        self.jobs: dict[str, Ring] = {}

    def _ring(self, rings: dict[str, Ring], key: str, fields: Sequence[str]) -> Ring:
        ring = rings.pop(key, None)
        if ring is None:
            ring = Ring(fields, self.capacity)
            while len(rings) >= self.max_series:
                del rings[next(iter(rings))]  # dicts keep insertion order: the stalest first
        rings[key] = ring  # re-inserted: the most recently sampled is last
        return ring

    def record_pools(
        self,
        when: datetime,
        nodes_by_pool: Mapping[str, Mapping[str, int]],
        running_by_pool: Mapping[str, int],
    ) -> None:
        """Samples every pool listed: its nodes by state and the tasks running on it."""
        moment = epoch_seconds(when)
        for pool_id, states in nodes_by_pool.items():
            sample = pool_sample(states, running_by_pool.get(pool_id, 0))
            self._ring(self.pools, pool_id, POOL_FIELDS).append(moment, sample)

    def record_jobs(self, when: datetime, completed_by_job: Mapping[str, int]) -> None:
        """Samples jobs' completed tasks."""
        moment = epoch_seconds(when)
        for job_id, completed in completed_by_job.items():
            self._ring(self.jobs, job_id, JOB_FIELDS).append(moment, [completed])

    def pool(self, pool_id: str) -> Ring | None:
        """A pool's ring, if it was sampled."""
        return self.pools.get(pool_id)

    def job(self, job_id: str) -> Ring | None:
        """A job's ring, if it was sampled."""
        return self.jobs.get(job_id)

    @property
    def nbytes(self) -> int:
        """The memory of all samples."""
        return sum(ring.nbytes for ring in (*self.pools.values(), *self.jobs.values()))

    def dump(self) -> dict[str, Any]:
        """The rings as plain data: {"pools": {id: bytes}, "jobs": {id: bytes}}, with the
        fields they hold. Cheap (a copy of each array): taken on the event loop, encoded
        elsewhere."""
        return {
            "pool_fields": list(POOL_FIELDS),
            "job_fields": list(JOB_FIELDS),
            "pools": {key: ring.dump() for key, ring in self.pools.items()},
            "jobs": {key: ring.dump() for key, ring in self.jobs.items()},
        }

    @classmethod
    def load(cls, data: Mapping[str, Any], capacity: int = CAPACITY) -> History:
        """A history from `dump()`'s data. Rings of other fields (an older version's) are
        left out; so is a ring whose bytes are not whole samples."""
        history = cls(capacity)
        for kind, fields, rings in (
            ("pools", POOL_FIELDS, history.pools),
            ("jobs", JOB_FIELDS, history.jobs),
        ):
            if list(data.get(f"{kind[:-1]}_fields", ())) != list(fields):
                continue
            for key, raw in dict(data.get(kind, {})).items():
                try:
                    ring = Ring.load(fields, raw, capacity)
                except (ValueError, TypeError):
                    continue
                if len(rings) < history.max_series:
                    rings[str(key)] = ring
        return history


@dataclass(frozen=True)
class Rate:
    """Tasks completed per minute over a span of samples."""

    per_minute: float
    span_seconds: float


def job_rate(ring: Ring | None, window: float = RATE_WINDOW) -> Rate | None:
    """The rate of completions over the last `window` seconds of samples; None before two
    samples `MIN_RATE_SPAN` apart (no rate yet)."""
    if ring is None or len(ring) < 2:
        return None
    times, completed = ring.series("completed")
    newest = times[-1]
    first = next(index for index, at in enumerate(times) if at >= newest - window)
    if first == len(times) - 1:
        first = len(times) - 2  # the window holds one sample: measure from the one before
    span = newest - times[first]
    if span < MIN_RATE_SPAN:
        return None
    done = max(0, completed[-1] - completed[first])  # a job's completed count never drops
    return Rate(per_minute=done * 60.0 / span, span_seconds=float(span))


def _amount(minutes: float) -> str:
    if minutes < 1:
        return "<1 min"
    if minutes < 120:
        return f"{math.ceil(minutes)} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _per_minute(rate: float) -> str:
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.1f}".rstrip("0").rstrip(".")


def eta_text(rate: Rate | None, remaining: int) -> str:
    """The ETA in words: "~14 min left at 212 tasks/min"; "-" with no rate yet; "done" with
    nothing left; "stalled (0 tasks/min)" when nothing completed in the window."""
    if remaining <= 0:
        return "done"
    if rate is None:
        return "-"
    if rate.per_minute <= 0:
        return "stalled (0 tasks/min)"
    left = _amount(remaining / rate.per_minute)
    left = left if left.startswith("<") else f"~{left}"
    return f"{left} left at {_per_minute(rate.per_minute)} tasks/min"


def eta_short(rate: Rate | None, remaining: int) -> str:
    """The ETA for a narrow column: "~14m 212/m", "-", "done", "stalled"."""
    if remaining <= 0:
        return "done"
    if rate is None:
        return "-"
    if rate.per_minute <= 0:
        return "stalled"
    minutes = remaining / rate.per_minute
    if minutes < 1:
        left = "<1m"
    elif minutes < 120:
        left = f"~{math.ceil(minutes)}m"
    else:
        left = f"~{minutes / 60:.0f}h"
    return f"{left} {_per_minute(rate.per_minute)}/m"
