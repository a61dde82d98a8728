"""Snapshot tests of the shell's main screens: overview, pool tree, heatmap, node detail, dialog, help.

Deterministic: the emulator runs on a `ManualClock` seeded before the app starts (so ids, IPs and
times repeat), the app's `now` is that clock, and refresh timers never fire. Update with
`pytest tests/ui/test_snapshots_shell.py --snapshot-update` after checking the report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batch_tui.batch.cache import BatchCache
from batch_tui.batch.client import BatchClient
from batch_tui.batch.retry import RetryPolicy
from batch_tui.emulator import Emulator, build_emulator, create_app
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.pools import add_pool
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.ui.app import BatchApp
from batch_tui.ui.screens.heatmap import HeatmapScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.pools import PoolsScreen
from batch_tui.ui.session import AccountSession
from tests.ui.support import (
    TARGET,
    node_states,
    pilot_settle,
    pool_body,
    quiet_settings,
)


async def _seed(emu: Emulator, clock: ManualClock) -> None:
    add_pool(emu, pool_body("render", 24, startTask={"commandLine": "/bin/sh -c 'echo ok'"}))
    add_pool(emu, pool_body("gpu", 3))
    add_job(emu, {"id": "nightly-render", "poolInfo": {"poolId": "render"}})
    add_tasks(
        emu, "nightly-render", [{"id": f"frame-{i:03}", "commandLine": "render"} for i in range(40)]
    )
    add_job(emu, {"id": "broken-etl", "poolInfo": {"poolId": "gpu"}})
    add_tasks(emu, "broken-etl", [{"id": "load", "commandLine": "exit 2"}])
    for _ in range(400):
        if emu.store.tasks["broken-etl"]["load"].data["state"] == "completed":
            break
        clock.advance(0.05)
        await emu.engine.tick()
    # Some variety in the render pool: a node rebooting and one that is offline.
    render = sorted(node_states(emu, "render"))
    emu.engine.node_action(emu.store.nodes["render"][render[0].lower()], "reboot", None)
    emu.engine.node_action(
        emu.store.nodes["render"][render[1].lower()], "disablescheduling", "requeue"
    )
    await emu.engine.tick()


@pytest.fixture
def world(settings: EmulatorSettings, clock: ManualClock) -> Iterator[tuple[Emulator, ManualClock]]:
    emu = build_emulator(settings, clock)
    asyncio.run(_seed(emu, clock))
    yield emu, clock
    asyncio.run(emu.stop())


def make_app(world: tuple[Emulator, ManualClock]) -> BatchApp:
    emu, clock = world
    transport = httpx.ASGITransport(app=create_app(emu))

    def factory(target: Any) -> AccountSession:
        client = BatchClient.with_shared_key(
            target.url, target.account, target.key, transport=transport,
            retry=RetryPolicy(max_attempts=1),
        )  # fmt: skip
        return AccountSession(target, client, BatchCache(client, ttl=0.0))

    return BatchApp(
        quiet_settings(), targets=[TARGET], open_target=TARGET, session_factory=factory,
        now=clock.now,
    )  # fmt: skip


async def settled(pilot: Any) -> None:
    await pilot_settle(pilot)


def first_node(world: tuple[Emulator, ManualClock]) -> str:
    return sorted(node_states(world[0], "render"))[2]


def test_overview(snap_compare, world):
    assert snap_compare(make_app(world), terminal_size=(100, 30), run_before=settled)


def test_overview_80x24(snap_compare, world):
    assert snap_compare(make_app(world), terminal_size=(80, 24), run_before=settled)


def test_pool_tree(snap_compare, world):
    async def open_tree(pilot: Any) -> None:
        await settled(pilot)
        pilot.app.show(PoolsScreen())
        await settled(pilot)
        await pilot.press("enter", "down", "enter")
        await settled(pilot)

    assert snap_compare(make_app(world), terminal_size=(100, 30), run_before=open_tree)


def test_heatmap(snap_compare, world):
    async def open_heatmap(pilot: Any) -> None:
        await settled(pilot)
        pilot.app.show(HeatmapScreen("render"))
        await settled(pilot)

    assert snap_compare(make_app(world), terminal_size=(80, 24), run_before=open_heatmap)


def test_node_detail(snap_compare, world):
    node_id = first_node(world)

    async def open_node(pilot: Any) -> None:
        await settled(pilot)
        pilot.app.show(NodeDetailScreen("render", node_id))
        await settled(pilot)

    assert snap_compare(make_app(world), terminal_size=(100, 40), run_before=open_node)


def test_confirm_dialog(snap_compare, world):
    node_id = first_node(world)

    async def open_dialog(pilot: Any) -> None:
        await settled(pilot)
        pilot.app.show(NodeDetailScreen("render", node_id))
        await settled(pilot)
        await pilot.press("b", "2")
        await settled(pilot)

    assert snap_compare(make_app(world), terminal_size=(80, 24), run_before=open_dialog)


def test_help(snap_compare, world):
    async def open_help(pilot: Any) -> None:
        await settled(pilot)
        await pilot.press("question_mark")
        await settled(pilot)

    assert snap_compare(make_app(world), terminal_size=(100, 40), run_before=open_help)
