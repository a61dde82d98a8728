"""Times failure triage of the large scenario's big job: 10,000 failed tasks, 8 kinds of failure.

The parent (`triage_table`) uses the emulator `run.py` serves (uvicorn on loopback, 20 ms of
injected latency per request). A child (`python bench/triage.py '<json>'`) runs the app
headless, waits for the overview, then opens `FailuresScreen` on the job and reports the time
from `push_screen` to the first frame showing groups, the time until every failed task's
stderr tail has been read and classified, the groups, and its memory growth. The parent
counts the requests the emulator served meanwhile.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from bench.ui_latency import (  # noqa: E402
    LOAD_TIMEOUT,
    SCREEN_SIZE,
    FrameProbe,
    bench_app,
    memory_mb,
    overview_ready,
    spawn,
)

FIRST_BUDGET = 1.0
"""The first groups on screen in under 1 s."""

ALL_BUDGET = 20.0
"""Every failed task classified (its stderr tail read) in under 20 s."""

MEMORY_BUDGET_MB = 100.0
"""Extra memory for triaging 10,000 failed tasks."""


async def measure_triage(job: dict[str, Any]) -> dict[str, Any]:
    """Opens failure triage on the job; returns the times, groups and memory growth."""
    from batch_tui.ui.screens.failures import FailuresScreen

    app = bench_app(job["url"], os.environ["BENCH_ACCOUNT"], os.environ["BENCH_KEY"])
    probe = FrameProbe(app)
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await overview_ready(pilot, probe)
        gc.collect()
        before = memory_mb()["rss"]
        screen = FailuresScreen(job["id"])

        def shown() -> bool:
            return app.screen is screen and screen.table.row_count > 0

        def classified() -> bool:
            groups = screen.groups
            return shown() and not screen.listing and not any(True for _ in groups.pending())

        began, cpu = time.perf_counter(), time.process_time()
        app.show(screen)
        first = await probe.frame_when(shown, LOAD_TIMEOUT) - began
        everything = await probe.frame_when(classified, LOAD_TIMEOUT) - began
        cpu = time.process_time() - cpu
        peak = memory_mb()["hwm"]
        groups = [
            (len(group.tasks), group.signature.exit_code, group.signature.text)
            for group in screen.groups.groups
        ]
    return {
        "first": first,
        "all": everything,
        "failed": len(screen.groups),
        "tails": screen.tails_read,
        "groups": groups,
        "growth": peak - before,
        "cpu": cpu,
        "load": os.getloadavg()[0],
    }


def triage_table(served: Any, job_id: str) -> Any:
    """Runs the child against `served` and makes the table."""
    from bench.tables import Table, verdict

    account, key = served.settings.account, served.settings.key
    before = served.counter.read()
    result = spawn(Path(__file__), {"url": served.url, "id": job_id}, account, key)
    served_requests = (served.counter.read() - before).requests
    table = Table(
        f"Failure triage of `{job_id}`: group its failed tasks by signature",
        ["step", "failed tasks", "groups", "requests", "seconds", "MB", "budget", "result"],
    )
    groups = len(result["groups"])
    first, everything, growth = result["first"], result["all"], result["growth"]
    table.add("first groups on screen", result["failed"], "-", "-", first, "-",
              f"< {FIRST_BUDGET:.0f} s", verdict(first < FIRST_BUDGET))  # fmt: skip
    table.add("every stderr tail read and classified", result["failed"], groups, served_requests,
              everything, "-", f"< {ALL_BUDGET:.0f} s", verdict(everything < ALL_BUDGET))  # fmt: skip
    table.add("memory growth (peak RSS less RSS before)", result["failed"], groups, "-", "-",
              growth, f"< {MEMORY_BUDGET_MB:.0f} MB", verdict(growth < MEMORY_BUDGET_MB))  # fmt: skip
    biggest = ", ".join(f"{count:,} × exit {code}: {text[:50]}" for count, code, text in
                        result["groups"][:3])  # fmt: skip
    table.notes.append(
        "the app headless at 120x40 with its own process; requests: every request the emulator "
        "served from opening the screen to the end (the failed-task listing, one range read "
        "per tail, plus a HEAD and a second range read for a stderr longer than 4 KiB)"
    )
    table.notes.append(f"biggest groups: {biggest}")
    table.notes.append(
        f"the app used {result['cpu']:.1f} s of CPU meanwhile; the machine's load average was "
        f"{result['load']:.1f} at the end (2 CPUs shared with the emulator and other work)"
    )
    return table


def child_main() -> None:
    job = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(measure_triage(job))))


if __name__ == "__main__":
    child_main()
