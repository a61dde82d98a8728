"""Tests handing data on: `y` the JSON view (search, save), `ctrl+s` export, `c` copy an id."""

from __future__ import annotations

import base64
import csv
import importlib
import json
import pkgutil
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.widgets import Input, Tree

from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.ui.app import BatchApp
from batch_tui.ui.clipboard import clipboard_caveat
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.routes import ROUTES, SCREENS_PACKAGE
from batch_tui.ui.screens.confirm import ChoiceScreen
from batch_tui.ui.screens.dialogs import PromptScreen
from batch_tui.ui.screens.help import HelpScreen, collect_keys
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.jobs import JobsScreen
from batch_tui.ui.screens.json_view import JsonViewScreen
from batch_tui.ui.widgets.table_rows import RowData, plain
from tests.ui.jobs_fixtures import await_screen, open_job, open_screen, wait_for
from tests.ui.support import capture_notifications, pilot_settle, screen_text

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal known to take OSC 52: no tmux, no screen (the toast has no caveat)."""
    for name in ("TMUX", "STY", "TERM_PROGRAM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def answer_prompt(pilot: Any, text: str) -> None:
    """Replaces the text of the open path prompt and submits it."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PromptScreen))
    field = pilot.app.screen.query_one(Input)
    field.value = text
    await pilot.press("enter")


async def open_json(pilot: Any) -> JsonViewScreen:
    await pilot.press("y")
    screen = await await_screen(pilot, JsonViewScreen)
    await wait_for(pilot, lambda: screen.viewer.is_open)
    return screen


def seed_tasks(emulator: Any, seed_job: Any, count: int) -> list[str]:
    commands = [f"echo {index}" for index in range(count)]
    seed_job("job-1", "pool-a", commands)
    return [f"t{index}" for index in range(count)]


async def test_y_on_a_task_row_shows_its_json_then_search_and_save(
    emulator, seed_pool, seed_job, make_app, tmp_path: Path
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo zero", "printf 'needle in here'"])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tasks = await open_job(app, pilot)
        tasks.table.move_cursor("t1")
        view = await open_json(pilot)
        assert view.ref == EntityRef.task("job-1", "t1")
        served = json.loads(view.viewer.text)
        assert served["id"] == "t1"
        assert served["commandLine"] == "printf 'needle in here'"
        assert view.viewer.text.splitlines()[1].startswith('  "')  # indented for reading
        shown = screen_text(app)
        assert "jobs › job-1 › task t1 › JSON" in shown
        assert '"id": "t1"' in shown

        # `/` search goes to the field and highlights it.
        await pilot.press("slash", *"commandline", "enter")
        await pilot_settle(pilot)
        match = view.viewer.match
        assert match is not None
        line = view.viewer.window.lines[view.viewer.window.line_at(match.offset)]
        assert line[match.start : match.end] == "commandLine"
        assert '"commandLine": "printf' in screen_text(app)
        await pilot.press("slash", *"no such thing", "enter")
        await pilot_settle(pilot)
        assert view.viewer.match is None and "not found: no such thing" in screen_text(app)

        # `s` saves what is shown, 0600; a second save asks before replacing.
        target = tmp_path / "t1.json"
        notes = capture_notifications(app)
        await pilot.press("s")
        await answer_prompt(pilot, str(target))
        await wait_for(pilot, lambda: target.exists() and any("Saved" in n for n, _ in notes))
        assert mode(target) == 0o600
        assert json.loads(target.read_text(encoding="utf-8")) == served
        target.write_text("{}", encoding="utf-8")
        await pilot.press("s")
        await answer_prompt(pilot, str(target))
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot_settle(pilot)
        await pilot.press("1")  # keep
        await pilot_settle(pilot)
        assert target.read_text(encoding="utf-8") == "{}"
        await pilot.press("s")
        await answer_prompt(pilot, str(target))
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot_settle(pilot)
        await pilot.press("2")  # replace
        await wait_for(pilot, lambda: target.read_text(encoding="utf-8") != "{}")
        assert json.loads(target.read_text(encoding="utf-8")) == served
        assert mode(target) == 0o600

        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is tasks)


async def test_the_json_is_fetched_when_y_is_pressed_and_shown_safely(
    emulator, seed_pool, make_app, recorder, monkeypatch
):
    monkeypatch.setenv("NO_COLOR", "1")
    await seed_pool("pool-a", 1)
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}})
    hostile = "echo \u202eevil\u202c \x1b]52;c;aGk=\x07"
    add_tasks(emulator, "job-1", [{"id": "t0", "commandLine": "x", "displayName": hostile}])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_job(app, pilot)
        recorder.clear()
        view = await open_json(pilot)
        assert [(r.method, r.path) for r in recorder.requests] == [("GET", "/jobs/job-1/tasks/t0")]
        assert json.loads(view.viewer.text)["displayName"] == hostile
        shown = screen_text(app)
        assert "<U+202E>evil<U+202C>" in shown
        assert "\u202e" not in shown and "\x1b" not in shown
        # Without colour, keys still stand out: bold.
        key_line = view.viewer.window.lines.index('  "id": "t0",')
        segments = {segment.text: segment.style for segment in view.viewer._line_strip(key_line)}
        assert segments['"id"'] is not None and segments['"id"'].bold
        assert not (segments['"t0"'] and segments['"t0"'].bold)
        recorder.clear()
        await pilot.press("r")  # `r` fetches it again; nothing else does
        await pilot_settle(pilot)
        assert [(r.method, r.path) for r in recorder.requests] == [("GET", "/jobs/job-1/tasks/t0")]


async def test_export_writes_the_filtered_sorted_rows_to_csv_and_json(
    emulator, seed_pool, seed_job, make_app, tmp_path: Path
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", [f"echo {index}" for index in range(40)])
    add_tasks(emulator, "job-1", [{"id": "-neg", "commandLine": "echo injected"}])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tasks = await open_job(app, pilot)
        table = tasks.table
        await pilot.press("slash", *r"^t[123]?[02468]\s|neg", "enter")  # even ids, and -neg
        await pilot.press("S")  # no sort yet: S does nothing
        await pilot.press("s", "S")  # by task id, descending
        await pilot_settle(pilot)
        expected = list(table.visible_keys)
        assert len(expected) == 21 and expected[:2] == ["t38", "t36"] and "t1" not in expected
        assert expected != sorted(expected, key=lambda key: (len(key), key))
        assert len(table.keys_in_view) < len(expected)  # more rows than the screen shows
        rows = [[plain(cell) for cell in table.get_row(key).cells] for key in expected]
        headers = [column.label for column in table.columns]
        notes = capture_notifications(app)

        csv_path = tmp_path / "tasks.csv"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        offered = app.screen.query_one(Input).value
        assert offered.startswith("~/batch-tui-tasks-job-1-") and offered.endswith(".csv")
        await answer_prompt(pilot, str(csv_path))
        await wait_for(pilot, lambda: any(n.startswith("Exported 21 rows") for n, _ in notes))
        with csv_path.open(encoding="utf-8", newline="") as handle:
            written = list(csv.reader(handle))
        guarded = [["'-neg" if cell == "-neg" else cell for cell in row] for row in rows]
        assert written == [headers, *guarded]
        assert "'-neg" in written[1:][expected.index("-neg")]
        assert mode(csv_path) == 0o600

        json_path = tmp_path / "tasks.json"
        await pilot.press("ctrl+s")
        await answer_prompt(pilot, str(json_path))
        await wait_for(pilot, lambda: sum(n.startswith("Exported 21") for n, _ in notes) == 2)
        objects = json.loads(json_path.read_text(encoding="utf-8"))
        assert objects == [dict(zip(headers, row, strict=True)) for row in rows]
        assert mode(json_path) == 0o600

        await pilot.press("ctrl+s")
        await answer_prompt(pilot, str(tmp_path / "tasks.xlsx"))
        await pilot_settle(pilot)
        assert any("must end in .csv or .json" in n for n, severity in notes if severity == "error")
        assert not (tmp_path / "tasks.xlsx").exists()


async def test_c_copies_the_id_under_the_cursor_through_osc52(
    emulator, seed_pool, seed_job, make_app
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo a", "echo b"])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tasks = await open_job(app, pilot)
        tasks.table.move_cursor("t1")
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        original = driver.write

        def record(data: str) -> None:
            written.append(data)
            original(data)

        driver.write = record  # type: ignore[method-assign]
        notes = capture_notifications(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: bool(notes))
        payload = base64.b64encode(b"t1").decode()
        assert f"\x1b]52;c;{payload}\x07" in "".join(written)
        assert app.clipboard == "t1"
        assert notes == [("Copied task id t1", "information")]


def test_the_toast_warns_where_the_terminal_may_drop_osc52() -> None:
    options = {"set-clipboard": "external", "allow-passthrough": "off"}
    assert clipboard_caveat({"TMUX": "/tmp/t,1,0"}, options.get) == (
        "tmux may drop it: set -g set-clipboard on"
    )
    on = {**options, "set-clipboard": "on"}
    assert clipboard_caveat({"TMUX": "/tmp/t,1,0"}, on.get) is None
    passing = {**options, "allow-passthrough": "on"}
    assert clipboard_caveat({"TMUX": "/tmp/t,1,0"}, passing.get) is None
    assert clipboard_caveat({"TMUX": "/tmp/t,1,0"}, lambda name: None) is not None  # unknown
    assert "screen" in (clipboard_caveat({"STY": "1.pts"}) or "")
    assert clipboard_caveat({"TERM": "linux"}) is not None
    assert clipboard_caveat({"TERM": "xterm-256color"}) is None


async def test_y_and_c_work_on_every_list_and_detail_screen(
    emulator, seed_pool, seed_job, make_app
):
    (node_id,) = await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo a"])
    app = make_app()
    cases = [
        ("overview", None, EntityRef.pool("pool-a")),
        ("pools", None, EntityRef.pool("pool-a")),
        ("nodes pool-a", None, EntityRef.node("pool-a", node_id)),
        ("heatmap pool-a", None, EntityRef.node("pool-a", node_id)),
        ("jobs", None, EntityRef.job("job-1")),
        ("tasks job-1", None, EntityRef.task("job-1", "t0")),
        ("tasks job-1", "tab", EntityRef.job("job-1")),  # the job panel has the focus
        ("task job-1 t0", None, EntityRef.task("job-1", "t0")),
        ("node pool-a " + node_id, None, EntityRef.node("pool-a", node_id)),
        ("pool pool-a", None, EntityRef.pool("pool-a")),
    ]
    async with app.run_test(size=SIZE) as pilot:
        for command, key, ref in cases:
            app.run_command(command)
            await pilot_settle(pilot)
            screen = app.screen
            if key:
                await pilot.press(key)
            assert screen.entity_under_cursor() == ref, command
            assert screen.check_action("show_json", ()) is True
            view = await open_json(pilot)
            assert view.ref == ref, command
            assert json.loads(view.viewer.text)["id"] == ref.id
            assert view.check_action("show_json", ()) is False  # no JSON of the JSON
            assert view.check_action("copy_id", ()) is True
            await pilot.press("escape")
            await wait_for(pilot, lambda screen=screen: app.screen is screen)


async def test_the_keys_are_in_the_help_and_greyed_out_without_a_row(emulator, seed_pool, make_app):
    await seed_pool("pool-a", 1)
    add_job(emulator, {"id": "empty", "poolInfo": {"poolId": "pool-a"}})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tasks = await open_job(app, pilot, "empty")
        assert isinstance(tasks, JobDetailScreen)
        assert tasks.check_action("show_json", ()) is None
        assert tasks.check_action("copy_id", ()) is None
        ids = {row.binding_id: row.key for row in collect_keys(tasks)}
        assert ids["screen.json"] == "y"
        assert ids["screen.copy-id"] == "c"
        assert ids["list.export"] == "^s"
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot_settle(pilot)
        help_text = screen_text(app)
        assert "JSON" in help_text and "Copy id" in help_text


def bound_keys(cls: type) -> dict[str, set[str]]:
    """Key -> the actions bound to it by a class and its bases."""
    keys: dict[str, set[str]] = {}
    for klass in cls.__mro__:
        for binding in klass.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding):
                for key in binding.key.split(","):
                    keys.setdefault(key.strip(), set()).add(binding.action)
    return keys


HANDOFF_KEYS = {"y": "show_json", "c": "copy_id", "ctrl+s": "export"}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_no_screen_binds_a_key_twice_and_the_handoff_keys_are_free(name: str) -> None:
    module_name, class_name = ROUTES[name]  # type: ignore[index]
    screen = getattr(importlib.import_module(f"{SCREENS_PACKAGE}.{module_name}"), class_name)
    keys = bound_keys(screen)
    app_keys = bound_keys(BatchApp)
    for key, actions in keys.items():
        assert len(actions) == 1, f"{class_name}: {key} is bound to {sorted(actions)}"
    for key, action in HANDOFF_KEYS.items():
        assert keys.get(key, {action}) == {action}
        assert key not in app_keys


def test_no_widget_a_list_or_view_focuses_takes_the_handoff_keys() -> None:
    import batch_tui.ui.widgets as widgets

    classes = [Tree]
    for info in pkgutil.iter_modules(widgets.__path__):
        module = importlib.import_module(f"{widgets.__name__}.{info.name}")
        classes += [value for value in vars(module).values() if isinstance(value, type)]
    for cls in classes:
        taken = set(bound_keys(cls)) & set(HANDOFF_KEYS)
        assert not taken, f"{cls.__name__} binds {sorted(taken)}"


async def test_a_100k_row_export_runs_beside_the_keys(make_app, tmp_path: Path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        jobs = await open_screen(pilot, "jobs", JobsScreen)
        width = len(jobs.table.columns)
        rows = [
            RowData(f"job-{i:06d}", (f"job-{i:06d}",) + ("x",) * (width - 1))
            for i in range(100_000)
        ]
        jobs.table.set_rows(rows)
        await pilot_settle(pilot)
        notes = capture_notifications(app)
        told: dict[str, float] = {}
        notify = app.notify

        def timed_notify(message: str, *args: Any, **kwargs: Any) -> None:
            told.setdefault(str(message).split(" ")[0], time.perf_counter())
            notify(message, *args, **kwargs)

        app.notify = timed_notify
        moved: list[float] = []
        down = jobs.table.action_cursor_down

        def cursor_down() -> None:
            down()
            moved.append(time.perf_counter())

        jobs.table.action_cursor_down = cursor_down  # type: ignore[method-assign]
        ticks: list[float] = []
        app.set_interval(0.01, lambda: ticks.append(time.perf_counter()))
        path = tmp_path / "jobs.csv"
        await pilot.press("ctrl+s")
        await answer_prompt(pilot, str(path))
        await wait_for(pilot, lambda: "Exporting" in told)
        await pilot.press("j")  # while the rows are written
        await wait_for(pilot, lambda: "Exported" in told, rounds=3000)
        assert jobs.table.cursor_key == "job-000001"
        timing = (told["Exporting"], moved, told["Exported"])
        # The event loop ran other work all along (a ticker every 10 ms), not only at the end.
        during = [t for t in ticks if told["Exporting"] < t < told["Exported"]]
        assert moved and len(during) >= 5, f"the loop waited for the export: {timing}"
        assert ("Exported 100,000 rows to " + str(path), "information") in notes
        with path.open(encoding="utf-8", newline="") as handle:
            written = list(csv.reader(handle))
        assert len(written) == 100_001 and written[1][0] == "job-000000"
