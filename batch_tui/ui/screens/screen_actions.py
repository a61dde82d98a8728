"""Provides ScreenActions: a screen's registry actions, from key to confirmed request.

Every mutating key is `act('<id>')`, bound by `action_bindings(kind, ...)` from the registry
(`batch_tui.ui.actions.ACTIONS`): its key, label, tooltip and binding id come from there. A
screen says what an action would act on and no more:

- `action_targets(kind)`: the marked rows, else the one under the cursor (or the job shown);
- `action_subject(kind, id)`: the last `Node`/`Job`/`Task` seen, so a key is greyed out where
  the service would refuse it, and says why when pressed (`why_not`);
- `action_scope()`: the pool of its nodes, the job of its tasks;
- `action_context(kind)`: where the targets are, for the dialog ("pool gpu-pool").

`act` confirms in `ConfirmScreen` (naming the action, the targets and the option; an id or a
count typed where `typed_confirmation` asks), sends the requests (`action_runs.perform_for`),
shows progress under the body, then the summary (done / failed / unknown) and refreshes. An
action without a client call (adding a user, acting on a state) runs the screen's
`spec.flow` method instead. In read-only mode every `act` key is hidden; the transport refuses
anything that would change the service, whatever a screen does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import actions as textual_actions
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Static

from batch_tui.batch.models import Job, JobSchedule, Node, Pool, Task
from batch_tui.ui.action_runs import (
    ACTION_PROGRESS,
    Outcome,
    Perform,
    Tally,
    perform_for,
    summarize,
)
from batch_tui.ui.actions import (
    ACTIONS,
    MAX_TOGETHER,
    ActionSpec,
    Kind,
    Scope,
    refusal,
    specs_of,
    typed_confirmation,
)
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.confirm import Confirmation, ConfirmScreen

if TYPE_CHECKING:
    from batch_tui.batch.cache import BatchCache
    from batch_tui.batch.client import BatchClient


def action_binding(spec: ActionSpec) -> Binding:
    """The key of a registry action: `act('<id>')`, its binding id the spec's id."""
    return Binding(
        spec.key, f"act('{spec.id}')", spec.key_label, id=spec.id, tooltip=spec.description
    )


def action_bindings(*kinds: Kind) -> list[BindingType]:
    """The keys of the registry's actions of these kinds."""
    return [action_binding(spec) for spec in specs_of(*kinds)]


class ScreenActions(Screen[None]):
    """The registry actions of a screen (a mixin of `BatchScreen`)."""

    # -- what screens provide -------------------------------------------------------------

    def action_targets(self, kind: Kind) -> tuple[str, ...]:
        """The ids an action of `kind` acts on now (marked rows, else the cursor's)."""
        return ()

    def action_subject(
        self, kind: Kind, target: str
    ) -> Node | Job | Task | JobSchedule | Pool | None:
        """The last data seen for a target, or None when unknown (then it is not greyed)."""
        return None

    def action_scope(self) -> Scope:
        """The pool or job the targets belong to."""
        return Scope()

    def action_context(self, kind: Kind) -> str:
        """Where the targets are, for the dialog ("pool gpu-pool", "job nightly")."""
        return ""

    def targets_marked(self, kind: Kind) -> bool:
        """Whether `action_targets(kind)` are the marked rows (the dialog then says so)."""
        return False

    def on_action_finished(self, spec: ActionSpec, outcomes: Sequence[Outcome]) -> None:
        """Called after an action ran; refreshes by default."""
        self.refresh_data()

    # -- what BatchScreen provides ---------------------------------------------------------

    if TYPE_CHECKING:

        @property
        def read_only(self) -> bool: ...

        @property
        def client(self) -> BatchClient: ...

        @property
        def cache(self) -> BatchCache: ...

        @property
        def refresh_group(self) -> str: ...

        def refresh_data(self) -> None: ...

    # -- the keys -------------------------------------------------------------------------

    def _spec(self, parameters: tuple[object, ...]) -> ActionSpec | None:
        return ACTIONS.get(str(parameters[0])) if parameters else None

    def applicable(self, spec: ActionSpec, targets: Sequence[str]) -> tuple[list[str], list[str]]:
        """Splits targets into those the action applies to and the reasons of the others."""
        chosen: list[str] = []
        reasons: list[str] = []
        for target in targets:
            reason = self._refusal_of(spec, target)
            if reason is None:
                chosen.append(target)
            else:
                reasons.append(f"{spec.kind} {target}: {reason}")
        return chosen, reasons

    def _refusal_of(self, spec: ActionSpec, target: str) -> str | None:
        """Why the service would refuse `spec` on `target` as last seen (None: unknown or ok)."""
        subject = self.action_subject(spec.kind, target)
        return None if subject is None else refusal(spec, subject)

    def act_state(self, parameters: tuple[object, ...]) -> bool | None:
        """`check_action` of an `act` key: hidden in read-only mode, greyed where refused."""
        spec = self._spec(parameters)
        if spec is None or self.read_only:
            return False
        if not spec.per_target:
            return True  # a pool-wide flow says what it needs
        # Any one target it applies to will do: with 100,000 rows marked, this runs on every
        # cursor move, so it stops at the first.
        applies = (
            self._refusal_of(spec, target) is None for target in self.action_targets(spec.kind)
        )
        return True if any(applies) else None

    def act_refusal(self, parameters: tuple[object, ...]) -> str | None:
        """Why an `act` key does nothing now, for the toast its press shows."""
        spec = self._spec(parameters)
        if spec is None:
            return None
        targets = self.action_targets(spec.kind)
        if not targets:
            return f"{spec.label}: no {spec.kind} selected"
        chosen, reasons = self.applicable(spec, targets)
        if chosen or not reasons:
            return None
        if len(targets) == 1:
            return f"{spec.label}: not on {reasons[0]}"
        many = f"{len(targets)} marked {spec.kind}s"
        return f"{spec.label}: none of the {many} allows it ({reasons[0]})"

    def action_act(self, action_id: str) -> None:
        """Runs a registry action on the screen's targets, once confirmed."""
        spec = ACTIONS[action_id]
        if self.read_only:
            self.notify("Read-only mode: nothing was sent", severity="warning")
            return
        if spec.call is None:
            getattr(self, spec.flow)()
            return
        targets = self.action_targets(spec.kind)
        chosen, reasons = self.applicable(spec, targets)
        if reasons and chosen:
            self.notify(
                f"{spec.label}: {len(reasons)} {spec.kind}(s) skipped, the service would refuse "
                f"it: {reasons[0]}" + (f" and {len(reasons) - 1} more" if len(reasons) > 1 else "")
            )
        perform = perform_for(spec, self.client, self.action_scope())
        context = self.action_context(spec.kind)
        marked = self.targets_marked(spec.kind)
        self.confirm_action(spec, chosen, perform, context=context, marked=marked)

    # -- confirm, perform, report ---------------------------------------------------------

    def confirm_action(
        self,
        spec: ActionSpec,
        targets: Sequence[str],
        perform: Perform,
        *,
        context: str = "",
        heading: str | None = None,
        marked: bool = False,
    ) -> None:
        """Confirms an action in a dialog, then performs it and reports the result.

        Args:
            spec: The action (label, options, kind).
            targets: The ids it acts on (nodes, jobs or tasks).
            perform: Sends the requests; see `action_runs.each`.
            context: Where the targets are, for the dialog ("pool pool-a").
            heading: What the dialog asks, if more than the action and the targets' count.
            marked: The targets are the marked rows (the dialog says so).
        """
        if self.read_only:
            self.notify("Read-only mode: nothing was sent", severity="warning")
            return
        if not targets:
            self.notify(f"{spec.label}: nothing selected", severity="warning")
            return
        if spec.together and len(targets) > MAX_TOGETHER:
            self.notify(f"{spec.label}: at most {MAX_TOGETHER} at a time", severity="error")
            return
        chosen = list(targets)

        def confirmed(result: Confirmation | None) -> None:
            if result is None:
                self.notify(f"{spec.label}: cancelled, nothing was sent")
                return
            self.run_worker(
                self._perform(spec, chosen, perform, result.option),
                group=f"{self.refresh_group}-action",
                exit_on_error=False,
            )

        typed = typed_confirmation(spec, chosen)
        dialog = ConfirmScreen(
            spec, chosen, context=context, typed=typed, heading=heading, marked=marked
        )
        self.app.push_screen(dialog, callback=confirmed)

    def _show_progress(self, line: str | None) -> None:
        """Shows a running bulk action's progress under the body; None hides it."""
        try:
            widget = self.query_one("#action-line", Static)
        except NoMatches:
            return  # the screen closed while the action ran: the summary toast still comes
        widget.set_class(line is None, "hidden")
        widget.update(sanitize_text(line or ""))

    async def _perform(
        self, spec: ActionSpec, targets: list[str], perform: Perform, option: str | None
    ) -> None:
        tally = Tally(len(targets))

        def progress(outcome: Outcome) -> None:
            tally.add(outcome)
            self._show_progress(tally.line(spec))

        if len(targets) > 1:
            self._show_progress(tally.line(spec))
        token = ACTION_PROGRESS.set(progress)
        try:
            outcomes = list(await perform(targets, option))
        except Exception as error:  # noqa: BLE001 - reported, never a traceback
            outcomes = [Outcome(target, sanitize_text(str(error))) for target in targets]
        finally:
            ACTION_PROGRESS.reset(token)
            self._show_progress(None)
        text, ok = summarize(spec, outcomes)
        self.notify(text, severity="information" if ok else "error", markup=False)
        self.cache.invalidate()
        self.on_action_finished(spec, outcomes)


def parse_action(action: str) -> tuple[str, tuple[object, ...]]:
    """A binding's action string as (name, parameters): "act('node.reboot')" -> ("act", ...)."""
    _, name, parameters = textual_actions.parse(action)
    return name, parameters
