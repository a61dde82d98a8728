"""Decides when and how long to wait before retrying a Batch request.

The rules, in one place:

- ``429 Too Many Requests`` and ``503 Service Unavailable`` mean the service did not apply
  the request, so any request may be retried, after ``Retry-After`` when the service sends
  one (seconds or an HTTP date, capped by `RetryPolicy.max_retry_after`), else after the
  jittered backoff.
- ``500``, ``502`` and ``504`` and transport failures after the request went out (read
  timeout, connection reset, truncated response) may hide a request that was applied.
  Only idempotent requests (GET, HEAD) retry on them. A POST action such as ``reboot`` or
  ``terminate`` is never sent twice behind the caller's back, and neither is DELETE: a
  repeated delete whose first attempt worked answers 404/409 and would report a success
  as a failure. Such a mutating request whose answer was lost is raised as
  ``errors.OutcomeUnknown``: it may have been applied.
- A connection that never opened (DNS failure, refused, connect timeout, no free
  connection in the pool) carried no request, so every request may retry on it.
- Every retry is bounded by an attempt count and a total time budget.
"""

from __future__ import annotations

import asyncio
import random as _random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

ALWAYS_RETRY_STATUSES = frozenset({429, 503})
"""Statuses that mean "not applied, come back later": safe to retry for every method."""

IDEMPOTENT_RETRY_STATUSES = frozenset({500, 502, 504})
"""Transient server failures that may hide an applied request: retried for GET/HEAD only."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
"""Methods the client retries after a request may have reached the service."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Parse a ``Retry-After`` header into seconds from now.

    Args:
        value: The header value: delta-seconds (``"5"``, ``"1.5"``) or an HTTP date.
        now: The current time for HTTP dates; defaults to the system clock.

    Returns:
        The non-negative number of seconds to wait, or None when absent or unparseable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How many times, and how long, the client retries a failed request.

    The defaults give at most 4 attempts within 60 s: waits of about 0.5, 1 and 2 s for
    transient errors, or what the service asks for (up to 30 s) when it throttles.
    """

    max_attempts: int = 4
    """Attempts in total, the first included; 1 disables retries."""
    base_backoff: float = 0.5
    """The backoff before the first retry; it doubles for each further retry."""
    max_backoff: float = 8.0
    """The ceiling of one backoff wait."""
    max_retry_after: float = 30.0
    """The ceiling of one ``Retry-After`` wait, so a bad header cannot freeze the app."""
    total_budget: float = 60.0
    """Seconds from the first attempt after which no retry starts."""
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    """Waits between attempts; tests inject one that records the waits."""
    random: Callable[[], float] = field(default=_random.random, repr=False)
    """A uniform [0, 1) source for the jitter; tests inject a fixed one."""
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    """A monotonic clock in seconds for the budget; tests inject a fake one."""

    def backoff(self, retry_number: int) -> float:
        """Return the jittered exponential wait before retry ``retry_number`` (1-based).

        "Equal jitter": half the capped exponential delay is fixed and half random, so
        waits grow but clients that failed together do not retry in lockstep.
        """
        ceiling = min(self.max_backoff, self.base_backoff * 2.0 ** max(0, retry_number - 1))
        return ceiling / 2 + self.random() * ceiling / 2

    def start(self) -> RetryState:
        """Begin the retry bookkeeping of one logical request."""
        return RetryState(self, self.clock())


@dataclass
class RetryState:
    """The attempts made so far for one logical request."""

    policy: RetryPolicy
    started_at: float
    attempts: int = 1

    def after_status(
        self, status: int, idempotent: bool, retry_after: float | None
    ) -> float | None:
        """Return the wait before retrying a request that got ``status``, or None to stop."""
        if status in ALWAYS_RETRY_STATUSES:
            if retry_after is not None:
                return self._next(min(retry_after, self.policy.max_retry_after))
            return self._next(self.policy.backoff(self.attempts))
        if status in IDEMPOTENT_RETRY_STATUSES and idempotent:
            return self._next(self.policy.backoff(self.attempts))
        return None

    def after_transport_error(self, sent: bool, idempotent: bool) -> float | None:
        """Return the wait before retrying after a transport failure, or None to stop.

        Args:
            sent: Whether the request may have reached the service.
            idempotent: Whether sending the request twice is harmless.
        """
        if sent and not idempotent:
            return None
        return self._next(self.policy.backoff(self.attempts))

    def _next(self, delay: float) -> float | None:
        if self.attempts >= self.policy.max_attempts:
            return None
        if self.policy.clock() - self.started_at + delay > self.policy.total_budget:
            return None
        self.attempts += 1
        return delay
