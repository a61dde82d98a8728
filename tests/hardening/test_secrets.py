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
from batch_tui.batch.odata import eq
from batch_tui.cli import DemoLauncher, build_app, build_parser
from batch_tui.config import Settings
from batch_tui.paths import write_private
from batch_tui.ui.byte_sources import TaskFileRef
from batch_tui.ui.screens.file_viewer import FileViewerScreen
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.jobs import JobsScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.nodes import NodesScreen
from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.screens.pools import PoolsScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from tests.ui.jobs_fixtures import open_screen, wait_async, wait_for
from tests.ui.support import (
    BASE_URL,
    KEY,
    TARGET,
    capture_notifications,
    pilot_settle,
    quiet_settings,
)

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


async def test_the_demo_as_the_command_line_starts_it_shows_and_writes_its_key_nowhere(
    tmp_path, private_cache_dir, caplog, monkeypatch
):
    """`batch-tui --demo`, as `cli.run_app` builds it: the emulator in its thread, real task
    processes, every screen of a job, a saved file, the SSH command dialog."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    demo = DemoLauncher(tmp_path / "demo")
    demo.launch()
    shots: list[str] = []
    try:
        key = demo.target().key
        assert key
        app = build_app(build_parser().parse_args(["--demo"]), quiet_settings(), demo)
        async with app.run_test(size=(140, 40)) as pilot:
            notes = capture_notifications(app)
            done: list[tuple[str, str]] = []
            await wait_async(lambda: find_completed(app, done), seconds=60)
            job_id, task_id = done[0]
            tour = [*DEMO_TOUR, (f"tasks {job_id}", JobDetailScreen),
                    (f"task {job_id} {task_id}", TaskDetailScreen)]  # fmt: skip
            (tmp_path / "saved").mkdir()
            for command, screen_type in tour:
                screen = await open_screen(pilot, command, screen_type)
                shots.append(app.export_screenshot())
                if isinstance(screen, TaskDetailScreen):
                    await pilot.press("o")
                    await wait_for(pilot, lambda: isinstance(app.screen, FileViewerScreen))
                    viewer = app.screen
                    await wait_for(pilot, lambda v=viewer: v.viewer.is_open, rounds=1000)
                    await viewer.save_file(tmp_path / "saved" / "stdout.txt")
                    shots.append(app.export_screenshot())
            reprs = [repr(app.session), repr(app.session.client), repr(app.open_target)]
    finally:
        demo.stop()
    assert (tmp_path / "saved" / "stdout.txt").stat().st_size > 0
    assert caplog.records and len(shots) == len(DEMO_TOUR) + 3  # the scans saw something
    texts = [*shots, " ".join(m for m, _ in notes), " ".join(reprs)]
    texts.append("\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records))
    for text in texts:
        assert key not in text
    for folder in (tmp_path, private_cache_dir):
        for path in folder.rglob("*"):
            if path.is_file():
                assert key.encode() not in path.read_bytes(), path


DEMO_TOUR = [
    ("overview", OverviewScreen),
    ("pools", PoolsScreen),
    ("jobs", JobsScreen),
    ("nodes etl-pool", NodesScreen),
]
"""The demo's screens, as `:` commands; then a job with a completed task, and that task."""


async def find_completed(app: Any, found: list[tuple[str, str]]) -> bool:
    """Looks (through the open account's client) for a completed task of the demo's quick
    jobs; notes it in `found`."""
    for job_id in ("backfill-2024", "etl-daily"):
        try:
            tasks = await app.session.client.list_tasks(job_id, filter=eq("state", "completed"))
        except BatchError:
            return False  # the demo emulator is still starting
        if tasks:
            found.append((job_id, tasks[0].id))
            return True
    return False
