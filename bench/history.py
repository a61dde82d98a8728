"""Measures the history's cost: the memory of its rings and the event loop's time per refresh.

`python -m bench.history` (or `python bench/history.py`; `run.py` runs it too) fills a
`History` as the overview would over `HOURS` hours of refreshes every `INTERVAL` seconds, for
`POOLS` pools and `JOBS` jobs (more samples than a ring holds: the rings are full and have
wrapped), and measures:

- the memory the rings hold (tracemalloc: every allocation, the arrays and the dicts), against
  the 5 MB budget;
- on the event loop, per refresh: sampling every pool and the overview's counted jobs
  (`MAX_COUNTED_JOBS`), drawing their trend cells and ETAs, and copying the rings for a save;
  each must stay under a frame at 60 Hz (`FRAME`): a key pressed during a refresh waits for
  less than the screen would take to show it;
- off the loop (in a thread): encoding and writing the file (0600, atomically), and its size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))  # run as a script: make `bench` and `batch_tui` importable

from batch_tui.batch.models.job import TaskCounts  # noqa: E402
from batch_tui.ui.history import History  # noqa: E402
from batch_tui.ui.history_store import history_file, load_history, save_history  # noqa: E402
from batch_tui.ui.history_view import job_eta_short, pool_trend  # noqa: E402
from batch_tui.ui.overview_reads import MAX_COUNTED_JOBS  # noqa: E402
from bench.tables import Table, verdict  # noqa: E402

POOLS = 50
JOBS = 500
HOURS = 8
INTERVAL = 10.0
"""The overview's default refresh (`config.Refresh.overview`)."""

MEMORY_BUDGET = 5_000_000
"""Issue 17: the history costs under 5 MB."""

FRAME = 1 / 60
"""A frame at 60 Hz: on-loop work under it does not delay a key measurably."""

ENDPOINT = "https://bench.westeurope.batch.azure.com"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _states(pool: int, step: int) -> dict[str, int]:
    # Numbers that move, with a bad node now and then: the rings hold real-looking samples.
    running = (pool * 7 + step) % 40
    return {"idle": 40 - running, "running": running, "offline": int(step % 97 == pool % 97)}


def _sample(history: History, step: int, jobs: range) -> None:
    when = START + timedelta(seconds=step * INTERVAL)
    nodes = {f"pool-{pool:03}": _states(pool, step) for pool in range(POOLS)}
    running = {f"pool-{pool:03}": (pool + step) % 50 for pool in range(POOLS)}
    history.record_pools(when, nodes, running)
    history.record_jobs(when, {f"job-{job:04}": step * (job % 13 + 1) for job in jobs})


def filled(steps: int) -> History:
    """A history after `steps` refreshes: every job sampled at each (the job list and the job
    screens sample beyond the overview's `MAX_COUNTED_JOBS`)."""
    history = History()
    for step in range(steps):
        _sample(history, step, range(JOBS))
    return history


def _median(action: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def _draw(history: History) -> None:
    for pool in range(POOLS):
        pool_trend(history.pool(f"pool-{pool:03}"))
    counts = TaskCounts(active=500, running=40, completed=1000, succeeded=990, failed=10)
    for job in range(MAX_COUNTED_JOBS):
        job_eta_short(history, f"job-{job:04}", counts)


def history_table(quick: bool = False) -> Table:
    """Measures the rings' memory and the history's work per refresh."""
    hours = 1 if quick else HOURS
    steps = int(hours * 3600 / INTERVAL)
    table = Table(
        f"History: {POOLS} pools and {JOBS} jobs, {hours} h of samples every {INTERVAL:.0f} s",
        ["measure", "value", "budget", "result"],
    )
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    history = filled(steps)
    held = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    rings = len(history.pools) + len(history.jobs)
    table.add(f"memory of {rings:,} rings (all allocations)", f"{held / 1e6:.2f} MB",
              f"< {MEMORY_BUDGET / 1e6:.2f} MB", verdict(held < MEMORY_BUDGET))  # fmt: skip
    table.add("of which samples (the arrays)", f"{history.nbytes / 1e6:.2f} MB", "-", "-")
    repeats = 5 if quick else 50
    step = steps
    sample = _median(lambda: _sample(history, step, range(MAX_COUNTED_JOBS)), repeats)
    draw = _median(lambda: _draw(history), repeats)
    dump = _median(history.dump, repeats)
    for name, seconds in (
        (f"sample a refresh ({POOLS} pools, {MAX_COUNTED_JOBS} jobs), on the loop", sample),
        (f"draw {POOLS} trends and {MAX_COUNTED_JOBS} ETAs, on the loop", draw),
        ("copy the rings for a save, on the loop", dump),
    ):
        table.add(name, f"{seconds * 1000:.2f} ms", f"< {FRAME * 1000:.1f} ms",
                  verdict(seconds < FRAME))  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = history_file(ENDPOINT, Path(folder))
        dumped = history.dump()
        write = _median(lambda: save_history(path, ENDPOINT, dumped), 3)
        size = path.stat().st_size
        read = _median(lambda: load_history(path, ENDPOINT), 3)
    table.add("encode and write the file (0600, atomic), in a thread", f"{write * 1000:.0f} ms",
              "-", "-")  # fmt: skip
    table.add("the file's size", f"{size / 1e6:.2f} MB", "-", "-")
    table.add("read it back at the first refresh, in a thread", f"{read * 1000:.0f} ms", "-", "-")
    table.notes.append(
        "each ring holds 720 samples (`history.CAPACITY`: 2 h at the overview's 10 s): 8 h of "
        "samples have wrapped every ring, so the memory is the most it gets; a pool's sample "
        "is 9 numbers (a time, 7 node states, the running tasks), a job's 2 (a time, completed)"
    )
    table.notes.append(
        "the saves run at most once a minute (`session.SNAPSHOT_EVERY`) and at exit; the "
        "sampling and drawing run once per refresh, not per key"
    )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one hour of samples")
    args = parser.parse_args(argv)
    table = history_table(args.quick)
    print(table.render())
    return 1 if table.misses else 0


if __name__ == "__main__":
    sys.exit(main())
