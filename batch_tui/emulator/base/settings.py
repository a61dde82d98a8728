"""Provides the emulator's settings: account, key, executor, scenario and its clock speeds."""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from batch_tui.emulator.base.urls import Urls

KEY_ENV = "BATCH_TUI_EMULATOR_KEY"
"""The environment variable `batch-tui emulator` reads its key from: unlike `--key`, it is not
in the command line that `ps` shows every local user."""

MIN_REMOTE_KEY_BYTES = 32
"""The shortest key (decoded) an emulator bound beyond loopback takes: 256 bits, HMAC-SHA256's
own strength. One signed request seen on the network lets anyone test guesses of the key
offline, so a short or typed-in key would not hold. The service's keys have 64 bytes."""


def key_size(key: str) -> int:
    """Returns how many bytes `key` decodes to (0 when it is not base64)."""
    try:
        return len(base64.b64decode(key, validate=True))
    except (binascii.Error, ValueError):
        return 0


def key_problem(key: str) -> str | None:
    """Says why `key` cannot be an account key ("must be base64 ...": requests are signed
    with the bytes it decodes to), or None."""
    return None if key_size(key) else "must be base64, like a Batch key"


def read_key_file(path: Path) -> str:
    """Reads an account key from a file: its text without surrounding whitespace.

    Raises:
        OSError: When the file cannot be read.
    """
    return path.read_text(encoding="ascii", errors="replace").strip()


def key_file_exposed(path: Path) -> bool:
    """Returns whether users other than the owner may read a key file (mode 0o077 bits)."""
    return bool(path.stat().st_mode & 0o077)


def generate_key() -> str:
    """Returns a new random account key in the service's form (base64 of 64 bytes)."""
    return base64.b64encode(secrets.token_bytes(64)).decode("ascii")


DEFAULT_SUBSCRIPTION_ID = "11111111-1111-1111-1111-111111111111"
"""The subscription the emulator's Batch account is in, unless its settings name another: a
subnet must be in it. Not all zeros: the SDK's own live tests use the zero GUID as the other
subscription whose subnet the service refuses."""


@dataclass
class Timings:
    """How long the emulator's state changes take, in seconds.

    The service takes minutes to allocate a node; the emulator keeps the same sequence of states
    on a short clock so the demo shows change and tests finish fast. Tests shrink these further.
    """

    tick: float = 0.1
    """How often the engine looks for work when nothing wakes it."""
    node_creating: float = 1.0
    node_starting: float = 1.0
    node_rebooting: float = 2.0
    node_reimaging: float = 3.0
    node_deallocating: float = 2.0
    node_leaving: float = 1.0
    task_preparing: float = 0.1
    """Time a task spends `running` on its node before its process starts (the service's own
    set-up: files, environment). `preparing` itself only means waiting for a job prep task."""
    simulated_task_seconds: float = 2.0
    """Mean duration of a task under the `simulated` executor."""


@dataclass
class EmulatorSettings:
    """Everything an emulator instance is built from.

    Args:
        account: The Batch account name that SharedKey requests must be signed for.
        key: The account key (base64). Generated when not given.
        executor: `local` runs real processes; `simulated` synthesises results.
        scenario: `empty`, `demo` or `large` (seeded on start; `large` needs `simulated`).
        data_dir: Where node directories and (with `persist`) the saved state live. A temp dir
            for node directories and no saved state if None.
        persist: Keep the state in `data_dir` so that a restart finds it (`--data-dir`).
        base_url: The endpoint as clients see it; used for `url`, `odata.metadata`, `Location`.
    """

    account: str = "emulator"
    key: str = field(default_factory=generate_key)
    executor: str = "local"
    scenario: str = "empty"
    data_dir: Path | None = None
    persist: bool = True
    """Save state under `data_dir`; the demo turns it off (its data dir is thrown away)."""
    base_url: str = "http://127.0.0.1:8765"
    subscription_id: str = DEFAULT_SUBSCRIPTION_ID
    """The subscription the account is in: subnets in another one are refused."""
    timings: Timings = field(default_factory=Timings)
    faults: str | None = None
    """A fault plan spec (see `faults_spec`) applied when the emulator is served over HTTP."""

    @property
    def urls(self) -> Urls:
        """The URLs of the account's entities at `base_url` (made again only when it changes:
        a list page asks for one per item)."""
        urls: Urls | None = self.__dict__.get("_urls")
        if urls is None or urls.base != self.base_url:
            urls = self.__dict__["_urls"] = Urls(self.base_url)
        return urls

    def __repr__(self) -> str:
        # The key is a secret: keep it out of reprs, logs and tracebacks.
        return (
            f"EmulatorSettings(account={self.account!r}, executor={self.executor!r}, "
            f"scenario={self.scenario!r}, data_dir={self.data_dir!r}, base_url={self.base_url!r})"
        )
