"""Keys typed in one burst (a paste, a laggy SSH link) land where a person meant them.

Each test queues its keys at once through the driver (`tests.ui.typing.burst`), as one read
from the terminal does, and checks where they went and what reached the emulator.
"""

from __future__ import annotations

from batch_tui.ui.screens.command_line import CommandLineScreen
from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.dialogs import AddUserScreen
from batch_tui.ui.screens.jobs import JobsScreen
from tests.ui.support import capture_notifications, open_nodes, pilot_settle, screen_text
from tests.ui.typing import burst, keys_of, paste, until


async def test_keys_after_slash_go_into_the_filter_not_to_the_list(make_app, seed_pool, recorder):
    await seed_pool("pool-a", 2)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_nodes(app, pilot)
        recorder.clear()
        burst(pilot, ["slash", "b", "y"])  # `b` is reboot and `y` confirms, on the list
        await until(pilot, lambda: screen.filter_input.value == "by")
        await pilot_settle(pilot)
        assert app.screen is screen
        assert recorder.mutations() == []


async def test_a_command_typed_with_its_enter_in_one_burst_runs(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_settle(pilot)
        burst(pilot, ["colon", *keys_of("jobs"), "enter"])
        await until(pilot, lambda: isinstance(app.screen, JobsScreen))


async def test_every_character_after_colon_reaches_the_command_line(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_settle(pilot)
        burst(pilot, ["colon", *keys_of("nodes pool-a")])
        await until(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        line = app.screen.query_one("#command-input")
        await until(pilot, lambda: line.value == "nodes pool-a")


async def test_palette_then_page_keys_in_one_burst_do_not_end_the_app(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_settle(pilot)
        burst(pilot, ["ctrl+p", "pagedown"])
        await pilot_settle(pilot)
        burst(pilot, ["escape", "ctrl+p", "a", "pageup", "pagedown", "end", "home"])
        await pilot_settle(pilot)
        assert app.is_running and app.return_code is None


async def test_a_confirmation_ignores_keys_typed_before_it_opened(make_app, seed_pool, recorder):
    await seed_pool("pool-a", 2)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_nodes(app, pilot)
        recorder.clear()
        burst(pilot, ["b", "y"])
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await until(pilot, lambda: "typed before this dialog opened" in screen_text(app))
        assert isinstance(app.screen, ConfirmScreen)
        assert recorder.mutations() == []
        await pilot.press("y")  # typed once the dialog is there: it answers
        await pilot_settle(pilot)
        assert [r.path.rsplit("/", 1)[-1] for r in recorder.mutations()] == ["reboot"]


async def test_fields_of_the_add_user_dialog_get_their_own_text(make_app, seed_pool, recorder):
    nodes = await seed_pool("pool-a", 1)
    app = make_app()
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBurstTypedKey bob@laptop"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_nodes(app, pilot)
        burst(pilot, ["a", *keys_of("bob"), "tab", *keys_of("xyz")])
        await until(pilot, lambda: isinstance(app.screen, AddUserScreen))
        dialog = app.screen
        await until(pilot, lambda: dialog.query_one("#user-key").value == "xyz")
        assert dialog.query_one("#user-name").value == "bob"
        dialog.query_one("#user-key").value = ""
        paste(pilot, key)  # a bracketed paste lands whole in the focused field
        await until(pilot, lambda: dialog.query_one("#user-key").value == key)
        assert dialog.query_one("#user-name").value == "bob"
        assert recorder.mutations() == []
        assert nodes


async def test_acting_on_more_than_ten_nodes_asks_for_the_count(make_app, seed_pool, recorder):
    await seed_pool("pool-a", 12)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_nodes(app, pilot)
        for _ in range(12):
            await pilot.press("space")
        assert len(screen.table.marked_keys) == 12
        recorder.clear()
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y", "enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # a `y` is not enough
        assert recorder.mutations() == []
        await pilot.press("backspace", *keys_of("12"), "enter")
        await pilot_settle(pilot)
        assert len(recorder.mutations()) == 12


async def test_keys_after_a_command_go_to_the_screen_it_opened(make_app, seed_pool, seed_job):
    """`:job job-1`, enter and `5` in one burst: the `5` (failed tasks) reaches the job."""
    from batch_tui.ui.screens.job_detail import JobDetailScreen

    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo one"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_settle(pilot)
        burst(pilot, ["colon", *keys_of("job job-1"), "enter", "5"])
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        await pilot_settle(pilot)
        assert app.screen.state_key == "failed"


async def test_an_add_user_form_is_never_sent_by_keys_typed_ahead(make_app, seed_pool, recorder):
    """`a`, the name, tab, tab, a password and enter in one burst: the form fills in, but the
    enter typed before it was drawn does not send it; one typed after does."""
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_nodes(app, pilot)
        recorder.clear()
        burst(pilot, ["a", *keys_of("carol"), "tab", "tab", *keys_of("Pa55word!"), "enter"])
        await until(pilot, lambda: isinstance(app.screen, AddUserScreen))
        dialog = app.screen
        await until(pilot, lambda: dialog.query_one("#user-password").value == "Pa55word!")
        await until(pilot, lambda: "Ignored 1 key typed before this dialog" in screen_text(app))
        await pilot_settle(pilot)
        assert app.screen is dialog and recorder.mutations() == []
        await pilot.press("enter")
        await pilot_settle(pilot)
        assert [r.path.rsplit("/", 1)[-1] for r in recorder.mutations()] == ["users"]


async def test_ctrl_c_says_how_to_quit_in_plain_words(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_settle(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.is_running
        [(text, _)] = [note for note in notes if "quit" in note[0]]
        assert "[b]" not in text and "q" in text
