"""Provides the pool dialogs: resize, the autoscale formula editor, and a confirmation that
names the change.

- `ResizePoolScreen(pool, spec)` -> `ResizeRequest` or None: dedicated and spot targets, the
  resize timeout and what happens to the tasks of removed nodes, in one box that fits 80x24.
- `AutoscaleEditorScreen(pool, spec, evaluate, apply)` -> True once applied, or None: the
  formula in a `TextArea`, the evaluation interval, Evaluate (the service's evaluateautoscale:
  its results and errors shown under the editor, nothing applied) and Apply (enableautoscale,
  confirmed). The service evaluates only on a pool with autoscale on; on a pool without it the
  editor says so and Apply is the way to try a formula.
- `PoolChangeConfirm(spec, pool_id, lines)`: `ConfirmScreen` whose text is the change itself
  ("Resize pool gpu-pool: 4 -> 10 dedicated, 0 -> 2 spot").

Keys typed before a dialog is drawn still fill in its fields (a burst after `a` lands in the
formula); only keys that would send it are held back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import timedelta
from typing import ClassVar, TypeVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static, TextArea

from batch_tui.batch.errors import BatchError, OutcomeUnknown
from batch_tui.batch.models import AutoScaleRun, Pool
from batch_tui.ui.actions import ActionSpec, pool_action_refusal
from batch_tui.ui.formatting import format_duration
from batch_tui.ui.pool_changes import (
    DEFAULT_INTERVAL,
    DEFAULT_RESIZE_TIMEOUT,
    EXAMPLE_FORMULA,
    MAX_INTERVAL_MINUTES,
    MAX_RESIZE_MINUTES,
    MIN_INTERVAL_MINUTES,
    MIN_RESIZE_MINUTES,
    ResizeRequest,
    error_lines,
    minutes_text,
    parse_count,
    parse_minutes,
    resize_change,
    run_lines,
    shrinks,
)
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.confirm import Confirmation, ConfirmScreen, GuardedModal

TYPED_AHEAD: frozenset[str] = frozenset({"tab", "shift+tab", "backspace", "enter"})
"""Keys typed before a form was drawn that still go to it (with the printable ones)."""


class PoolChangeConfirm(ConfirmScreen):
    """Confirms a pool change, its text naming the pool and the change, line by line."""

    def __init__(self, spec: ActionSpec, pool_id: str, lines: Sequence[str]) -> None:
        # The options were chosen in the form: the confirmation only names them.
        super().__init__(dataclasses.replace(spec, options=()), [pool_id])
        self.lines = list(lines)

    def compose(self) -> ComposeResult:
        text = "\n".join(sanitize_text(line, limit=400) for line in self.lines)
        for widget in super().compose():
            if widget.id == "dialog-targets":
                widget = Static(Content(text), id="dialog-targets")
            yield widget


LoadPool = Callable[[], Awaitable[Pool]]
"""Reads the pool afresh (the client's get_pool)."""

ModalResultT = TypeVar("ModalResultT")


class PoolModal(GuardedModal[ModalResultT]):
    """A pool dialog that opens at once with the pool as last seen, then reads it afresh.

    It opens before any request, so that keys typed after the one that opened it land in it
    (keys go on once a key's screen is up; a read first would send them to the screen below).
    When the pool arrives, `pool_loaded` updates what the person has not touched yet, and
    the dialog says if the service would now refuse the action (`refusal`).
    """

    def __init__(self, pool: Pool, spec: ActionSpec, load: LoadPool | None) -> None:
        super().__init__()
        self.pool = pool
        self.spec = spec
        self._load = load
        self.refusal: str | None = pool_action_refusal(spec.id, pool)
        """Why the service would refuse the action on the pool as last read, or None."""

    def on_mount(self) -> None:
        if self._load is not None:
            self.run_worker(self._reload(self._load), group="pool-dialog", exit_on_error=False)

    async def _reload(self, load: LoadPool) -> None:
        try:
            pool = await load()
        except BatchError as error:
            self.show_problem(f"Could not read pool {self.pool.id}: {error}")
            return
        self.pool = pool
        self.refusal = pool_action_refusal(self.spec.id, pool)
        self.pool_loaded(pool)
        if self.refusal is not None:
            self.show_problem(f"The service would refuse it: pool {pool.id}: {self.refusal}")

    def pool_loaded(self, pool: Pool) -> None:
        """Shows the fresh pool where the person has not typed yet."""


def _field(label: str, value: str, field_id: str) -> Iterator[Widget]:
    yield Label(label, classes="pool-field-label")
    yield Input(value, id=field_id, compact=True, classes="pool-field")


class ResizePoolScreen(PoolModal["ResizeRequest | None"]):
    """Asks for a pool's new targets, resize timeout and option for removed nodes' tasks."""

    CSS_PATH = "pool_dialogs.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Send nothing"),
    ]

    def __init__(self, pool: Pool, spec: ActionSpec, load: LoadPool | None = None) -> None:
        super().__init__(pool, spec, load)
        self.option = spec.default_option or "requeue"
        self._initial = self._field_values(pool)
        """What the fields were filled with: a field still showing it takes the fresh pool's."""

    @staticmethod
    def _field_values(pool: Pool) -> dict[str, str]:
        return {
            "dedicated": str(pool.target_dedicated_nodes),
            "spot": str(pool.target_low_priority_nodes),
            "timeout": minutes_text(pool.resize_timeout, DEFAULT_RESIZE_TIMEOUT),
        }

    @staticmethod
    def _now_text(pool: Pool) -> Content:
        now = (
            f"Now {pool.current_dedicated_nodes} of {pool.target_dedicated_nodes} "
            f"dedicated, {pool.current_low_priority_nodes} of "
            f"{pool.target_low_priority_nodes} spot nodes; {pool.allocation_state or '…'}"
        )
        return Content(sanitize_text(now))

    def pool_loaded(self, pool: Pool) -> None:
        fresh = self._field_values(pool)
        for name, value in fresh.items():
            field = self.query_one(f"#{name}", Input)
            if field.value == self._initial[name]:
                field.value = value
        self._initial = fresh
        self.query_one("#resize-now", Static).update(self._now_text(pool))
        self._changed()

    def holds_back(self, event: events.Key) -> bool:
        return not (event.is_printable or event.key in TYPED_AHEAD - {"enter"})

    def compose(self) -> ComposeResult:
        pool = self.pool
        with Vertical(id="dialog"):
            yield Label(Content(f"Resize pool {sanitize_text(pool.id)}"), id="dialog-title")
            yield Static(self._now_text(pool), id="resize-now")
            with Horizontal(id="resize-fields"):
                yield from _field("Dedicated", self._initial["dedicated"], "dedicated")
                yield from _field("Spot", self._initial["spot"], "spot")
                yield from _field("Timeout min", self._initial["timeout"], "timeout")
            yield Label(Content(f"{self.spec.option_name} (if it shrinks):"),
                        classes="dialog-label")  # fmt: skip
            with RadioSet(id="resize-options", compact=True):
                for option in self.spec.options:
                    text = f"{option}: {self.spec.option_help(option)}"
                    yield RadioButton(Content(text), value=option == self.option)
            unchanged = ResizeRequest(
                pool.target_dedicated_nodes,
                pool.target_low_priority_nodes,
                self.option,
                pool.resize_timeout or DEFAULT_RESIZE_TIMEOUT,
            )
            yield Static(self._chosen_text(), id="resize-chosen")
            yield Static(self._change_text(unchanged), id="resize-change")
            yield Static("", id="dialog-problem")
            with Horizontal(id="dialog-buttons"):
                yield Button("Resize… (enter)", variant="primary", id="resize-go", compact=True)
                yield Button("Cancel (esc)", id="dialog-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#dedicated", Input).focus()

    def _read(self) -> ResizeRequest:
        """The request as typed; `ValueError` with the message to show when a field is wrong."""
        dedicated = parse_count(self.query_one("#dedicated", Input).value, "Dedicated")
        spot = parse_count(self.query_one("#spot", Input).value, "Spot")
        timeout = parse_minutes(
            self.query_one("#timeout", Input).value,
            "Timeout",
            MIN_RESIZE_MINUTES,
            MAX_RESIZE_MINUTES,
        )
        return ResizeRequest(dedicated, spot, self.option, timeout)

    def _change_text(self, request: ResizeRequest | None) -> Content:
        """The change the fields ask for ("pool p: 4 -> 10 dedicated, 0 spot"); "" if invalid."""
        if request is None:
            return Content("")
        change = resize_change(self.pool, request)
        return Content(sanitize_text(f"pool {self.pool.id}: {change}"))

    @on(Input.Changed)
    def _changed(self) -> None:
        try:
            request: ResizeRequest | None = self._read()
        except ValueError:
            request = None
        self.query_one("#resize-change", Static).update(self._change_text(request))
        if self.refusal is None:
            self.show_problem("")

    def _chosen_text(self) -> Content:
        # In words as well: without colours every radio button looks the same.
        return Content.assemble("Option: ", (self.option, "bold"))

    @on(RadioSet.Changed)
    def _option_changed(self, event: RadioSet.Changed) -> None:
        self.option = self.spec.options[event.index]
        self.query_one("#resize-chosen", Static).update(self._chosen_text())

    @on(Input.Submitted)
    @on(Button.Pressed, "#resize-go")
    def action_submit(self) -> None:
        """Checks the fields; the request goes to the confirmation."""
        if self.refusal is not None:
            self.show_problem(f"The service would refuse it: pool {self.pool.id}: {self.refusal}")
            return
        try:
            request = self._read()
        except ValueError as error:
            self.show_problem(str(error))
            return
        if (request.dedicated, request.low_priority) == (
            self.pool.target_dedicated_nodes,
            self.pool.target_low_priority_nodes,
        ):
            self.show_problem("These are the pool's targets already: change a count, or esc")
            return
        self.dismiss(request)

    @on(Button.Pressed, "#dialog-cancel")
    def action_cancel(self) -> None:
        """Closes; nothing is sent."""
        self.dismiss(None)


def resize_lines(pool: Pool, request: ResizeRequest) -> list[str]:
    """What the resize confirmation says: the pool, the change, the timeout and option."""
    lines = [
        f"Resize pool {pool.id}: {resize_change(pool, request)}",
        f"Resize timeout {format_duration(request.timeout)}",
    ]
    if shrinks(pool, request):
        lines.append(f"Tasks on removed nodes: {request.option}")
    return lines


Evaluate = Callable[[str], Awaitable[AutoScaleRun]]
"""Evaluates a formula on the pool (the client's evaluate_pool_autoscale)."""
Apply = Callable[[str, timedelta], Awaitable[None]]
"""Enables autoscale with a formula and interval (the client's enable_pool_autoscale)."""

NOT_ENABLED_NOTE = "Autoscale is off: the service evaluates formulas only where it is on."
NOT_ENABLED_HINT = (
    "Evaluate waits until autoscale is on. Apply turns it on: the service checks the formula "
    "and evaluates it at once, and the pool detail then shows that run's results and errors."
)
ENABLED_NOTE = "Evaluate runs the formula on the pool without applying it."
ENABLED_HINT = "Evaluate shows the service's results here; nothing is applied."


class AutoscaleEditorScreen(PoolModal["bool | None"]):
    """Edits a pool's autoscale formula, evaluates it on the service, and applies it."""

    CSS_PATH = "pool_dialogs.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Apply nothing"),
        Binding("ctrl+r", "evaluate", "Evaluate", id="autoscale.evaluate",
                tooltip="Evaluate the formula on the pool without applying it"),
        Binding("ctrl+s", "apply", "Apply", id="autoscale.apply",
                tooltip="Enable autoscale with this formula (confirmed)"),
    ]  # fmt: skip

    def __init__(
        self,
        pool: Pool,
        spec: ActionSpec,
        evaluate: Evaluate,
        apply: Apply,
        load: LoadPool | None = None,
    ) -> None:
        super().__init__(pool, spec, load)
        self._initial = self._field_values(pool)
        """What the formula and interval were filled with (see `pool_loaded`)."""
        self._evaluate_call = evaluate
        self._apply_call = apply
        self.busy = False
        """A request is in flight: another waits until it is answered."""

    def holds_back(self, event: events.Key) -> bool:
        # Typing into the formula before it was drawn still lands there; nothing is sent.
        return not (event.is_printable or event.key in TYPED_AHEAD)

    @property
    def can_evaluate(self) -> bool:
        """The service evaluates only on a pool with autoscale on."""
        return self.pool.enable_auto_scale

    @staticmethod
    def _field_values(pool: Pool) -> tuple[str, str]:
        interval = minutes_text(pool.auto_scale_evaluation_interval, DEFAULT_INTERVAL)
        return pool.auto_scale_formula or EXAMPLE_FORMULA, interval

    def pool_loaded(self, pool: Pool) -> None:
        formula, interval = self._field_values(pool)
        editor = self.query_one("#formula", TextArea)
        if editor.text == self._initial[0] and formula != editor.text:
            editor.text = formula
        field = self.query_one("#interval", Input)
        if field.value == self._initial[1]:
            field.value = interval
        self._initial = (formula, interval)
        self._show_mode()

    def _show_mode(self) -> None:
        """The note, the hint and the Evaluate button, by whether autoscale is on."""
        on = self.can_evaluate
        self.query_one("#autoscale-note", Static).update(
            Content(ENABLED_NOTE if on else NOT_ENABLED_NOTE)
        )
        self.query_one("#autoscale-evaluate", Button).set_class(not on, "unavailable")
        result = self.query_one("#autoscale-result", Static)
        if str(result.render()) in (ENABLED_HINT, NOT_ENABLED_HINT):
            result.update(Content(ENABLED_HINT if on else NOT_ENABLED_HINT))

    def compose(self) -> ComposeResult:
        pool = self.pool
        with Vertical(id="dialog"):
            yield Label(Content(f"Autoscale pool {sanitize_text(pool.id)}"), id="dialog-title")
            note = ENABLED_NOTE if self.can_evaluate else NOT_ENABLED_NOTE
            yield Static(Content(note), id="autoscale-note")
            formula, interval = self._initial
            yield TextArea(formula, id="formula", soft_wrap=True, compact=True)
            with Horizontal(id="autoscale-fields"):
                yield from _field(
                    f"Evaluate every (minutes, {MIN_INTERVAL_MINUTES}-{MAX_INTERVAL_MINUTES:,})",
                    interval,
                    "interval",
                )
            with VerticalScroll(id="autoscale-result-box"):
                hint = ENABLED_HINT if self.can_evaluate else NOT_ENABLED_HINT
                yield Static(Content(hint), id="autoscale-result")
            yield Static("", id="dialog-problem")
            with Horizontal(id="dialog-buttons"):
                # Not `disabled`: pressed, it says why it waits (and a disabled button loses its
                # compact look without colours).
                yield Button("Evaluate (ctrl+r)", id="autoscale-evaluate", compact=True,
                             classes="" if self.can_evaluate else "unavailable")  # fmt: skip
                yield Button("Apply… (ctrl+s)", variant="primary", id="autoscale-apply",
                             compact=True)  # fmt: skip
                yield Button("Cancel (esc)", id="dialog-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#formula", TextArea).focus()

    @property
    def formula(self) -> str:
        """The formula as typed."""
        return self.query_one("#formula", TextArea).text

    def show_result(self, lines: Sequence[str], *, failed: bool = False) -> None:
        """Shows an evaluation's results or an error under the editor."""
        widget = self.query_one("#autoscale-result", Static)
        widget.set_class(failed, "failed")
        widget.update(Content("\n".join(sanitize_text(line, limit=2000) for line in lines)))

    def _checked_formula(self) -> str | None:
        formula = self.formula
        if not formula.strip():
            self.show_problem("The formula is empty: set $TargetDedicatedNodes at least")
            return None
        return formula

    @on(Button.Pressed, "#autoscale-evaluate")
    def action_evaluate(self) -> None:
        """Evaluates the formula on the pool (nothing is applied) and shows the outcome."""
        if not self.can_evaluate:
            self.show_problem("Evaluate needs autoscale on (the service's rule): Apply first")
            return
        formula = self._checked_formula()
        if formula is None or self.busy:
            return
        self.show_problem("")
        self.show_result(["Evaluating…"])
        self.busy = True
        self.run_worker(self._evaluate(formula), group="autoscale-editor", exit_on_error=False)

    async def _evaluate(self, formula: str) -> None:
        try:
            run = await self._evaluate_call(formula)
        except BatchError as error:
            self.show_result(["Evaluation refused:", *_error_lines(error)], failed=True)
        else:
            self.show_result(run_lines(run), failed=run.error is not None)
        finally:
            self.busy = False

    @on(Button.Pressed, "#autoscale-apply")
    def action_apply(self) -> None:
        """Asks to confirm enabling autoscale with this formula and interval, then sends it."""
        if self.refusal is not None:
            self.show_problem(f"The service would refuse it: pool {self.pool.id}: {self.refusal}")
            return
        formula = self._checked_formula()
        if formula is None or self.busy:
            return
        try:
            interval = parse_minutes(
                self.query_one("#interval", Input).value,
                "Interval",
                MIN_INTERVAL_MINUTES,
                MAX_INTERVAL_MINUTES,
            )
        except ValueError as error:
            self.show_problem(str(error))
            return
        self.show_problem("")

        def confirmed(result: Confirmation | None) -> None:
            if result is None:
                self.show_problem("Apply cancelled: nothing was sent")
                return
            self.busy = True
            self.show_result(["Applying…"])
            self.run_worker(
                self._apply(formula, interval), group="autoscale-editor", exit_on_error=False
            )

        lines = apply_lines(self.pool, formula, interval)
        self.app.push_screen(PoolChangeConfirm(self.spec, self.pool.id, lines), confirmed)

    async def _apply(self, formula: str, interval: timedelta) -> None:
        try:
            await self._apply_call(formula, interval)
        except OutcomeUnknown as error:
            self.show_result(
                ["The answer was lost: autoscale may have been enabled (refresh to see)",
                 *_error_lines(error)], failed=True,
            )  # fmt: skip
        except BatchError as error:
            self.show_result(["Not applied:", *_error_lines(error)], failed=True)
        else:
            self.dismiss(True)
        finally:
            self.busy = False

    @on(Button.Pressed, "#dialog-cancel")
    def action_cancel(self) -> None:
        """Closes; nothing more is sent."""
        self.dismiss(None)


def _error_lines(error: BatchError) -> list[str]:
    code = " ".join(str(part) for part in (error.status, error.code) if part) or None
    return error_lines(code, error.message, error.values.items())


def apply_lines(pool: Pool, formula: str, interval: timedelta) -> list[str]:
    """What the apply confirmation says: the pool, the interval and the formula's first lines."""
    verb = "Change the autoscale formula of" if pool.enable_auto_scale else "Enable autoscale on"
    shown = [line for line in formula.splitlines() if line.strip()]
    lines = [
        f"{verb} pool {pool.id}, evaluated every {format_duration(interval)}",
        "The service evaluates it at once and resizes the pool to its targets.",
        "Formula:",
        *(f"  {line}" for line in shown[:4]),
    ]
    if len(shown) > 4:
        lines.append(f"  … and {len(shown) - 4} more lines")
    return lines
