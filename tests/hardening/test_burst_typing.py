"""Types like a person and like a laggy link: seeded random bursts of keys and pastes.

Every screen of an open account gets rounds of random bursts: keys (every key bound there,
letters, digits, arrows, enter, esc ...) queued all at once as one read from the terminal
delivers them, bracketed pastes, and `/` or `:` followed by text. Three things must hold:

- (a) the app never exits and never shows a traceback;
- (b) no mutating request reaches the emulator unless a confirmation that named that action
  and those targets was answered (checked against the dialogs' own record, through the
  action registry's ids);
- (c) every character typed after `/` or `:` ends up in the input that key opened.

The default run is bounded (3 rounds per screen, about a minute); `--burst-rounds N` runs
longer. A failure names the seed and the burst, so it can be replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from textual.widgets import Input

from batch_tui.ui.screens.command_line import CommandLineScreen
from batch_tui.ui.screens.confirm import Confirmation, ConfirmScreen
from batch_tui.ui.screens.dialogs import AddUserScreen, NewUser
from batch_tui.ui.screens.file_viewer import FileViewerScreen
from batch_tui.ui.screens.list_screen import ListScreen
from batch_tui.ui.screens.overview import OverviewScreen
from tests.hardening.account_screens import screens, seed_schedule
from tests.ui.recording import Recorded
from tests.ui.support import screen_text
from tests.ui.typing import burst, paste, until

SAFE_TEXT = string.ascii_letters.replace("q", "") + string.digits + "-_. !~"
"""What the random text is made of: anything printable a filter or a command takes, but `q`
(`:q` would quit, which is not a crash but ends the round) and tab (it completes)."""

EXCLUDED = frozenset({"q", "ctrl+q", "ctrl+c", "ctrl+z", "v", "ctrl+p"})
"""Keys left out of the bursts: those that quit or suspend the app (`v` runs $PAGER) and the
palette, whose system commands include quitting (its bursts have a test of their own)."""

EXTRA = (
    *string.ascii_letters,
    *string.digits,
    "up", "down", "left", "right", "pageup", "pagedown", "home", "end",
    "enter", "escape", "space", "tab", "backspace", "slash", "colon", "question_mark",
    "ctrl+d", "ctrl+g", "asterisk", "greater_than_sign",
)  # fmt: skip


WAITS_ON_DIALOGS = frozenset({"state-action"})
"""Worker groups that wait for a dialog's answer: settling must not wait for them."""


async def quiet(pilot: Any) -> None:
    """Waits until the app is quiet: its workers done but those waiting for a dialog."""
    app = pilot.app
    for _ in range(200):
        await pilot.pause()
        busy = [w for w in app.workers if w.is_running and w.group not in WAITS_ON_DIALOGS]
        if not busy and not app.keys_pending:
            await pilot.pause()
            return
        with contextlib.suppress(Exception):  # a cancelled or failed worker is done too
            await asyncio.wait_for(asyncio.gather(*(w.wait() for w in busy)), 5)
    raise AssertionError("the app did not settle")


async def show(app: Any, pilot: Any, build: Callable[[], Any]) -> Any:
    """Shows a fresh screen above the overview (ending a flow left waiting on a dialog)."""
    for worker in app.workers:
        if worker.group in WAITS_ON_DIALOGS:
            worker.cancel()
    stack = app.screen_stack
    if len(stack) < 3 or not isinstance(stack[2], OverviewScreen) or app.session is None:
        app.open_account(app.targets[0])  # the bursts went back to the account screen
        await until(pilot, lambda: isinstance(app.screen, OverviewScreen))
    screen = build()
    app.show(screen)
    if isinstance(screen, OverviewScreen):
        screen = app.screen
    await until(pilot, lambda: app.screen is screen and screen.is_mounted)
    await quiet(pilot)
    return screen


def burst_rounds(config: pytest.Config) -> int:
    rounds = config.getoption("--burst-rounds")
    return 3 if rounds is None else int(rounds)


@dataclass
class Answers:
    """What the confirmation dialogs were answered with: (action id, target) pairs."""

    confirmed: set[tuple[str, str]] = field(default_factory=set)


def record_answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    """Records every confirmation answered yes, with the action and targets it named."""
    answers = Answers()
    confirm_dismiss = ConfirmScreen.dismiss
    add_user_dismiss = AddUserScreen.dismiss

    def confirm(self: ConfirmScreen, result: Any = None) -> Any:
        if isinstance(result, Confirmation):
            named = screen_text(self.app)
            for target in self.targets[:8]:  # the dialog lists up to 8; they must be shown
                assert target[:20] in named, (self.spec.id, target, named)
            answers.confirmed |= {(self.spec.id, target) for target in self.targets}
        return confirm_dismiss(self, result)

    def add_user(self: AddUserScreen, result: Any = None) -> Any:
        if isinstance(result, NewUser):
            answers.confirmed |= {("node.add-user", target) for target in self.targets}
        return add_user_dismiss(self, result)

    monkeypatch.setattr(ConfirmScreen, "dismiss", confirm)
    monkeypatch.setattr(AddUserScreen, "dismiss", add_user)
    return answers


POOL_POSTS = {
    "resize": "pool.resize",
    "stopresize": "pool.stop-resize",
    "enableautoscale": "pool.autoscale",
    "disableautoscale": "pool.disable-autoscale",
}

NODE_POSTS = {
    "reboot": "node.reboot",
    "reimage": "node.reimage",
    "deallocate": "node.deallocate",
    "start": "node.start",
    "disablescheduling": "node.disable-scheduling",
    "enablescheduling": "node.enable-scheduling",
    "users": "node.add-user",
}
JOB_POSTS = {"terminate": "job.terminate", "disable": "job.disable", "enable": "job.enable"}
TASK_POSTS = {"terminate": "task.terminate", "reactivate": "task.reactivate"}
SCHEDULE_POSTS = {"terminate": "schedule.terminate", "disable": "schedule.disable",
                  "enable": "schedule.enable"}  # fmt: skip


def actions_of(request: Recorded) -> list[tuple[str, str]]:
    """The (registry action id, target id) pairs a mutating request carries out."""
    parts = request.path.strip("/").split("/")
    if request.method == "DELETE":
        if len(parts) == 2 and parts[0] == "jobs":
            return [("job.delete", parts[1])]
        if len(parts) == 4 and parts[2] == "tasks":
            return [("task.delete", parts[3])]
        if len(parts) == 2 and parts[0] == "jobschedules":
            return [("schedule.delete", parts[1])]
        if len(parts) == 2 and parts[0] == "pools":
            return [("pool.delete", parts[1])]
    if request.method == "POST":
        if len(parts) == 3 and parts[0] == "pools" and parts[2] == "evaluateautoscale":
            return []  # the service evaluates a formula and changes nothing
        if len(parts) == 3 and parts[0] == "pools" and parts[2] in POOL_POSTS:
            return [(POOL_POSTS[parts[2]], parts[1])]
        if parts == ["jobs"]:
            return [("job.add", str(request.body.get("id")))]
        if len(parts) == 3 and parts[0] == "jobs" and parts[2] == "tasks":
            return [("task.add", str(request.body.get("id")))]
        if len(parts) == 3 and parts[0] == "pools" and parts[2] == "removenodes":
            return [("node.remove", node) for node in request.body["nodeList"]]
        if len(parts) == 5 and parts[2] == "nodes" and parts[4] in NODE_POSTS:
            return [(NODE_POSTS[parts[4]], parts[3])]
        if len(parts) == 3 and parts[0] == "jobs" and parts[2] in JOB_POSTS:
            return [(JOB_POSTS[parts[2]], parts[1])]
        if len(parts) == 5 and parts[2] == "tasks" and parts[4] in TASK_POSTS:
            return [(TASK_POSTS[parts[4]], parts[3])]
        if len(parts) == 3 and parts[0] == "jobschedules" and parts[2] in SCHEDULE_POSTS:
            return [(SCHEDULE_POSTS[parts[2]], parts[1])]
    return [("unknown", f"{request.method} {request.path}")]


def random_burst(rng: random.Random, keys: list[str]) -> list[str]:
    """A burst of 2 to 12 keys, sometimes with a `/` or `:` and text inside it."""
    chosen = [rng.choice(keys) for _ in range(rng.randint(2, 12))]
    if rng.random() < 0.3:
        at = rng.randrange(len(chosen) + 1)
        text = [rng.choice(SAFE_TEXT) for _ in range(rng.randint(1, 8))]
        chosen[at:at] = [rng.choice(("slash", "colon")), *text]
    return chosen


def text_input(app: Any) -> Input | None:
    """The input a `/` or `:` opened, if it is on screen and focused."""
    focused = app.focused
    return focused if isinstance(focused, Input) else None


def slash_opens_an_input(screen: Any) -> bool:
    """Whether `/` on this screen opens a text input (a list's filter, the viewer's search)."""
    return isinstance(screen, (ListScreen, FileViewerScreen))


async def check_typing_lands(pilot: Any, app: Any, rng: random.Random, where: str) -> None:
    """(c): `/` or `:` and text in one burst: every character is in the input."""
    if text_input(app) is not None:  # a filter left open by the bursts: `/` would be text
        burst(pilot, ["escape"])
        await quiet(pilot)
    screen = app.screen
    opener = "colon" if rng.random() < 0.5 or not slash_opens_an_input(screen) else "slash"
    text = "".join(rng.choice(SAFE_TEXT) for _ in range(rng.randint(1, 16)))
    # `/` on a list opens its filter with the filter in force, to edit: the text goes after it
    # (which table's filter that is depends on the focus the burst's keys left).
    prior = (
        screen.active_table().filter_pattern
        if opener == "slash" and isinstance(screen, ListScreen)
        else ""
    )

    def landed() -> bool:
        field = text_input(app)
        if field is None:
            return False
        if opener == "slash" and isinstance(screen, FileViewerScreen):
            return field.value.endswith(text)
        return field.value in (text, prior + text)

    burst(pilot, [opener, *text])
    try:
        await until(pilot, landed)
    except AssertionError:
        field = text_input(app)
        shown = None if field is None else field.value
        raise AssertionError(f"{where}: {opener} {text!r} gave {shown!r} on {app.screen}") from None
    if opener == "colon":
        assert isinstance(app.screen, CommandLineScreen), where
    burst(pilot, ["escape"])
    await quiet(pilot)


async def test_random_bursts_on_every_screen(
    make_app, seed_pool, seed_job, settle, emulator, recorder, worker_errors, tmp_path,
    monkeypatch, pytestconfig,
):  # fmt: skip
    monkeypatch.chdir(tmp_path)  # a confirmed "save" of the viewer writes here
    monkeypatch.setenv("PAGER", "true")
    answers = record_answers(monkeypatch)
    nodes = await seed_pool("pool-a", 3)
    seed_job("job-1", "pool-a", ["echo one", "echo two; exit 3", "sleep 100000"])
    seed_schedule(emulator, "pool-a")
    await settle(lambda: emulator.store.tasks["job-1"]["t1"].data["state"] == "completed")
    app = make_app()
    quits: list[object] = []
    monkeypatch.setattr(app, "exit", lambda *args, **kwargs: quits.append(args))
    rounds = burst_rounds(pytestconfig)
    bursts = 0
    async with app.run_test(size=(80, 24)) as pilot:
        await quiet(pilot)
        for name, build in screens("pool-a", nodes[0], "job-1", "t1").items():
            for round_ in range(rounds):
                seed = zlib.crc32(f"{name} {round_}".encode())
                rng = random.Random(seed)
                where = f"{name}, seed {seed}"
                home = await show(app, pilot, build)
                await check_typing_lands(pilot, app, rng, where)
                keys = sorted(
                    {key for key in home.active_bindings if key not in EXCLUDED}
                    | {key for key in EXTRA if key not in EXCLUDED}
                )
                for _ in range(4):
                    chosen = random_burst(rng, keys)
                    if rng.random() < 0.2:
                        paste(pilot, "".join(rng.choice(SAFE_TEXT) for _ in range(20)))
                    burst(pilot, chosen)
                    bursts += 1
                    await quiet(pilot)
                    if isinstance(app.screen, ConfirmScreen) and rng.random() < 0.5:
                        # A person reads the dialog, then answers it.
                        dialog = app.screen
                        await until(pilot, lambda d=dialog: d.opened_at < float("inf"))
                        typed = dialog.typed
                        burst(pilot, ["y"] if typed is None else [*typed, "enter"])
                        await quiet(pilot)
                    # (a) never exits, never a traceback.
                    assert app.is_running and app._exception is None, (where, chosen)
                    assert "Traceback" not in screen_text(app), (where, chosen)
                    # (b) every mutation was confirmed, naming that action and target.
                    for request in recorder.mutations():
                        for pair in actions_of(request):
                            # A clone is a task add: either dialog named its new id.
                            clone = ("task.clone", pair[1])
                            confirmed = pair in answers.confirmed or (
                                pair[0] == "task.add" and clone in answers.confirmed
                            )
                            assert confirmed, (where, chosen, pair)
    assert not worker_errors.errors
    assert bursts >= 4 * rounds * 11
    print(f"{bursts} bursts, {len(answers.confirmed)} confirmed, {len(recorder.mutations())} sent")
