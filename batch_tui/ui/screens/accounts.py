"""Provides the account screen: configured accounts, the demo, and accounts found through ARM.

With an Entra sign-in (`--auth` without an account) a line above the list says who is signed
in; for a device-code sign-in, which batch-tui remembers across starts, `x` signs out
(`batch_tui.batch.sign_in`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static

from batch_tui.accounts import AccountTarget
from batch_tui.batch.auth import TokenCredentialAuth
from batch_tui.batch.sign_in import DeviceCodeSignIn
from batch_tui.ui.messages import AccountChosen
from batch_tui.ui.screens.base import ListScreen
from batch_tui.ui.session import AccountSession, ArmDiscoverer
from batch_tui.ui.widgets.table_rows import Column, RowData

_OTHER_SIGN_INS = {
    "cli": "Signed in through the Azure CLI, which keeps the sign-in (az logout signs out)",
    "default": "Signed in with DefaultAzureCredential: the environment, a managed identity or "
    "the Azure CLI, each keeping its own sign-in",
    "managed-identity": "Signed in as this machine's managed identity",
}
"""What the sign-in line says for the methods whose sign-in batch-tui does not keep itself."""


def _kind(target: AccountTarget) -> str:
    if target.is_demo:
        return "demo (local emulator)"
    return target.source


def account_row(key: str, target: AccountTarget) -> RowData:
    """Returns the table row of one account."""
    auth = "shared key" if target.auth == "shared-key" else f"Entra ID ({target.auth})"
    name = Content.styled(target.name, "bold") if target.is_demo else target.name
    return RowData(key, (name, _kind(target), target.url, auth))


def sign_in_line(method: str, credential: Any) -> str:
    """Says who is signed in with an Entra `method` (and how to sign out)."""
    if isinstance(credential, DeviceCodeSignIn):
        record = credential.record
        if record is None:
            problem = credential.store.problem
            lead = f"Not signed in: {problem}" if problem else "Not signed in"
            return f"{lead}: a device code shows when accounts are listed or opened"
        return (
            f"Signed in as {record.username} (tenant {record.tenant_id}) · device code, "
            "remembered until you sign out"
        )
    return _OTHER_SIGN_INS.get(method, f"Signed in with {method}")


class AccountsScreen(ListScreen):
    """Lists the accounts; enter opens one. ARM discovery runs in the background, once."""

    REFRESH_KIND = "overview"
    DEFAULT_CSS = """
    AccountsScreen #sign-in { height: auto; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "x",
            "sign_out",
            "Sign out",
            id="accounts.sign-out",
            tooltip="Forget the remembered device-code sign-in and its tokens",
        ),
    ]
    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("name", "Account", min_width=8, max_width=30),
        Column("kind", "From", min_width=6, max_width=24),
        Column("url", "Endpoint", min_width=12, max_width=60),
        Column("auth", "Sign-in", min_width=8, max_width=24),
    )

    def __init__(self) -> None:
        super().__init__()
        self._targets: dict[str, AccountTarget] = {}

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("accounts",)

    @property
    def breadcrumbs(self) -> tuple[str, ...]:
        return self.crumbs

    def compose_body(self) -> ComposeResult:
        yield Static(id="sign-in", classes="hidden", markup=False)
        yield from super().compose_body()

    @property
    def shared_sign_in(self) -> tuple[str, Any] | None:
        """The method and credential of the app's Entra sign-in, if it has one."""
        discover = self.batch_app.discover
        if isinstance(discover, ArmDiscoverer) and isinstance(discover.auth, TokenCredentialAuth):
            return discover.method, discover.auth.credential
        return None

    def show_sign_in(self) -> None:
        """Redraws the sign-in line and the sign-out key."""
        line = self.query_one("#sign-in", Static)
        shared = self.shared_sign_in
        line.set_class(shared is None, "hidden")
        if shared is not None:
            line.update(sign_in_line(*shared))
        self.refresh_availability()

    def device_code_sign_in(self) -> DeviceCodeSignIn | None:
        """The shared sign-in if it is one batch-tui remembers (device code), else None."""
        shared = self.shared_sign_in
        credential = shared[1] if shared else None
        return credential if isinstance(credential, DeviceCodeSignIn) else None

    def availability(self, action: str) -> bool | None:
        if action != "sign_out":
            return True
        sign_in = self.device_code_sign_in()
        if sign_in is None:
            return False  # nothing batch-tui keeps: az's sign-in is az's to end
        return True if sign_in.record is not None else None

    def action_sign_out(self) -> None:
        sign_in = self.device_code_sign_in()
        if sign_in is not None and sign_in.record is not None:
            self.run_worker(
                self.sign_out(sign_in),
                group="accounts-sign-out",
                exclusive=True,
                exit_on_error=False,
            )

    async def sign_out(self, sign_in: DeviceCodeSignIn) -> None:
        """Signs out (files and keyring in a thread), then says so."""
        who = sign_in.username
        try:
            await asyncio.to_thread(sign_in.sign_out)
        except OSError as error:
            self.notify(f"Could not sign out: {error}", severity="error")
            return
        finally:
            self.show_sign_in()
        self.notify(
            f"Signed out {who}: the sign-in and its tokens are forgotten. The next account "
            "listed or opened asks for a new device code.",
            title="Signed out",
        )

    def header_session(self) -> AccountSession | None:
        # This screen is about choosing one: show none, even if one is still open.
        return None

    async def load_data(self) -> None:
        app = self.batch_app
        self._show(app.targets + list(app.discovered or ()))
        if app.discover is not None and app.discovered is None:
            found = await app.discover()
            app.discovered = list(found)
            self._show(app.targets + app.discovered)

    def _show(self, targets: Sequence[AccountTarget]) -> None:
        self._targets = {f"{index}:{target.url}": target for index, target in enumerate(targets)}
        self.table.set_rows(account_row(key, target) for key, target in self._targets.items())
        self.update_status()
        self.show_sign_in()

    def open_row(self, key: str) -> None:
        target = self._targets.get(key)
        if target is not None:
            self.app.post_message(AccountChosen(target))
