"""Provides the app header (account, endpoint, refresh age, stale and read-only marks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from batch_tui.ui.formatting import format_age, truncate
from batch_tui.ui.sanitize import sanitize_text

CRUMB_SEPARATOR = " › "


@dataclass(frozen=True)
class HeaderStatus:
    """What the header shows; the screen builds one on every change.

    Attributes:
        account: The open account's name ("" on the account screen).
        endpoint: Its endpoint URL.
        last_refreshed: When the screen's data was last fetched, or None.
        now: The current time, to show the refresh age.
        stale: The last refresh failed; the data on screen is old.
        offline: The failure was the network (no response at all).
        loading: A refresh is running.
        paused: Auto refresh is paused.
        read_only: Mutating actions are off.
    """

    account: str = ""
    endpoint: str = ""
    last_refreshed: datetime | None = None
    now: datetime | None = None
    stale: bool = False
    offline: bool = False
    loading: bool = False
    paused: bool = False
    read_only: bool = False


class AppHeader(Widget):
    """One line: app name, account, endpoint, refresh age and the status marks."""

    DEFAULT_CSS = """
    AppHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    status: reactive[HeaderStatus] = reactive(HeaderStatus, layout=False)
    """The state to show."""

    def render(self) -> Content:
        status = self.status
        parts: list[Content] = [Content.styled(" batch-tui ", "bold")]
        if status.account:
            parts.append(Content.styled(sanitize_text(status.account), "bold $text-accent"))
            parts.append(Content(" " + sanitize_text(status.endpoint)))
        parts.append(Content(" │ " + self._age_text(status)))
        parts.extend(self._marks(status))
        return Content("").join(parts)

    @staticmethod
    def _age_text(status: HeaderStatus) -> str:
        if status.last_refreshed is None or status.now is None:
            return "loading…" if status.loading else "not loaded"
        age = format_age(status.last_refreshed, status.now)
        return f"⟳ {age} ago" + ("…" if status.loading else "")

    @staticmethod
    def _marks(status: HeaderStatus) -> list[Content]:
        marks: list[Content] = []
        if status.offline:
            marks.append(Content.styled(" OFFLINE ", "bold reverse $error"))
        elif status.stale:
            marks.append(Content.styled(" STALE ", "bold reverse $text-warning"))
        if status.paused:
            marks.append(Content.styled(" PAUSED ", "bold $text-warning"))
        if status.read_only:
            marks.append(Content.styled(" READ-ONLY ", "bold $success"))
        return [Content(" "), *marks] if marks else []


class Breadcrumbs(Widget):
    """Where the user is: `demo › pools › pool-a › node tvmps_…`."""

    DEFAULT_CSS = """
    Breadcrumbs {
        height: 1;
        color: $text-muted;
        padding: 0 1;
    }
    """

    crumbs: reactive[tuple[str, ...]] = reactive(tuple, layout=False)
    """The path, outermost first; service text is sanitized before it is shown."""

    def render(self) -> Content:
        text = CRUMB_SEPARATOR.join(sanitize_text(crumb) for crumb in self.crumbs)
        return Content(truncate(text, max(1, self.size.width - 2)))


def short_id(identifier: str, width: int = 24) -> str:
    """Shortens a long id in its middle: node ids are 72 characters ("tvmps_140f…a90_d")."""
    if len(identifier) <= width:
        return identifier
    tail = width // 3
    return f"{identifier[: width - tail - 1]}…{identifier[-tail:]}"
