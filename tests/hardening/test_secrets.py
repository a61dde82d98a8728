"""Tests that keys and tokens leak nowhere: logs, screens, errors, saved files, reprs, modes."""

from __future__ import annotations

import logging
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import BatchError
from batch_tui.config import Settings
from batch_tui.paths import write_private
from batch_tui.ui.byte_sources import TaskFileRef
from batch_tui.ui.screens.file_viewer import FileViewerScreen
from batch_tui.ui.screens.jobs import JobsScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.pools import PoolsScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from tests.ui.conftest import BASE_URL, KEY, TARGET, capture_notifications, pilot_settle
from tests.ui.jobs_fixtures import wait_for

TOKEN = "eyJhbGciOi.FAKE-ENTRA-TOKEN-7f3c9a.signature"
"""A bearer token no real service issued; it must appear nowhere."""


class FakeToken(NamedTuple):
    token: str
    expires_on: int


class FakeCredential:
    """An async azure-identity-like credential that hands out `TOKEN`."""

    def __init__(self) -> None:
        self.calls = 0

    async def get_token(self, *scopes: str, **kwargs: Any) -> FakeToken:
        self.calls += 1
        expires = datetime.now(timezone.utc) + timedelta(hours=1)
        return FakeToken(TOKEN, int(expires.timestamp()))

    async def close(self) -> None:
        return None


def leaks(text: str) -> list[str]:
    """Which secrets appear in `text`."""
    return [name for name, secret in (("key", KEY), ("token", TOKEN)) if secret in text]


async def test_key_appears_in_no_log_screenshot_notification_or_saved_file(
    make_app, seed_pool, seed_job, settle, emulator, caplog, tmp_path, transport
):
    caplog.set_level(logging.DEBUG)
    nodes = await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo one", "echo two; exit 3"])
    await settle(lambda: emulator.store.tasks["job-1"]["t1"].data["state"] == "completed")
    app = make_app()
    shots: list[str] = []
    async with app.run_test(size=(140, 40)) as pilot:
        notes = capture_notifications(app)
        await pilot_settle(pilot)
        shots.append(app.export_screenshot())
        for screen in (
            PoolsScreen(),
            NodeDetailScreen("pool-a", nodes[0]),
            JobsScreen(),
            TaskDetailScreen("job-1", "t1"),
        ):
            app.show(screen)
            await wait_for(pilot, lambda s=screen: app.screen is s)
            await pilot_settle(pilot)
            shots.append(app.export_screenshot())
        viewer = FileViewerScreen(TaskFileRef("job-1", "t1", "stdout.txt"))
        app.push_screen(viewer)
        await wait_for(pilot, lambda: app.screen is viewer and viewer.is_mounted)
        await wait_for(pilot, lambda: viewer.viewer.is_open)
        saved = tmp_path / "saved" / "stdout.txt"
        saved.parent.mkdir()
        await viewer.save_file(saved)
        shots.append(app.export_screenshot())
        # An error path: the network goes away, the screen shows why.
        transport.broken = True
        await pilot.press("escape", "r")
        await pilot_settle(pilot)
        shots.append(app.export_screenshot())
        session = app.session
        reprs = [repr(session), repr(session.client), repr(TARGET), repr(app.settings)]
    assert saved.read_bytes().startswith(b"task t1 of job job-1")
    assert len(shots) == 7
    for shot in shots:
        assert not leaks(shot)
    assert not leaks(" ".join(m for m, _ in notes))
    records = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert caplog.records, "nothing was logged at DEBUG: the capture is not working"
    assert not leaks(records)
    assert not leaks(" ".join(reprs)), reprs
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


async def test_bearer_token_is_not_in_the_error_of_a_refused_request(caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization", ""))
        body = {
            "odata.metadata": f"{BASE_URL}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
            "code": "AuthenticationFailed",
            "message": {"lang": "en-US", "value": "Server failed to authenticate the request."},
        }
        return httpx.Response(401, json=body)

    credential = FakeCredential()
    client = BatchClient.with_credential(
        BASE_URL, credential, transport=httpx.MockTransport(handler)
    )
    with pytest.raises(BatchError) as raised:
        await client.list_pools()
    await client.aclose()
    assert credential.calls >= 1 and seen and seen[0] == f"Bearer {TOKEN}"
    error = raised.value
    text = " ".join([str(error), repr(error), repr(error.__dict__), repr(client)])
    assert "AuthenticationFailed" in text or "authenticate" in text
    assert not leaks(text)
    assert not leaks("\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records))


def test_config_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "config" / "batch-tui" / "config.toml"
    write_private(path, f'[accounts.demo]\nkey = "{KEY}"\n'.encode())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_private(path, b"replaced")  # rewriting keeps it private
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not leaks(repr(Settings()))
