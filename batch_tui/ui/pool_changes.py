"""Provides what the pool dialogs ask and say, without Textual: a resize's request and the line
that names its change, the minutes fields' checks, and an autoscale run or error as lines.

- `ResizeRequest`, `resize_change(pool, request)`: "4 -> 10 dedicated, 0 -> 2 spot".
- `parse_count(text, what)`, `parse_minutes(text, what, low, high)`: a field's value, or a
  `ValueError` whose text is the one-line message the dialog shows.
- `run_lines(run)`, `error_lines(code, message, values)`: an evaluation's results and error as
  the service gives them (`$TargetDedicatedNodes=2;...`, the code, message and details).
- `EXAMPLE_FORMULA`: what the editor starts from on a pool without a formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from batch_tui.batch.models import AutoScaleRun, NameValuePair, Pool

DEFAULT_RESIZE_TIMEOUT: Final = timedelta(minutes=15)
"""The service's resize timeout when a pool has none."""
MIN_RESIZE_MINUTES: Final = 5
"""The service refuses resize timeouts under 5 minutes (400)."""
MAX_RESIZE_MINUTES: Final = 7 * 24 * 60
"""A week: longer is allowed by the service, but a resize that long is a typo."""

DEFAULT_INTERVAL: Final = timedelta(minutes=15)
"""The service's autoscale evaluation interval when none is given."""
MIN_INTERVAL_MINUTES: Final = 5
MAX_INTERVAL_MINUTES: Final = 168 * 60
"""The service's bounds of `autoScaleEvaluationInterval`: 5 minutes to 168 hours."""

MAX_NODES: Final = 100_000
"""More nodes than any pool has: a count above it is a typo, caught before the service."""

EXAMPLE_FORMULA: Final = """\
// A node per pending task, up to 10; no change while data is short
$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 5);
$tasks = $samples < 70 ? $TargetDedicatedNodes :
    max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 5)));
$TargetDedicatedNodes = min(10, $tasks);
$TargetLowPriorityNodes = 0;
$NodeDeallocationOption = taskcompletion;
"""
"""The editor's starting formula on a pool without one (the service's documented pattern)."""


@dataclass(frozen=True)
class ResizeRequest:
    """A resize as the dialog asked for it."""

    dedicated: int
    low_priority: int
    option: str
    """What happens to the tasks of nodes removed when the pool shrinks."""
    timeout: timedelta


def resize_change(pool: Pool, request: ResizeRequest) -> str:
    """The change a resize makes: "4 -> 10 dedicated, 0 -> 2 spot" (unchanged: "4 dedicated")."""

    def one(before: int, after: int, what: str) -> str:
        return f"{before} -> {after} {what}" if before != after else f"{after} {what}"

    dedicated = one(pool.target_dedicated_nodes, request.dedicated, "dedicated")
    spot = one(pool.target_low_priority_nodes, request.low_priority, "spot")
    return f"{dedicated}, {spot}"


def shrinks(pool: Pool, request: ResizeRequest) -> bool:
    """Whether the resize removes nodes (then its option applies)."""
    return (
        request.dedicated < pool.target_dedicated_nodes
        or request.low_priority < pool.target_low_priority_nodes
    )


def parse_count(text: str, what: str) -> int:
    """A node count typed in a field.

    Raises:
        ValueError: Not a whole number from 0 to `MAX_NODES`; its text says so in one line.
    """
    value = text.strip()
    if not value.isdigit() or int(value) > MAX_NODES:
        raise ValueError(f"{what}: a whole number of nodes from 0 to {MAX_NODES:,}")
    return int(value)


def parse_minutes(text: str, what: str, low: int, high: int) -> timedelta:
    """A duration typed in whole minutes.

    Raises:
        ValueError: Not a whole number from `low` to `high`; its text says so in one line.
    """
    value = text.strip()
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"{what}: whole minutes from {low} to {high:,}")
    return timedelta(minutes=int(value))


def minutes_text(value: timedelta | None, default: timedelta) -> str:
    """A duration as the whole minutes a field shows (the default when None)."""
    return str(int((value or default).total_seconds()) // 60)


def result_pairs(results: str | None) -> list[str]:
    """The service's `$name=value;...` results, one assignment each."""
    return [part.strip() for part in (results or "").split(";") if part.strip()]


def error_lines(
    code: str | None, message: str | None, values: Iterable[tuple[str, str]]
) -> list[str]:
    """An error as the service gives it: "code: message", then a line per detail."""
    head = ": ".join(part for part in (code, message) if part) or "error"
    return [head, *(f"  {name}: {value}" for name, value in values)]


def pairs(values: Iterable[NameValuePair]) -> list[tuple[str, str]]:
    """A model's name/value details as plain pairs."""
    return [(value.name, value.value or "") for value in values]


def run_lines(run: AutoScaleRun) -> list[str]:
    """An evaluation's results ("$TargetDedicatedNodes=2; ...") and its error, if any."""
    results = "; ".join(result_pairs(run.results))
    lines = [f"Results: {results}" if results else "Results: none"]
    if run.error is not None:
        error = run.error
        lines.extend(error_lines(error.code, error.message, pairs(error.values)))
    return lines
