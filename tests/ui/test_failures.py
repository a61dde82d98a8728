"""Tests failure triage end to end: real tasks fail on real nodes; the screen groups them.

The emulator runs the tasks as processes (`local`), so their `stderr.txt` are real files that
the screen reads by range. Nodes are switched off and on between batches so that one kind of
failure happens on one node only (a bad node) and another on both.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.failures import FailureGroupScreen, FailuresScreen
from batch_tui.ui.screens.job_detail import JobDetailScreen
from tests.ui.jobs_fixtures import ByteCounter, await_screen, open_screen, real_settle, sh, wait_for
from tests.ui.recording import Recorder
from tests.ui.support import pilot_settle, screen_text

pytestmark = pytest.mark.parametrize("executor", ["local"])  # stderr files are real files

DISK_FULL = 'echo "OSError: [Errno 28] No space left on device: /mnt/wd/out-{n}.exr" >&2; exit 1'
OOM = 'echo rendering; echo "error: out of memory in tile {n} (needed {n}.{n} GiB)" >&2; exit 137'


@pytest.fixture
def counter(recorder: Recorder) -> ByteCounter:
    return ByteCounter(httpx.ASGITransport(app=recorder))


@pytest.fixture
def transport(request: pytest.FixtureRequest, counter: ByteCounter) -> httpx.AsyncBaseTransport:
    # The test of cancelling holds the file reads; the others count them.
    if "gated" in request.fixturenames:
        return request.getfixturevalue("gated")  # type: ignore[no-any-return]
    return counter


def only_node(emulator: Any, nodes: list[str], on: str) -> None:
    """Lets tasks run on node `on` only."""
    for node in emulator.store.pool_nodes("pool-a").values():
        state = node.data.get("schedulingState")
        wanted = "enabled" if node.id == on else "disabled"
        if state != wanted:
            action = "enablescheduling" if wanted == "enabled" else "disablescheduling"
            emulator.engine.node_action(node, action, "taskcompletion")


async def run_batch(emulator: Any, clock: Any, tasks: dict[str, str]) -> None:
    add_tasks(emulator, "job-1", [{"id": i, "commandLine": sh(c)} for i, c in tasks.items()])
    records = emulator.store.tasks["job-1"]

    def done() -> bool:
        return all(records[i].data["state"] == "completed" for i in tasks)

    await real_settle(emulator, clock, done)


@pytest.fixture
async def failing_job(emulator: Any, seed_pool: Any, clock: Any) -> list[str]:
    """job-1: two disk-full failures on the first node, out-of-memory ones on both nodes
    (other numbers each time), one failure with an empty stderr, and a success."""
    nodes = await seed_pool("pool-a", 2)
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}})
    only_node(emulator, nodes, nodes[0])
    await run_batch(emulator, clock, {"disk-1": DISK_FULL.format(n=1),
                                      "disk-2": DISK_FULL.format(n=2),
                                      "oom-1": OOM.format(n=3), "ok-1": "echo fine"})  # fmt: skip
    only_node(emulator, nodes, nodes[1])
    await run_batch(emulator, clock, {"oom-2": OOM.format(n=7), "oom-3": OOM.format(n=9),
                                      "quiet-1": "exit 2"})  # fmt: skip
    return nodes


async def open_triage(app: Any, pilot: Any) -> FailuresScreen:
    screen = await open_screen(pilot, "failures job-1", FailuresScreen)
    await wait_for(pilot, lambda: not screen.listing and not list(screen.groups.pending()))
    await pilot_settle(pilot)
    return screen


def group_key(screen: FailuresScreen, text: str) -> str:
    return next(group.key for group in screen.groups.groups if text in group.signature.text)


async def test_failed_tasks_are_grouped_by_signature(failing_job, make_app, counter) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_triage(app, pilot)
        groups = {group.signature.text: group for group in screen.groups.groups}
        assert {text: len(group.tasks) for text, group in groups.items()} == {
            "error: out of memory in tile <n> (needed <n> GiB)": 3,
            "OSError: [Errno <n>] No space left on device: <path>": 2,
            "stderr empty": 1,
        }
        oom = groups["error: out of memory in tile <n> (needed <n> GiB)"]
        assert oom.signature.exit_code == 137 and oom.summary().one_node is None
        disk = groups["OSError: [Errno <n>] No space left on device: <path>"]
        assert disk.summary().one_node == failing_job[0]
        text = screen_text(app)
        assert "6 failed tasks in 3 groups" in text
        assert "one node" in text and "50.0%" in text and "no space left" in text.lower()
        # Every read of a stderr was a range read of its first 4 KiB (the files are short).
        assert counter.ranges and set(counter.ranges) == {"bytes=0-4095"}
        assert len(counter.ranges) == 6

        screen.table.move_cursor(oom.key)
        await pilot.press("enter")
        tasks = await await_screen(pilot, FailureGroupScreen)
        assert set(tasks.table.visible_keys) == {"oom-1", "oom-2", "oom-3"}
        await pilot.press("escape")
        await pilot_settle(pilot)
        assert app.screen is screen


async def test_reactivate_all_of_a_group_confirms_and_sends_each(
    failing_job, make_app, recorder
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_triage(app, pilot)
        screen.table.move_cursor(group_key(screen, "out of memory"))
        recorder.clear()
        await pilot.press("R")
        await pilot_settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        dialog = screen_text(app)
        assert "Reactivate" in dialog and "oom-1" in dialog and "out of memory" in dialog
        await pilot.press("y")
        await pilot_settle(pilot)
        posts = sorted(r.path for r in recorder.mutations())
        assert posts == [f"/jobs/job-1/tasks/oom-{n}/reactivate" for n in (1, 2, 3)]
        await wait_for(pilot, lambda: screen.groups.task("oom-1") is None)


async def test_more_than_ten_tasks_ask_for_their_count(
    emulator, seed_pool, clock, make_app, recorder
) -> None:
    await seed_pool("pool-a", 1)
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}})
    await run_batch(emulator, clock, {f"t{n:02d}": OOM.format(n=n) for n in range(12)})
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_triage(app, pilot)
        assert [len(group.tasks) for group in screen.groups.groups] == [12]
        recorder.clear()
        await pilot.press("ctrl+d")
        await pilot_settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot_settle(pilot)
        assert recorder.mutations() == []  # a `y` is not the count
        await pilot.press("backspace", "1", "2", "enter")
        await pilot_settle(pilot)
        deletes = [r for r in recorder.mutations() if r.method == "DELETE"]
        assert len(deletes) == 12
        await wait_for(pilot, lambda: len(screen.groups) == 0)


class GatedFiles(httpx.AsyncBaseTransport):
    """Holds every file read until `gate` is set; counts the reads that started."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.started = 0
        self.in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/files/" not in request.url.path:
            return await self.inner.handle_async_request(request)
        self.started += 1
        self.in_flight += 1
        try:
            await self.gate.wait()
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


@pytest.fixture
def gated(recorder: Recorder) -> GatedFiles:
    return GatedFiles(httpx.ASGITransport(app=recorder))


async def test_F_opens_triage_and_closing_it_cancels_the_reads(
    emulator, seed_pool, clock, make_app, gated
) -> None:
    await seed_pool("pool-a", 1)
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}})
    await run_batch(emulator, clock, {f"t{n:02d}": OOM.format(n=n) for n in range(40)})
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "tasks job-1", JobDetailScreen)
        await pilot.press("F")
        await wait_for(pilot, lambda: gated.in_flight > 0)
        screen = app.screen
        assert isinstance(screen, FailuresScreen)
        assert screen.groups.groups[0].signature.stderr == "pending"  # shown before any tail
        await wait_for(pilot, lambda: gated.in_flight == 16)  # the concurrency, not all 40
        await pilot.press("escape")
        await wait_for(pilot, lambda: gated.in_flight == 0)  # cancelled, not answered
        assert isinstance(app.screen, JobDetailScreen)
        started = gated.started
        gated.gate.set()
        for _ in range(10):
            await pilot.pause(0.02)
        assert gated.started == started == 16


async def test_read_only_hides_the_group_actions(failing_job, make_app, recorder) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_triage(app, pilot)
        assert screen.check_action("act", ("task.reactivate",)) is False
        assert screen.check_action("act", ("task.delete",)) is False
        assert "Reactivate" not in screen_text(app)
        recorder.clear()
        await pilot.press("R", "ctrl+d")
        await pilot_settle(pilot)
        assert recorder.mutations() == []


async def test_a_job_without_failures_says_so(emulator, seed_pool, clock, make_app) -> None:
    await seed_pool("pool-a", 1)
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}})
    await run_batch(emulator, clock, {"ok-1": "echo fine", "ok-2": "exit 0"})
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_triage(app, pilot)
        text = screen_text(app)
        assert "0 failed tasks in 0 groups" in text and "No failed tasks in this job." in text
