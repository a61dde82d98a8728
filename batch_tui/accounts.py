"""Provides the accounts the app can open: from the config file, the command line, the environment.

An `AccountTarget` says where an account is and how to sign in; `ui.session.open_session` opens
one. The demo target is filled in by `--demo` once its emulator listens.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from batch_tui.config import Settings

ENV_ENDPOINT = "AZURE_BATCH_ENDPOINT"
ENV_ACCOUNT = "AZURE_BATCH_ACCOUNT"
ENV_KEY = "AZURE_BATCH_ACCESS_KEY"
"""The Azure CLI's variables for a Batch account; we honour the same ones."""


@dataclass(frozen=True)
class AccountTarget:
    """Where a Batch account is and how to sign in to it.

    Attributes:
        name: What the account screen shows.
        url: The account endpoint.
        account: The account name (SharedKey signs with it).
        auth: `shared-key`, `default`, `cli`, `device-code` or `managed-identity`.
        key: The shared key when `auth` is `shared-key` (kept out of reprs).
        tenant_id: The Entra tenant, if not the default one.
        is_demo: True for the local emulator started by `--demo`.
        source: Where the target came from: config, command line, environment, discovered, demo.
    """

    name: str
    url: str
    account: str
    auth: str = "default"
    key: str | None = field(default=None, repr=False, compare=False)
    tenant_id: str | None = None
    is_demo: bool = False
    source: str = "config"


def account_from_url(url: str) -> str:
    """Returns the account name in an endpoint URL (its first host label)."""
    return (urlsplit(url).hostname or "").split(".")[0]


def normalise_url(url: str) -> str:
    """Adds `https://` when the scheme is missing (the portal shows endpoints without one)."""
    url = url.strip().rstrip("/")
    return url if "://" in url else f"https://{url}"


def targets_from_settings(settings: Settings) -> list[AccountTarget]:
    """Returns one target per `[accounts.<name>]` section, in file order."""
    targets = []
    for name, account in settings.accounts.items():
        url = normalise_url(account.url)
        targets.append(
            AccountTarget(
                name=name,
                url=url,
                account=account.account or account_from_url(url),
                auth=account.auth,
                key=account.resolve_key() if account.auth == "shared-key" else None,
                tenant_id=account.tenant_id,
            )
        )
    return targets


def target_from_command_line(
    url: str | None,
    account: str | None,
    auth: str | None,
    tenant_id: str | None = None,
    env: Mapping[str, str] | None = None,
) -> AccountTarget | None:
    """Builds the target given by `--url`/`--account`/`--auth` or the Azure CLI variables.

    The key only ever comes from `AZURE_BATCH_ACCESS_KEY` (never a flag, so it stays out of shell
    history). With a key and no `--auth`, SharedKey is used; without a key, Entra ID.

    Returns:
        The target, or None when neither `--url` nor `AZURE_BATCH_ENDPOINT` is set.
    """
    env = os.environ if env is None else env
    url = url or env.get(ENV_ENDPOINT)
    if not url:
        return None
    url = normalise_url(url)
    key = env.get(ENV_KEY) or None
    method = auth or ("shared-key" if key else "default")
    name = account or env.get(ENV_ACCOUNT) or account_from_url(url)
    return AccountTarget(
        name=name,
        url=url,
        account=name,
        auth=method,
        key=key if method == "shared-key" else None,
        tenant_id=tenant_id,
        source="command line" if url else "environment",
    )
