"""Provides a job's task run times: their distribution, its percentiles and the outliers.

- `run_time(task)`: a completed task's run time (end - start), node and result, or None.
- `RunTimes(values)`: the run times of a job's completed tasks, and from them
  `percentile(q)`, `summary()` (count, median, p90, p99, max), `buckets(count)` (a histogram,
  on a log scale when the spread is wide) and `outliers()` (the slowest tasks and those beyond
  p99 or 3x the median, slowest first, each with why it is one).
- `histogram_lines(buckets, width, height)`: the histogram drawn with block characters, its
  time axis under it; shapes only, so it reads the same without colour.
- `outlier_nodes(outliers)`: the nodes the outliers ran on, most first (a slow node).

No Textual here: the screen (`screens/run_times.py`) draws what this computes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from batch_tui.batch.models.task import Task
from batch_tui.ui.formatting import format_duration
from batch_tui.ui.sparkline import BLOCKS
from batch_tui.ui.task_rows import task_failed

RUN_TIME_FIELDS: Final = ("id", "state", "stateTransitionTime", "executionInfo", "nodeInfo")
"""The task fields a run time needs ($select): the task list's, so its rows can be reused."""

SLOWEST: Final = 20
"""The slowest tasks that are always outliers, whatever the spread."""

MEDIAN_FACTOR: Final = 3.0
"""A task that ran more than this many times the median is an outlier."""

MAX_OUTLIERS: Final = 1_000
"""At most this many outliers are listed (p99 of 100,000 tasks is a thousand already)."""

LOG_SPREAD: Final = 20.0
"""The histogram is log-scaled when the slowest run is more than this many times the
fastest (both plus a second): on a linear scale most tasks would share one bar."""

_OFFSET: Final = 1.0
"""Seconds added before taking a logarithm, so that a run of 0 s has a place on the axis."""


@dataclass(frozen=True)
class RunTime:
    """One completed task's run.

    Attributes:
        task_id: The task.
        seconds: How long it ran (end - start of its last try).
        node_id: The node it ran on, if the service says.
        exit_code: Its exit code, if any.
        failed: Whether it failed.
        ended: When it ended.
    """

    task_id: str
    seconds: float
    node_id: str | None = None
    exit_code: int | None = None
    failed: bool = False
    ended: datetime | None = None


def run_time(task: Task) -> RunTime | None:
    """The run of a completed task, or None when it has not completed or has no start and
    end time (a task that never ran: its job was terminated first)."""
    info = task.execution_info
    if task.state != "completed" or info is None:
        return None
    if info.start_time is None or info.end_time is None:
        return None
    seconds = max((info.end_time - info.start_time).total_seconds(), 0.0)
    node = task.node_info.node_id if task.node_info is not None else None
    return RunTime(task.id, seconds, node, info.exit_code, task_failed(task), info.end_time)


@dataclass(frozen=True)
class Bucket:
    """One bar of the histogram: the runs from `low` to `high` seconds.

    A bucket holds `low <= seconds < high`; the last one holds its `high` too.
    """

    low: float
    high: float
    count: int


@dataclass(frozen=True)
class Summary:
    """The distribution in numbers (seconds)."""

    count: int
    median: float
    p90: float
    p99: float
    max: float


@dataclass(frozen=True)
class Outlier:
    """A run worth a look: the run, how many medians it lasted, and why it is listed."""

    run: RunTime
    times_median: float | None
    why: str


class RunTimes:
    """The run times of a job's completed tasks.

    Args:
        runs: The runs, in any order.
    """

    def __init__(self, runs: Iterable[RunTime]) -> None:
        self.runs: list[RunTime] = sorted(runs, key=lambda run: (run.seconds, run.task_id))
        """Fastest first."""

    def __len__(self) -> int:
        return len(self.runs)

    def percentile(self, q: float) -> float:
        """The nearest-rank percentile `q` (0 < q <= 100) of the run times, in seconds: the
        run time that `q`% of the runs do not exceed.

        Raises:
            ValueError: No runs, or `q` out of range.
        """
        if not self.runs:
            raise ValueError("no run times")
        if not 0 < q <= 100:
            raise ValueError(f"percentile {q} is not in (0, 100]")
        rank = max(math.ceil(q / 100 * len(self.runs)), 1)
        return self.runs[rank - 1].seconds

    def summary(self) -> Summary | None:
        """Count, median, p90, p99 and max; None with no runs."""
        if not self.runs:
            return None
        return Summary(
            count=len(self.runs),
            median=self.percentile(50),
            p90=self.percentile(90),
            p99=self.percentile(99),
            max=self.runs[-1].seconds,
        )

    def log_scaled(self) -> bool:
        """Whether the histogram is drawn on a log scale (a wide spread)."""
        if not self.runs:
            return False
        return (self.runs[-1].seconds + _OFFSET) > LOG_SPREAD * (self.runs[0].seconds + _OFFSET)

    def buckets(self, count: int) -> list[Bucket]:
        """The histogram: `count` buckets of equal width (in log time when `log_scaled`)
        from the fastest run to the slowest; every run is in exactly one. [] with no runs."""
        if not self.runs or count <= 0:
            return []
        scale = _Scale(self.runs[0].seconds, self.runs[-1].seconds, count, self.log_scaled())
        counts = [0] * scale.count
        for run in self.runs:
            counts[scale.index(run.seconds)] += 1
        return [
            Bucket(scale.edge(index), scale.edge(index + 1), counts[index])
            for index in range(scale.count)
        ]

    def outliers(self) -> list[Outlier]:
        """The slowest `SLOWEST` runs, and every run beyond p99 or `MEDIAN_FACTOR` times the
        median; slowest first, at most `MAX_OUTLIERS`."""
        summary = self.summary()
        if summary is None:
            return []
        slowest_from = len(self.runs) - SLOWEST
        found: list[Outlier] = []
        for position in range(len(self.runs) - 1, -1, -1):
            run = self.runs[position]
            reasons = []
            if summary.median > 0 and run.seconds > MEDIAN_FACTOR * summary.median:
                reasons.append(f">{MEDIAN_FACTOR:g}× median")
            if run.seconds > summary.p99:
                reasons.append(">p99")
            if not reasons and position < slowest_from:
                break  # sorted: every faster run is below both bounds too
            why = " ".join(reasons) if reasons else f"slowest {SLOWEST}"
            ratio = run.seconds / summary.median if summary.median > 0 else None
            found.append(Outlier(run, ratio, why))
            if len(found) >= MAX_OUTLIERS:
                break
        return found


class _Scale:
    """Maps run times to bucket indices and back, linearly or in log time."""

    def __init__(self, low: float, high: float, count: int, log: bool) -> None:
        self.log = log
        self.low = self._to(low)
        span = self._to(high) - self.low
        # One bucket when every run took the same time: there is nothing to spread.
        self.count = count if span > 0 else 1
        self.width = span / self.count if span > 0 else 0.0

    def _to(self, seconds: float) -> float:
        return math.log(seconds + _OFFSET) if self.log else seconds

    def _from(self, value: float) -> float:
        return math.exp(value) - _OFFSET if self.log else value

    def index(self, seconds: float) -> int:
        if self.width <= 0:
            return 0
        position = int((self._to(seconds) - self.low) / self.width)
        return min(max(position, 0), self.count - 1)

    def edge(self, index: int) -> float:
        return self._from(self.low + index * self.width)


def histogram_lines(buckets: Sequence[Bucket], width: int, height: int) -> list[str]:
    """Draws the buckets as columns of block characters, `height` rows high, then an axis and
    a row of time labels; at most `width` cells wide.

    The gutter on the left shows the tallest bucket's count. A bucket with any run is at
    least an eighth of a cell high: one slow task is never lost.
    """
    if not buckets or height <= 0:
        return []
    top = max(bucket.count for bucket in buckets)
    gutter = max(len(f"{top:,}"), 1) + 1
    cell = max((width - gutter - 1) // len(buckets), 1)
    eighths = [
        0 if bucket.count == 0 else max(1, math.ceil(bucket.count * height * 8 / top))
        for bucket in buckets
    ]
    lines = []
    for row in range(height):
        floor = (height - 1 - row) * 8
        bars = "".join(_block(level - floor) * cell for level in eighths)
        label = f"{top:,}" if row == 0 else ""
        lines.append(f"{label:>{gutter - 1}} │{bars}".rstrip())
    span = cell * len(buckets)
    lines.append(" " * (gutter - 1) + " └" + "─" * span)
    lines.append(" " * (gutter + 1) + _axis_labels(buckets, cell, span))
    return lines


def _block(level: int) -> str:
    if level <= 0:
        return " "
    return BLOCKS[min(level, len(BLOCKS)) - 1]


def _axis_labels(buckets: Sequence[Bucket], cell: int, span: int) -> str:
    """The time labels under the axis: the fastest run at the left, the slowest at the right,
    and bucket edges between where they fit."""
    row = [" "] * span
    last = _seconds_text(buckets[-1].high)
    spots = [(0, _seconds_text(buckets[0].low))]
    for index in range(1, len(buckets)):
        spots.append((index * cell, _seconds_text(buckets[index].low)))
    free = 0
    right = max(span - len(last), 0)
    for at, text in spots:
        if at < free or at + len(text) + 1 > right:
            continue
        row[at : at + len(text)] = text
        free = at + len(text) + 3
    row[right : right + len(last)] = last
    return "".join(row).rstrip()


def _seconds_text(seconds: float) -> str:
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f}s"
    return format_duration(timedelta(seconds=round(seconds)))


def seconds_text(seconds: float | None) -> str:
    """A run time in words: "0.4s", "3m12s"."""
    return "-" if seconds is None else _seconds_text(seconds)


def summary_line(summary: Summary | None, *, log: bool) -> str:
    """ "1,234 runs · median 3m12s · p90 5m1s · p99 9m40s · max 31m5s · log scale"."""
    if summary is None:
        return "No completed tasks with a start and end time yet."
    parts = [
        f"{summary.count:,} run{'s' if summary.count != 1 else ''}",
        f"median {_seconds_text(summary.median)}",
        f"p90 {_seconds_text(summary.p90)}",
        f"p99 {_seconds_text(summary.p99)}",
        f"max {_seconds_text(summary.max)}",
    ]
    if log:
        parts.append("log scale")
    return " · ".join(parts)


def outlier_nodes(outliers: Sequence[Outlier]) -> list[tuple[str, int]]:
    """The nodes the outliers ran on and how many each, most first (ties by id)."""
    nodes = Counter(outlier.run.node_id for outlier in outliers if outlier.run.node_id)
    return sorted(nodes.items(), key=lambda item: (-item[1], item[0]))
