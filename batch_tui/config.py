"""Provides the config file: TOML -> typed, validated `Settings` (accounts, refresh, ui, keymap).

The file lives at `paths.config_file()` (override with `BATCH_TUI_CONFIG`). It is read once at
start-up and the resulting `Settings` is passed into the app; widgets never read config themselves.

    [accounts.prod]
    url = "https://prod.westeurope.batch.azure.com"
    auth = "shared-key"            # or default | cli | device-code | managed-identity
    key_env = "PROD_BATCH_KEY"     # the key is read from this environment variable

    [refresh]
    tasks = 15                     # seconds between refreshes of the task list

    [keymap]
    "node.reboot" = "ctrl+r"
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

import msgspec

from batch_tui import paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

AuthMethod = Literal["shared-key", "default", "cli", "device-code", "managed-identity"]
SIGN_IN_METHODS: tuple[str, ...] = get_args(AuthMethod)
"""Every way to sign in to an account, in the order `--auth` lists them: the shared key, and
the Entra ID credentials of `batch.auth.CREDENTIAL_METHODS`."""


class ConfigError(Exception):
    """The config file cannot be used; the message names the file, the key and what is expected."""


class Account(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One Batch account the user can open."""

    url: str
    """The account endpoint, e.g. `https://myacct.westeurope.batch.azure.com`."""
    account: str | None = None
    """The account name; derived from the URL's first label when omitted."""
    auth: AuthMethod = "default"
    """`shared-key`, or Entra ID: `default`, `cli`, `device-code`, `managed-identity`."""
    key_env: str | None = None
    """Name of the environment variable that holds the shared key (preferred to `key`)."""
    key: str | None = None
    """The shared key itself. Only if the user writes it here; we never write it."""
    tenant_id: str | None = None
    """The Entra tenant for `device-code` and `cli` sign-in, when not the default one."""

    def __repr__(self) -> str:
        # Never show a key, even in a traceback or a debug print.
        return f"Account(url={self.url!r}, account={self.account!r}, auth={self.auth!r})"

    @property
    def name(self) -> str:
        """The account name, from `account` or from the URL's host."""
        return self.account or (urlsplit(self.url).hostname or "").split(".")[0]

    def resolve_key(self) -> str | None:
        """Returns the shared key from `key_env` or `key`, or None if there is none."""
        if self.key_env:
            return os.environ.get(self.key_env) or None
        return self.key


class Refresh(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Seconds between automatic refreshes, per screen. Cloud-friendly defaults: Batch throttles."""

    overview: float = 10.0
    pools: float = 10.0
    nodes: float = 10.0
    jobs: float = 10.0
    tasks: float = 15.0
    detail: float = 5.0
    """Pool, node, job and task detail screens."""
    files: float = 2.0
    """The file viewer's follow mode: how often it polls for new bytes."""


class Ui(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Look and behaviour of the app."""

    theme: str = "textual-dark"
    read_only: bool = False
    """Hide mutating keys and refuse to send any mutating request."""


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The whole config file."""

    accounts: dict[str, Account] = msgspec.field(default_factory=dict)
    refresh: Refresh = msgspec.field(default_factory=Refresh)
    ui: Ui = msgspec.field(default_factory=Ui)
    keymap: dict[str, str] = msgspec.field(default_factory=dict)
    """Binding id (e.g. `node.reboot`) -> keys (e.g. `ctrl+r`), passed to `App.set_keymap`."""


_PATH_IN_ERROR = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def _explain(error: msgspec.ValidationError, file: Path, prefix: str = "") -> ConfigError:
    """Turns msgspec's message into one that names the file and the key."""
    text = str(error)
    match = _PATH_IN_ERROR.search(text)
    where = match.group("path").replace("[", ".").replace("]", "").strip(".") if match else ""
    where = f"{prefix}.{where}".strip(".")
    what = _PATH_IN_ERROR.sub("", text)
    unknown = re.match(r"Object contains unknown field `(?P<k>[^`]+)`", what)
    if unknown:
        key = f"{where}.{unknown.group('k')}".strip(".")
        return ConfigError(f"{file}: unknown key `{key}`")
    return ConfigError(f"{file}: `{where or '(top level)'}`: {what}")


def parse_settings(text: str, file: Path) -> Settings:
    """Parses and validates config text.

    Args:
        text: The TOML source.
        file: Where it came from, for messages.

    Returns:
        The validated settings.

    Raises:
        ConfigError: On a TOML syntax error, an unknown key or a bad value.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    accounts = raw.get("accounts", {})
    if isinstance(accounts, dict):
        # msgspec reports a dict key as `[...]`; check each account on its own to name it.
        for name, account in accounts.items():
            try:
                msgspec.convert(account, Account)
            except msgspec.ValidationError as exc:
                raise _explain(exc, file, f"accounts.{name}") from None
    try:
        settings = msgspec.convert(raw, Settings)
    except msgspec.ValidationError as exc:
        raise _explain(exc, file) from None
    _check_values(settings, file)
    return settings


def _check_values(settings: Settings, file: Path) -> None:
    """Checks what the types alone cannot: URLs and positive intervals."""
    for name, account in settings.accounts.items():
        parts = urlsplit(account.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"{file}: `accounts.{name}.url`: expected an http(s) URL such as "
                f"https://myacct.westeurope.batch.azure.com, got {account.url!r}"
            )
    for field in msgspec.structs.fields(Refresh):
        if getattr(settings.refresh, field.name) <= 0:
            raise ConfigError(f"{file}: `refresh.{field.name}`: expected a number of seconds > 0")


def load_settings(file: Path | None = None) -> Settings:
    """Loads the config file, or returns defaults when there is none.

    Raises:
        ConfigError: When the file exists but cannot be read or is invalid.
    """
    file = file or paths.config_file()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    return parse_settings(text, file)
