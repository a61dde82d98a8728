"""Times `batch-tui --demo` from process start to the first screen with data.

The parent (`startup_table`) stamps `time.monotonic()` (system-wide on Linux) and spawns
`python bench/startup.py`, which goes the way `cli.run_app` goes for `--demo`, through the same
functions: `DemoLauncher.launch` (the demo emulator, `local` executor, starts in its background
thread and returns at once), then `cli.build_app` (imports the UI, builds `BatchApp` with the demo
account open), then `App.run`, here with the headless driver (`App.run(headless=True)`).
A `FrameProbe` stamps the first frame in which the overview shows pool rows and exits the app.
The emulator imports and seeds itself while the UI is imported and the app starts, so its own
time is inside the later columns.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from bench.ui_latency import CHILD_TIMEOUT, REPO, SCREEN_SIZE, FrameProbe  # noqa: E402

STARTUP_BUDGET = 1.5
"""DESIGN.md: `batch-tui --demo` to the first screen with data in under 1.5 s."""


def run_demo() -> dict[str, float]:
    """Starts the demo as `cli.run_app` does; returns monotonic stamps of each step."""
    stamps = {"main": time.monotonic()}
    from batch_tui.cli import DemoLauncher, build_app, build_parser
    from batch_tui.config import Settings

    args = build_parser().parse_args(["--demo"])
    with tempfile.TemporaryDirectory(prefix="batch-tui-demo-") as data_dir:
        demo = DemoLauncher(Path(data_dir))
        try:
            demo.launch()
            stamps["launched"] = time.monotonic()
            app = build_app(args, Settings(), demo)
            from batch_tui.ui.screens.overview import OverviewScreen

            stamps["built"] = time.monotonic()
            probe = FrameProbe(app)

            def pools_shown() -> bool:
                screen = app.screen
                shown = isinstance(screen, OverviewScreen) and screen.table.row_count > 0
                if shown and "data" not in stamps:
                    stamps["data"] = time.monotonic()
                    app.exit()
                return shown

            probe.expect_later(pools_shown)
            app.run(headless=True, size=SCREEN_SIZE)
        finally:
            demo.stop()
    if demo.failure is not None:
        raise RuntimeError(f"the demo emulator failed: {demo.failure!r}")
    return stamps


def child_env(pycache: Path) -> dict[str, str]:
    """The environment of a timed run: bytecode cached, as an installed package has it.

    `pip install` compiles every module, and Python caches what it compiles on a first run;
    the development environment may set PYTHONDONTWRITEBYTECODE, which would add compiling
    our ~110 modules (about 0.3 s) to every run. The cache goes to a temp dir, not the tree.
    """
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def spawn_demo(env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """Runs `run_demo` in a fresh process; returns the parent's start stamp and its stamps."""
    began = time.monotonic()
    done = subprocess.run([sys.executable, str(Path(__file__))], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the demo start-up failed:\n{done.stderr[-3000:]}")
    return began, json.loads(done.stdout.strip().splitlines()[-1])


def startup_table(runs: int) -> Any:
    """Starts the demo `runs` times, each in a fresh process; returns the table."""
    from bench.tables import Table, verdict

    table = Table(
        "`batch-tui --demo` to the first screen with data",
        ["run", "interpreter s", "launch s", "UI imports s", "app to pools s", "total s",
         "budget", "result"],
    )  # fmt: skip
    totals = []
    with tempfile.TemporaryDirectory(prefix="batch-tui-pycache-") as pycache:
        env = child_env(Path(pycache))
        spawn_demo(env)  # untimed: compiles and caches the bytecode
        for index in range(runs):
            began, s = spawn_demo(env)
            total = s["data"] - began
            totals.append(total)
            table.add(index + 1, s["main"] - began, s["launched"] - s["main"],
                      s["built"] - s["launched"], s["data"] - s["built"], total,
                      f"< {STARTUP_BUDGET} s", verdict(total < STARTUP_BUDGET))  # fmt: skip
    table.add("median", "", "", "", "", statistics.median(totals), f"< {STARTUP_BUDGET} s",
              verdict(statistics.median(totals) < STARTUP_BUDGET))  # fmt: skip
    table.notes += [
        "from the parent's clock just before spawning the process to the first frame in which "
        "the overview shows pool rows: interpreter start; the command line's imports and the "
        "demo emulator's launch; the UI's imports and the app built; the app to pools on "
        "screen (the emulator imports and seeds in its thread meanwhile)",
        "bytecode cached as after `pip install` (an untimed run first compiles it into a temp "
        "`PYTHONPYCACHEPREFIX`); with PYTHONDONTWRITEBYTECODE every run would also compile "
        "our modules",
        "the app runs with Textual's headless driver; each frame is still rendered to terminal "
        "bytes (see the key press table)",
    ]
    return table


if __name__ == "__main__":
    print(json.dumps(run_demo()))
