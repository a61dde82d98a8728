"""Provides the emulator's clock: real time for serving, a manual clock for tests."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Wall-clock time in UTC. Subclassed by `ManualClock` for deterministic tests."""

    def now(self) -> datetime:
        """Returns the current time (aware, UTC)."""
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        """Returns seconds from a monotonic source, for durations."""
        return time.monotonic()


class ManualClock(Clock):
    """A clock that moves only when told to, so tests and snapshots repeat exactly."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 10, 1, 12, 0, 0, tzinfo=timezone.utc)
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        """Moves the clock forward by `seconds`."""
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
