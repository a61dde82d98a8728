"""Helpers of the hardening tests: a scanner for control characters, fast retries, and the
record of workers that failed.

- `control_chars(text)`: the C0/C1 controls, DEL and ESC found in a text.
- `fast_retry()`: a retry policy with millisecond waits (the hardening conftest's).
- `WorkerErrors`: what the `worker_errors` fixture collects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from batch_tui.batch.retry import RetryPolicy

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Characters that must never reach the screen: C0 (but tab and newline), DEL, C1, incl. ESC."""


def control_chars(text: str) -> list[str]:
    """The control characters (ESC, BEL, NUL, C1 ...) in `text`, as their repr."""
    return [repr(char) for char in _CONTROL.findall(text)]


def fast_retry() -> RetryPolicy:
    """Retries as the real policy does, with waits short enough for a test."""
    return RetryPolicy(
        max_attempts=4, base_backoff=0.01, max_backoff=0.05, max_retry_after=0.05, total_budget=5
    )


@dataclass
class WorkerErrors:
    """Workers that ended in ERROR: (worker name, traceback)."""

    errors: list[tuple[str, str]] = field(default_factory=list)
