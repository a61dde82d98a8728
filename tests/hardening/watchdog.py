"""Provides `LoopWatchdog`: the longest step that blocked the event loop, and what it was."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any


class LoopWatchdog:
    """Watches the event loop for steps that block it, and says what they were.

    - `worst_step`: the most CPU time one loop step (a callback, or one step of a task between
      two awaits) took. Past the UI budget, no key was read and no frame drawn meanwhile. CPU
      time, not wall time: the OS giving the CPU to another process is not the app blocking.
    - `worst`: how late a coroutine sleeping `interval` at a time was woken (wall clock).
    - `slow`: every step of at least `stall_after` seconds: its CPU time, the part of it spent
      in garbage collection, when it ran, and the task with where it then waited.
    - `frames`: where the loop thread was, sampled by a thread beside the loop while a stall
      lasted (a collection holds the GIL, so it shows up in `slow` rather than here).
    """

    def __init__(self, interval: float = 0.01, stall_after: float = 0.05) -> None:
        self.interval = interval
        self.stall_after = stall_after
        self.worst = 0.0
        self.samples = 0
        self.worst_step = 0.0
        self.slow: list[tuple[float, str]] = []
        self.frames: Counter[str] = Counter()
        self.gc_seconds = 0.0
        self.started = 0.0
        self._gc_began = 0.0
        self._beat = 0.0
        self._loop_thread = threading.get_ident()
        self._task: asyncio.Task[None] | None = None
        self._sampler: threading.Thread | None = None
        self._stop = threading.Event()
        self._restore: Callable[[], None] = lambda: None

    def start(self) -> None:
        """Starts watching on the running loop."""
        self.started = self._beat = time.perf_counter()
        self._loop_thread = threading.get_ident()
        gc.callbacks.append(self._time_collections)
        self._time_steps()
        self._task = asyncio.get_running_loop().create_task(self._heartbeat())
        self._sampler = threading.Thread(target=self._sample, name="stall-sampler", daemon=True)
        self._sampler.start()

    async def stop(self) -> None:
        """Stops watching."""
        self._stop.set()
        self._restore()
        gc.callbacks.remove(self._time_collections)
        if self._sampler is not None:
            self._sampler.join()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def report(self, limit: int = 3) -> str:
        """The worst lag and step, the slowest steps and where the loop was in stalls."""
        parts = [
            f"worst lag {self.worst:.3f} s over {self.samples} samples; "
            f"longest loop step {self.worst_step:.3f} s of CPU"
        ]
        for took, what in sorted(self.slow, reverse=True)[:limit]:
            parts.append(f"--- a loop step ran {took:.3f} s: {what}")
        for where, count in self.frames.most_common(limit):
            parts.append(f"--- {count} samples in:\n{where}")
        return "\n".join(parts)

    async def _heartbeat(self) -> None:
        while True:
            start = time.perf_counter()
            self._beat = start
            await asyncio.sleep(self.interval)
            self._beat = now = time.perf_counter()
            self.worst = max(self.worst, now - start - self.interval)
            self.samples += 1

    def _sample(self) -> None:
        while not self._stop.wait(self.stall_after / 5):
            beat = self._beat
            if time.perf_counter() - beat < self.stall_after:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is not None and beat == self._beat:
                self.frames[_innermost(traceback.extract_stack(frame))] += 1

    def _time_steps(self) -> None:
        original = asyncio.events.Handle._run

        def timed(handle: asyncio.events.Handle) -> None:
            began, cpu, collecting = time.perf_counter(), time.thread_time(), self.gc_seconds
            original(handle)
            took, cpu = time.perf_counter() - began, time.thread_time() - cpu
            self.worst_step = max(self.worst_step, cpu)
            if took >= self.stall_after:
                at, in_gc = began - self.started, self.gc_seconds - collecting
                what = f"(cpu {cpu:.3f} s, gc {in_gc:.3f} s, at {at:.1f} s) {_describe(handle)}"
                self.slow.append((took, what))

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]
        self._restore = lambda: setattr(asyncio.events.Handle, "_run", original)

    def _time_collections(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.gc_seconds += time.perf_counter() - self._gc_began


def _describe(handle: asyncio.events.Handle) -> str:
    """Names a loop callback: a task, and where its coroutine waits now; or the function."""
    callback = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if not isinstance(task, asyncio.Task):
        return repr(callback)[:300]
    coro: Any = task.get_coro()
    frames = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            frames.append(f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return f"task {task.get_name()}, now waiting in " + " > ".join(frames[:6])


def _innermost(stack: traceback.StackSummary, depth: int = 6) -> str:
    """The innermost frames of a stack that are the app's or Textual's, as text."""
    ours = [f for f in stack if "batch_tui" in f.filename or "textual" in f.filename]
    return "".join(traceback.format_list(ours[-depth:]))
