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

Freeing is work too: the 100,000 rows and tasks of a list the user leaves (another state
filter) take 60-100 ms to free by reference counting, all at once when the last reference
goes, on the key press. `drop_later()` takes the containers and frees them a few thousand
items per step of the event loop instead.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Collection
from typing import Any

GROWTH: float = 1.5
"""Collect everything when the frozen objects grew by this factor since the last time."""

MAX_UNFROZEN_BLOCKS: int = 300_000
"""`collect_garbage` skips its pass when this many more memory blocks are allocated than at
the last freeze: a big list is loading, and a pass over its rows would stall the loop. The
list's own `settle()` follows once it has loaded."""

DROP_CHUNK: int = 5_000
"""Items `drop_later` frees per step of the event loop (a few milliseconds)."""

_frozen_after_release = 0
_blocks_at_freeze = 0
_dropping: set[asyncio.Task[None]] = set()
"""The running `drop_later` tasks (the loop keeps only weak references to tasks)."""


def settle(*, startup: bool = False) -> None:
    """Freezes the objects alive now, after collecting the young generations' garbage.

    Args:
        startup: The app is starting (its mount, then its first screens with their data):
            what lives now is Textual, the modules and those screens, with little garbage
            among them. The growth since the last full collection is not checked: a full
            collection here would stall the loop (100 ms and more) to reclaim almost nothing.
    """
    global _frozen_after_release
    gc.collect(1)
    startup = startup or gc.get_freeze_count() == 0
    gc.freeze()
    _note_freeze()
    if startup:
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


def drop_later(*containers: Collection[Any] | None) -> None:
    """Frees what the dicts, lists and sets hold a chunk per step of the event loop.

    The caller must hold no other reference to them. Without a running loop (a test, the
    end of the app) they go at once.
    """
    kept = [c for c in containers if c]
    if not kept:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    task = loop.create_task(_drain(kept))
    _dropping.add(task)
    task.add_done_callback(_dropping.discard)


async def _drain(containers: list[Any]) -> None:
    for container in containers:
        while container:
            if isinstance(container, dict):
                for _ in range(min(DROP_CHUNK, len(container))):
                    container.popitem()
            elif isinstance(container, list):
                del container[-DROP_CHUNK:]
            else:  # a set
                for _ in range(min(DROP_CHUNK, len(container))):
                    container.pop()
            await asyncio.sleep(0)
