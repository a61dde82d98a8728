"""Tests the node list's `/` filter by column against the emulator: state and the start
task's result and exit code go to the service as `$filter`, the other columns filter here."""

from __future__ import annotations

from typing import Any

from tests.ui.jobs_fixtures import wait_for
from tests.ui.recording import Recorder
from tests.ui.support import open_nodes, pilot_settle, screen_text
from tests.ui.typing import burst, keys_of

FAILING_START = {"commandLine": "/bin/sh -c 'echo setup; exit 3'", "waitForSuccess": False}


def node_lists(recorder: Recorder, pool_id: str = "pool-a") -> list[dict[str, str]]:
    """The queries of the node list requests the emulator received."""
    return [r.query for r in recorder.requests if r.path == f"/pools/{pool_id}/nodes"]


async def filter_by(pilot: Any, screen: Any, text: str) -> None:
    """Types `/text` and enter in one burst and waits until the list is in again."""
    burst(pilot, ["slash", *keys_of(text), "enter"])
    await wait_for(pilot, lambda: screen.filter_text() == text)
    await pilot_settle(pilot)


async def test_start_task_terms_are_asked_of_the_service(
    make_app, seed_pool, recorder, emulator, settle
):
    nodes = await seed_pool("pool-a", 2, startTask=FAILING_START)
    records = emulator.store.nodes["pool-a"].values()
    await settle(lambda: all(r.data["startTaskInfo"]["state"] == "completed" for r in records))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_nodes(app, pilot)
        assert sorted(screen.table.visible_keys) == nodes
        recorder.clear()

        await filter_by(pilot, screen, "stexit:3 starttask:failure")
        query = node_lists(recorder)[-1]
        assert query["$filter"] == (
            "(startTaskInfo/exitCode eq 3) and (startTaskInfo/result eq 'failure')"
        )
        assert query["$select"].endswith(",startTaskInfo")  # a delta refresh tests it
        assert sorted(screen.table.visible_keys) == nodes
        assert "server: (startTaskInfo/exitCode eq 3)" in screen_text(app)

        await filter_by(pilot, screen, "stexit:0")
        assert node_lists(recorder)[-1]["$filter"] == "startTaskInfo/exitCode eq 0"
        assert list(screen.table.visible_keys) == []


async def test_state_goes_to_the_service_and_node_filters_here(make_app, seed_pool, recorder):
    nodes = await seed_pool("pool-a", 3)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_nodes(app, pilot)
        await filter_by(pilot, screen, "state:idle|running")
        assert node_lists(recorder)[-1]["$filter"] == "(state eq 'idle') or (state eq 'running')"
        assert sorted(screen.table.visible_keys) == nodes

        recorder.clear()
        await filter_by(pilot, screen, f"state:idle|running node:{nodes[1]}")
        assert node_lists(recorder) == []  # the same $filter: nothing asked again
        assert list(screen.table.visible_keys) == [nodes[1]]

        await filter_by(pilot, screen, "state:starttaskfailed")
        assert list(screen.table.visible_keys) == []

        burst(pilot, ["slash", *keys_of("state:sleeping"), "enter"])
        await wait_for(pilot, lambda: '"sleeping" is not one of idle' in screen_text(app))
        assert screen.filter_text() == "state:starttaskfailed"


async def test_a_list_filtered_to_one_state_presets_act_on_all_in_that_state(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_nodes(app, pilot)
        await filter_by(pilot, screen, "state:idle")
        assert screen.preset_state() == "idle"
        await filter_by(pilot, screen, "state:idle pri:ded")
        assert screen.preset_state() is None
        await filter_by(pilot, screen, "idle")
        assert screen.preset_state() == "idle"
