"""Provides JsonEditorScreen: edit a JSON body, send it once confirmed, see the service's errors.

`JsonEditorScreen(title, load, prepare)` -> the id of what it created, or None. It opens at
once and loads its text (`load`: a template, or a task's body to clone), then takes keys:
every printable key, `enter` and `tab` (two spaces) go into the text, also those typed while
it loaded. `ctrl+t` sends: `prepare` reads the text (the API layer's `parse_*`; a syntax
error is shown at its line and column, the cursor put there, and nothing is sent), a
`ConfirmScreen` names the action, the new id and where it goes, then the request is sent.
The service's refusal (a 400 with its code, message and values such as PropertyName and
Reason; a 409 for a taken id) shows under the text, the cursor on the property it names, and
the text stays as it was. `escape` closes; with edits, it asks first (`DiscardScreen`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from batch_tui.batch.add_bodies import EditorText, named_property, property_position
from batch_tui.batch.errors import BatchError, InvalidBody, OutcomeUnknown
from batch_tui.ui.actions import ActionSpec
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.confirm import Confirmation, ConfirmScreen, GuardedModal

SEND_KEY = "ctrl+t"
"""Sends the body. A control key every terminal sends as one byte (0x14), which TERM=xterm
and tmux pass through and the text area does not use: `ctrl+enter` reaches few terminals as
anything but `enter`, `ctrl+s` is the lists' export (and XOFF on some terminals)."""

INDENT = "  "
"""What `tab` inserts: JSON bodies are indented by two spaces."""


@dataclass(frozen=True)
class Creation:
    """What the editor's text would create, ready to confirm and send.

    Attributes:
        spec: The action (`task.add`, `job.add`): the dialog's title and button.
        target: The new entity's id, as the dialog names it.
        context: Where it goes ("job nightly"), or "".
        send: Sends the request; raises a `BatchError` when the service refuses it.
    """

    spec: ActionSpec
    target: str
    context: str
    send: Callable[[], Awaitable[None]]


Prepare = Callable[[str], Creation]
"""Reads the editor's text into a `Creation`; raises `InvalidBody` when it cannot be sent."""


def error_lines(error: BatchError) -> list[str]:
    """The service's refusal, one fact a line: the code and message, then each value
    ("PropertyName: maxTaskRetryCount", "Reason: ...")."""
    head = " ".join(str(part) for part in (error.status, error.code) if part)
    lines = [f"{head}: {error.message}" if head else error.message]
    lines += [f"  {name}: {value}" for name, value in error.values.items()]
    if isinstance(error, OutcomeUnknown):
        lines.append("  It may have been created: refresh the list before sending it again.")
    return lines


class JsonText(TextArea):
    """The editor's text area: `tab` indents (it does not move the focus), `escape` is left
    to the screen (close)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "indent", "Indent", show=False, id="editor.indent", tooltip="Two spaces"),
    ]

    def action_indent(self) -> None:
        """Inserts two spaces at the cursor (over the selection)."""
        self.replace(INDENT, *self.selection)


class DiscardScreen(GuardedModal[bool]):
    """Asks whether to drop an edited body: `y` drops it, `n` or `escape` goes on editing."""

    CSS_PATH = ["dialogs.tcss", "json_editor.tcss"]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Drop", id="dialog.confirm", tooltip="Drop the edits"),
        Binding("n,escape", "answer(False)", "Keep editing", id="dialog.cancel",
                tooltip="Back to the editor"),
    ]  # fmt: skip

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content("Drop the edited body?"), id="dialog-title")
            yield Static(Content("Nothing was sent. Your edits are lost if you drop them."))
            yield Static("", id="dialog-problem")
            with Horizontal(id="dialog-buttons"):
                yield Button("Drop (y)", variant="error", id="dialog-drop", compact=True)
                yield Button("Keep editing (n)", id="dialog-keep", compact=True)

    def on_mount(self) -> None:
        self.query_one("#dialog-keep").focus()

    def action_answer(self, drop: bool) -> None:
        """Answers: drop the edits, or keep editing."""
        self.dismiss(drop)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "dialog-drop")


class JsonEditorScreen(ModalScreen[str | None]):
    """Edits a JSON body and creates what it describes, once confirmed."""

    CSS_PATH = "json_editor.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(SEND_KEY, "send", "Send", id="editor.send", tooltip="Check, confirm and send"),
        Binding("escape", "close", "Close", id="editor.close", tooltip="Close the editor"),
    ]

    def __init__(
        self, title: str, load: Callable[[], Awaitable[EditorText]], prepare: Prepare
    ) -> None:
        """Args:
        title: What is edited ("Clone task t1 of job nightly").
        load: Returns the text to start from (a template, a task's body); may fetch.
        prepare: Reads the text into what to confirm and send.
        """
        super().__init__()
        self.title_text = title
        self._load = load
        self._prepare = prepare
        self.text_loading = True
        """The text is not there yet: keys typed meanwhile are kept for it."""
        self.sending = False
        """A confirmed body is on its way: the text stays as it is until the answer."""
        self._typed_ahead: list[str] = []
        self._loaded_text = ""

    @property
    def text_area(self) -> JsonText:
        """The body's text."""
        return self.query_one(JsonText)

    @property
    def edited(self) -> bool:
        """Whether the text differs from what was loaded (or keys wait for it)."""
        return bool(self._typed_ahead) or (
            not self.text_loading and self.text_area.text != self._loaded_text
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            yield Label(Content(sanitize_text(self.title_text, limit=200)), id="editor-title")
            yield JsonText("", read_only=True, soft_wrap=True, show_line_numbers=True,
                           id="editor-text")  # fmt: skip
            with VerticalScroll(id="editor-problems", classes="hidden"):
                yield Static(id="editor-problem")
            yield Static(
                Content.assemble(
                    ("^t", "bold"), " send  ", ("esc", "bold"), " close  ",
                    ("tab", "bold"), " indent  ", ("^z", "bold"), " undo",
                ),
                id="editor-keys",
            )  # fmt: skip

    def on_mount(self) -> None:
        self.text_area.focus()
        self.text_area.text = "loading…"
        self.run_worker(self._load_text(), group="json-editor-load", exit_on_error=False)

    async def _load_text(self) -> None:
        try:
            start = await self._load()
        except BatchError as error:
            self.notify(sanitize_text(f"Could not open the editor: {error}"), severity="error")
            self.dismiss(None)
            return
        area = self.text_area
        area.load_text(start.text)
        self._loaded_text = start.text
        area.read_only = False
        self._cursor_to(start.cursor)
        self.text_loading = False
        if self._typed_ahead:
            area.insert("".join(self._typed_ahead))
            self._typed_ahead.clear()

    def on_key(self, event: events.Key) -> None:
        """While the text loads, keeps what is typed for it (and no key reaches the screens
        below: `q` must not quit, `t` must not terminate a task)."""
        if not self.text_loading or event.key in ("escape", SEND_KEY):
            return
        event.stop()
        event.prevent_default()
        if event.key == "enter":
            self._typed_ahead.append("\n")
        elif event.key == "tab":
            self._typed_ahead.append(INDENT)
        elif event.is_printable and event.character:
            self._typed_ahead.append(event.character)

    def on_paste(self, event: events.Paste) -> None:
        if self.text_loading:
            event.stop()
            self._typed_ahead.append(event.text)

    # -- send ---------------------------------------------------------------------------

    def show_problem(self, lines: list[str]) -> None:
        """Shows what is wrong under the text (one fact a line); [] hides it."""
        text = "\n".join(sanitize_text(line, limit=400) for line in lines)
        self.query_one("#editor-problem", Static).update(Content(text))
        self.query_one("#editor-problems").set_class(not lines, "hidden")

    def action_send(self) -> None:
        """Reads the text, then confirms and sends it."""
        if self.text_loading or self.sending:
            self.notify("Wait: " + ("the text is loading" if self.text_loading else "sending"))
            return
        try:
            creation = self._prepare(self.text_area.text)
        except InvalidBody as error:
            self.show_problem([f"Not sent: {error}"])
            self._cursor_to((error.line - 1, error.column - 1))
            return
        self.show_problem([])
        dialog = ConfirmScreen(creation.spec, [creation.target], context=creation.context)

        def confirmed(result: Confirmation | None) -> None:
            if result is None:
                self.notify(f"{creation.spec.label}: cancelled, nothing was sent")
                return
            self.sending = True
            self.run_worker(self._send(creation), group="json-editor-send", exit_on_error=False)

        self.app.push_screen(dialog, callback=confirmed)

    async def _send(self, creation: Creation) -> None:
        try:
            await creation.send()
        except BatchError as error:
            self.show_problem(error_lines(error))
            self._point_at(error)
            return
        finally:
            self.sending = False
        self.dismiss(creation.target)

    def _point_at(self, error: BatchError) -> None:
        """Puts the cursor on the property the service named, if the text has it."""
        name = named_property(error.values)
        position = property_position(self.text_area.text, name) if name else None
        if position is not None:
            self._cursor_to(position)

    def _cursor_to(self, location: tuple[int, int]) -> None:
        """Moves the cursor, and keeps it in view once the problem lines took their room."""
        area = self.text_area
        area.move_cursor(location)
        self.call_after_refresh(area.scroll_cursor_visible, center=True)

    # -- close --------------------------------------------------------------------------

    def action_close(self) -> None:
        """Closes; asks first when the text was edited."""
        if self.sending:
            self.notify("Sending: wait for the service's answer", severity="warning")
            return
        if not self.edited:
            self.dismiss(None)
            return

        def answered(drop: bool | None) -> None:
            if drop:
                self.dismiss(None)

        self.app.push_screen(DiscardScreen(), callback=answered)
