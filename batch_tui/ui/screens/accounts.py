"""Provides the account screen: configured accounts, the demo, and accounts found through ARM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.content import Content

from batch_tui.accounts import AccountTarget
from batch_tui.ui.messages import AccountChosen
from batch_tui.ui.screens.base import ListScreen
from batch_tui.ui.session import AccountSession
from batch_tui.ui.widgets.table_rows import Column, RowData


def _kind(target: AccountTarget) -> str:
    if target.is_demo:
        return "demo (local emulator)"
    return target.source


def account_row(key: str, target: AccountTarget) -> RowData:
    """Returns the table row of one account."""
    auth = "shared key" if target.auth == "shared-key" else f"Entra ID ({target.auth})"
    name = Content.styled(target.name, "bold") if target.is_demo else target.name
    return RowData(key, (name, _kind(target), target.url, auth))


class AccountsScreen(ListScreen):
    """Lists the accounts; enter opens one. ARM discovery runs in the background, once."""

    REFRESH_KIND = "overview"
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

    def open_row(self, key: str) -> None:
        target = self._targets.get(key)
        if target is not None:
            self.app.post_message(AccountChosen(target))
