"""Tests the pool actions end to end: resize with its options, stop resize, the autoscale
formula editor (evaluate inline, apply, disable) and delete, against the emulator."""

from __future__ import annotations

from textual.widgets import Button, Input, Static, TextArea

from batch_tui.ui.pool_changes import EXAMPLE_FORMULA
from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.pool_detail import PoolDetailScreen
from batch_tui.ui.screens.pool_dialogs import (
    AutoscaleEditorScreen,
    PoolChangeConfirm,
    ResizePoolScreen,
)
from batch_tui.ui.screens.pools import PoolsScreen
from tests.ui.support import capture_notifications, pilot_settle, screen_text, wait_for_text
from tests.ui.typing import burst, keys_of, until

STEADY_FORMULA = "$TargetDedicatedNodes = 1;"


async def open_pool(app, pilot, pool_id="pool-a"):
    app.show(PoolDetailScreen(pool_id))
    await pilot_settle(pilot)
    assert isinstance(app.screen, PoolDetailScreen)
    return app.screen


async def autoscaled_pool(app, emulator, settle, formula=STEADY_FORMULA):
    """Turns autoscale on for pool-a (through the client) and waits until it is steady."""
    await app.session.client.enable_pool_autoscale("pool-a", formula)
    await settle(lambda: emulator.store.pools["pool-a"].data["allocationState"] == "steady")


def result_text(app):
    return str(app.screen.query_one("#autoscale-result", Static).render())


async def retype(pilot, field, text):
    """Replaces an input's text by typing, as a person would."""
    field.focus()
    await pilot.pause()
    await pilot.press("end", *["backspace"] * len(field.value), *keys_of(text))


async def test_resize_sends_the_chosen_options_after_a_confirmation_naming_the_change(
    make_app, seed_pool, recorder
):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(app, pilot)
        recorder.clear()
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, ResizePoolScreen))
        await pilot_settle(pilot)
        dialog = app.screen
        await retype(pilot, dialog.query_one("#dedicated", Input), "3")
        await retype(pilot, dialog.query_one("#spot", Input), "2")
        await retype(pilot, dialog.query_one("#timeout", Input), "20")
        assert "pool pool-a: 1 -> 3 dedicated, 0 -> 2 spot" in screen_text(app)
        dialog.query_one("#resize-options").focus()
        await pilot.press("down", "down", "enter")  # requeue -> terminate -> taskcompletion
        dialog.query_one("#timeout", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PoolChangeConfirm))
        await pilot_settle(pilot)
        text = screen_text(app)
        assert "Resize pool pool-a: 1 -> 3 dedicated, 0 -> 2 spot" in text
        assert "Resize timeout 20m" in text
        assert recorder.mutations() == []
        await pilot.press("y")
        await pilot_settle(pilot)
        assert [(r.path, r.body) for r in recorder.mutations()] == [
            ("/pools/pool-a/resize", {
                "targetDedicatedNodes": 3, "targetLowPriorityNodes": 2,
                "nodeDeallocationOption": "taskcompletion", "resizeTimeout": "PT20M",
            })
        ]  # fmt: skip


async def test_resize_refuses_a_bad_count_in_one_line_and_cancel_sends_nothing(
    make_app, seed_pool, recorder
):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(app, pilot)
        recorder.clear()
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, ResizePoolScreen))
        await pilot_settle(pilot)
        await retype(pilot, app.screen.query_one("#dedicated", Input), "-4")
        await pilot.press("enter")
        await wait_for_text(pilot, "Dedicated: a whole number of nodes")
        assert isinstance(app.screen, ResizePoolScreen)
        await pilot.press("escape")
        await pilot_settle(pilot)
        assert isinstance(app.screen, PoolDetailScreen)
        assert recorder.mutations() == []


async def test_stop_resize_is_greyed_while_steady_and_stops_a_resize(make_app, seed_pool, recorder):
    await seed_pool("pool-a", 1)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pool(app, pilot)
        assert screen.check_action("act", ("pool.stop-resize",)) is None
        assert screen.check_action("act", ("pool.resize",)) is True
        recorder.clear()
        await pilot.press("Z")
        await pilot_settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("only a resize can be stopped" in message for message, _ in notes)

        await app.session.client.resize_pool("pool-a", target_dedicated=4)
        await pilot.press("r")
        await pilot_settle(pilot)
        assert screen.check_action("act", ("pool.stop-resize",)) is True
        assert screen.check_action("act", ("pool.resize",)) is None
        recorder.clear()
        await pilot.press("Z")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot_settle(pilot)
        assert "Stop resize pool pool-a" in screen_text(app)
        await pilot.press("y")
        await pilot_settle(pilot)
        assert [(r.path, r.body) for r in recorder.mutations()] == [
            ("/pools/pool-a/stopresize", None)
        ]


async def test_autoscale_off_the_editor_explains_evaluate_and_apply_enables(
    make_app, seed_pool, recorder, emulator
):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pool(app, pilot)
        assert screen.check_action("act", ("pool.disable-autoscale",)) is None
        recorder.clear()
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AutoscaleEditorScreen))
        await pilot_settle(pilot)
        editor = app.screen
        assert editor.query_one("#formula", TextArea).text == EXAMPLE_FORMULA
        assert editor.query_one("#autoscale-evaluate", Button).has_class("unavailable")
        note = str(editor.query_one("#autoscale-note", Static).render())
        assert "evaluates formulas only where it is on" in note
        assert "Autoscale is off" in screen_text(app)
        await pilot.press("ctrl+r")
        await wait_for_text(pilot, "Evaluate needs autoscale on")
        assert recorder.mutations() == []

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PoolChangeConfirm))
        await pilot_settle(pilot)
        assert "Enable autoscale on pool pool-a, evaluated every 15m" in screen_text(app)
        assert recorder.mutations() == []
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, PoolDetailScreen))
        await pilot_settle(pilot)
        assert [(r.path, r.body) for r in recorder.mutations()] == [
            ("/pools/pool-a/enableautoscale",
             {"autoScaleFormula": EXAMPLE_FORMULA, "autoScaleEvaluationInterval": "PT15M"})
        ]  # fmt: skip
        assert emulator.store.pools["pool-a"].data["enableAutoScale"] is True
        await until(pilot, lambda: screen.pool is not None and screen.pool.enable_auto_scale)
        assert screen.check_action("act", ("pool.resize",)) is None


async def test_evaluate_shows_results_and_a_bad_formula_error_inline_without_applying(
    make_app, seed_pool, recorder, emulator, settle
):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await autoscaled_pool(app, emulator, settle)
        await open_pool(app, pilot)
        recorder.clear()
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AutoscaleEditorScreen))
        await pilot_settle(pilot)
        formula = app.screen.query_one("#formula", TextArea)
        assert formula.text == STEADY_FORMULA
        formula.text = "$TargetDedicatedNodes = 3;\nspare = 2;"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "$TargetDedicatedNodes=3" in result_text(app))
        assert "spare=2" in result_text(app)

        formula.text = "$TargetDedicatedNodes = = 1;"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "AutoScalingFormulaSyntaxError" in result_text(app))
        assert "Line 1" in result_text(app)
        assert isinstance(app.screen, AutoscaleEditorScreen)
        assert [r.path for r in recorder.mutations()] == ["/pools/pool-a/evaluateautoscale"] * 2
        data = emulator.store.pools["pool-a"].data
        assert data["autoScaleFormula"] == STEADY_FORMULA and data["targetDedicatedNodes"] == 1
        await pilot.press("escape")
        await pilot_settle(pilot)
        assert isinstance(app.screen, PoolDetailScreen)


async def test_keys_burst_into_the_formula_land_there(make_app, seed_pool, recorder):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(app, pilot)
        recorder.clear()
        typed = "q = 1; y = 2;"
        burst(pilot, ["a", "ctrl+a", *keys_of(typed)])  # ctrl+a: to the line's start
        await until(pilot, lambda: isinstance(app.screen, AutoscaleEditorScreen))
        formula = app.screen.query_one("#formula", TextArea)
        await until(pilot, lambda: formula.text.startswith(typed))
        await pilot_settle(pilot)
        burst(pilot, ["y", "q", "n"])
        await until(pilot, lambda: formula.text.startswith(typed + "yqn"))
        await pilot_settle(pilot)
        assert app.is_running and isinstance(app.screen, AutoscaleEditorScreen)
        assert recorder.mutations() == []


async def test_disable_autoscale_is_confirmed(make_app, seed_pool, recorder, emulator, settle):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await autoscaled_pool(app, emulator, settle)
        screen = await open_pool(app, pilot)
        assert screen.check_action("act", ("pool.disable-autoscale",)) is True
        recorder.clear()
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot_settle(pilot)
        assert "Disable autoscale pool pool-a" in screen_text(app)
        assert recorder.mutations() == []
        await pilot.press("y")
        await pilot_settle(pilot)
        assert [r.path for r in recorder.mutations()] == ["/pools/pool-a/disableautoscale"]
        assert not emulator.store.pools["pool-a"].data["enableAutoScale"]


async def test_delete_pool_requires_its_id_typed(make_app, seed_pool, recorder):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(app, pilot)
        recorder.clear()
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot_settle(pilot)
        text = screen_text(app)
        assert "Delete pool pool-a" in text and "Type pool-a to confirm" in text
        await pilot.press("y", *keys_of("pool-b"), "enter")
        await wait_for_text(pilot, "Type pool-a exactly")
        assert isinstance(app.screen, ConfirmScreen) and recorder.mutations() == []
        typed = app.screen.query_one("#dialog-typed", Input)
        typed.value = ""
        await pilot.press(*keys_of("pool-a"), "enter")
        await pilot_settle(pilot)
        assert [(r.method, r.path) for r in recorder.mutations()] == [("DELETE", "/pools/pool-a")]


async def test_the_pool_tree_acts_on_the_pool_under_the_cursor(make_app, seed_pool, recorder):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(PoolsScreen())
        await pilot_settle(pilot)
        screen = app.screen
        assert screen.check_action("act", ("pool.stop-resize",)) is None
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, ResizePoolScreen))
        assert app.screen.pool.id == "pool-a"
        await pilot.press("escape")
        await pilot_settle(pilot)
        assert app.screen is screen and recorder.mutations() == []


async def test_read_only_hides_the_pool_actions(make_app, seed_pool, recorder):
    await seed_pool("pool-a", 1)
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(app, pilot)
        recorder.clear()
        for key in ("z", "Z", "a", "M", "ctrl+d"):
            await pilot.press(key)
            await pilot_settle(pilot)
            assert isinstance(app.screen, PoolDetailScreen), key
        assert "z Resize" not in screen_text(app) and "^d Delete" not in screen_text(app)
        assert recorder.mutations() == []


async def test_the_detail_shows_the_last_autoscale_run_and_its_error(
    make_app, seed_pool, emulator, settle
):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await autoscaled_pool(app, emulator, settle, "$TargetDedicatedNodes = 1; x = 1 / 0;")
        await open_pool(app, pilot)
        run = emulator.store.pools["pool-a"].data["autoScaleRun"]
        assert run.get("error"), run
        app.screen.query_one("#pool-scroll").scroll_end(animate=False)
        await pilot_settle(pilot)
        text = await wait_for_text(pilot, run["error"]["code"])
        assert "Last evaluation" in text and "Message" in text


async def test_the_tree_opens_the_editor_at_once_and_fills_in_the_pool_formula(
    make_app, seed_pool, emulator, settle
):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await autoscaled_pool(app, emulator, settle)
        app.show(PoolsScreen())
        await pilot_settle(pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AutoscaleEditorScreen))
        formula = app.screen.query_one("#formula", TextArea)
        # The tree lists pools without their formulas: the editor reads the pool and shows it.
        await until(pilot, lambda: formula.text == STEADY_FORMULA)
        await until(pilot, lambda: not app.screen.query_one("#autoscale-evaluate").has_class(
            "unavailable"))  # fmt: skip


async def test_keys_burst_after_a_on_the_tree_land_in_the_formula_not_on_the_tree(
    make_app, seed_pool, recorder
):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(PoolsScreen())
        await pilot_settle(pilot)
        recorder.clear()
        typed = "q = 1; y = 2; "
        burst(pilot, ["a", *keys_of(typed)])
        await until(pilot, lambda: isinstance(app.screen, AutoscaleEditorScreen))
        formula = app.screen.query_one("#formula", TextArea)
        await until(pilot, lambda: formula.text == typed + EXAMPLE_FORMULA)
        await pilot_settle(pilot)
        assert formula.text == typed + EXAMPLE_FORMULA  # the pool's read kept what was typed
        assert app.is_running and recorder.mutations() == []


async def test_the_overview_acts_on_the_pool_row_under_the_cursor(make_app, seed_pool, recorder):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_settle(pilot)
        screen = app.screen
        assert screen.check_action("act", ("pool.resize",)) is True
        assert screen.check_action("act", ("pool.stop-resize",)) is None
        recorder.clear()
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot_settle(pilot)
        assert "Delete pool pool-a" in screen_text(app)
        await pilot.press("escape")
        await pilot_settle(pilot)
        assert app.screen is screen and recorder.mutations() == []
