"""Times opening the tail of a huge `stdout.txt` in the file viewer, against a small one.

The parent (`file_tail_table`) serves a `local`-executor emulator with uvicorn on loopback
(so the bytes really travel) and writes two files into its node's directory: a big one
(sparse up to its last `TAIL_BYTES`, which are real lines) and a 1 MiB one. For each file a
child (`python bench/file_tail.py '<json>'`) runs the app headless, waits for the overview,
then opens `FileViewerScreen` on the node file several times and reports the time from
`push_screen` to the first frame showing the file's last line, and its memory growth.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
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

OPEN_BUDGET = 0.5
"""DESIGN.md: open the tail of a 1 GiB `stdout.txt` in under 0.5 s."""

GROWTH_SLACK_MB = 8.0
"""How much more memory the big file may cost than the small one and still count as
independent of size: allocator noise, far below the 1,024 MB a whole read would take."""

TAIL_BYTES = 512 * 1024
"""Real text at the end of the big file: more than one range read of the viewer."""

POOL = "files"
LINE = "frame {index:07d} rendered in 1.234 s; samples=1024 bounces=8 denoise=on\n"
LAST_LINE = "the last line of the file"


def text_block(size: int) -> bytes:
    """Log lines filling `size` bytes, ending with `LAST_LINE`."""
    end = f"{LAST_LINE}\n".encode()
    lines, used, index = [], len(end), 0
    while used < size:
        line = LINE.format(index=index).encode()
        lines.append(line)
        used += len(line)
        index += 1
    return (b"".join(lines) + end)[-size:]


def write_file(path: Path, size: int) -> None:
    """A file of `size` bytes: sparse, then real lines at the end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tail = text_block(min(size, TAIL_BYTES))
    with path.open("wb") as handle:
        handle.truncate(size - len(tail))
        handle.seek(size - len(tail))
        handle.write(tail)


# -- the child ---------------------------------------------------------------------------


async def measure_open(job: dict[str, Any]) -> dict[str, Any]:
    """Opens the file `job["repeats"]` times; returns the times and the memory growth."""
    from batch_tui.ui.byte_sources import NodeFileRef
    from batch_tui.ui.screens.file_viewer import FileViewerScreen

    app = bench_app(job["url"], os.environ["BENCH_ACCOUNT"], os.environ["BENCH_KEY"])
    probe = FrameProbe(app)
    times: list[float] = []
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await overview_ready(pilot, probe)
        overview = app.screen
        gc.collect()
        before = memory_mb()
        for _ in range(job["repeats"]):
            screen = FileViewerScreen(NodeFileRef(POOL, job["node"], job["path"]))

            def tail_shown(screen: Any = screen) -> bool:
                return app.screen is screen and LAST_LINE in "".join(screen.viewer.visible_lines)

            began = time.perf_counter()
            app.push_screen(screen)
            times.append(await probe.frame_when(tail_shown, LOAD_TIMEOUT) - began)
            await pilot.pause()
            app.pop_screen()
            await probe.frame_when(lambda: app.screen is overview, LOAD_TIMEOUT)
        gc.collect()
        after = memory_mb()
    return {"times": times, "growth": after["rss"] - before["rss"], "rss": after["rss"]}


# -- the parent --------------------------------------------------------------------------


def file_tail_table(latency_ms: int, big: int, repeats: int) -> Any:
    """Serves a local emulator with a `big`-byte and a 1 MiB file; returns the table."""
    from batch_tui.emulator.base.settings import EmulatorSettings, Timings
    from batch_tui.emulator.ops.pools import add_pool
    from bench.served import ServedEmulator
    from bench.tables import Table, verdict

    table = Table(
        "Open the tail of a big `stdout.txt` in the file viewer",
        ["file", "bytes", "opens", "first s", "median s", "max s", "RSS growth MB", "budget",
         "result"],
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-files-") as folder:
        timings = Timings(tick=0.05, node_creating=0.05, node_starting=0.05)
        settings = EmulatorSettings(account="files", executor="local", data_dir=Path(folder),
                                    timings=timings, faults=f"latency:ms={latency_ms}")  # fmt: skip
        served = ServedEmulator(settings)
        add_pool(served.emu, _pool_body())
        with served:
            node = _wait_idle_node(served)
            root = Path(folder) / "nodes" / node
            results = []
            for label, size in (("1 MiB", 1024 * 1024), (_size_label(big), big)):
                path = f"shared/{label.replace(' ', '')}/stdout.txt"
                write_file(root / path, size)
                job = {"url": served.url, "node": node, "path": path, "repeats": repeats}
                results.append((label, size, spawn(Path(__file__), job, "files", settings.key)))
    small_growth = results[0][2]["growth"]
    for label, size, out in results:
        times = out["times"]
        independent = out["growth"] <= small_growth + GROWTH_SLACK_MB
        ok = statistics.median(times) < OPEN_BUDGET and independent
        table.add(label, size, len(times), times[0], statistics.median(times), max(times),
                  out["growth"], f"< {OPEN_BUDGET} s, same memory", verdict(ok))  # fmt: skip
    table.notes += [
        "a node file served over HTTP by a `local`-executor emulator (uvicorn on loopback, "
        f"{latency_ms} ms injected latency per request); the big file is sparse but for its "
        f"last {TAIL_BYTES // 1024} KiB of real lines",
        "time from `push_screen(FileViewerScreen(...))` to the first frame showing the last "
        "line; the verdict takes the median; RSS growth is `VmRSS` after the opens minus "
        "before (the app in its own process)",
        f"memory counts as independent of size when the big file grows RSS by at most "
        f"{GROWTH_SLACK_MB:.0f} MB more than the 1 MiB file",
    ]
    return table


def _pool_body() -> dict[str, Any]:
    image = {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy",
             "sku": "22_04-lts", "version": "latest"}  # fmt: skip
    config = {"imageReference": image, "nodeAgentSKUId": "batch.node.ubuntu 22.04"}
    return {"id": POOL, "vmSize": "STANDARD_D2S_V3", "targetDedicatedNodes": 1,
            "virtualMachineConfiguration": config}  # fmt: skip


def _wait_idle_node(served: Any) -> str:
    """Waits (bounded) until the pool's node is idle; returns its id."""
    for _ in range(1000):
        nodes = list(served.emu.store.nodes.get(POOL, {}).values())
        if nodes and nodes[0].data["state"] == "idle":
            return str(nodes[0].data["id"])
        time.sleep(0.02)
    raise RuntimeError("the file benchmark's node did not become idle")


def _size_label(size: int) -> str:
    if size >= 1024**3:
        return f"{size // 1024**3} GiB"
    return f"{size // 1024**2} MiB"


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure_open(json.loads(sys.argv[1])))))
