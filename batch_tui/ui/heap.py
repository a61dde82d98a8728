"""Keeps the garbage collector's pauses short: long-lived objects hidden, garbage taken early.

A full collection visits every object the collector tracks: Textual's and the imported
modules' own (about 100,000 once the app runs) plus a big list's rows (200,000 more for
100,000 tasks). That is 50-250 ms in which the event loop stands still, at whatever moment
the collector picks, such as a key press. `gc.freeze()` moves the objects alive at that
moment to a generation no collection visits: the app calls `settle()` once it has started
and a big list calls it when its rows stop changing. Frozen objects are still freed by
reference counting when they go (rows a refresh replaced); only garbage in reference cycles
that was frozen would stay, so when the frozen set has grown by half since the last full
collection, or a big list went away (`release()`), everything is collected once.

A closed screen is garbage in reference cycles (widgets and their parents, their render
caches): 1,000-5,000 objects each. Left to the collector's own schedule, tens of closed
screens pile up and go in one 60-90 ms pass; `collect_garbage()`, called shortly after a
screen closes, takes each screen's garbage in a pass of a few milliseconds.
"""

from __future__ import annotations

import gc
import sys

GROWTH: float = 1.5
"""Collect everything when the frozen objects grew by this factor since the last time."""

MAX_UNFROZEN_BLOCKS: int = 300_000
"""`collect_garbage` skips its pass when this many more memory blocks are allocated than at
the last freeze: a big list is loading, and a pass over its rows would stall the loop. The
list's own `settle()` follows once it has loaded."""

_frozen_after_release = 0
_blocks_at_freeze = 0


def settle() -> None:
    """Freezes the objects alive now, after collecting the young generations' garbage."""
    global _frozen_after_release
    gc.collect(1)
    first = gc.get_freeze_count() == 0
    gc.freeze()
    _note_freeze()
    if first:
        # The app has just started: what lives now is Textual, the modules and the first
        # screens, with little garbage among them. A full collection here would stall the
        # loop (~100 ms) to reclaim almost nothing.
        _frozen_after_release = gc.get_freeze_count()
    elif gc.get_freeze_count() > GROWTH * _frozen_after_release:
        release()


def release() -> None:
    """Thaws the frozen objects, collects every generation, and freezes what lives on."""
    global _frozen_after_release
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _note_freeze()
    _frozen_after_release = gc.get_freeze_count()


def collect_garbage() -> bool:
    """Collects the unfrozen generations now, unless a big list's rows are among them.

    Returns:
        Whether it collected.
    """
    if sys.getallocatedblocks() - _blocks_at_freeze > MAX_UNFROZEN_BLOCKS:
        return False
    gc.collect()
    return True


def _note_freeze() -> None:
    global _blocks_at_freeze
    _blocks_at_freeze = sys.getallocatedblocks()
