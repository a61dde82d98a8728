"""Provides BatchScreen: header, crumbs, refresh timer, stale marks and confirmed actions, and
the keys that hand an entity on: `y` its JSON, `c` copy its id.

Import it from `batch_tui.ui.screens.base`, which documents the screen API.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Final, TypeVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

from batch_tui.batch.cache import Cached
from batch_tui.batch.errors import BatchError, TransportError
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.handoff import copy_id
from batch_tui.ui.routes import route
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.screen_actions import ScreenActions, parse_action
from batch_tui.ui.widgets.header import AppHeader, Breadcrumbs, HeaderStatus
from batch_tui.ui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from batch_tui.batch.cache import BatchCache
    from batch_tui.batch.client import BatchClient
    from batch_tui.ui.app_protocol import ExplorerApp
    from batch_tui.ui.session import AccountSession

T = TypeVar("T")

HEADER_SECONDS: Final = 1.0
"""Seconds between redraws of the header's refresh age ("⟳ 12s ago") on the screen on top."""


class BatchScreen(ScreenActions):
    """A screen of one account: header, crumbs, body, error line, footer, refresh timer."""

    REFRESH_KIND: ClassVar[str] = "detail"
    """Which `settings.refresh` field is this screen's interval (overview, pools, nodes, ...)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="screen.back", tooltip="Go back"),
        Binding("r", "refresh_now", "Refresh", id="screen.refresh", tooltip="Refresh now"),
        Binding(
            "p", "toggle_pause", "Pause", id="screen.pause", tooltip="Pause or resume auto refresh"
        ),
        Binding("y", "show_json", "JSON", show=False, id="screen.json",
                tooltip="The item's JSON as the service returns it"),
        Binding("c", "copy_id", "Copy id", show=False, id="screen.copy-id",
                tooltip="Copy the item's id (OSC 52)"),
    ]  # fmt: skip

    ENTITY_ACTIONS: ClassVar[frozenset[str]] = frozenset({"show_json", "copy_id"})
    """The keys of `entity_under_cursor` this screen offers (where it names one)."""

    last_refreshed: reactive[datetime | None] = reactive(None, init=False)
    """When the data on screen was fetched."""
    stale: reactive[bool] = reactive(False, init=False)
    """The last refresh failed: the data on screen is older than it looks."""
    error: reactive[str | None] = reactive(None, init=False)
    """The last refresh's error, one line, or None."""
    paused: reactive[bool] = reactive(False, init=False)
    """Auto refresh is paused (the `p` key)."""
    busy: reactive[bool] = reactive(False, init=False)
    """A refresh is running."""

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self._header_timer: Timer | None = None
        self._offline = False
        self._refreshing = False
        self._forced = False
        self._again = False
        self._stale_errors: list[tuple[BatchError, timedelta]] = []
        self._availability: tuple[object, ...] | None = None
        self._gone = False

    # -- what subclasses provide ----------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        """Yields the widgets between the header and the footer."""
        yield from ()

    async def load_data(self) -> None:
        """Fetches the screen's data and shows it. Runs in the refresh worker."""

    @property
    def crumbs(self) -> tuple[str, ...]:
        """Where this screen is, after the account name."""
        return ()

    def availability(self, action: str) -> bool | None:
        """Returns True if `action` applies now, None to grey its key out, False to hide it."""
        return True

    def tasks_deleted(self, job_id: str, task_ids: Sequence[str]) -> None:
        """Another screen deleted these tasks of a job: a screen that lists them drops them
        (a refresh of changed tasks cannot see a deletion)."""

    def entity_under_cursor(self) -> EntityRef | None:
        """The pool, node, job, task or schedule `y` shows and `c` copies, or None.

        A screen that shows or lists entities overrides it (a list: `ListScreen.row_entity`);
        where it is not overridden, `y` and `c` are not offered.
        """
        return None

    def names_entities(self) -> bool:
        """Whether this screen says what is under its cursor (`entity_under_cursor`)."""
        return type(self).entity_under_cursor is not BatchScreen.entity_under_cursor

    def why_not(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        """Says why `action` does not apply now (its key is greyed out), or None.

        Pressing a greyed-out key shows this as a toast, so a key never does nothing silently.
        Registry actions name the targets and the service's rule; others name the key's action.
        """
        if action == "act":
            return self.act_refusal(parameters)
        for cls in type(self).__mro__:
            for binding in cls.__dict__.get("BINDINGS", ()):
                if isinstance(binding, Binding) and parse_action(binding.action)[0] == action:
                    return f"{binding.description}: does not apply to the selection as it is now"
        return None

    # -- the account ----------------------------------------------------------------------

    @property
    def batch_app(self) -> ExplorerApp:
        """The app, as screens see it (`app_protocol.ExplorerApp`): the session, settings,
        the clock, and `open(route(...))` to go to another screen."""
        return cast("ExplorerApp", self.app)

    @property
    def session(self) -> AccountSession:
        """The open account's session."""
        return self.batch_app.require_session()

    @property
    def client(self) -> BatchClient:
        """The open account's client."""
        return self.session.client

    @property
    def cache(self) -> BatchCache:
        """The open account's cache."""
        return self.session.cache

    @property
    def read_only(self) -> bool:
        """Whether mutating actions are off."""
        return self.batch_app.read_only

    def now(self) -> datetime:
        """The app's clock (injected in tests)."""
        return self.batch_app.now()

    @property
    def breadcrumbs(self) -> tuple[str, ...]:
        """The whole path: the account name, then `crumbs`."""
        session = self.batch_app.session
        return ((session.name,) if session else ()) + self.crumbs

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Breadcrumbs()
        yield from self.compose_body()
        yield Static(id="error-line", classes="hidden", markup=False)
        yield Static(id="action-line", classes="hidden", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.update_header()
        self._header_timer = self.set_interval(HEADER_SECONDS, self.update_header)

    def header_session(self) -> AccountSession | None:
        """The session the header names (the open one)."""
        return self.batch_app.session

    def update_header(self) -> None:
        """Redraws the header and crumbs from the screen's state."""
        session = self.header_session()
        try:
            header = self.query_one(AppHeader)
            crumbs = self.query_one(Breadcrumbs)
        except NoMatches:
            return  # the screen is being closed: a late refresh has nothing left to draw on
        header.status = HeaderStatus(
            account=session.name if session else "",
            endpoint=session.endpoint if session else "",
            last_refreshed=self.last_refreshed,
            now=self.now(),
            stale=self.stale,
            offline=self.stale and self._offline,
            loading=self.busy,
            paused=self.paused,
            read_only=self.read_only,
        )
        crumbs.crumbs = self.breadcrumbs

    def _watch_error(self, error: str | None) -> None:
        try:
            line = self.query_one("#error-line", Static)
        except NoMatches:
            return  # the screen is being closed
        line.set_class(error is None, "hidden")
        line.update(f"⚠ {error}" if error else "")

    def _watch_stale(self) -> None:
        self.update_header()

    def _watch_paused(self) -> None:
        self.update_header()

    def _watch_busy(self) -> None:
        self.update_header()

    # -- refresh --------------------------------------------------------------------------

    @property
    def refresh_group(self) -> str:
        """This screen's exclusive worker group."""
        return f"{type(self).__name__.lower()}-refresh"

    def refresh_interval(self) -> float:
        """Seconds between automatic refreshes, from the settings."""
        return float(getattr(self.batch_app.settings.refresh, self.REFRESH_KIND))

    def on_screen_resume(self) -> None:
        if self._gone:
            self.action_back()
            return
        if self._timer is None:
            self._timer = self.set_interval(self.refresh_interval(), self.refresh_data, pause=True)
        if not self.paused:
            self._timer.resume()
        if self._header_timer is not None:
            self.update_header()  # the age it shows went on while another screen was on top
            self._header_timer.resume()
        if self._due():
            self.refresh_data()

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.pause()
        # A screen under another still repaints its header's age each second, and Textual
        # carries a background screen's dirty regions to the top screen: the screen on top
        # would be painted whole every second with nothing on it changed.
        if self._header_timer is not None:
            self._header_timer.pause()

    def _due(self) -> bool:
        if self.last_refreshed is None:
            return not self._refreshing
        age = (self.now() - self.last_refreshed).total_seconds()
        return age >= self.refresh_interval() and not self.paused

    def refresh_data(self) -> None:
        """Starts a refresh unless one is running (a tick never overlaps the previous one)."""
        if self._refreshing:
            return
        self._refreshing = True
        self.busy = True
        self.run_worker(
            self._refresh(), group=self.refresh_group, exclusive=True, exit_on_error=False
        )

    @property
    def forced(self) -> bool:
        """Whether this refresh was asked for (`r`): pass it as the cache's `force=`."""
        return self._forced

    def track(self, cached: Cached[T]) -> T:
        """Returns a cache result's value and notes if it is stale (the header shows it)."""
        if cached.stale and cached.error is not None:
            self._stale_errors.append((cached.error, cached.age))
        return cached.value

    async def _refresh(self) -> None:
        # NoMatches anywhere here means the user closed the screen while it loaded: its widgets
        # are gone (watchers of `busy` and `error` query them too), so there is nothing to draw.
        with contextlib.suppress(NoMatches):
            await self._refresh_once()

    async def _refresh_once(self) -> None:
        self._stale_errors = []
        try:
            await self.load_data()
        except NoMatches:
            raise
        except Exception as error:  # noqa: BLE001 - a bug in one refresh must not kill the app
            self.show_error(error)
        else:
            self._loaded()
        finally:
            self._refreshing = False
            self._forced = False
            with contextlib.suppress(NoMatches):
                self.busy = False
                self.update_header()
            if self._again:
                self._again = False
                self.call_later(self.action_refresh_now)

    def _loaded(self) -> None:
        """Records a finished refresh: fresh, or served stale by the cache."""
        if self._stale_errors:
            error, age = max(self._stale_errors, key=lambda pair: pair[1])
            self.show_error(error)
            self.last_refreshed = self.now() - age
            return
        self.error = None
        self.stale = False
        self.last_refreshed = self.now()

    def show_error(self, error: BaseException) -> None:
        """Marks the data stale and shows a one-line error (never a traceback)."""
        self._offline = isinstance(error, TransportError)
        if isinstance(error, BatchError):
            text = str(error)
        else:
            text = f"unexpected error: {type(error).__name__}: {error}"
        self.error = sanitize_text(text.splitlines()[0] if text else type(error).__name__)
        self.stale = True

    def action_refresh_now(self) -> None:
        """Refreshes now, past the cache's freshness; while a refresh runs, once it is done.

        The running one may have read the service before what asked for this (an action
        whose dialog, as it closed, resumed the screen and so started a refresh while the
        action's request was on its way): it would show the state from before the action.
        """
        if self._refreshing:
            self._again = True
            return
        self._forced = True
        self.refresh_data()

    def action_toggle_pause(self) -> None:
        """Pauses or resumes auto refresh."""
        self.paused = not self.paused
        if self._timer is not None:
            if self.paused:
                self._timer.pause()
            else:
                self._timer.resume()
        self.notify("Auto refresh paused" if self.paused else "Auto refresh resumed")

    def action_back(self) -> None:
        """Goes back to the previous screen (the account screen stays at the bottom)."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def leave(self) -> None:
        """Goes back from this screen because what it shows is gone (a deleted job or task).

        The action that deleted it ends in a worker, by which time the user may have opened
        another screen over this one: that screen stays, and this one goes when it is back
        on top (popping the top screen from here would close the wrong one).
        """
        if self.is_active:
            self.action_back()
        else:
            self._gone = True

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "act":
            return self.act_state(parameters)
        if action in BatchScreen.ENTITY_ACTIONS:
            if action not in self.ENTITY_ACTIONS or not self.names_entities():
                return False
            return True if self.entity_under_cursor() is not None else None
        return self.availability(action)

    def action_show_json(self) -> None:
        """Opens the JSON of the item under the cursor, fetched now."""
        ref = self.entity_under_cursor()
        if ref is not None:
            self.batch_app.open(route("json", ref))

    def action_copy_id(self) -> None:
        """Copies the id of the item under the cursor to the terminal's clipboard."""
        ref = self.entity_under_cursor()
        if ref is not None:
            copy_id(self, ref)

    def _screen_actions(self) -> list[tuple[str, tuple[object, ...]]]:
        """The actions of this screen's own bindings (all classes of its MRO), parsed."""
        names: list[tuple[str, tuple[object, ...]]] = []
        for cls in type(self).__mro__:
            for binding in cls.__dict__.get("BINDINGS", ()):
                if isinstance(binding, Binding):
                    names.append(parse_action(binding.action))
        return names

    def refresh_availability(self) -> None:
        """Refreshes the footer's keys only when one became (un)available.

        Redrawing the footer costs a few milliseconds per key; doing it on every cursor move
        of a 10,000-row list would eat the key-press-to-frame budget.
        """
        state = (
            self.focused,
            self.read_only,
            *(self.check_action(name, params) for name, params in self._screen_actions()),
        )
        if state != self._availability:
            self._availability = state
            self.refresh_bindings()
