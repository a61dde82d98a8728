"""Provides the failures of the `large` scenario's tasks: eight realistic kinds, with their stderr.

A failed task of the scenario fails in one of `FAILURES`: a CUDA out-of-memory error, a
segfault (139), the kernel's OOM killer (137), a missing input file, a Python traceback, the
wall-clock timeout, an unreachable license server, and a full disk on one bad node (every
task of that kind ran on the same node). Each writes a `stderr.txt` whose last line varies
from task to task in its numbers, paths and times, as real logs do, so that triage has to
normalise them to group them. The tracebacks are longer than the 4 KiB a tail read takes.

The files are served by the `simulated` executor (`SimulatedExecutor.record_past_run`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from batch_tui.emulator.engine.runtime import TASK_ENDED, WALL_CLOCK_DETAIL, failure
from batch_tui.emulator.node.executors import KILLED_EXIT_CODE

Lines = Callable[[random.Random, int, datetime], list[str]]
"""Makes a failed run's stderr lines from the scenario's random source, the task's index and
when it ended."""


def _cuda_oom(rng: random.Random, index: int, ended: datetime) -> list[str]:
    asked, used = rng.uniform(0.5, 6.0), rng.uniform(9.0, 15.0)
    return [
        "Traceback (most recent call last):",
        '  File "/opt/render/denoise.py", line 212, in <module>',
        "    out = model(frame.cuda())",
        f"RuntimeError: CUDA out of memory. Tried to allocate {asked:.2f} GiB (GPU 0; 15.78 GiB "
        f"total capacity; {used:.2f} GiB already allocated; {15.78 - used:.2f} GiB free)",
    ]


def _segfault(rng: random.Random, index: int, ended: datetime) -> list[str]:
    pid = rng.randrange(1000, 60000)
    return [
        f"rendering frame {index} tile {rng.randrange(1, 65)}",
        f"/opt/render/bin/render.sh: line 41: {pid} Segmentation fault (core dumped) "
        f"renderer --frame {index} --threads 8",
    ]


def _oom_killed(rng: random.Random, index: int, ended: datetime) -> list[str]:
    pid = rng.randrange(1000, 60000)
    return [
        f"loading scene cache ({rng.uniform(10, 30):.1f} GB)",
        f"/opt/render/bin/render.sh: line 41: {pid} Killed python3 render.py --item {index}",
    ]


def _missing_input(rng: random.Random, index: int, ended: datetime) -> list[str]:
    shot = rng.randrange(1, 120)
    path = f"/mnt/batch/tasks/fsmounts/assets/shot{shot:03d}/frame_{index:06d}.usd"
    return [f"resolving inputs for item {index}", f"error: input file not found: {path}"]


_WARNING: Final = (
    "/usr/lib/python3/dist-packages/numpy/core/getlimits.py:500: UserWarning: The value of "
    "the smallest subnormal for <class 'numpy.float32'> type is zero."
)


def _traceback(rng: random.Random, index: int, ended: datetime) -> list[str]:
    # Warnings first, as a real job prints them: the file ends past 4 KiB, so its tail read
    # takes the file's size first.
    return [
        *([_WARNING] * 40),
        "Traceback (most recent call last):",
        '  File "/opt/render/manifest.py", line 88, in parse_item',
        "    frame = int(fields[3])",
        f"ValueError: invalid literal for int() with base 10: 'f{index:05d}x'",
    ]


def _timeout(rng: random.Random, index: int, ended: datetime) -> list[str]:
    passes = rng.randrange(1, 8)
    return [f"{ended:%H:%M:%S} frame {index}: denoise pass {p}/8" for p in range(1, passes + 1)]


def _license(rng: random.Random, index: int, ended: datetime) -> list[str]:
    return [
        f"{ended:%Y-%m-%dT%H:%M:%S}Z checking out license renderer-pro",
        f"{ended:%Y-%m-%dT%H:%M:%S}Z FATAL: license checkout failed: cannot connect to "
        f"license server 10.0.4.17:27000 (attempt {rng.randrange(1, 6)} of 5)",
    ]


def _disk_full(rng: random.Random, index: int, ended: datetime) -> list[str]:
    path = f"/mnt/batch/tasks/workitems/big-render/job-1/task-{index:06d}/wd/frame.exr"
    return [f"writing {path}", f"OSError: [Errno 28] No space left on device: '{path}'"]


@dataclass(frozen=True)
class FailureKind:
    """One way a task of the scenario fails.

    Attributes:
        name: What it is, for the docs and tests.
        weight: How often, relative to the others.
        exit_code: The task's exit code.
        stderr: Its stderr lines.
        failure_info: Its `failureInfo`, or None for the usual nonzero-exit one.
        one_node: Every task of this kind ran on the same node (a bad node).
    """

    name: str
    weight: float
    exit_code: int
    stderr: Lines
    failure_info: dict[str, Any] | None = None
    one_node: bool = False


FAILURES: Final = (
    FailureKind("cuda-oom", 30, 1, _cuda_oom),
    FailureKind("oom-killed", 20, KILLED_EXIT_CODE, _oom_killed),
    FailureKind("missing-input", 12, 2, _missing_input),
    FailureKind("traceback", 12, 1, _traceback),
    FailureKind("segfault", 8, 139, _segfault),
    FailureKind("timeout", 8, KILLED_EXIT_CODE, _timeout, failure(*TASK_ENDED, WALL_CLOCK_DETAIL)),
    FailureKind("license", 7, 1, _license),
    FailureKind("disk-full", 3, 1, _disk_full, one_node=True),
)
"""The scenario's kinds of failure and how often each happens."""

_WEIGHTS: Final = tuple(kind.weight for kind in FAILURES)


def pick_failure(rng: random.Random) -> FailureKind:
    """Picks a kind of failure, as often as its weight says."""
    return rng.choices(FAILURES, _WEIGHTS)[0]


def stdout_lines(index: int) -> list[str]:
    """The stdout of a failed run: what it did before it failed."""
    return [f"processing item {index}", "loading scene"]
