"""Runs the benchmarks at tiny sizes so their code paths keep working (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.listing import NODE_FIELDS, TASK_FIELDS
from bench.tables import MISS, PASS, Table

REPO = Path(__file__).resolve().parents[1]

TITLES = (
    "### Seeding the large scenario",
    "### List all tasks of `big-render`: batch-tui vs the official SDK",
    "### List all nodes of `nodes-10k`: batch-tui vs the official SDK",
    "### Emulator list throughput",
    "### Refresh of `big-render` where 1% changed vs a full list",
    "### Key press to next frame, headless app 120x40",
    "### Opening a big list in the app: first rows, all rows, memory",
    "### Open the tail of a big `stdout.txt` in the file viewer",
    "### Download node files (`w` on a file list)",
    "### Failure triage of `big-render`: group its failed tasks by signature",
    "### `batch-tui --demo` to the first screen with data",
    "### Hostile and big list pages: the client's peak memory",
    "### History: 50 pools and 500 jobs",
    "### A session of 1 min on `big-render` and `nodes-10k`: memory, CPU, reopening",
)
SMOKE_TIMEOUT = 400
"""Seconds the quick run may take: a dozen short client processes and four headless apps
on a slow CI machine."""


def test_quick_run_prints_every_table(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--out", str(out)],
        cwd=tmp_path,  # the script must find its own modules from anywhere
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for title in TITLES:
        assert title in done.stdout, title
    assert "| client" in done.stdout and "| budget" in done.stdout
    assert "azure-batch (sync)" in done.stdout and "azure-batch (aio)" in done.stdout
    for key in ("down (next row)", "pagedown", "s (sort by next column)", "enter (filter applies)"):
        assert f"| tasks of `big-render` | {key}" in done.stdout, key
    assert "| nodes of `nodes-10k`  | down (next row)" in done.stdout
    report = out.read_text(encoding="utf-8")
    assert report.startswith("# Benchmark results")
    assert all(title in report for title in TITLES)
    assert "Traceback" not in done.stderr


def test_table_renders_aligned_markdown_and_counts_misses() -> None:
    table = Table("Example", ["name", "seconds", "result"])
    table.add("a", 1.5, PASS)
    table.add("longer name", 12_345, MISS)
    lines = table.render().splitlines()
    assert lines[0] == "### Example"
    assert lines[2] == "| name        | seconds | result |"
    assert lines[4] == "| a           | 1.50    | PASS   |"
    assert lines[5] == "| longer name | 12,345  | MISS   |"
    assert table.misses == 1


def test_bench_selects_what_the_views_select() -> None:
    from batch_tui.ui.screens.nodes import NODE_LIST_FIELDS
    from batch_tui.ui.task_rows import TASK_FIELDS as VIEW_TASK_FIELDS

    assert TASK_FIELDS == VIEW_TASK_FIELDS
    assert NODE_FIELDS == NODE_LIST_FIELDS


def test_the_million_task_benchmark_runs_small(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "million.py"), "--tasks", "3000", "--samples", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for title in (
        "### Seeding `large-1m` (3,000 tasks in `big-render`)",
        "### List all 3,000 tasks (view fields), 20 ms latency",
        "### Key press to next frame with the 3,000-task list open",
        "### Opening the 3,000-task list in the app",
        "### Refresh of `big-render` where 1% changed vs a full list",
    ):
        assert title in done.stdout, title
    assert "| ranges of ids (`list_job_tasks`) | 3,000 " in done.stdout
    assert "| tasks of `big-render` | down (next row)" in done.stdout
    assert "Traceback" not in done.stderr
