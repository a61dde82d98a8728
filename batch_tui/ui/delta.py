"""Provides DeltaPlan: when a big list refreshes in full and when only what changed (pure).

A refresh of a 100,000-task job or a 10,000-node pool that lists everything moves tens of
megabytes; most of it did not change. Between full listings, a delta refresh asks only for
the items whose state changed since the latest change it has seen (`stateTransitionTime`,
the service's clock, so the two clocks never mix), less a margin: changes stamped just before
the latest one it saw, and those made while the last full listing ran (it took a while, and
each part of it saw the service at a different moment). Every `full_every` refreshes, a full
listing catches what a delta cannot see: deleted items, and counters that change without a
state change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

MARGIN: Final = timedelta(seconds=5)
"""Overlap of a delta with what was already seen."""


@dataclass
class DeltaPlan:
    """The state of one list's refreshes.

    Args:
        full_every: A full listing every this many refreshes.
    """

    full_every: int
    since: datetime | None = None
    """The latest state change seen; None until a full listing ended."""
    listing_seconds: float = 0.0
    """How long the last full listing took."""
    refreshes: int = 0

    def wants_full(self, *, forced: bool = False, big: bool = True) -> bool:
        """Counts a refresh and says whether it lists everything.

        Args:
            forced: The user asked (`r`): everything, now.
            big: The list spans more than one page; a small one is one request either way.
        """
        self.refreshes += 1
        due = self.refreshes % self.full_every == 0
        return self.since is None or forced or not big or due

    def changed_since(self) -> datetime:
        """Where a delta refresh starts: the latest change seen, less the margin."""
        assert self.since is not None, "a delta needs a full listing first"
        return self.since - MARGIN - timedelta(seconds=self.listing_seconds)

    def listed(self, stamps: Iterable[datetime | None], seconds: float) -> None:
        """Records a full listing: its items' `stateTransitionTime` and how long it took."""
        self.since = _latest(stamps)
        self.listing_seconds = seconds

    def changed(self, stamps: Iterable[datetime | None]) -> None:
        """Records a delta refresh's items."""
        latest = _latest(stamps)
        if latest is not None and (self.since is None or latest > self.since):
            self.since = latest

    def forget(self) -> None:
        """Starts over: the next refresh lists everything (a different filter, say)."""
        self.since = None


class Stamped(Protocol):
    """A listed item: a task or a node."""

    @property
    def state_transition_time(self) -> datetime | None: ...


def newer(item: Stamped, than: Stamped | None) -> bool:
    """Whether an item is newer than the copy already seen: a listing in parts can meet an
    item twice, in its old state and its new one."""
    if than is None or than.state_transition_time is None:
        return True
    stamp = item.state_transition_time
    return stamp is not None and stamp >= than.state_transition_time


def _latest(stamps: Iterable[datetime | None]) -> datetime | None:
    return max((stamp for stamp in stamps if stamp is not None), default=None)
