"""Provides `until`: the one bounded wait for a condition that no event announces.

Most tests wait on something the test itself drives (a manual clock, Pilot's pauses). Some
wait on what happens elsewhere: a real task process exiting, a file a writer thread creates,
the demo emulator in its own thread reaching a state. Nothing signals those to the test's
event loop, so `until` checks the condition, lets the loop idle a moment, and checks again,
up to a deadline. The interval is how often it looks, not how long the test waits.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

Condition = Callable[[], bool | Awaitable[bool]]


async def until(
    condition: Condition, *, seconds: float = 10.0, every: float = 0.01, what: str = ""
) -> None:
    """Returns as soon as `condition()` holds (it may be a coroutine function).

    Raises:
        AssertionError: If it does not hold within `seconds`.
    """
    deadline = time.monotonic() + seconds
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if time.monotonic() > deadline:
            raise AssertionError(what or f"the condition did not hold within {seconds:g} s")
        await asyncio.sleep(every)  # the loop runs what reports the change meanwhile
