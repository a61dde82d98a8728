"""Provides OrderedKeys: the app takes keys and pastes one at a time, each where it belongs.

A terminal delivers a burst of keys (a paste, an SSH link that hands over several keys in one
read) as events queued together. Textual forwards each to the widget focused *when the app
reads it*, and a binding runs only once the key has bubbled back to the app: by then the
next keys of the burst have already gone to the old widget. So `/by` on the node list opened
the filter and then ran `b` (reboot) on the list; `:jobs` + enter lost the text; a fast Tab in
a dialog sent the next field's text to the previous one.

`OrderedKeys` (a mixin for the `App`) holds each key until the one before has settled: it has
bubbled through the widgets it went to, the callbacks it scheduled (a focus change) have run,
and the screen on top (maybe one it pushed) has been mounted and resumed, so its input has
focus. Marker messages tell when: the first follows the key through the focused widget's
queue and up to the app; then others go through the top screen's queue (after its mount),
round after round while that screen still has messages waiting or the top screen changed
(`:jobs` + enter: the input's Submitted dismisses the command line, whose callback pushes the
job list; the keys after enter go to the job list). The rounds are bounded, and a watchdog
lets the keys go if a marker is lost with a widget that was removed.

Dialogs that answer with one key (`Guarded`) never take a key read before they opened: a `y`
that was on its way when `b` opened the Reboot dialog is dropped, and the dialog says so.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.message import Message
from textual.message_pump import MessagePump

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

    _Base = App[None]
else:
    _Base = object

MAX_ROUNDS = 12
"""Rounds through the top screen's queue a key waits while the top screen keeps changing."""

BUSY_ROUNDS = 3
"""Rounds a key waits for a screen that stays on top to be quiet: enough for the messages a
key makes (an input's Submitted), not for a list streaming 100,000 rows, which would hold
the next key back for nothing."""

WATCHDOG = 1.0
"""Seconds after which held keys go on even if the key before them never settled (a marker
lost with a widget that closed): typing must never freeze."""


class KeySettled(Message):
    """A marker behind a key: when it reaches the app, the key's stage `stage` is done.

    Stage 1 followed the key through the widget it went to; stage 2 goes through the top
    screen's queue (`screen`), as many `rounds` as it takes for that screen to be quiet.
    """

    def __init__(
        self, serial: int, stage: int, rounds: int = 0, screen: MessagePump | None = None
    ) -> None:
        super().__init__()
        self.serial = serial
        self.stage = stage
        self.rounds = rounds
        self.screen = screen


class Guarded:
    """A dialog that a key read before it was drawn must not answer.

    `opened_at` (the event clock, `textual._time.get_time`) is when it was drawn; until
    then it is infinite. A key read earlier is dropped if `holds_back(key)`, and the dialog
    is told with `dropped_keys(keys)`.
    """

    opened_at: float = float("inf")

    def holds_back(self, event: events.Key) -> bool:
        """Whether a key read before the dialog was drawn is dropped (by default: all)."""
        return True

    def dropped_keys(self, keys: list[str]) -> None:
        """Called with the keys dropped because they were typed before the dialog opened."""


class OrderedKeys(_Base):
    """App mixin: keys and pastes are delivered one at a time, each once the last settled."""

    _key_types: ClassVar[tuple[type[events.Event], ...]] = (events.Key, events.Paste)

    def _ordered_init(self) -> None:
        self._swallowing: str | None = None
        self._swallowed = 0
        self._held_keys: deque[events.Event] = deque()
        self._key_serial = 0
        self._key_in_flight = False
        self._key_watchdog: Timer | None = None

    @property
    def keys_pending(self) -> bool:
        """Whether keys are held or one is still settling (tests wait for the typing to end)."""
        return self._key_in_flight or bool(self._held_keys)

    def swallow_keys(self, why: str) -> None:
        """Drops every key from now until `stop_swallowing`: they were meant for a program
        the terminal is about to be handed to (the pager), not for the app (`v` then `q`
        must quit the pager, never batch-tui)."""
        self._swallowing = why
        self._swallowed = 0

    def stop_swallowing(self) -> None:
        """Takes keys again; says how many were dropped, if any."""
        why, dropped = self._swallowing, self._swallowed
        self._swallowing = None
        if dropped:
            self.notify(f"Ignored {dropped} key(s) typed while {why}", severity="warning")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, self._key_types) and not event.is_forwarded:
            if self._key_in_flight or self._held_keys:
                self._held_keys.append(event)
            else:
                await self._deliver(event)
            return
        await super().on_event(event)

    async def _deliver(self, event: events.Event) -> None:
        self._key_serial += 1
        serial = self._key_serial
        self._key_in_flight = True
        if self._swallowing is not None:
            self._swallowed += 1
            self._settled(serial)
            return
        if self._dropped_by_dialog(event):
            self._settled(serial)
            return
        target: MessagePump = self.focused or self.screen
        await super().on_event(event)
        if self._key_watchdog is not None:
            self._key_watchdog.stop()
        self._key_watchdog = self.set_timer(WATCHDOG, lambda: self._settled(serial))
        if not target.post_message(KeySettled(serial, 1)):
            self._stage_done(KeySettled(serial, 1))

    def _dropped_by_dialog(self, event: events.Event) -> bool:
        screen = self.screen
        if not isinstance(screen, Guarded) or not isinstance(event, events.Key):
            return False
        if event.time >= screen.opened_at or not screen.holds_back(event):
            return False
        screen.dropped_keys([event.key])
        return True

    def on_key_settled(self, message: KeySettled) -> None:
        message.stop()
        if message.serial != self._key_serial:
            return  # released by the watchdog already
        # What the key scheduled with `call_next` runs after this message: a dismissed
        # dialog's result callback (`:jobs` + enter pushes the job list from there). Go on
        # after it, or the next key would go to the screen that was on top before.
        self.call_next(self._stage_done, message)

    def _stage_done(self, message: KeySettled) -> None:
        if message.serial != self._key_serial:
            return
        # The key's handling may go on in messages it made (an input's Submitted, which then
        # dismisses the command line), and the top screen may change: follow the top
        # screen's queue until it is quiet, a bounded number of rounds.
        moved = message.screen is not self.screen
        if message.stage == 1 or (
            message.rounds < MAX_ROUNDS
            and (moved or (message.rounds < BUSY_ROUNDS and self._screen_busy()))
        ):
            screen = self.screen
            follow = KeySettled(message.serial, 2, message.rounds + 1, screen)
            if screen.post_message(follow):
                return
        self._settled(message.serial)

    def _screen_busy(self) -> bool:
        """Whether a widget of the top screen has messages waiting (the key's work going on)."""
        screen = self.screen
        return any(not pump._message_queue.empty() for pump in (screen, *screen.walk_children()))

    def _settled(self, serial: int) -> None:
        if serial != self._key_serial:
            return
        if self._key_watchdog is not None:
            self._key_watchdog.stop()
            self._key_watchdog = None
        self._key_in_flight = False
        if self._held_keys:
            self.call_later(self._deliver_next)

    async def _deliver_next(self) -> None:
        if self._held_keys and not self._key_in_flight:
            await self._deliver(self._held_keys.popleft())
