"""Helpers of the UI tests: the demo account, quiet settings, and waits on a Pilot.

- `PILOT`: the emulator the `emulator` fixture builds for the UI (and hardening) tests.
- `pool_body(pool_id, nodes)`: a pool to add; `node_states(emu, pool_id)`: its nodes' states.
- `quiet_settings(**keymap)`: refresh intervals long enough that only `r` refreshes.
- `pilot_settle(pilot)`: waits for every worker and the screen to quiet down.
- `open_nodes(app, pilot, pool_id)`: shows a pool's node list, loaded.
- `screen_text(app)`, `capture_notifications(app)`: what the screen shows and what was notified.
- `wait_for_text(pilot, text)`: waits (bounded) until `text` is on screen.
"""

from __future__ import annotations

import base64
import contextlib
from typing import TYPE_CHECKING, Any

from textual.worker import WorkerCancelled

from batch_tui.accounts import AccountTarget
from batch_tui.config import Refresh, Settings
from batch_tui.emulator import Emulator
from batch_tui.emulator.base.settings import Timings
from tests.emulator.support import EmulatorProfile

if TYPE_CHECKING:
    from textual.pilot import Pilot

ACCOUNT = "demo"
KEY = base64.b64encode(b"ui-test-key-0123456789abcdef-0123456789").decode()
BASE_URL = "https://demo.westus.batch.azure.com"
TARGET = AccountTarget(
    name="demo", url=BASE_URL, account=ACCOUNT, auth="shared-key", key=KEY, is_demo=True
)
LONG = 3600.0
"""Refresh interval in tests: the timer never fires; tests refresh with `r`."""


def pilot_timings() -> Timings:
    """State changes that take a few ticks of the manual clock.

    The engine's own loop ticks rarely (`tick=5`): `settle` drives it, and a busy loop would
    keep Pilot's idle detection waiting its full second on every pause.
    """
    return Timings(
        tick=5.0,
        node_creating=0.02,
        node_starting=0.02,
        node_rebooting=0.05,
        node_reimaging=0.05,
        node_deallocating=0.05,
        node_leaving=0.02,
        task_preparing=0.01,
        simulated_task_seconds=0.02,
    )


PILOT = EmulatorProfile(ACCOUNT, KEY, BASE_URL, pilot_timings)
"""The emulator of the UI and hardening tests: the demo account the app opens, on timings that
`settle` drives (the `emulator` fixture's default)."""


def pool_body(pool_id: str, nodes: int, **extra: Any) -> dict[str, Any]:
    """A PoolAddParameter for a Linux pool of `nodes` dedicated nodes."""
    return {
        "id": pool_id,
        "vmSize": "STANDARD_D2S_V3",
        "virtualMachineConfiguration": {
            "imageReference": {
                "publisher": "canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts",
                "version": "latest",
            },
            "nodeAgentSKUId": "batch.node.ubuntu 22.04",
        },
        "targetDedicatedNodes": nodes,
        **extra,
    }


def node_states(emu: Emulator, pool_id: str) -> dict[str, str]:
    """Node id -> state of a pool, read from the emulator's store."""
    nodes = emu.store.nodes.get(pool_id.lower(), {})
    return {record.data["id"]: record.data["state"] for record in nodes.values()}


def quiet_settings(**keymap: str) -> Settings:
    """Settings with refresh intervals long enough that only `r` refreshes."""
    refresh = Refresh(
        overview=LONG, pools=LONG, nodes=LONG, jobs=LONG, tasks=LONG, detail=LONG, files=LONG
    )
    return Settings(refresh=refresh, keymap=dict(keymap))


def screens_loaded(app: Any) -> bool:
    """Whether every account screen on the stack finished a refresh (or failed one)."""
    from batch_tui.ui.screens.base import BatchScreen

    for screen in app.screen_stack:
        if isinstance(screen, BatchScreen):
            if screen._refreshing or (screen.last_refreshed is None and screen.error is None):
                return False
    return True


async def pilot_settle(pilot: Pilot[Any]) -> None:
    """Waits until every screen has loaded, no worker runs and messages are processed."""
    for _ in range(200):
        await pilot.pause()
        with contextlib.suppress(WorkerCancelled):  # replaced by a newer one: done too
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        idle = not any(worker.is_running for worker in pilot.app.workers)
        idle = idle and not getattr(pilot.app, "keys_pending", False)
        if idle and screens_loaded(pilot.app):
            # Lay out and paint now: on a busy machine the screen's own update timer can
            # lag behind the workers, and tests read what is on screen.
            pilot.app.screen.refresh(layout=True)
            await pilot.pause()
            return
    raise AssertionError("the screens did not finish loading")


async def open_nodes(app: Any, pilot: Pilot[Any], pool_id: str = "pool-a") -> Any:
    """Shows a pool's node list and waits until it has loaded; returns the screen."""
    from batch_tui.ui.screens.nodes import NodesScreen

    app.show(NodesScreen(pool_id))
    await pilot_settle(pilot)
    assert isinstance(app.screen, NodesScreen)
    return app.screen


def screen_text(app: Any) -> str:
    """The text currently on screen, line by line (no styles)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def capture_notifications(app: Any) -> list[tuple[str, str]]:
    """Records every `notify` of the app and its screens as (message, severity).

    `app._notifications` drops a toast once its timeout passes, which a slow test run can
    outlast; this list keeps them all.
    """
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        seen.append((str(message), kwargs.get("severity", "information")))
        original(message, *args, **kwargs)

    app.notify = notify
    return seen


async def wait_for_text(pilot: Pilot[Any], text: str) -> str:
    """Waits (bounded) until `text` is on screen and returns the screen's text.

    A widget whose height changes is laid out again on a later refresh of the screen; on a busy
    machine that can come after the workers are done, so a test polls for what it expects.

    Raises:
        AssertionError: `text` did not show; the message names it and what the screen shows.
    """
    for _ in range(100):
        shown = screen_text(pilot.app)
        if text in shown:
            return shown
        await pilot.pause()
    shown = screen_text(pilot.app)
    if text in shown:
        return shown
    raise AssertionError(f"{text!r} never showed; the screen shows:\n{shown}")
