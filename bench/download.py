"""Times downloading node files of several sizes (`w` on a file list) and measures the memory.

The parent (`download_table`) serves a `local`-executor emulator with uvicorn on loopback (so
the bytes really travel over a socket) and writes node files of each size: sparse, but for
their last `TAIL_BYTES` of real bytes. For each file a child (`python bench/download.py
'<json>'`) downloads it with the app's own `Downloader` (no UI: the same code `w` runs) into a
temporary folder, and reports the seconds, the bytes, its peak memory growth and the file's
SHA-256, which the parent compares with the source's. One more row downloads a file through a
connection the emulator's fault injector resets once mid-body: the download resumes by range.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from bench.file_tail import POOL, _pool_body, _size_label, _wait_idle_node  # noqa: E402
from bench.ui_latency import memory_mb, spawn  # noqa: E402

PEAK_BUDGET_MB = 32.0
"""The most the download may grow the process's peak memory, whatever the file's size: a few
1 MiB chunks in flight and the client's buffers, far below the file."""

TAIL_BYTES = 1024 * 1024
"""Real (random) bytes at the end of each file, so a wrong offset shows in the hash."""

HASH_BLOCK = 8 * 1024 * 1024


def write_file(path: Path, size: int) -> str:
    """A file of `size` bytes, sparse but for its random end; returns its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tail = os.urandom(min(size, TAIL_BYTES))
    with path.open("wb") as handle:
        handle.truncate(size - len(tail))
        handle.seek(size - len(tail))
        handle.write(tail)
    return sha256(path)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


# -- the child ---------------------------------------------------------------------------


def reset_peak() -> bool:
    """Makes `VmHWM` start again from the current RSS (Linux 4.0+); False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


async def measure_download(job: dict[str, Any]) -> dict[str, Any]:
    """Downloads one node file into a temporary folder; returns the time, memory and hash."""
    from batch_tui.batch import BatchClient, RetryPolicy
    from batch_tui.ui.byte_sources import NodeFiles
    from batch_tui.ui.download_plan import DownloadPlan, PlannedFile
    from batch_tui.ui.downloads import Downloader

    account, key = os.environ["BENCH_ACCOUNT"], os.environ["BENCH_KEY"]
    retry = RetryPolicy(max_attempts=1)  # the downloader's own attempts resume the file
    async with BatchClient.with_shared_key(job["url"], account, key, retry=retry) as client:
        planned = PlannedFile(job["path"], ("file.bin",), job["size"])
        plan = DownloadPlan(NodeFiles(POOL, job["node"]), (planned,))
        with tempfile.TemporaryDirectory(prefix="bench-download-") as folder:
            await client.get_node_file_properties(POOL, job["node"], job["path"])  # warm up
            before = memory_mb()
            peak_reset = reset_peak()
            began = time.perf_counter()
            result = await Downloader(client, plan, Path(folder)).run()
            seconds = time.perf_counter() - began
            after = memory_mb()
            target = Path(folder) / "file.bin"
            digest = sha256(target) if target.exists() else ""
    peak = after["hwm"] if peak_reset else after["rss"]
    return {
        "seconds": seconds,
        "bytes": result.bytes,
        "failed": [f"{f.remote}: {f.reason}" for f in result.failed],
        "peak_growth": peak - before["rss"],
        "peak_measured": peak_reset,
        "sha256": digest,
    }


# -- the parent --------------------------------------------------------------------------


def download_table(latency_ms: int, big: int) -> Any:
    """Serves a local emulator with node files up to `big` bytes; returns the table."""
    from batch_tui.emulator.base.settings import EmulatorSettings, Timings
    from batch_tui.emulator.ops.pools import add_pool
    from bench.served import ServedEmulator
    from bench.tables import Table, verdict

    table = Table(
        "Download node files (`w` on a file list)",
        ["file", "bytes", "requests", "seconds", "MB/s", "peak RSS delta MB", "budget", "result"],
    )
    sizes = sorted({1024 * 1024, min(64 * 1024**2, big), big})
    resumed = min(64 * 1024**2, big)
    with tempfile.TemporaryDirectory(prefix="bench-download-src-") as folder:
        timings = Timings(tick=0.05, node_creating=0.05, node_starting=0.05)
        settings = EmulatorSettings(account="files", executor="local", data_dir=Path(folder),
                                    timings=timings, faults=f"latency:ms={latency_ms}")  # fmt: skip
        served = ServedEmulator(settings)
        add_pool(served.emu, _pool_body())
        with served:
            node = _wait_idle_node(served)
            root = Path(folder) / "nodes" / node
            runs: list[tuple[str, int, dict[str, Any], str]] = []
            for size in sizes:
                path = f"shared/dl/{size}.bin"
                digest = write_file(root / path, size)
                job = {"url": served.url, "node": node, "path": path, "size": size}
                before = served.counter.read()
                out = spawn(Path(__file__), job, "files", settings.key)
                out["requests"] = (served.counter.read() - before).requests
                runs.append((_size_label(size), size, out, digest))
            # A reset mid-body (the injector's `reset`, on a real socket): the download resumes.
            path = f"shared/dl/{resumed}.bin"
            served.injector.set_plan(
                f"latency:ms={latency_ms};reset:count=1:after={resumed // 2}"
                f":path=GET /pools/*/nodes/*/files/**"
            )
            job = {"url": served.url, "node": node, "path": path, "size": resumed}
            before = served.counter.read()
            out = spawn(Path(__file__), job, "files", settings.key)
            out["requests"] = (served.counter.read() - before).requests
            runs.append((f"{_size_label(resumed)}, reset once mid-file", resumed, out,
                         sha256(root / path)))  # fmt: skip
    for label, size, out, digest in runs:
        seconds = out["seconds"]
        whole = out["sha256"] == digest and not out["failed"]
        ok = whole and out["peak_growth"] <= PEAK_BUDGET_MB
        table.add(label, size, out["requests"], seconds, size / 1e6 / seconds if seconds else 0.0,
                  out["peak_growth"], f"≤ {PEAK_BUDGET_MB:.0f} MB, same hash",
                  verdict(ok))  # fmt: skip
    table.notes += [
        "node files served over HTTP by a `local`-executor emulator (uvicorn on loopback, "
        f"{latency_ms} ms injected latency per request), sparse but for their last "
        f"{TAIL_BYTES // 1024} KiB of random bytes; each downloaded by `ui.downloads.Downloader` "
        "(what `w` runs) in a process of its own, written to `NAME.part`, fsynced, renamed",
        "peak RSS delta: the child's `VmHWM` after the download (reset through "
        "`/proc/self/clear_refs` just before it) minus its `VmRSS` before; the verdict also "
        "needs the downloaded file's SHA-256 to equal the source's",
        "requests: as the emulator counted them, a HEAD (to warm the connection, before the "
        "clock starts) and the GETs; the reset row: the emulator's fault injector cuts the "
        "first GET of the file after half its bytes (a TCP reset); the downloader waits "
        "0.5 s and asks for the rest with `ocp-range` and `If-Unmodified-Since`",
    ]
    return table


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure_download(json.loads(sys.argv[1])))))
