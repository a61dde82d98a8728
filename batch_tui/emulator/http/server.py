"""Provides `serve`: the emulator over HTTP with uvicorn, for SDKs, the Azure CLI and our client."""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

import uvicorn

from batch_tui.emulator.base.settings import (
    KEY_ENV,
    MIN_REMOTE_KEY_BYTES,
    EmulatorSettings,
    key_size,
)
from batch_tui.emulator.http.app import create_served_app
from batch_tui.emulator.http.protocol import ConnectionLimits, served_config

WILDCARD_HOSTS = ("0.0.0.0", "::", "")
"""Hosts that bind every interface; clients reach those by the machine's name."""


def is_loopback(host: str) -> bool:
    """Returns whether `host` names only this machine (`localhost`, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_problem(host: str, key: str | None, *, key_on_command_line: bool) -> str | None:
    """Refuses a non-loopback bind unless its key is chosen, kept out of `ps`, and strong.

    A generated key is printed on the console; anyone on the network who can reach the port
    could otherwise drive the emulator, which runs `local` tasks as real processes. `--key` is
    in the command line every local user sees, so it is for loopback use only.

    Args:
        host: The interface to bind.
        key: The key the user gave (base64), or None for a generated one.
        key_on_command_line: Whether it came from `--key`.

    Returns:
        None when the bind is allowed, else the reason it is refused (for the CLI to print).
    """
    if is_loopback(host):
        return None
    where = f"give the key in {KEY_ENV} or --key-file"
    if key is None:
        return (
            f"refusing to listen on {host!r} without a key you chose: the emulator runs tasks "
            f"as local processes; bind to 127.0.0.1 or {where}"
        )
    if key_on_command_line:
        return (
            f"refusing to listen on {host!r}: --key is visible in ps to every local user; {where}"
        )
    size = key_size(key)
    if size < MIN_REMOTE_KEY_BYTES:
        return (
            f"refusing to listen on {host!r} with a key of {size} bytes: beyond loopback the "
            f"key must have at least {MIN_REMOTE_KEY_BYTES} bytes (decoded); a generated key "
            "has 64"
        )
    return None


def _url_host(host: str) -> str:
    if host in WILDCARD_HOSTS:
        return socket.getfqdn()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass
class BoundServer:
    """A uvicorn server and the socket it will serve on (already bound, so port 0 works)."""

    server: uvicorn.Server
    sock: socket.socket
    url: str

    def run(self) -> None:
        """Serves until Ctrl-C or `server.should_exit`; the app's lifespan then stops the
        engine, which ends the processes of running tasks."""
        try:
            self.server.run(sockets=[self.sock])
        except KeyboardInterrupt:
            # uvicorn shuts down cleanly, then re-raises the Ctrl-C it caught; the shutdown is
            # done by then, so this is a normal end, not an error.
            pass
        finally:
            self.sock.close()


def build_server(
    settings: EmulatorSettings, host: str, port: int, *, limits: ConnectionLimits | None = None
) -> BoundServer:
    """Binds the socket, points `settings.base_url` at it and builds the uvicorn server.

    Args:
        settings: The emulator settings; `base_url` is set to the bound address.
        host: The interface to bind.
        port: The port; 0 picks a free one.
        limits: The connection deadlines and head size (`protocol.ConnectionLimits`).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it each answer waits for the client's delayed ACK (about 40 ms a request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    settings.base_url = f"http://{_url_host(host)}:{sock.getsockname()[1]}"
    config = served_config(create_served_app(settings), limits)
    return BoundServer(uvicorn.Server(config), sock, settings.base_url)


def serve(
    settings: EmulatorSettings,
    host: str = "127.0.0.1",
    port: int = 8765,
    out: TextIO = sys.stdout,
    *,
    key_source: str | None = None,
    warnings: Sequence[str] = (),
) -> None:
    """Serves the emulator until interrupted, after printing how to connect to it.

    Args:
        settings: Account, key, executor and scenario.
        host: The interface to listen on (callers check it with `bind_problem` first).
        port: The TCP port; 0 picks a free one.
        out: Where the endpoint, account and key are printed.
        key_source: Where the user keeps the key (`BATCH_TUI_EMULATOR_KEY`, a key file): the
            banner names it instead of printing the key. None prints the key.
        warnings: Printed on stderr once the emulator is built, before the banner (a start
            that fails prints only why).
    """
    bound = build_server(settings, host, port)
    for warning in warnings:
        print(f"batch-tui emulator: warning: {warning}", file=sys.stderr, flush=True)
    print(f"Azure Batch emulator listening on {bound.url}", file=out)
    print(f"  account:  {settings.account}", file=out)
    print(f"  key:      {f'(from {key_source})' if key_source else settings.key}", file=out)
    print(f"  executor: {settings.executor}", file=out)
    print(
        f"  e.g. AZURE_BATCH_ENDPOINT={bound.url} AZURE_BATCH_ACCOUNT={settings.account}",
        file=out,
    )
    print("Press Ctrl-C to stop.", file=out, flush=True)
    bound.run()
    print("Emulator stopped.", file=out, flush=True)
