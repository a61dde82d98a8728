"""Ten times the scale: a 1,000,000-task job, listed, opened in the app, refreshed.

`python bench/million.py` (or `python bench/run.py --million`) seeds the `large-1m` scenario
(`big-render` with a million tasks; about 30 s and 2.8 GB for the emulator), serves it at
20 ms latency per request, and measures:

- listing all of it through the client: ranges of ids side by side (`list_job_tasks`, as the
  task view lists) against one stream (`list_tasks`), each in a process of its own;
- the app (headless, in a process of its own, as `bench/ui_latency.py` does) opening the job:
  time to the first rows and to all of them, RSS with the list open, key press to frame;
- a delta refresh after 1% of the tasks changed, against the full listing's bytes
  (`bench/refresh.py`).

It is not part of the normal `bench/run.py` run: it takes about 10 minutes, most of
it the emulator serving a million tasks several times over. `--tasks N` runs it smaller.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))  # run as a script: make `bench` and `batch_tui` importable

from bench.tables import Table, verdict  # noqa: E402

TASKS = 1_000_000
LATENCY = "latency:ms=20"
KEY_BUDGET_MS = 50.0
"""DESIGN.md: a key press to the next frame in under 50 ms (with a million rows too)."""
RSS_BUDGET_MB = 1024.0
"""Issue 16 item 5: the app with the 1,000,000-task list open under 1 GB RSS."""
DELTA_BUDGET = 0.05
KEY_SAMPLES = 20
APP_TIMEOUT = 1500.0
"""Seconds the app may take to load the whole job (`ui_latency`'s 600 s is for 100,000)."""


# -- the child: the app with the big job open ----------------------------------------------


async def measure_app(job: dict[str, Any]) -> dict[str, Any]:
    """Opens the job's task list in the headless app; times loading and keys, reads RSS."""
    import os

    from batch_tui.ui.screens.job_detail import JobDetailScreen
    from bench.ui_latency import (
        LOAD_TIMEOUT,
        SCREEN_SIZE,
        FrameProbe,
        bench_app,
        memory_mb,
        overview_ready,
        scroll_samples,
        sort_samples,
    )

    app = bench_app(job["url"], os.environ["BENCH_ACCOUNT"], os.environ["BENCH_KEY"])
    probe = FrameProbe(app)
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await overview_ready(pilot, probe)
        screen = JobDetailScreen(job["id"])

        def shown() -> bool:
            return app.screen is screen and screen.table.row_count > 0

        def loaded() -> bool:
            return shown() and not screen.streaming and not screen._refreshing

        began = time.perf_counter()
        app.show(screen)
        first = await probe.frame_when(shown, LOAD_TIMEOUT) - began
        everything = await probe.frame_when(loaded, APP_TIMEOUT) - began
        gc.collect()
        result: dict[str, Any] = {"rows": screen.table.total_count, "first": first}
        result.update(loaded=everything, memory=memory_mb())
        result["keys"] = await scroll_samples(pilot, probe, job["samples"])
        result["keys"]["s"] = await sort_samples(pilot, probe, max(2, job["samples"] // 4))
        result["memory_after_keys"] = memory_mb()
    return result


# -- the parent ----------------------------------------------------------------------------


def listing_rows(served: Any, table: Table) -> None:
    """Lists the big job with ranges of ids, then with one stream, each in its own process."""
    from batch_tui.emulator.scenarios.large import LARGE_JOB
    from bench.listing import TASK_FIELDS, run_worker

    runs = [run_worker(served, client, "tasks", LARGE_JOB, TASK_FIELDS)
            for client in ("ours-ranges", "ours")]  # fmt: skip
    ranges, stream = runs
    for name, run in (("ranges of ids (`list_job_tasks`)", ranges),
                      ("one stream (`list_tasks`)", stream)):  # fmt: skip
        table.add(name, run.items, run.meter.requests, run.seconds, run.megabytes, run.rss_mb,
                  f"{stream.seconds / run.seconds:.2f}x")  # fmt: skip


def app_tables(served: Any, samples: int, tasks: int) -> tuple[Table, Table]:
    from batch_tui.emulator.scenarios.large import LARGE_JOB
    from bench import ui_latency
    from bench.ui_latency import key_rows, spawn

    job = {"id": LARGE_JOB, "url": served.url, "samples": samples}
    # The child's whole run (load, keys) may take longer than `ui_latency`'s limit for a
    # 100,000-task list; `spawn` reads the limit from its module when it runs.
    ui_latency.CHILD_TIMEOUT = APP_TIMEOUT + 300
    out = spawn(Path(__file__), job, served.settings.account, served.settings.key)
    keys = Table(
        f"Key press to next frame with the {tasks:,}-task list open (headless, 120x40)",
        ["list", "key", "samples", "median ms", "p95 ms", "budget", "result"],
    )
    key_rows(keys, f"tasks of `{LARGE_JOB}`", out["keys"])
    keys.notes.append(
        "from just before `pilot.press(key)` to the first frame that shows its effect (as "
        "`bench/ui_latency.py`); `s` sorts the whole list by the next column"
    )
    opened = Table(
        f"Opening the {tasks:,}-task list in the app",
        ["rows", "first rows s", "all rows s", "RSS MB", "peak RSS MB", "RSS after keys MB",
         "budget", "result"],
    )  # fmt: skip
    memory, after = out["memory"], out["memory_after_keys"]
    worst = max(memory["rss"], after["rss"])
    opened.add(out["rows"], out["first"], out["loaded"], memory["rss"], memory["hwm"],
               after["rss"], f"RSS < {RSS_BUDGET_MB:.0f} MB",
               verdict(worst < RSS_BUDGET_MB and out["rows"] == tasks))  # fmt: skip
    opened.notes.append(
        "from `app.show(screen)` to the first frame with rows and to the frame after the last "
        "page; RSS (`VmRSS`) after a `gc.collect()`, and again after the keys (sorted); "
        "PASS needs every task listed, not only the RSS under budget"
    )
    return keys, opened


def main(argv: list[str] | None = None) -> int:
    from batch_tui.emulator.base.settings import EmulatorSettings
    from batch_tui.emulator.scenarios.large import LARGE_JOB, keep_seeded, seed_large
    from bench.refresh import refresh_table
    from bench.served import ServedEmulator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=TASKS, help="the big job's size")
    parser.add_argument("--samples", type=int, default=KEY_SAMPLES, help="samples per key")
    parser.add_argument(
        "--listing-only", action="store_true", help="only the listings (a few minutes)"
    )
    parser.add_argument("--app-only", action="store_true", help="only the app's tables")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    settings = EmulatorSettings(account="bench", executor="simulated", faults=LATENCY)
    served = ServedEmulator(settings)
    tables: list[Table] = []
    try:
        summary = keep_seeded(seed_large(served.emu, big_job_tasks=args.tasks))
        served.start()
        seeding = Table(f"Seeding `large-1m` ({args.tasks:,} tasks in `big-render`)",
                        ["tasks in the account", "seconds"])  # fmt: skip
        seeding.add(sum(summary.jobs.values()), summary.seconds)
        tables.append(emit(seeding))
        listing = Table(
            f"List all {args.tasks:,} tasks (view fields), 20 ms latency",
            ["listing", "items", "requests", "seconds", "MB received", "peak RSS MB",
             "faster than one stream"],
        )  # fmt: skip
        if not args.app_only:
            listing_rows(served, listing)
        listing.notes += [
            "each listing in a process of its own; requests and bytes counted at the server",
            "ranges of ids: the first page, then ranges cut from it and the task counts, 16 "
            "paging at once; the emulator serves one request at a time in one process, so "
            "past the latency the listings are bound by its time per page",
        ]
        if not args.app_only:
            tables.append(emit(listing))
        if not args.listing_only and not args.app_only:
            tables.append(emit(refresh_table(served, LARGE_JOB)))
        if not args.listing_only:
            tables += [emit(table) for table in app_tables(served, args.samples, args.tasks)]
    finally:
        served.stop()
    print(f"took {time.perf_counter() - began:.0f} s")
    return 0


def emit(table: Table) -> Table:
    print(table.render(), flush=True)
    return table


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("{"):
        print(json.dumps(asyncio.run(measure_app(json.loads(sys.argv[1])))))
    else:
        sys.exit(main())
