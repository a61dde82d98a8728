"""Times the UI on 100,000-row lists: key press to next frame, loading, and memory.

A child process (`python bench/ui_latency.py '<json>'`) runs the real app headless
(`App.run_test(size=(120, 40))`) against the served emulator, opens the job's task list or
the pool's node list, and prints one JSON line. The parent (`ui_tables`) spawns one child per
list, so each child's memory is the app's alone, and renders the tables.

What "next frame" means: Textual paints a screen from its update timer (60 per second) as a
`CompositorUpdate` handed to `App._display`. `FrameProbe` wraps `_display`: it renders the
update to terminal bytes as a real terminal driver would (headless mode skips that), stamps
the time, and checks whether the frame shows the state the key press asked for (the cursor
moved, the sort or filter applied). A key's latency is from just before `pilot.press(key)`
to the first frame that shows its effect: event dispatch, the action, layout, render and the
wait for the update timer are all inside it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

KEY_BUDGET_MS = 50.0
"""DESIGN.md: a key press (scroll, page, filter, sort) to the next frame in under 50 ms."""

RSS_BUDGET_MB = 300.0
"""DESIGN.md: memory with a 100,000-task job open under 300 MB RSS."""

SCREEN_SIZE = (120, 40)
FRAME_TIMEOUT = 30.0
"""Seconds to wait for one frame before the sample counts as missed (a hang, not a result)."""

LOAD_TIMEOUT = 600.0
CHILD_TIMEOUT = 900.0


# -- the probe and the app (used in the child processes) ------------------------------------


class FrameProbe:
    """Wraps `app._display`: renders, stamps and checks every frame the app paints."""

    def __init__(self, app: Any) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.frames = 0
        self.terminal_bytes = 0
        self._waits: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        self._watches: list[Callable[[], bool]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if isinstance(renderable, CompositorUpdate):
                # Headless mode skips this step; a terminal pays for it on every frame.
                self.terminal_bytes += len(renderable.render_segments(app.console))
            self.frames += 1
            self._check(time.perf_counter())
            original(screen, renderable)

        app._display = display

    def _check(self, stamp: float) -> None:
        self._watches = [condition for condition in self._watches if not condition()]
        for item in list(self._waits):
            condition, future = item
            if future.done() or condition():
                self._waits.remove(item)
                if not future.done():
                    future.set_result(stamp)

    def expect(self, condition: Callable[[], bool]) -> asyncio.Future[float]:
        """Returns a future set to the time of the first frame painted while `condition`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waits.append((condition, future))
        return future

    def expect_later(self, condition: Callable[[], bool]) -> None:
        """Checks `condition` on every frame until it holds, before any loop runs."""
        self._watches.append(condition)

    async def frame_when(self, condition: Callable[[], bool], timeout: float) -> float:
        """Waits (bounded) for the first frame that shows `condition`; returns its time."""
        return await asyncio.wait_for(self.expect(condition), timeout)


def bench_app(url: str, account: str, key: str) -> Any:
    """The app with the account open and refresh timers an hour long (only keys act)."""
    from batch_tui.accounts import AccountTarget
    from batch_tui.config import Refresh, Settings
    from batch_tui.ui.app import BatchApp
    from batch_tui.ui.session import open_session

    hour = 3600.0
    refresh = Refresh(
        overview=hour, pools=hour, nodes=hour, jobs=hour, tasks=hour, detail=hour, files=hour
    )
    target = AccountTarget(name="bench", url=url, account=account, auth="shared-key", key=key)
    return BatchApp(
        Settings(refresh=refresh),
        targets=[target],
        open_target=target,
        session_factory=open_session,
    )


def memory_mb() -> dict[str, float]:
    """This process's resident memory now (`VmRSS`) and at its peak (`VmHWM`), in MB."""
    found: dict[str, float] = {}
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return {"rss": float("nan"), "hwm": float("nan")}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return {"rss": found.get("VmRSS", float("nan")), "hwm": found.get("VmHWM", float("nan"))}


async def overview_ready(pilot: Any, probe: FrameProbe) -> None:
    """Waits until the overview has painted its pools."""
    from batch_tui.ui.screens.overview import OverviewScreen

    def ready() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, OverviewScreen) and screen.table.row_count > 0

    await probe.frame_when(ready, LOAD_TIMEOUT)
    await pilot.pause()


# -- key presses -------------------------------------------------------------------------


Condition = Callable[[], bool]


async def time_key(pilot: Any, probe: FrameProbe, key: str, done: Condition) -> float:
    """Milliseconds from pressing `key` to the first frame where `done()` holds."""
    await pilot.pause()  # paint what is pending first, so only this key's work is timed
    began = time.perf_counter()
    waiter = probe.expect(done)
    await pilot.press(key)
    return (await asyncio.wait_for(waiter, FRAME_TIMEOUT) - began) * 1000


async def scroll_samples(pilot: Any, probe: FrameProbe, samples: int) -> dict[str, list[float]]:
    """Times down, pagedown, end and home on the focused table."""
    table = pilot.app.screen.table
    times: dict[str, list[float]] = {"down": [], "pagedown": [], "end": [], "home": []}
    for _ in range(samples):
        before = table.cursor_index
        times["down"].append(
            await time_key(pilot, probe, "down", lambda b=before: table.cursor_index == b + 1)
        )
    for _ in range(samples):
        before = table.cursor_index
        times["pagedown"].append(
            await time_key(pilot, probe, "pagedown", lambda b=before: table.cursor_index > b)
        )
    for _ in range(samples):
        last = table.row_count - 1
        times["end"].append(
            await time_key(pilot, probe, "end", lambda n=last: table.cursor_index == n)
        )
        times["home"].append(await time_key(pilot, probe, "home", lambda: table.cursor_index == 0))
    return times


async def sort_samples(pilot: Any, probe: FrameProbe, samples: int) -> list[float]:
    """Times `s` (sort by the next column), `samples` times from the unsorted list."""
    table = pilot.app.screen.table
    times = []
    for _ in range(samples):
        before = (table.sort_column, table.sort_reverse)
        times.append(
            await time_key(
                pilot, probe, "s", lambda b=before: (table.sort_column, table.sort_reverse) != b
            )
        )
    table.sort_by(None)
    return times


async def filter_samples(
    pilot: Any, probe: FrameProbe, patterns: list[str]
) -> dict[str, list[float]]:
    """Times `/` (the filter opens), enter (the typed filter applies) and esc (it clears)."""
    screen = pilot.app.screen
    table = screen.table
    times: dict[str, list[float]] = {"/": [], "enter": [], "esc": []}
    for pattern in patterns:
        times["/"].append(
            await time_key(pilot, probe, "slash", lambda: screen.filter_input.has_focus)
        )
        await pilot.press(*pattern)
        if table.filter_pattern != pattern:  # the debounce did not apply it already
            times["enter"].append(
                await time_key(pilot, probe, "enter", lambda p=pattern: table.filter_pattern == p)
            )
        else:
            await pilot.press("enter")
        times["esc"].append(
            await time_key(pilot, probe, "escape", lambda: table.filter_pattern == "")
        )
    return times


async def state_samples(pilot: Any, probe: FrameProbe, samples: int) -> dict[str, list[float]]:
    """Times `5` (failed tasks, filtered by the service) and `1` (all again) on the task list:
    the key's frame shows the new state chosen; the rows follow as the service answers, each
    time waited for (bounded) before the next key."""
    screen = pilot.app.screen
    times: dict[str, list[float]] = {"5": [], "1": []}
    for _ in range(samples):
        for key, state in (("5", "failed"), ("1", "all")):
            times[key].append(
                await time_key(pilot, probe, key, lambda s=state: screen.state_key == s)
            )
            await probe.frame_when(lambda: not screen.streaming, LOAD_TIMEOUT)
    return times


# -- the child ---------------------------------------------------------------------------


async def measure_list(job: dict[str, Any]) -> dict[str, Any]:
    """Opens one list in the app, times its loading, reads memory, then times keys."""
    from batch_tui.ui.screens.job_detail import JobDetailScreen
    from batch_tui.ui.screens.nodes import NodesScreen

    app = bench_app(job["url"], os.environ["BENCH_ACCOUNT"], os.environ["BENCH_KEY"])
    probe = FrameProbe(app)
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await overview_ready(pilot, probe)
        is_tasks = job["kind"] == "tasks"
        screen = JobDetailScreen(job["id"]) if is_tasks else NodesScreen(job["id"])

        def shown() -> bool:
            return app.screen is screen and screen.table.row_count > 0

        def loaded() -> bool:
            done = not screen.streaming if is_tasks else screen.last_refreshed is not None
            return shown() and done and not screen._refreshing

        began = time.perf_counter()
        app.show(screen)
        first = await probe.frame_when(shown, LOAD_TIMEOUT) - began
        everything = await probe.frame_when(loaded, LOAD_TIMEOUT) - began
        gc.collect()
        result: dict[str, Any] = {"rows": screen.table.total_count, "first": first}
        result.update(loaded=everything, memory=memory_mb())
        result["keys"] = await scroll_samples(pilot, probe, job["samples"])
        result["keys"]["s"] = await sort_samples(pilot, probe, job["samples"])
        rounds = max(1, job["samples"] // 2)  # each pattern 10 times: a p95 of 3 is a max
        result["keys"].update(await filter_samples(pilot, probe, job["patterns"] * rounds))
        if is_tasks:  # last: `1` lists the whole job again each time
            result["keys"].update(await state_samples(pilot, probe, job["state_samples"]))
        result["frames"] = probe.frames
    return result


# -- the parent --------------------------------------------------------------------------


def spawn(script: Path, job: dict[str, Any], account: str, key: str) -> dict[str, Any]:
    """Runs a bench script in a process of its own; returns the JSON line it printed."""
    env = {**os.environ, "BENCH_ACCOUNT": account, "BENCH_KEY": key}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        env["XDG_CACHE_HOME"] = cache  # the app's snapshot of the bench account goes here
        done = subprocess.run(
            [sys.executable, str(script), json.dumps(job)],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} {job.get('kind', '')} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank): with few samples, the worst but one or so."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


KEY_LABELS = {
    "down": "down (next row)",
    "pagedown": "pagedown",
    "end": "end (last row)",
    "home": "home (first row)",
    "s": "s (sort by next column)",
    "/": "/ (filter input opens)",
    "enter": "enter (filter applies)",
    "esc": "esc (filter clears)",
    "5": "5 (failed tasks, the service filters)",
    "1": "1 (all tasks again)",
}


def key_rows(table: Any, name: str, keys: dict[str, list[float]]) -> None:
    """Adds one row per key: samples, median, p95, budget and verdict."""
    from bench.tables import verdict

    for key, label in KEY_LABELS.items():
        values = keys.get(key, [])
        if not values:
            continue
        worst = p95(values)
        table.add(name, label, len(values), statistics.median(values), worst,
                  f"p95 < {KEY_BUDGET_MS:.0f} ms", verdict(worst < KEY_BUDGET_MS))  # fmt: skip


def ui_tables(
    url: str, account: str, key: str, lists: list[tuple[str, str]], samples: int
) -> list[Any]:
    """Measures each (kind, id) list in its own child and returns the two tables."""
    from bench.tables import Table, verdict

    keys = Table(
        f"Key press to next frame, headless app {SCREEN_SIZE[0]}x{SCREEN_SIZE[1]}",
        ["list", "key", "samples", "median ms", "p95 ms", "budget", "result"],
    )
    loads = Table(
        "Opening a big list in the app: first rows, all rows, memory",
        ["list", "rows", "first rows s", "all rows s", "RSS MB", "peak RSS MB", "budget",
         "result"],
    )  # fmt: skip
    patterns = {
        "tasks": ["failed", "task-000042", "!completed"],
        "nodes": ["idle", "tvmps_ab", "!_d"],
    }
    for kind, ident in lists:
        job = {"kind": kind, "id": ident, "url": url, "samples": samples}
        job["patterns"] = patterns[kind]
        job["state_samples"] = max(2, samples // 4)  # each `1` lists the whole job again
        out = spawn(Path(__file__), job, account, key)
        name = f"{kind} of `{ident}`"
        key_rows(keys, name, out["keys"])
        memory = out["memory"]
        budget, ok = ("-", "-") if kind != "tasks" else (
            f"RSS < {RSS_BUDGET_MB:.0f} MB", verdict(memory["rss"] < RSS_BUDGET_MB))  # fmt: skip
        loads.add(name, out["rows"], out["first"], out["loaded"], memory["rss"], memory["hwm"],
                  budget, ok)  # fmt: skip
    keys.notes += [
        "from just before `pilot.press(key)` to the first frame that shows the key's effect "
        "(cursor moved, sort or filter applied): dispatch, action, layout, render to terminal "
        "bytes and the wait for Textual's 60 Hz update timer",
        "enter applies the typed filter at once (typing alone applies it after a 0.15 s "
        "debounce, by design); sort cycles through the columns from the unsorted list",
        "5 and 1: to the frame that shows the state chosen and the list emptied for it; the "
        "rows follow as the service answers (1 lists the whole job again, a stream per state)",
    ]
    loads.notes += [
        "from `app.show(screen)` to the first frame with rows, and to the frame after the "
        "last page; the client pages 1,000 at a time through the served emulator",
        "RSS (`VmRSS`) after the list loaded and a `gc.collect()`; peak is `VmHWM`; the "
        "app runs in a process of its own, imports included",
    ]
    return [keys, loads]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure_list(json.loads(sys.argv[1])))))
