"""Provides BatchApp, the Textual app: account screen, open session, global keys, command line.

Start it with a list of targets and a session factory (stable API):

    app = BatchApp(
        settings,
        targets=[...],                       # the account screen's list (demo included by caller)
        open_target=target,                  # optional: open this account at once (its overview)
        session_factory=lambda t: open_session(t, transport=...),   # default: `open_session`
        read_only=False,                     # also `settings.ui.read_only`
        now=lambda: clock.now(),             # optional clock for deterministic tests
        discover=arm_lookup,                 # optional: async () -> list[AccountTarget] (Entra)
        snapshot_path=path,                  # optional: default `snapshot.default_path()`
    )
    app.run()

The screen stack is always `[default, AccountsScreen, OverviewScreen, ...]`: `esc` walks back to
the overview and then to the accounts; opening an account or a `:` command resets to the
overview first. `app.session` is the open account's `AccountSession` (None on the account
screen); screens use `screen.session` / `.client` / `.cache`. `app.known_ids("pool")` holds
the ids screens have seen, for `:` completion and the palette; screens add to it with
`app.remember_ids("pool", ids)`.

The last-known snapshot (`batch_tui.batch.snapshot`): opening a (non-demo) account seeds its
cache from the file, so the overview shows the last data at once; the file is saved when the
account is closed or the app exits, and after the overview's refreshes (`save_snapshot_soon`,
at most every `SNAPSHOT_EVERY` seconds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar

from textual.actions import ActionParseResult
from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer

from batch_tui.accounts import AccountTarget
from batch_tui.batch.snapshot import AccountSnapshot, SnapshotPlan, default_path, save_snapshot
from batch_tui.config import Settings, Ui
from batch_tui.ui import heap, textual_fixes
from batch_tui.ui.commands import BatchCommands, CommandError, parse_command, screen_for
from batch_tui.ui.key_order import OrderedKeys
from batch_tui.ui.messages import AccountChosen
from batch_tui.ui.overview_reads import SNAPSHOT_PLAN, prefetch
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.session import AccountSession, open_session
from batch_tui.ui.signals import exit_on_signals

SessionFactory = Callable[[AccountTarget], AccountSession]
Discover = Callable[[], Awaitable[Sequence[AccountTarget]]]

DEFAULT_THEME = Ui().theme
"""The theme when the config names none."""

SETTLE_AFTER = 2.0
"""Seconds from start to `heap.settle`: after the first screen with data (budget 1.5 s)."""

COLLECT_AFTER = 0.3
"""Seconds after a screen change (the first since the last collection) to collect the closed
screens' garbage."""

SNAPSHOT_EVERY = 60.0
"""Seconds between saves of the snapshot after refreshes: a crash loses at most a minute,
and an overview refreshing every few seconds does not rewrite the file each time."""


textual_fixes.apply()


class NoSession(RuntimeError):
    """A screen asked for the account session while none is open."""


class BatchApp(OrderedKeys, App[None]):
    """The explorer: one open account at a time."""

    CSS_PATH = "app.tcss"
    TITLE = "batch-tui"
    COMMANDS = App.COMMANDS | {BatchCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Keys of this screen"),
        Binding("colon", "command_line", "Command", id="app.command", tooltip=":pools, :jobs ..."),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit batch-tui"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        targets: Sequence[AccountTarget],
        open_target: AccountTarget | None = None,
        session_factory: SessionFactory | None = None,
        read_only: bool = False,
        now: Callable[[], datetime] | None = None,
        discover: Discover | None = None,
        snapshot_path: Path | None = None,
    ) -> None:
        super().__init__()
        self._ordered_init()
        self.settings = settings
        self.targets = list(targets)
        self.open_target = open_target
        self.read_only = read_only or settings.ui.read_only
        self.session_factory: SessionFactory = session_factory or self._default_factory
        self.discover = discover
        self.discovered: list[AccountTarget] | None = None
        """Accounts `discover` found, kept for the app's lifetime (listing ARM is slow)."""
        self.session: AccountSession | None = None
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._known: dict[str, set[str]] = {}
        self._snapshot_path = snapshot_path
        self._snapshot_saved: float | None = None
        self._garbage_timer: Timer | None = None
        self._startup_settled = False

    def _default_factory(self, target: AccountTarget) -> AccountSession:
        return open_session(target, read_only=self.read_only, prompt_callback=self.show_device_code)

    def show_device_code(self, uri: str, code: str, expires_on: datetime) -> None:
        """Shows the device-code sign-in prompt (called from the credential's thread)."""
        text = f"To sign in, open {uri} and enter the code {code}"
        self.call_from_thread(self.notify, text, title="Sign in", timeout=300, markup=False)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Shows a toast; its text is made terminal-safe first.

        Notifications often carry text from the service (error messages, ids), which may hold
        escape sequences; sanitising here covers every caller at once. Markup is turned off
        for the same reason: a `[` in a service message must not be read as a style.
        """
        safe = "\n".join(sanitize_text(line) for line in message.split("\n"))
        super().notify(
            safe, title=sanitize_text(title), severity=severity, timeout=timeout, markup=False
        )

    def now(self) -> datetime:
        """The current time (injected in tests so that snapshots repeat)."""
        return self._now()

    def require_session(self) -> AccountSession:
        """Returns the open session.

        Raises:
            NoSession: On the account screen, before an account is opened.
        """
        if self.session is None:
            raise NoSession("no account is open")
        return self.session

    def on_mount(self) -> None:
        from batch_tui.ui.screens.accounts import AccountsScreen

        if self.settings.ui.theme in self.available_themes:
            self.theme = self.settings.ui.theme
        if self._sixteen_colours() and self.settings.ui.theme == DEFAULT_THEME:
            # On a 16-colour terminal (TERM=xterm) the default theme's colours are mapped to
            # the nearest of 16: its orange accent and its error red both come out magenta
            # or red. The ANSI theme uses the terminal's own red for failures, as lazygit
            # and k9s do.
            self.theme = "ansi-dark"
        self.set_keymap(self.settings.keymap)
        self.push_screen(AccountsScreen())
        if self.open_target is not None:
            self.open_account(self.open_target)
        # What lives for the whole run leaves the collector's full passes: Textual and the
        # modules now (a full pass over them before the first screen is drawn would stall it
        # ~70 ms), the first screens once they have their data.
        heap.settle(startup=True)
        self.set_timer(SETTLE_AFTER, self._settle_startup)
        self.screen_change_signal.subscribe(self, self._screen_changed)
        if not self.is_headless:  # a real terminal (tests and benchmarks keep the defaults)
            exit_on_signals(self)

    def _sixteen_colours(self) -> bool:
        """Whether the terminal shows 16 colours (a real one: tests keep the default)."""
        return not self.is_headless and self.console.color_system == "standard"

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Saves a screenshot and says where, or why not (Textual's says only "Failed")."""
        from batch_tui.ui.screenshot import save_screenshot

        saved = save_screenshot(self, filename, path, time_format)
        return None if saved is None else str(saved)

    def _screen_changed(self, screen: Screen[object]) -> None:
        # A screen that closed is garbage now: collect it once the change is drawn, while it
        # is a few thousand objects (see `heap`). Not pushed back by later changes: someone
        # walking through screens must not pile up their garbage for one long pass.
        if self._garbage_timer is None:
            self._garbage_timer = self.set_timer(COLLECT_AFTER, self._collect_garbage)

    def _settle_startup(self) -> None:
        heap.settle(startup=True)
        self._startup_settled = True

    def _collect_garbage(self) -> None:
        self._garbage_timer = None
        # Until the startup settle, all that came since the mount is unfrozen (the first
        # screens and their data): a full pass over it stalls the loop for 100 ms and more.
        # The settle collects the young generations and freezes the rest.
        if self._startup_settled:
            heap.collect_garbage()

    def open_account(self, target: AccountTarget) -> None:
        """Opens an account (closing the previous one) and shows its overview."""
        from batch_tui.ui.screens.overview import OverviewScreen

        old = self.session
        try:
            session = self.session_factory(target)
        except ValueError as error:
            # A target that cannot sign in (no key, unknown method): say why, stay put.
            self.notify(str(error), severity="error", markup=False)
            return
        if self.read_only and not session.read_only:
            session.client.refuse_writes()
            session.read_only = True
        # The old account's data is saved, and seeds the new session if it is the same account
        # (the background save may not have reached the disk when the file is read).
        latest = self._capture(old) if old is not None and old is not session else None
        self._save_in_background(latest)
        session.restore_snapshot(self.snapshot_path, self._snapshot_plan(), latest=latest)
        self._snapshot_saved = None
        self.session = session
        self._known.clear()
        # The overview's reads go out now, while the screens are built (about 0.1 s at start).
        self.run_worker(prefetch(session.cache), group="overview-prefetch", exit_on_error=False)
        self._reset_stack(OverviewScreen())
        if old is not None and old is not session:
            self.run_worker(old.aclose(), exit_on_error=False)

    @property
    def snapshot_path(self) -> Path:
        """The last-known snapshot file."""
        return self._snapshot_path or default_path()

    def _snapshot_plan(self) -> SnapshotPlan:
        return SNAPSHOT_PLAN

    def _capture(self, session: AccountSession | None) -> AccountSnapshot | None:
        if session is None:
            return None
        return session.capture_snapshot(self._snapshot_plan(), self.now())

    def save_snapshot_soon(self) -> None:
        """Saves the open account's snapshot in the background, at most every minute.

        The overview calls it after each successful refresh, so a crash loses little.
        """
        now = time.monotonic()
        if self._snapshot_saved is not None and now - self._snapshot_saved < SNAPSHOT_EVERY:
            return
        self._snapshot_saved = now
        self._save_in_background(self._capture(self.session))

    def _save_in_background(self, snapshot: AccountSnapshot | None) -> None:
        # Encoding and the disk (fsync) stay off the event loop: keys keep their latency.
        if snapshot is not None:
            saving = asyncio.to_thread(save_snapshot, self.snapshot_path, snapshot)
            self.run_worker(saving, group="snapshot-save", exit_on_error=False)

    def on_account_chosen(self, message: AccountChosen) -> None:
        self.open_account(message.target)

    def _reset_stack(self, screen: Screen[None]) -> None:
        """Pops back to the account screen, then pushes `screen`."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.push_screen(screen)

    def show(self, screen: Screen[None]) -> None:
        """Shows a screen above the overview (`:` commands, the palette)."""
        from batch_tui.ui.screens.overview import OverviewScreen

        if self.session is None:
            self.notify("Open an account first", severity="warning")
            return
        while len(self.screen_stack) > 3:
            self.pop_screen()
        if not isinstance(screen, OverviewScreen):
            self.push_screen(screen)

    def show_accounts(self) -> None:
        """Goes back to the account screen."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def run_command(self, text: str) -> None:
        """Runs a `:` command line ("pools", "nodes pool-a", "q" ...)."""
        try:
            command = parse_command(text)
        except CommandError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        if command.name == "quit":
            self.exit()
        elif command.name == "accounts":
            self.show_accounts()
        elif command.name == "help":
            self.action_help()
        else:
            try:
                screen = screen_for(command)
            except ImportError:
                self.notify(f":{command.name} is not available in this build", severity="error")
                return
            if screen is not None:
                self.show(screen)

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Runs an action; a key whose action does not apply here says why instead.

        A greyed-out key used to do nothing when pressed: the person learnt nothing. A screen
        that knows why (`why_not`: "Reboot: node tvm-1 is creating; ...") shows it.
        """
        from batch_tui.ui.screens.base import BatchScreen

        target, name, params = self._parse_action(
            action, self if default_namespace is None else default_namespace, namespaces
        )
        if isinstance(target, BatchScreen) and target.check_action(name, params) is None:
            reason = target.why_not(name, params)
            if reason is not None:
                self.notify(reason, severity="warning", markup=False)
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def remember_ids(self, kind: str, ids: Iterable[str]) -> None:
        """Records ids a screen has seen (pools, jobs), for completion and the palette."""
        self._known.setdefault(kind, set()).update(ids)

    def known_ids(self, kind: str) -> list[str]:
        """The ids of a kind seen so far, sorted."""
        return sorted(self._known.get(kind, ()))

    def action_help_quit(self) -> None:
        """ctrl+c: says how to quit (Textual's own hint is markup, and toasts here are plain)."""
        keys = [
            key for key, active in self.active_bindings.items() if active.binding.action == "quit"
        ]
        shown = " or ".join(self.get_key_display(self.active_bindings[k].binding) for k in keys)
        self.notify(f"To quit, press {shown or 'q'} (or type :q)", title="Quit?")

    def action_help(self) -> None:
        """Shows every key of the current screen."""
        from batch_tui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_command_line(self) -> None:
        """Opens the `:` command line."""
        from batch_tui.ui.screens.command_line import CommandLineScreen

        def done(text: str | None) -> None:
            if text:
                self.run_command(text)

        self.push_screen(CommandLineScreen(self), callback=done)

    async def on_unmount(self) -> None:
        if self.session is not None:
            snapshot = self._capture(self.session)
            if snapshot is not None:
                save_snapshot(self.snapshot_path, snapshot)
            await self.session.aclose()
