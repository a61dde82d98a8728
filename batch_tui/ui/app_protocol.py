"""Provides ExplorerApp: what screens and commands need from the app, as a protocol.

Screens are typed against it (`BatchScreen.batch_app`), never against `BatchApp` itself, so
no screen imports the app module: a screen can be read, and tested, on its own. `BatchApp`
is the one implementation (`app.py` asserts it to mypy).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from batch_tui.accounts import AccountTarget
    from batch_tui.config import Settings
    from batch_tui.ui.routes import Route
    from batch_tui.ui.session import AccountSession

Discover = Callable[[], Awaitable[Sequence["AccountTarget"]]]
"""Lists accounts found through Resource Manager (`session.arm_discoverer`)."""


class ExplorerApp(Protocol):
    """The app as screens see it: the open account, settings, the clock, and where to go."""

    settings: Settings
    """The loaded config (refresh intervals, keymap, theme)."""
    read_only: bool
    """Mutating actions are off (`--read-only` or the config)."""
    session: AccountSession | None
    """The open account; None on the account screen."""
    targets: list[AccountTarget]
    """The account screen's list: configured accounts, the command line's, the demo."""
    discover: Discover | None
    """Finds more accounts (an Entra sign-in), or None."""
    discovered: list[AccountTarget] | None
    """What `discover` found, kept for the app's lifetime (None: not asked yet)."""

    def open(self, to: Route) -> None:
        """Opens a route's screen over the current one."""

    def go(self, to: Route) -> None:
        """Opens a route's screen over the overview (what a `:` command does)."""

    def show_accounts(self) -> None:
        """Goes back to the account screen."""

    def action_help(self) -> None:
        """Shows the keys of the current screen."""

    def exit(self) -> None:
        """Quits."""

    def now(self) -> datetime:
        """The current time (injected in tests)."""

    def require_session(self) -> AccountSession:
        """The open session; raises `NoSession` on the account screen."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Shows a toast."""
