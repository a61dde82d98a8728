"""Provides `serve`: the emulator over HTTP with uvicorn, for SDKs, the Azure CLI and our client."""

from __future__ import annotations

import ipaddress
import socket
import sys
from dataclasses import dataclass
from typing import TextIO

import uvicorn

from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.http.app import create_served_app

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


def ensure_loopback(host: str, key_given: bool) -> str | None:
    """Refuses a non-loopback bind unless the account key was given explicitly.

    A generated key is printed on the console; anyone on the network who can reach the port
    could otherwise drive the emulator, which runs `local` tasks as real processes.

    Returns:
        None when the bind is allowed, else the reason it is refused (for the CLI to print).
    """
    if key_given or is_loopback(host):
        return None
    return (
        f"refusing to listen on {host!r} without an explicit --key: the emulator runs "
        "tasks as local processes; bind to 127.0.0.1 or pass --key"
    )


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


def build_server(settings: EmulatorSettings, host: str, port: int) -> BoundServer:
    """Binds the socket, points `settings.base_url` at it and builds the uvicorn server.

    Args:
        settings: The emulator settings; `base_url` is set to the bound address.
        host: The interface to bind.
        port: The port; 0 picks a free one.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    settings.base_url = f"http://{_url_host(host)}:{sock.getsockname()[1]}"
    config = uvicorn.Config(create_served_app(settings), lifespan="on", log_level="warning")
    return BoundServer(uvicorn.Server(config), sock, settings.base_url)


def serve(
    settings: EmulatorSettings, host: str = "127.0.0.1", port: int = 8765, out: TextIO = sys.stdout
) -> None:
    """Serves the emulator until interrupted, after printing how to connect to it.

    Args:
        settings: Account, key, executor and scenario.
        host: The interface to listen on (callers check it with `ensure_loopback` first).
        port: The TCP port; 0 picks a free one.
        out: Where the endpoint, account and key are printed.
    """
    bound = build_server(settings, host, port)
    print(f"Azure Batch emulator listening on {bound.url}", file=out)
    print(f"  account:  {settings.account}", file=out)
    print(f"  key:      {settings.key}", file=out)
    print(f"  executor: {settings.executor}", file=out)
    print(
        f"  e.g. AZURE_BATCH_ENDPOINT={bound.url} AZURE_BATCH_ACCOUNT={settings.account}",
        file=out,
    )
    print("Press Ctrl-C to stop.", file=out, flush=True)
    bound.run()
    print("Emulator stopped.", file=out, flush=True)
