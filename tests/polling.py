"""Provides `until` and `wait_until`: the bounded waits for a condition no event announces.

Most tests wait on something the test itself drives (a manual clock, Pilot's pauses). Some
wait on what happens elsewhere: a real task process exiting, a file a writer thread creates,
the demo emulator in its own thread reaching a state. Nothing signals those to the test's
event loop, so `until` checks the condition, lets the loop idle a moment, and checks again,
up to a deadline. The interval is how often it looks, not how long the test waits.
`wait_until` is the same for code without an event loop (a test driving the official SDK,
whose calls block, against a server in a thread).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

Condition = Callable[[], bool | Awaitable[bool]]
T = TypeVar("T")


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


def wait_until(
    probe: Callable[[], T | None], *, seconds: float = 10.0, every: float = 0.01, what: str = ""
) -> T:
    """Returns the first truthy value of `probe()`, checking every `every` seconds.

    Raises:
        AssertionError: If none comes within `seconds`.
    """
    deadline = time.monotonic() + seconds
    pause = threading.Event()  # never set: its wait is the interval between two looks
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(what or f"the condition did not hold within {seconds:g} s")
        pause.wait(every)
