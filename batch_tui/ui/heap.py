"""Keeps the garbage collector's full passes short by hiding long-lived objects from it.

A full collection visits every object the collector tracks: Textual's and the imported
modules' own (about 100,000 once the app runs) plus a big list's rows (200,000 more for
100,000 tasks). That is 50-250 ms in which the event loop stands still, at whatever moment
the collector picks, such as a key press. `gc.freeze()` moves the objects alive at that
moment to a generation no collection visits: the app calls `settle()` once it has started
and a big list calls it when its rows stop changing. Frozen objects are still freed by
reference counting when they go (rows a refresh replaced); only garbage in reference cycles
that was frozen would stay, so when the frozen set has grown by half since the last full
collection, or a big list went away (`release()`), everything is collected once.
"""

from __future__ import annotations

import gc

GROWTH: float = 1.5
"""Collect everything when the frozen objects grew by this factor since the last time."""

_frozen_after_release = 0


def settle() -> None:
    """Freezes the objects alive now, after collecting the young generations' garbage."""
    gc.collect(1)
    gc.freeze()
    if gc.get_freeze_count() > GROWTH * _frozen_after_release:
        release()


def release() -> None:
    """Thaws the frozen objects, collects every generation, and freezes what lives on."""
    global _frozen_after_release
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _frozen_after_release = gc.get_freeze_count()
