"""Provides BatchApp, the Textual app: the account screen, the open session, global keys.

Start it with a list of targets and a session factory (stable API):

    app = BatchApp(
        settings,
        targets=[...],                       # the account screen's list (demo included by caller)
        open_target=target,                  # optional: open this account at once (its overview)
        session_factory=lambda t: open_session(t, transport=...),   # default: `open_session`
        read_only=False,                     # also `settings.ui.read_only`
        now=lambda: clock.now(),             # optional clock for deterministic tests
        discover=arm_lookup,                 # optional: async () -> list[AccountTarget] (Entra)
    )
    app.run()

The screen stack is always `[default, AccountsScreen, OverviewScreen, ...]`: `esc` walks back to
the overview and then to the accounts; opening an account or a `:` command resets to the
overview first. `app.session` is the open account's `AccountSession` (None on the account
screen): its client, cache, the ids seen and the last-known snapshot; screens use
`screen.session` / `.client` / `.cache`.

Screens see the app as an `ExplorerApp` (`app_protocol.py`) and open each other through the
route table (`routes.py`): `app.open(route("node", pool, node))` over the current screen,
`app.go(route)` over the overview (`:` commands, `commands.run_command`). The app keeps
session switching and the global keys; the heap's schedule (`heap_schedule.py`) and the
Textual fixes (`textual_fixes.apply`, from `__init__`) live in their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from textual.actions import ActionParseResult
from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen

from batch_tui.accounts import AccountTarget
from batch_tui.config import Settings, Ui
from batch_tui.ui import textual_fixes
from batch_tui.ui.app_protocol import Discover, ExplorerApp
from batch_tui.ui.commands import BatchCommands, run_command
from batch_tui.ui.heap_schedule import HeapSchedule
from batch_tui.ui.key_order import OrderedKeys
from batch_tui.ui.messages import AccountChosen
from batch_tui.ui.overview_reads import prefetch
from batch_tui.ui.routes import Route, is_screen_of, route, screen_for
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.base import BatchScreen
from batch_tui.ui.screenshot import save_screenshot
from batch_tui.ui.session import AccountSession, NoSession, open_session
from batch_tui.ui.signals import exit_on_signals

SessionFactory = Callable[[AccountTarget], AccountSession]

DEFAULT_THEME = Ui().theme
"""The theme when the config names none."""


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
    ) -> None:
        textual_fixes.apply()
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
        self.heap_schedule = HeapSchedule(self)
        """When the heap is frozen and closed screens collected."""

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
        if self.settings.ui.theme in self.available_themes:
            self.theme = self.settings.ui.theme
        if self._sixteen_colours() and self.settings.ui.theme == DEFAULT_THEME:
            # On a 16-colour terminal (TERM=xterm) the default theme's colours are mapped to
            # the nearest of 16: its orange accent and its error red both come out magenta
            # or red. The ANSI theme uses the terminal's own red for failures, as lazygit
            # and k9s do.
            self.theme = "ansi-dark"
        self.set_keymap(self.settings.keymap)
        self.push_screen(screen_for(route("accounts")))
        if self.open_target is not None:
            self.open_account(self.open_target)
        self.heap_schedule.start()
        if not self.is_headless:  # a real terminal (tests and benchmarks keep the defaults)
            exit_on_signals(self)

    def _sixteen_colours(self) -> bool:
        """Whether the terminal shows 16 colours (a real one: tests keep the default)."""
        return not self.is_headless and self.console.color_system == "standard"

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Saves a screenshot and says where, or why not (Textual's says only "Failed")."""
        saved = save_screenshot(self, filename, path, time_format)
        return None if saved is None else str(saved)

    # -- the open account -----------------------------------------------------------------

    def open_account(self, target: AccountTarget) -> None:
        """Opens an account (closing the previous one) and shows its overview."""
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
        latest = (
            old.capture_snapshot(self.now()) if old is not None and old is not session else None
        )
        if old is not None and latest is not None:
            self.run_worker(old.write_snapshot(latest), group="snapshot-save", exit_on_error=False)
        if old is not None and old is not session:
            session.adopt_history(old)
            self.run_worker(old.write_history(), group="history-save", exit_on_error=False)
        session.restore_snapshot(latest=latest)
        self.session = session
        # The overview's reads go out now, while the screens are built (about 0.1 s at start).
        self.run_worker(prefetch(session.cache), group="overview-prefetch", exit_on_error=False)
        self._reset_stack(screen_for(route("overview")))
        if old is not None and old is not session:
            self.run_worker(old.aclose(), exit_on_error=False)

    def on_account_chosen(self, message: AccountChosen) -> None:
        self.open_account(message.target)

    async def on_unmount(self) -> None:
        if self.session is not None:
            self.session.save_snapshot(self.now())
            self.session.save_history()
            await self.session.aclose()

    # -- navigation ---------------------------------------------------------------------

    def open(self, to: Route) -> None:
        """Opens a route's screen over the current one (`enter` on a row, `n`, `h` ...)."""
        screen = self._build(to)
        if screen is not None:
            self.push_screen(screen)

    def go(self, to: Route) -> None:
        """Opens a route's screen over the overview, closing what was above it (`:` commands,
        the palette); the overview's own route just goes back to it."""
        if self.session is None:
            self.notify("Open an account first", severity="warning")
            return
        if to.name == "overview":
            self._pop_to(3)
            return
        screen = self._build(to)
        if screen is not None:
            self.show(screen)

    def show(self, screen: Screen[Any]) -> None:
        """Shows a screen above the overview, closing what was above it."""
        if self.session is None:
            self.notify("Open an account first", severity="warning")
            return
        self._pop_to(3)
        self.push_screen(screen)

    def show_accounts(self) -> None:
        """Goes back to the account screen."""
        self._pop_to(2)

    def _build(self, to: Route) -> Screen[Any] | None:
        try:
            return screen_for(to)
        except ImportError:
            self.notify(f"{to.name}: this screen is not available in this build", severity="error")
            return None

    def _pop_to(self, depth: int) -> None:
        while len(self.screen_stack) > depth:
            self.pop_screen()

    def _reset_stack(self, screen: Screen[Any]) -> None:
        """Pops back to the account screen, then pushes `screen`."""
        self._pop_to(2)
        self.push_screen(screen)

    def run_command(self, text: str) -> None:
        """Runs a `:` command line ("pools", "nodes pool-a", "q" ...)."""
        run_command(self, text)

    # -- global keys --------------------------------------------------------------------

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
        target, name, params = self._parse_action(
            action, self if default_namespace is None else default_namespace, namespaces
        )
        if isinstance(target, BatchScreen) and target.check_action(name, params) is None:
            reason = target.why_not(name, params)
            if reason is not None:
                self.notify(reason, severity="warning", markup=False)
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def action_help_quit(self) -> None:
        """ctrl+c: says how to quit (Textual's own hint is markup, and toasts here are plain)."""
        keys = [
            key for key, active in self.active_bindings.items() if active.binding.action == "quit"
        ]
        shown = " or ".join(self.get_key_display(self.active_bindings[k].binding) for k in keys)
        self.notify(f"To quit, press {shown or 'q'} (or type :q)", title="Quit?")

    def action_help(self) -> None:
        """Shows every key of the current screen."""
        if not is_screen_of(self.screen, "help"):
            self.open(route("help", self.screen))

    def action_command_line(self) -> None:
        """Opens the `:` command line."""

        def done(text: str | None) -> None:
            if text:
                self.run_command(text)

        screen = self._build(route("command-line"))
        if screen is not None:
            self.push_screen(screen, callback=done)


if TYPE_CHECKING:
    _SCREENS_SEE_IT_AS: type[ExplorerApp] = BatchApp
    """mypy checks here that the app is what screens are typed against."""
