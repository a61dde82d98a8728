"""Tests the task list's `/` filter by column against the emulator: exit codes and states go
to the service as `$filter`, node/id/failure terms filter here, a bad term says why."""

from __future__ import annotations

from typing import Any

from batch_tui.emulator import Emulator
from batch_tui.ui.screens.job_detail import JobDetailScreen
from tests.ui.jobs_fixtures import open_job, shows, wait_for
from tests.ui.recording import Recorder
from tests.ui.support import pilot_settle, screen_text
from tests.ui.typing import burst, keys_of

EXITS = [0, 1, 137, 0, 1, 137]


def task_lists(recorder: Recorder, job_id: str = "job-1") -> list[dict[str, str]]:
    """The queries of the task list requests the emulator received."""
    return [r.query for r in recorder.requests if r.path == f"/jobs/{job_id}/tasks"]


async def exits_on_nodes(seed_pool: Any, seed_job: Any, settle: Any, emulator: Emulator) -> None:
    """A job whose tasks t0..t5 exit 0, 1, 137, 0, 1, 137, spread over three nodes."""
    await seed_pool("pool-a", 3)
    seed_job("job-1", "pool-a", [f"echo run; exit {code}" for code in EXITS])
    tasks = emulator.store.tasks["job-1"]
    await settle(lambda: all(t.data["state"] == "completed" for t in tasks.values()))


def node_of(emulator: Emulator, task_id: str) -> str:
    return str(emulator.store.tasks["job-1"][task_id].data["nodeInfo"]["nodeId"])


async def filter_by(pilot: Any, screen: JobDetailScreen, text: str) -> None:
    """Types `/text` and enter in one burst and waits until the list is in again."""
    burst(pilot, ["slash", *keys_of(text), "enter"])
    await wait_for(pilot, lambda: screen.filter_text() == text or "not applied" in message(pilot))
    await wait_for(pilot, lambda: not screen.streaming)
    await pilot_settle(pilot)


def message(pilot: Any) -> str:
    return str(pilot.app.screen.query_one("#filter-message").render())


def shown(screen: JobDetailScreen) -> list[str]:
    return list(screen.table.visible_keys)


async def test_an_exit_code_filter_is_asked_of_the_service(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await exits_on_nodes(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_job(app, pilot)
        assert shown(screen) == ["t0", "t1", "t2", "t3", "t4", "t5"]
        recorder.clear()

        await filter_by(pilot, screen, "exit:137")
        assert shown(screen) == ["t2", "t5"]
        assert task_lists(recorder)[-1]["$filter"] == "executionInfo/exitCode eq 137"
        await shows(pilot, "server: executionInfo/exitCode eq 137")
        await shows(pilot, " 2 of 2")  # at 80 columns, the counts are not under the input

        await filter_by(pilot, screen, "exit:>0")
        assert shown(screen) == ["t1", "t2", "t4", "t5"]
        assert task_lists(recorder)[-1]["$filter"] == "executionInfo/exitCode ge 1"

        await filter_by(pilot, screen, "exit:1..100 state:failed")
        assert shown(screen) == ["t1", "t4"]
        assert task_lists(recorder)[-1]["$filter"] == (
            "((executionInfo/exitCode ge 1) and (executionInfo/exitCode le 100)) and "
            "((state eq 'completed') and (executionInfo/result eq 'failure'))"
        )


async def test_the_state_tab_and_the_filter_both_apply(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await exits_on_nodes(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_job(app, pilot)
        await filter_by(pilot, screen, "result:failure")
        assert shown(screen) == ["t1", "t2", "t4", "t5"]
        await pilot.press("4")  # completed
        await wait_for(pilot, lambda: not screen.streaming)
        await pilot_settle(pilot)
        assert task_lists(recorder)[-1]["$filter"] == (
            "(state eq 'completed') and (executionInfo/result eq 'failure')"
        )
        assert shown(screen) == ["t1", "t2", "t4", "t5"]


async def test_a_node_term_filters_here(emulator, seed_pool, seed_job, settle, make_app, recorder):
    await exits_on_nodes(seed_pool, seed_job, settle, emulator)
    node = node_of(emulator, "t2")
    on_node = [f"t{i}" for i in range(6) if node_of(emulator, f"t{i}") == node]
    assert 0 < len(on_node) < 6  # the tasks ran on several nodes: the term drops some
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_job(app, pilot)
        recorder.clear()
        await filter_by(pilot, screen, f"node:{node}")
        assert shown(screen) == on_node
        assert task_lists(recorder) == []  # nothing asked of the service
        assert "server:" not in message(pilot)

        # With a service term too: the service lists exit 137, the node is tested here.
        await filter_by(pilot, screen, f"exit:137 node:{node}")
        assert shown(screen) == [t for t in on_node if EXITS[int(t[1:])] == 137]
        assert task_lists(recorder)[-1]["$filter"] == "executionInfo/exitCode eq 137"

        # And free text over the whole row, as before.
        await filter_by(pilot, screen, f"node:{node} ^t2")
        assert shown(screen) == ["t2"]


async def test_a_bad_term_says_why_and_changes_nothing(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await exits_on_nodes(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_job(app, pilot)
        await filter_by(pilot, screen, "exit:1")
        assert shown(screen) == ["t1", "t4"]
        recorder.clear()

        burst(pilot, ["slash", *keys_of("exit:abc"), "enter"])
        await wait_for(pilot, lambda: "not applied" in message(pilot))
        await pilot_settle(pilot)
        assert 'not applied: exit: "abc" is not a number or range' in screen_text(app)
        assert shown(screen) == ["t1", "t4"]  # the filter in use stays
        assert screen.filter_input.value == "exit:abc"  # and what was typed
        assert screen.filter_input.has_focus  # to mend it
        assert task_lists(recorder) == []

        screen.filter_input.value = ""
        burst(pilot, [*keys_of("colour:red"), "enter"])
        await wait_for(pilot, lambda: 'no column "colour"' in message(pilot))
        assert shown(screen) == ["t1", "t4"]


async def test_a_burst_lands_in_the_filter_and_waits_for_enter_to_ask_the_service(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await exits_on_nodes(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_job(app, pilot)
        recorder.clear()
        typed = "exit:137 node:tvm oom|run"
        burst(pilot, ["slash", *keys_of(typed)])
        await wait_for(pilot, lambda: screen.filter_input.value == typed)
        # A typing pause applies what needs no request; this needs one: enter asks.
        await wait_for(pilot, lambda: "enter: ask the service" in message(pilot))
        assert task_lists(recorder) == []
        assert len(shown(screen)) == 6

        burst(pilot, ["enter"])
        await wait_for(pilot, lambda: screen.filter_text() == typed)
        await wait_for(pilot, lambda: not screen.streaming)
        await pilot_settle(pilot)
        assert shown(screen) == []  # no task prints "oom" or "run" in a shown column
        assert task_lists(recorder)[-1]["$filter"] == "executionInfo/exitCode eq 137"


async def test_escape_clears_the_filter_and_lists_everything_again(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await exits_on_nodes(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_job(app, pilot)
        await filter_by(pilot, screen, "exit:0")
        assert shown(screen) == ["t0", "t3"]
        recorder.clear()
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.streaming and len(shown(screen)) == 6)
        assert "$filter" not in task_lists(recorder)[-1]
        assert screen.filter_text() == ""
        assert isinstance(app.screen, JobDetailScreen)


async def test_a_delta_refresh_drops_tasks_that_left_a_service_filter(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["sleep 100000", "sleep 100000"])
    tasks = emulator.store.tasks["job-1"]
    await settle(lambda: tasks["t0"].data["state"] == "running")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_job(app, pilot)
        await filter_by(pilot, screen, "state:running")
        assert shown(screen) == ["t0"]
        assert task_lists(recorder)[-1]["$filter"] == "state eq 'running'"

        await app.session.client.terminate_task("job-1", "t0")
        await settle(lambda: tasks["t1"].data["state"] == "running")
        recorder.clear()
        screen.refresh_data()  # what the timer does: a delta
        await pilot_settle(pilot)
        assert task_lists(recorder)[-1]["$filter"].startswith("stateTransitionTime ge")
        assert shown(screen) == ["t1"]
