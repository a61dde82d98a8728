"""Tests the server entry points: the loopback guard, binding, and what `serve` prints."""

from __future__ import annotations

import base64
import io
import socket
from pathlib import Path

import pytest

from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.http import server

KEY_32 = base64.b64encode(b"k" * 32).decode()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts_take_any_key(host: str) -> None:
    assert server.is_loopback(host)
    assert server.bind_problem(host, None, key_on_command_line=False) is None
    assert server.bind_problem(host, "a2V5", key_on_command_line=True) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "example.com"])
def test_other_hosts_need_a_strong_key_kept_out_of_ps(host: str) -> None:
    assert not server.is_loopback(host)
    problem = server.bind_problem(host, None, key_on_command_line=False)
    assert problem is not None and "BATCH_TUI_EMULATOR_KEY or --key-file" in problem
    on_command_line = server.bind_problem(host, KEY_32, key_on_command_line=True)
    assert on_command_line is not None and "ps" in on_command_line
    short = base64.b64encode(b"k" * 31).decode()
    weak = server.bind_problem(host, short, key_on_command_line=False)
    assert weak is not None and "31 bytes" in weak and "at least 32" in weak
    assert server.bind_problem(host, KEY_32, key_on_command_line=False) is None


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


def test_serve_names_where_a_given_key_is_kept_instead_of_printing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[server.BoundServer] = []
    monkeypatch.setattr(server.BoundServer, "run", lambda self: ran.append(self))
    settings = EmulatorSettings(key=KEY_32, executor="simulated")
    out = io.StringIO()
    source = "BATCH_TUI_EMULATOR_KEY"
    server.serve(settings, "127.0.0.1", 0, out=out, key_source=source, warnings=["look out"])
    assert "key:      (from BATCH_TUI_EMULATOR_KEY)" in out.getvalue()
    assert KEY_32 not in out.getvalue()
    assert capsys.readouterr().err == "batch-tui emulator: warning: look out\n"
    ran[0].sock.close()


def test_served_sockets_are_tcp_so_answers_go_out_without_waiting_for_an_ack(
    tmp_path: Path,
) -> None:
    """asyncio turns on TCP_NODELAY only for sockets created as IPPROTO_TCP; without it every
    answer to a client that sends one request at a time waited for its delayed ACK (~40 ms)."""
    settings = EmulatorSettings(data_dir=tmp_path, persist=False)
    bound = server.build_server(settings, "127.0.0.1", 0)
    try:
        assert bound.sock.proto == socket.IPPROTO_TCP
    finally:
        bound.sock.close()
