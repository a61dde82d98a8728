"""Tests the task list against a broken or hostile service: a task whose id is a number shows
as a row that says so, between its good neighbours, and can be neither opened nor acted on; a
next page link that repeats ends the listing with a one-line error, the tasks so far kept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from batch_tui.batch import undecodable_reason
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from tests.ui.jobs_fixtures import open_job, shows, wait_for
from tests.ui.recording import Recorder
from tests.ui.support import capture_notifications, pilot_settle, screen_text


class Hostile:
    """ASGI middleware that spoils the task lists the emulator answers: the task `spoiled`
    gets the id 42, a number, and with `self_link` every page links to itself."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.spoiled: str | None = None
        self.self_link = False
        self.loop_after: int | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/tasks"):
            await self.app(scope, receive, send)
            return
        messages: list[dict[str, Any]] = []

        async def keep(message: dict[str, Any]) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)
        start, body = messages[0], b"".join(m.get("body", b"") for m in messages[1:])
        page = json.loads(body)
        for item in page.get("value", []):
            if item.get("id") == self.spoiled:
                item["id"] = 42
        query = scope["query_string"].decode()
        if self.self_link:
            page["odata.nextLink"] = f"http://emulator{scope['path']}?{query}"
        if self.loop_after is not None:
            # A task a page: page n links to page n+1, the last back to the second.
            params = [p for p in query.split("&") if not p.startswith("page=")]
            number = int(query.split("page=")[1]) if "page=" in query else 1
            page["value"] = page["value"][number - 1 : number]
            after = 2 if number == self.loop_after else number + 1
            link = "&".join([*params, f"page={after}"])
            page["odata.nextLink"] = f"http://emulator{scope['path']}?{link}"
        body = json.dumps(page).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def hostile(recorder: Recorder) -> Hostile:
    return Hostile(recorder)


@pytest.fixture
def served_app(hostile: Hostile) -> Hostile:
    return hostile


def three_tasks(emulator: Any) -> None:
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "nowhere"}})
    add_tasks(emulator, "job-1", [{"id": f"t{i}", "commandLine": "x"} for i in range(3)])


async def test_a_task_with_a_numeric_id_is_a_marked_row_between_its_neighbours(
    emulator: Any, make_app: Any, recorder: Recorder, hostile: Hostile
) -> None:
    three_tasks(emulator)
    hostile.spoiled = "t1"
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_job(app, pilot)
        keys = list(screen.table.visible_keys)
        assert len(keys) == 3 and {"t0", "t2"} <= set(keys)
        (odd,) = [key for key in keys if key not in ("t0", "t2")]
        assert undecodable_reason(odd) == "id is a number"
        await shows(pilot, "undecodable item: id is a number (42)")
        assert screen.error is None  # the page did not fail: the good tasks are there
        text = screen_text(app)
        assert "t0" in text and "t2" in text

        # The row is no task the service knows: enter opens nothing, actions have no target.
        assert screen.table.move_cursor(odd)
        await pilot_settle(pilot)
        assert screen.targets() == ()
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("did not decode" in note for note, _ in notes))
        await pilot.press("t")  # terminate: nothing to confirm, nothing sent
        await pilot_settle(pilot)
        assert isinstance(app.screen, JobDetailScreen)
        assert not any(isinstance(s, TaskDetailScreen) for s in app.screen_stack)
        assert not [r for r in recorder.requests if r.method != "GET"]


async def test_a_page_that_links_to_itself_stops_the_list_with_a_one_line_error(
    emulator: Any, make_app: Any, recorder: Recorder, hostile: Hostile
) -> None:
    three_tasks(emulator)
    hostile.self_link = True
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_job(app, pilot)
        message = "the service sent the same next page link twice; the list stopped at 3 items"
        assert screen.error == message
        assert list(screen.table.visible_keys) == ["t0", "t1", "t2"]
        assert len([r for r in recorder.requests if r.path == "/jobs/job-1/tasks"]) == 1
        await shows(pilot, "the service sent the same next page link twice")


async def test_a_link_that_repeats_after_three_pages_keeps_the_three_pages(
    emulator: Any, make_app: Any, recorder: Recorder, hostile: Hostile
) -> None:
    three_tasks(emulator)
    hostile.loop_after = 3
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_job(app, pilot)
        assert screen.error is not None and "the list stopped at 3 items" in screen.error
        assert list(screen.table.visible_keys) == ["t0", "t1", "t2"]
        assert len([r for r in recorder.requests if r.path == "/jobs/job-1/tasks"]) == 3
