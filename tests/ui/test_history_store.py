"""Tests the history's file: per endpoint, 0600, read back by the next session; none for the
demo."""

from __future__ import annotations

import stat
from datetime import datetime, timezone
from pathlib import Path

from batch_tui.accounts import AccountTarget
from batch_tui.batch.client import BatchClient
from batch_tui.ui import history_store
from batch_tui.ui.history_store import decode, encode, history_file, load_history
from batch_tui.ui.session import AccountSession

URL = "https://acct.westeurope.batch.azure.com"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def session(folder: Path, *, demo: bool = False, url: str = URL) -> AccountSession:
    target = AccountTarget(name="acct", url=url, account="acct", key="a2V5", is_demo=demo)
    client = BatchClient.with_shared_key(url, "acct", "a2V5")
    return AccountSession(target, client, history_folder=folder)


async def test_the_history_survives_a_restart_in_a_private_file(tmp_path):
    first = session(tmp_path)
    history = await first.open_history()
    history.record_pools(NOW, {"pool-a": {"idle": 2, "offline": 1}}, {"pool-a": 3})
    history.record_jobs(NOW, {"job-1": 40})
    await first.save_history_soon()
    await first.aclose()
    path = first.history_file
    assert path.parent == tmp_path and stat.S_IMODE(path.stat().st_mode) == 0o600

    second = session(tmp_path)
    again = await second.open_history()
    ring = again.pool("pool-a")
    assert ring is not None and ring.values("offline") == [1] and ring.values("tasks") == [3]
    job = again.job("job-1")
    assert job is not None and job.values("completed") == [40]
    await second.aclose()


async def test_each_endpoint_has_its_own_file(tmp_path):
    first = session(tmp_path)
    (await first.open_history()).record_jobs(NOW, {"job-1": 1})
    first.save_history()
    other = session(tmp_path, url="https://other.westeurope.batch.azure.com")
    assert other.history_file != first.history_file
    assert (await other.open_history()).jobs == {}
    # A file copied under another endpoint's name is not taken for its history.
    other.history_file.write_bytes(first.history_file.read_bytes())
    assert load_history(other.history_file, other.client.endpoint).jobs == {}
    await first.aclose()
    await other.aclose()


async def test_the_demo_keeps_its_history_in_memory(tmp_path):
    demo = session(tmp_path, demo=True, url="http://127.0.0.1:4242")
    (await demo.open_history()).record_jobs(NOW, {"job-1": 1})
    await demo.save_history_soon()
    demo.save_history()
    assert list(tmp_path.iterdir()) == []
    assert demo.history is not None and demo.history.job("job-1") is not None
    await demo.aclose()


def test_an_unreadable_file_gives_an_empty_history(tmp_path):
    path = history_file(URL, tmp_path)
    assert load_history(path, URL).pools == {}, "no file"
    path.write_bytes(b"{not json")
    assert load_history(path, URL).pools == {}
    path.write_bytes(b'{"version": 1, "endpoint": "%s", "pools": {"p": "!!"}}' % URL.encode())
    assert load_history(path, URL).pools == {}
    assert decode(b"[]", URL) is None


def test_the_default_folder_is_in_the_user_data_directory(monkeypatch, tmp_path):
    monkeypatch.setattr(history_store.paths, "data_dir", lambda: tmp_path)
    assert history_file(URL).parent == tmp_path / "history"
    assert encode(URL, {"pool_fields": [], "job_fields": [], "pools": {}, "jobs": {}})


async def test_a_session_reopened_on_the_same_account_keeps_the_samples_in_memory(tmp_path):
    first = session(tmp_path)
    (await first.open_history()).record_jobs(NOW, {"job-1": 7})
    second = session(tmp_path)
    second.adopt_history(first)
    ring = (await second.open_history()).job("job-1")
    assert ring is not None and ring.values("completed") == [7], "not read from a stale file"
    other = session(tmp_path, url="https://other.westeurope.batch.azure.com")
    other.adopt_history(first)
    assert (await other.open_history()).jobs == {}, "another account's samples stay out"
    await first.write_history()
    assert first.history_file.exists()
    for each in (first, second, other):
        await each.aclose()
