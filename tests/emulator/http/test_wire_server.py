"""Tests the server entry points: the loopback guard, binding, and what `serve` prints."""

from __future__ import annotations

import io

import pytest

from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.http import server


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts_need_no_key(host: str) -> None:
    assert server.is_loopback(host)
    assert server.ensure_loopback(host, key_given=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "example.com"])
def test_other_hosts_need_an_explicit_key(host: str) -> None:
    assert not server.is_loopback(host)
    problem = server.ensure_loopback(host, key_given=False)
    assert problem is not None and "--key" in problem
    assert server.ensure_loopback(host, key_given=True) is None


def test_build_server_binds_a_free_port_and_sets_the_base_url() -> None:
    settings = EmulatorSettings()
    bound = server.build_server(settings, "127.0.0.1", 0)
    try:
        port = bound.sock.getsockname()[1]
        assert port > 0
        assert bound.url == settings.base_url == f"http://127.0.0.1:{port}"
        assert bound.server.config.lifespan == "on"
    finally:
        bound.sock.close()


def test_serve_prints_endpoint_account_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[server.BoundServer] = []
    monkeypatch.setattr(server.BoundServer, "run", lambda self: ran.append(self))
    settings = EmulatorSettings(account="demo", executor="simulated")
    out = io.StringIO()
    server.serve(settings, "127.0.0.1", 0, out=out)
    text = out.getvalue()
    assert f"listening on {settings.base_url}" in text
    assert "account:  demo" in text
    assert f"key:      {settings.key}" in text
    assert len(ran) == 1
    ran[0].sock.close()
