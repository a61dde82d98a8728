"""Makes the README's SVG screenshots from the demo: `python screenshots/generate.py`.

`python screenshots/generate.py sparklines` makes only the history's (`shoot_sparklines`).
`python screenshots/generate.py run-times` makes only the run times' and the node timeline's
(`shoot_run_times`).

It runs the demo scenario in process (the same emulator `batch-tui --demo` starts, with real task
processes), waits until the demo shows every kind of state (a failed start task, an offline
node, finished and failed tasks), then opens each screen of the app headless and saves it.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from batch_tui.accounts import AccountTarget  # noqa: E402
from batch_tui.config import Settings  # noqa: E402
from batch_tui.emulator import (  # noqa: E402
    Emulator,  # noqa: E402
    build_emulator,
    create_app,
)
from batch_tui.emulator.base.settings import EmulatorSettings  # noqa: E402
from batch_tui.ui.app import BatchApp  # noqa: E402
from batch_tui.ui.byte_sources import TaskFileRef  # noqa: E402
from batch_tui.ui.entity_refs import EntityRef  # noqa: E402
from batch_tui.ui.screens.confirm import ChoiceScreen, ConfirmScreen  # noqa: E402
from batch_tui.ui.session import open_session  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZE = (110, 32)
"""Terminal size of the screenshots: a roomy laptop terminal, still readable in a README."""


def demo_settled(emu: Emulator) -> bool:
    """True once the demo shows failures, an offline node and finished tasks."""
    store = emu.store
    gpu = [n.data["state"] for n in store.pool_nodes("gpu-pool").values()]
    etl = [n.data["state"] for n in store.pool_nodes("etl-pool").values()]
    frames = store.job_tasks("nightly-render")
    failed = frames.get("frame-0013")
    big = store.job_tasks("etl-daily").get("big-log")
    return (
        gpu.count("starttaskfailed") == 2
        and "offline" in etl
        and failed is not None
        and failed.data["state"] == "completed"
        and big is not None
        and big.data["state"] == "completed"
    )


def triage_ready(emu: Emulator) -> bool:
    """True once the render job's failing frames (out of memory twice over, a segfault) ended."""
    frames = emu.store.job_tasks("nightly-render")
    ids = ("frame-0013", "frame-0024", "frame-0037", "frame-0061", "frame-0077")
    return all(frames[i].data["state"] == "completed" for i in ids if i in frames)


async def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the demo did not reach the expected state in time")


async def shoot(app: BatchApp, pilot: object, name: str) -> None:
    """Lets the screen load, then saves it.

    A flow waiting for a dialog's answer (acting on a state) is a worker that does not end
    while the dialog is open: only the others are waited for.
    """
    for _ in range(2):
        busy = [w for w in app.workers if w.is_running and w.group != "state-action"]
        await asyncio.gather(*(w.wait() for w in busy), return_exceptions=True)
        await pilot.pause(0.3)  # type: ignore[attr-defined]
    app.save_screenshot(f"{name}.svg", str(OUT))
    print(f"screenshots/{name}.svg")


async def clone_shots(app: BatchApp, pilot: object) -> None:
    """The failed frame cloned (`C`) into the JSON editor, then the service's 400 under it."""
    from batch_tui.ui.screens.json_editor import JsonEditorScreen
    from batch_tui.ui.screens.task_detail import TaskDetailScreen

    app.show(TaskDetailScreen("nightly-render", "frame-0013"))
    await pilot.press("C")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, JsonEditorScreen), 10)
    editor = app.screen
    assert isinstance(editor, JsonEditorScreen)
    await wait_for(lambda: not editor.text_loading, 10)
    await shoot(app, pilot, "clone-task-80x24")
    area = editor.text_area
    area.load_text(area.text.replace('"maxTaskRetryCount": 0', '"maxTaskRetryCount": -2'))
    await pilot.press("ctrl+t")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, ConfirmScreen), 10)
    await pilot.press("y")  # type: ignore[attr-defined]
    problems = editor.query_one("#editor-problems")
    await wait_for(lambda: not problems.has_class("hidden"), 10)
    await shoot(app, pilot, "clone-task-error-80x24")
    editor.dismiss(None)
async def shoot_autoscale(app: BatchApp, pilot: object, emu: Emulator) -> None:
    """The autoscale formula editor after an evaluation, at 80x24.

    The service evaluates a formula only on a pool with autoscale on: etl-pool gets a formula
    that keeps its size first, then the editor evaluates the example formula.
    """
    from textual.widgets import Static, TextArea

    from batch_tui.ui.pool_changes import EXAMPLE_FORMULA
    from batch_tui.ui.screens.pool_detail import PoolDetailScreen
    from batch_tui.ui.screens.pool_dialogs import AutoscaleEditorScreen

    pool = emu.store.pools["etl-pool"]
    await wait_for(lambda: pool.data["allocationState"] == "steady", 60)
    await app.session.client.enable_pool_autoscale("etl-pool", "$TargetDedicatedNodes = 3;")
    app.show(PoolDetailScreen("etl-pool"))
    await shoot_quietly(app, pilot)
    await pilot.press("a")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, AutoscaleEditorScreen), 10)
    editor = app.screen
    editor.query_one("#formula", TextArea).text = EXAMPLE_FORMULA
    await pilot.press("ctrl+r")  # type: ignore[attr-defined]
    result = editor.query_one("#autoscale-result", Static)
    await wait_for(lambda: "Evaluating" not in str(result.render()), 10)
    await shoot(app, pilot, "autoscale")
    await pilot.press("escape")  # type: ignore[attr-defined]


async def shoot_quietly(app: BatchApp, pilot: object) -> None:
    """Lets the screen load, without saving it."""
    busy = [w for w in app.workers if w.is_running]
    await asyncio.gather(*(w.wait() for w in busy), return_exceptions=True)
    await pilot.pause(0.3)  # type: ignore[attr-defined]


async def main() -> None:
    from batch_tui.ui.screens.failures import FailuresScreen
    from batch_tui.ui.screens.file_viewer import FileViewerScreen
    from batch_tui.ui.screens.heatmap import HeatmapScreen
    from batch_tui.ui.screens.help import HelpScreen
    from batch_tui.ui.screens.job_detail import JobDetailScreen
    from batch_tui.ui.screens.jobs import JobsScreen
    from batch_tui.ui.screens.json_view import JsonViewScreen
    from batch_tui.ui.screens.node_detail import NodeDetailScreen
    from batch_tui.ui.screens.nodes import NodesScreen
    from batch_tui.ui.screens.pool_detail import PoolDetailScreen
    from batch_tui.ui.screens.pools import PoolsScreen
    from batch_tui.ui.screens.prep_release import PrepReleaseScreen
    from batch_tui.ui.screens.task_detail import TaskDetailScreen

    with tempfile.TemporaryDirectory(prefix="batch-tui-shots-") as data_dir:
        settings = EmulatorSettings(
            account="demo",
            scenario="demo",
            executor="local",
            data_dir=Path(data_dir),
            persist=False,
            base_url="http://127.0.0.1:8765",
        )
        emu = build_emulator(settings)
        asgi = create_app(emu)
        await emu.start()
        try:
            await wait_for(lambda: demo_settled(emu), 120)
            target = AccountTarget(
                name="demo (local emulator)",
                url=settings.base_url,
                account="demo",
                auth="shared-key",
                key=settings.key,
                is_demo=True,
                source="demo",
            )
            app = BatchApp(
                Settings(),
                targets=[target],
                open_target=target,
                session_factory=lambda t: open_session(t, transport=httpx.ASGITransport(asgi)),
            )
            async with app.run_test(size=SIZE) as pilot:
                await shoot(app, pilot, "overview")
                offline = next(
                    n.id
                    for n in emu.store.pool_nodes("etl-pool").values()
                    if n.data["state"] == "offline"
                )
                failed_start = next(iter(emu.store.pool_nodes("gpu-pool").values())).id
                steps: list[tuple[str, object]] = [
                    ("pool-tree", PoolsScreen()),
                    ("pool-detail", PoolDetailScreen("etl-pool")),
                    ("node-list", NodesScreen("render-pool")),
                    ("heatmap", HeatmapScreen("render-pool")),
                    ("node-detail", NodeDetailScreen("gpu-pool", failed_start)),
                    ("job-list", JobsScreen()),
                    ("job-tasks", JobDetailScreen("nightly-render")),
                    ("prep-release", PrepReleaseScreen("nightly-render")),
                    ("task-detail", TaskDetailScreen("nightly-render", "frame-0013")),
                    (
                        "file-viewer",
                        FileViewerScreen(TaskFileRef("etl-daily", "ansi-log", "stdout.txt")),
                    ),
                ]
                for name, screen in steps:
                    app.show(screen)  # type: ignore[arg-type]
                    await shoot(app, pilot, name)
                await wait_for(lambda: triage_ready(emu), 120)
                app.show(FailuresScreen("nightly-render"))
                await shoot(app, pilot, "triage")
                app.show(NodeDetailScreen("etl-pool", offline))
                await shoot(app, pilot, "node-offline")
                busy = next(iter(emu.store.pool_nodes("render-pool").values())).id
                app.show(NodeDetailScreen("render-pool", busy))
                await shoot(app, pilot, "node-running")
                await pilot.press("b")  # reboot: the confirmation dialog
                await shoot(app, pilot, "confirm-reboot")
                await pilot.press("escape")
                await pilot.press("a")  # add a user: its dialog, then the SSH command
                await pilot.press(*"alice")
                app.screen.query_one("#user-key").value = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 alice"
                await shoot(app, pilot, "add-user")
                await pilot.press("enter")
                await shoot(app, pilot, "ssh-command")
                await pilot.press("escape")
                app.push_screen(HelpScreen(app.screen))
                await shoot(app, pilot, "help")
                await pilot.press("escape")
                # Every starttaskfailed node of gpu-pool at once: the state, then the action.
                app.show(NodesScreen("gpu-pool"))
                await shoot(app, pilot, "node-list-failed")
                await pilot.press("asterisk")
                await wait_for(lambda: isinstance(app.screen, ChoiceScreen), 10)
                await shoot(app, pilot, "state-action-choice")
                await pilot.press("1")  # the starttaskfailed state ...
                await wait_for(lambda: "which action" in str(app.screen.title_text), 10)
                await pilot.press("1")  # ... and reboot
                await wait_for(lambda: isinstance(app.screen, ConfirmScreen), 10)
                await shoot(app, pilot, "state-action-confirm")
                await pilot.press("escape")
                app.show(JobsScreen())
                await shoot(app, pilot, "job-list")
                await pilot.press("X")  # deleting a job asks for its id
                await shoot(app, pilot, "confirm-delete-job")
                await pilot.press("escape")
                app.show_accounts()
                await shoot(app, pilot, "accounts")
            # At 80x24: what an SSH session on a small terminal sees.
            small = BatchApp(
                Settings(),
                targets=[target],
                open_target=target,
                session_factory=lambda t: open_session(t, transport=httpx.ASGITransport(asgi)),
            )
            async with small.run_test(size=(80, 24)) as pilot:
                await shoot(small, pilot, "overview-80x24")
                small.show(NodesScreen("render-pool"))
                await shoot(small, pilot, "node-list-80x24")
                await pilot.press("space", "space", "space", "b")  # three marked: every id shown
                await shoot(small, pilot, "confirm-marked-80x24")
                await pilot.press("escape")
                small.show(JobDetailScreen("nightly-render"))
                await shoot(small, pilot, "job-tasks-80x24")
                await clone_shots(small, pilot)
                await shoot_autoscale(small, pilot, emu)
                # `y` on a failed task: its JSON as the service returns it, searched with `/`.
                json_view = JsonViewScreen(EntityRef.task("nightly-render", "frame-0013"))
                small.show(json_view)
                await wait_for(lambda: json_view.is_mounted and json_view.viewer.is_open, 10)
                await pilot.press("slash", *"exitcode", "enter")
                await shoot(small, pilot, "json-view")
                await shoot_download_dialog(small, pilot)
        finally:
            await emu.stop()
    await shoot_sparklines()  # a demo of its own, sampled from its start
    await shoot_run_times()


async def shoot_download_dialog(app: BatchApp, pilot: object) -> None:
    """`w` on a task's files, every row marked: the dialog that names them and asks where."""
    from textual.widgets import Input

    from batch_tui.ui.screens.download_dialog import DownloadDialog
    from batch_tui.ui.screens.task_detail import TaskDetailScreen
    from batch_tui.ui.widgets.file_list import FileList

    screen = TaskDetailScreen("nightly-render", "frame-0013")
    app.show(screen)
    await wait_for(lambda: any(files.row_count for files in screen.query(FileList)), 20)
    await pilot.press("2", "A", "w")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, DownloadDialog), 10)
    # The default (the downloads folder, else the current one) as a user's home would have it.
    folder = app.screen.query_one("#download-folder", Input)
    folder.value = "~/Downloads/nightly-render.frame-0013"
    await shoot(app, pilot, "download-dialog-80x24")
    await pilot.press("escape")  # type: ignore[attr-defined]


SPARKLINE_REFRESHES = (24, 60)
"""Refreshes of the overview before its sparklines are shot: at least the first, at most the
second (the demo's failures showing earlier ends it)."""

SPARKLINE_STEP = timedelta(seconds=10)
"""How far the app's clock moves per refresh: the overview's default interval."""


async def shoot_sparklines() -> None:
    """The overview's trends and ETAs after a few minutes of refreshes, and a pool's history.

    A demo of its own, from its start: the app's clock moves `SPARKLINE_STEP` per refresh
    while the demo runs a second of real time in between, so that a few minutes of samples
    (at the app's clock) take about a minute to make.
    """
    from batch_tui.ui.screens.overview import OverviewScreen
    from batch_tui.ui.screens.pool_detail import PoolDetailScreen

    with tempfile.TemporaryDirectory(prefix="batch-tui-shots-") as data_dir:
        settings = EmulatorSettings(
            account="demo", scenario="demo", executor="local", data_dir=Path(data_dir),
            persist=False, base_url="http://127.0.0.1:8765",
        )  # fmt: skip
        emu = build_emulator(settings)
        asgi = create_app(emu)
        await emu.start()
        clock = [datetime.now(timezone.utc)]
        try:
            target = AccountTarget(
                name="demo (local emulator)", url=settings.base_url, account="demo",
                auth="shared-key", key=settings.key, is_demo=True, source="demo",
            )  # fmt: skip
            app = BatchApp(
                Settings(),
                targets=[target],
                open_target=target,
                session_factory=lambda t: open_session(t, transport=httpx.ASGITransport(asgi)),
                now=lambda: clock[0],
            )
            async with app.run_test(size=SIZE) as pilot:
                await shoot_quietly(app, pilot)
                overview = app.screen
                assert isinstance(overview, OverviewScreen)
                least, most = SPARKLINE_REFRESHES
                for count in range(most):
                    if count >= least and demo_settled(emu):
                        break
                    await asyncio.sleep(1.0)  # the demo's tasks and nodes move on
                    clock[0] += SPARKLINE_STEP
                    overview.refresh_data()
                    await shoot_quietly(app, pilot)
                await shoot(app, pilot, "overview-sparklines")
                detail = PoolDetailScreen("etl-pool")
                app.show(detail)
                await shoot_quietly(app, pilot)
                detail.query_one("#pool-scroll").scroll_to(y=16, animate=False)
                await shoot(app, pilot, "pool-history")
        finally:
            await emu.stop()


async def shoot_run_times() -> None:
    """The render job's run times once its failing frames have run, and its pool's node
    timeline, at the README's size and at 80x24 (a demo of its own:
    `python screenshots/generate.py run-times`)."""
    from batch_tui.ui.screens.run_times import RunTimesScreen
    from batch_tui.ui.screens.timeline import TimelineScreen

    with tempfile.TemporaryDirectory(prefix="batch-tui-shots-") as data_dir:
        settings = EmulatorSettings(
            account="demo", scenario="demo", executor="local", data_dir=Path(data_dir),
            persist=False, base_url="http://127.0.0.1:8765",
        )  # fmt: skip
        emu = build_emulator(settings)
        asgi = create_app(emu)
        await emu.start()
        try:
            await wait_for(lambda: triage_ready(emu), 180)
            target = AccountTarget(
                name="demo (local emulator)", url=settings.base_url, account="demo",
                auth="shared-key", key=settings.key, is_demo=True, source="demo",
            )  # fmt: skip
            for size, suffix in ((SIZE, ""), ((80, 24), "-80x24")):
                app = BatchApp(
                    Settings(),
                    targets=[target],
                    open_target=target,
                    session_factory=lambda t: open_session(t, transport=httpx.ASGITransport(asgi)),
                )
                async with app.run_test(size=size) as pilot:
                    await shoot_quietly(app, pilot)
                    app.show(RunTimesScreen("nightly-render"))
                    await shoot(app, pilot, f"run-times{suffix}")
                    app.show(TimelineScreen("render-pool"))
                    await shoot(app, pilot, f"timeline{suffix}")
        finally:
            await emu.stop()


if __name__ == "__main__" and sys.argv[1:] == ["run-times"]:
    asyncio.run(shoot_run_times())
    sys.exit(0)

if __name__ == "__main__":
    asyncio.run(shoot_sparklines() if sys.argv[1:] == ["sparklines"] else main())
