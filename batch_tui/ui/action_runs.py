"""Provides how a confirmed action runs: its requests, their outcomes, progress and summary.

- `perform_for(spec, client, scope)`: the `Perform` of a registry action (`actions.ACTIONS`):
  one request per target, a few at a time (`each`), or one for all (removing nodes).
- `Outcome`: one target's result: done, failed with a reason, or unknown (the answer was lost
  after the request went out: it may have been applied, so it is never called failed).
- `summarize(spec, outcomes)`: the closing line; `Tally`: the progress line while it runs,
  fed through `ACTION_PROGRESS`.

Nothing here imports Textual or builds a request (the client does).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batch_tui.batch.errors import BatchError, OutcomeUnknown, Throttled
from batch_tui.ui.actions import ActionSpec, Scope

if TYPE_CHECKING:
    from batch_tui.batch.client import BatchClient


@dataclass(frozen=True)
class Outcome:
    """What happened to one target of an action."""

    target: str
    error: str | None = None
    """The one-line error, or None on success."""
    unknown: bool = False
    """The request went out and its answer was lost: it may have been applied."""

    @property
    def status(self) -> str:
        """ "done", "failed" or "unknown" (the answer was lost: never called failed)."""
        if self.unknown:
            return "unknown"
        return "failed" if self.error else "done"

    @classmethod
    def of_error(cls, target: str, error: BatchError) -> Outcome:
        """The outcome of a request that raised `error` (unknown if its answer was lost)."""
        return cls(target, str(error), unknown=isinstance(error, OutcomeUnknown))


def summarize(spec: ActionSpec, outcomes: Sequence[Outcome]) -> tuple[str, bool]:
    """Returns the result line of an action and whether everything succeeded.

    Args:
        spec: The action.
        outcomes: One per target.

    Returns:
        ("Reboot: 3 nodes done", True), or a line that counts what was done, what failed (each
        failed target and why) and what is unknown: a request whose answer was lost may have
        been applied, so it is never called failed.
    """
    failed = [outcome for outcome in outcomes if outcome.status == "failed"]
    unknown = [outcome for outcome in outcomes if outcome.status == "unknown"]
    done = len(outcomes) - len(failed) - len(unknown)
    noun = spec.kind if len(outcomes) == 1 else f"{spec.kind}s"
    if not failed and not unknown:
        if len(outcomes) == 1:
            return f"{spec.label}: {spec.kind} {outcomes[0].target} done", True
        return f"{spec.label}: {done} {noun} done", True
    if len(outcomes) == 1 and unknown:
        return (
            f"{spec.label}: {spec.kind} {outcomes[0].target}: outcome unknown, the answer was "
            "lost; it may have been applied (refreshing)",
            False,
        )
    parts = [f"{spec.label}: {done} of {len(outcomes)} {noun} done"]
    if unknown:
        names = ", ".join(outcome.target for outcome in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        parts.append(f"{len(unknown)} unknown (answer lost, may have been applied: {names}{more})")
    if failed:
        reasons = "; ".join(f"{outcome.target}: {outcome.error}" for outcome in failed[:3])
        more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
        parts.append(f"{len(failed)} failed: {reasons}{more}")
    return ", ".join(parts), False


Perform = Callable[[Sequence[str], "str | None"], Awaitable[Sequence[Outcome]]]
"""Runs a confirmed action on its targets with the chosen option; one `Outcome` per target."""

MAX_PARALLEL_ACTIONS = 8
"""Requests in flight at once for a bulk action: fast for 100 nodes, gentle on throttling."""

ACTION_PROGRESS: ContextVar[Callable[[Outcome], None] | None] = ContextVar(
    "action_progress", default=None
)
"""Told of each target's outcome as it comes (the screen's progress line); set by the screen
around a `Perform`, so that every `Perform` reports without a parameter of its own."""


def each(call: Callable[[str, str | None], Awaitable[object]]) -> Perform:
    """Adapts a per-target coroutine to a `Perform`, a few targets at a time.

    Requests go `MAX_PARALLEL_ACTIONS` at a time. The client waits out a 429 as the service
    asks; when one still comes back throttled, the rest go one at a time (paced), so a bulk
    action on hundreds of nodes never hammers a throttling account.

    Args:
        call: Sends the action for one target, e.g. `client.reboot_node(pool, node, option=o)`.

    Returns:
        A `Perform` that turns each target's `BatchError` into a failed `Outcome`.
    """

    async def perform(targets: Sequence[str], option: str | None) -> Sequence[Outcome]:
        gate = asyncio.Semaphore(MAX_PARALLEL_ACTIONS)
        paced = asyncio.Lock()
        throttled = False
        progress = ACTION_PROGRESS.get()

        async def one(target: str) -> Outcome:
            nonlocal throttled
            async with gate:
                if throttled:
                    async with paced:
                        outcome = await attempt(target)
                else:
                    outcome = await attempt(target)
            if progress is not None:
                progress(outcome)
            return outcome

        async def attempt(target: str) -> Outcome:
            nonlocal throttled
            try:
                await call(target, option)
            except Throttled as error:
                throttled = True
                return Outcome.of_error(target, error)
            except BatchError as error:
                return Outcome.of_error(target, error)
            return Outcome(target)

        return await asyncio.gather(*(one(target) for target in targets))

    return perform


@dataclass
class Tally:
    """The outcomes of a running action so far: its progress line."""

    total: int
    counts: Counter[str] = field(default_factory=Counter)
    """Outcomes by `Outcome.status`."""

    def add(self, outcome: Outcome) -> None:
        """Counts one target's outcome."""
        self.counts[outcome.status] += 1

    def line(self, spec: ActionSpec) -> str:
        """ "Reboot: 9 of 17 · 8 done · 1 failed · 0 unknown"."""
        done, failed, unknown = (self.counts[s] for s in ("done", "failed", "unknown"))
        return (
            f"{spec.label}: {done + failed + unknown} of {self.total} · {done} done · "
            f"{failed} failed · {unknown} unknown"
        )


def perform_for(spec: ActionSpec, client: BatchClient, scope: Scope) -> Perform:
    """The `Perform` of a registry action in `scope` (the pool of its nodes, the job of its
    tasks): the spec's client call for each target, or one request for all of them when the
    spec sends them together (removing nodes: the pool resizes once)."""
    call = spec.call
    if call is None:
        raise ValueError(f"{spec.id} has a flow of its own, not a client call")
    if spec.together:

        async def together(targets: Sequence[str], option: str | None) -> Sequence[Outcome]:
            try:
                await call(client, scope, list(targets), option)
            except BatchError as error:
                return [Outcome.of_error(target, error) for target in targets]
            return [Outcome(target) for target in targets]

        return together
    return each(lambda target, option: call(client, scope, target, option))
