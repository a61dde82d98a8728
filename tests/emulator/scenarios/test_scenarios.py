"""Tests the demo scenario: what `batch-tui --demo` opens must show every kind of state."""

from __future__ import annotations

import asyncio
import contextlib
import io
from dataclasses import replace
from pathlib import Path

import pytest

from batch_tui.emulator import Emulator, build_emulator
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.scenarios.catalog import scenario
from tests.emulator.support import fast_timings
from tests.polling import until


def test_unknown_scenario_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'huge'; expected one of empty, demo"):
        scenario("huge")


async def test_demo_shows_failures_offline_nodes_and_progress(tmp_path: Path) -> None:
    timings = replace(fast_timings(), node_creating=0.05, node_starting=0.05)
    emu = build_emulator(
        EmulatorSettings(scenario="demo", executor="local", data_dir=tmp_path, timings=timings)
    )
    await emu.start()
    try:
        store = emu.store

        def node_states(pool: str) -> list[str]:
            return sorted(n.data["state"] for n in store.pool_nodes(pool).values())

        def task_states(job: str) -> list[str]:
            return [t.data["state"] for t in store.job_tasks(job).values()]

        def ready() -> bool:
            gpu = node_states("gpu-pool")
            etl = node_states("etl-pool")
            render = task_states("nightly-render")
            return (
                gpu == ["starttaskfailed", "starttaskfailed"]
                and "offline" in etl
                and "completed" in render
                and any(
                    t.data.get("executionInfo", {}).get("result") == "failure"
                    for t in store.job_tasks("nightly-render").values()
                )
                and store.jobs["backfill-2024"].data["state"] == "completed"
                and len(store.job_tasks("ingest-stream")) >= 1  # the director keeps adding work
            )

        with contextlib.suppress(AssertionError):  # the assert below says what is missing
            await until(ready, seconds=60, every=0.05)  # real processes run the tasks
        assert ready(), (node_states("gpu-pool"), node_states("etl-pool"))
        assert sorted(store.pools) == ["etl-pool", "gpu-pool", "render-pool"]
        assert len(store.job_tasks("etl-daily")) == 242
        # Tasks of the GPU job wait: their pool has no usable node.
        assert set(task_states("train-model")) == {"active"}
        # The failed start task left its error output on the node.
        gpu_node = next(iter(store.pool_nodes("gpu-pool").values()))
        stderr = b"".join(emu.engine.node_files(gpu_node).read("startup/stderr.txt", 0, None))
        assert b"nvidia-smi: command not found" in stderr
    finally:
        await stop_or_tell(emu)


async def stop_or_tell(emu: Emulator, seconds: float = 60.0) -> None:
    """Stops the emulator; if that hangs, fails with where every asyncio task waits (a CI
    run once timed out in this test with the loop idle, waiting on some task)."""
    try:
        await asyncio.wait_for(emu.stop(), seconds)
    except TimeoutError:
        stacks = io.StringIO()
        for task in asyncio.all_tasks():
            task.print_stack(file=stacks)
        pytest.fail(f"the emulator did not stop in {seconds:.0f} s; tasks:\n{stacks.getvalue()}")
