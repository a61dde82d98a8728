"""Provides the specs of node, job and task actions: labels, options and allowed states (pure).

Screens use these to grey out keys (`*_action_allowed` returns False -> `check_action` None),
to build the confirmation dialog (`describe_targets`, `ActionSpec.options`), to send a
confirmed action to its targets a few at a time (`each`) and to report results
(`summarize`). Nothing here imports Textual or builds a request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from batch_tui.batch.errors import BatchError, OutcomeUnknown
from batch_tui.batch.models.constants import JobState, NodeState, SchedulingState, TaskState

Kind = Literal["node", "job", "task"]

NODE_OPTIONS: Final[Mapping[str, str]] = {
    "requeue": "terminate running tasks and requeue them",
    "terminate": "terminate running tasks; they fail and do not run again",
    "taskcompletion": "let running tasks finish; start no new ones",
    "retaineddata": "let running tasks finish, then wait for task data retention to expire",
}
"""What each node option does to the tasks running on the node (the service's wording)."""

JOB_DISABLE_OPTIONS: Final[Mapping[str, str]] = {
    "requeue": "terminate running tasks and requeue them",
    "terminate": "terminate running tasks; they fail and do not run again",
    "wait": "let running tasks finish",
}
"""What `disableTasks` does to the job's running tasks."""

JOB_FORCE_OPTIONS: Final[Mapping[str, str]] = {
    "normal": "once the nodes have processed it (the default)",
    "force": "even if the nodes have not fully processed it",
}
"""The service's `force` flag of job terminate and delete."""

_FOUR = ("requeue", "terminate", "taskcompletion", "retaineddata")
_THREE = ("requeue", "terminate", "taskcompletion")


@dataclass(frozen=True)
class ActionSpec:
    """One mutating action.

    Attributes:
        id: The binding id, e.g. "node.reboot" (keymaps use it).
        kind: What it acts on.
        label: A short name for keys and dialogs ("Reboot").
        options: The option values the service takes, default first; empty for none.
        option_name: What the option is called in the dialog.
        destructive: Whether it loses work or data (the dialog says so in red).
        description: One line for tooltips and the help screen.
    """

    id: str
    kind: Kind
    label: str
    options: tuple[str, ...] = ()
    option_name: str = "Running tasks"
    destructive: bool = False
    description: str = ""

    @property
    def default_option(self) -> str | None:
        """The service's default option, or None when the action takes none."""
        return self.options[0] if self.options else None

    def option_help(self, option: str) -> str:
        """Returns what an option means, or "" when unknown."""
        tables = {"job.disable": JOB_DISABLE_OPTIONS, "job.terminate": JOB_FORCE_OPTIONS,
                  "job.delete": JOB_FORCE_OPTIONS}  # fmt: skip
        return tables.get(self.id, NODE_OPTIONS).get(option, "")


ACTIONS: Final[Mapping[str, ActionSpec]] = {
    spec.id: spec
    for spec in (
        ActionSpec("node.reboot", "node", "Reboot", _FOUR, destructive=True,
                   description="Restart the node"),
        ActionSpec("node.reimage", "node", "Reimage", _FOUR, destructive=True,
                   description="Reinstall the node's operating system"),
        ActionSpec("node.deallocate", "node", "Deallocate", _FOUR, destructive=True,
                   description="Stop the node's VM and release its compute"),
        ActionSpec("node.start", "node", "Start", description="Start a deallocated node"),
        ActionSpec("node.disable-scheduling", "node", "Disable scheduling", _THREE,
                   description="Stop scheduling new tasks on the node"),
        ActionSpec("node.enable-scheduling", "node", "Enable scheduling",
                   description="Schedule tasks on the node again"),
        ActionSpec("node.remove", "node", "Remove from pool", _FOUR, destructive=True,
                   description="Remove the node from its pool (the pool shrinks)"),
        ActionSpec("node.add-user", "node", "Add user",
                   description="Add a login user and show the SSH command"),
        ActionSpec("job.terminate", "job", "Terminate", tuple(JOB_FORCE_OPTIONS),
                   option_name="End it", destructive=True,
                   description="Terminate the job and its running tasks"),
        ActionSpec("job.disable", "job", "Disable", ("requeue", "terminate", "wait"),
                   description="Stop scheduling the job's tasks"),
        ActionSpec("job.enable", "job", "Enable", description="Resume a disabled job"),
        ActionSpec("job.delete", "job", "Delete", tuple(JOB_FORCE_OPTIONS),
                   option_name="End it", destructive=True,
                   description="Delete the job and all its tasks"),
        ActionSpec("task.terminate", "task", "Terminate", destructive=True,
                   description="Terminate the task"),
        ActionSpec("task.reactivate", "task", "Reactivate",
                   description="Run a failed task again"),
        ActionSpec("task.delete", "task", "Delete", destructive=True,
                   description="Delete the task and its files"),
    )
}  # fmt: skip
"""Every mutating action by id."""

_REPAIRABLE: Final = frozenset(
    {
        NodeState.IDLE,
        NodeState.RUNNING,
        NodeState.OFFLINE,
        NodeState.START_TASK_FAILED,
        NodeState.UNUSABLE,
    }
)
"""Where the service reboots and reimages a node: above all the failed states, where a reboot
or a reimage is the remedy (batch-shipyard's `pool rebootnode --all-start-task-failed`)."""

_SCHEDULABLE: Final = frozenset(
    set(NodeState) - {NodeState.LEAVING_POOL, NodeState.DEALLOCATING, NodeState.DEALLOCATED}
)
"""Where the service changes a node's scheduling state."""

NODE_ACTION_STATES: Final[Mapping[str, frozenset[str]]] = {
    "node.reboot": _REPAIRABLE,
    "node.reimage": _REPAIRABLE,
    "node.deallocate": frozenset({NodeState.IDLE, NodeState.RUNNING, NodeState.OFFLINE}),
    "node.start": frozenset({NodeState.DEALLOCATED}),
    "node.disable-scheduling": _SCHEDULABLE,
    "node.enable-scheduling": _SCHEDULABLE,
    "node.remove": frozenset(NodeState),
    "node.add-user": frozenset(
        {NodeState.IDLE, NodeState.RUNNING, NodeState.OFFLINE, NodeState.START_TASK_FAILED}
    ),
}
"""The node states in which the service accepts each node action (409 elsewhere)."""

_NODE_RULES: Final[Mapping[str, str]] = {
    "node.reboot": "the service reboots only idle, running, offline, starttaskfailed or "
    "unusable nodes",
    "node.reimage": "the service reimages only idle, running, offline, starttaskfailed or "
    "unusable nodes",
    "node.deallocate": "the service deallocates only idle, running or offline nodes",
    "node.start": "only a deallocated node can be started",
    "node.disable-scheduling": "scheduling cannot change while a node leaves or is deallocated",
    "node.enable-scheduling": "scheduling cannot change while a node leaves or is deallocated",
    "node.add-user": "users are added only to idle, running, offline or starttaskfailed nodes",
}


def node_action_refusal(action_id: str, state: str, scheduling_state: str) -> str | None:
    """Says why the service would refuse a node action in the node's state, or None if not.

    Args:
        action_id: An `ACTIONS` id of kind "node".
        state: The node's `state`.
        scheduling_state: The node's `schedulingState`.

    Returns:
        A reason a person can act on ("it is creating; the service reboots only ..."), or None.
    """
    if state not in NODE_ACTION_STATES.get(action_id, frozenset()):
        return f"it is {state}; {_NODE_RULES.get(action_id, 'the service refuses it')}"
    if action_id == "node.disable-scheduling" and scheduling_state == SchedulingState.DISABLED:
        return "scheduling is already disabled on it"
    if action_id == "node.enable-scheduling" and scheduling_state != SchedulingState.DISABLED:
        return "scheduling is already enabled on it"
    return None


def node_action_allowed(action_id: str, state: str, scheduling_state: str) -> bool:
    """Returns whether the service accepts a node action in the node's current state."""
    return node_action_refusal(action_id, state, scheduling_state) is None


def job_action_allowed(action_id: str, state: str) -> bool:
    """Returns whether the service accepts a job action in the job's `state`."""
    if action_id == "job.terminate":
        return state in (JobState.ACTIVE, JobState.DISABLED, JobState.DISABLING, JobState.ENABLING)
    if action_id == "job.disable":
        return state == JobState.ACTIVE
    if action_id == "job.enable":
        return state == JobState.DISABLED
    return action_id == "job.delete" and state != JobState.DELETING


def task_action_allowed(action_id: str, state: str, failed: bool) -> bool:
    """Returns whether the service accepts a task action.

    Args:
        action_id: An `ACTIONS` id of kind "task".
        state: The task's `state`.
        failed: The task completed with `executionInfo.result` "failure".
    """
    if action_id == "task.terminate":
        return state != TaskState.COMPLETED
    if action_id == "task.reactivate":
        return state == TaskState.COMPLETED and failed
    return action_id == "task.delete"


def any_allowed(action_id: str, states: Sequence[tuple[str, str]]) -> bool:
    """Returns whether a node action applies to at least one of (state, scheduling_state)."""
    return any(node_action_allowed(action_id, state, sched) for state, sched in states)


MAX_LISTED_TARGETS: Final = 8
"""How many target ids a dialog lists before it says "and N more" (it must fit 80x24)."""


def describe_targets(kind: Kind, targets: Sequence[str]) -> str:
    """Names the targets of an action: "node tvm-1", "3 nodes: a, b, c", "… and 12 more"."""
    if len(targets) == 1:
        return f"{kind} {targets[0]}"
    shown = ", ".join(targets[:MAX_LISTED_TARGETS])
    rest = len(targets) - MAX_LISTED_TARGETS
    more = f" and {rest} more" if rest > 0 else ""
    return f"{len(targets)} {kind}s: {shown}{more}"


def target_lines(kind: Kind, targets: Sequence[str]) -> list[str]:
    """Names the targets one per line, for a dialog where every id must be readable.

    Returns:
        ["node tvm-1"] for one target; else ["3 nodes:", "tvm-1", "tvm-2", "tvm-3"], with
        "… and 12 more" after `MAX_LISTED_TARGETS` ids.
    """
    if len(targets) == 1:
        return [f"{kind} {targets[0]}"]
    lines = [f"{len(targets)} {kind}s:", *targets[:MAX_LISTED_TARGETS]]
    rest = len(targets) - MAX_LISTED_TARGETS
    if rest > 0:
        lines.append(f"… and {rest} more")
    return lines


MAX_PLAIN_CONFIRM: Final = 10
"""Up to this many targets a `y` confirms; beyond, the count must be typed."""

TYPED_CONFIRM: Final = frozenset({"job.delete", "pool.delete"})
"""Actions that lose a whole job or pool: their id must be typed to confirm them."""


def typed_confirmation(spec: ActionSpec, targets: Sequence[str]) -> str | None:
    """What must be typed to confirm an action, or None when `y` is enough.

    Deleting a job or a pool asks for its id; acting on more than `MAX_PLAIN_CONFIRM`
    targets at once asks for their count.
    """
    if len(targets) > MAX_PLAIN_CONFIRM:
        return str(len(targets))
    if spec.id in TYPED_CONFIRM:
        return targets[0] if len(targets) == 1 else str(len(targets))
    return None


@dataclass(frozen=True)
class Outcome:
    """What happened to one target of an action."""

    target: str
    error: str | None = None
    """The one-line error, or None on success."""
    unknown: bool = False
    """The request went out and its answer was lost: it may have been applied."""

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
    failed = [outcome for outcome in outcomes if outcome.error and not outcome.unknown]
    unknown = [outcome for outcome in outcomes if outcome.unknown]
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


def each(call: Callable[[str, str | None], Awaitable[object]]) -> Perform:
    """Adapts a per-target coroutine to a `Perform`, a few targets at a time.

    Args:
        call: Sends the action for one target, e.g. `client.reboot_node(pool, node, option=o)`.

    Returns:
        A `Perform` that turns each target's `BatchError` into a failed `Outcome`.
    """

    async def perform(targets: Sequence[str], option: str | None) -> Sequence[Outcome]:
        gate = asyncio.Semaphore(MAX_PARALLEL_ACTIONS)

        async def one(target: str) -> Outcome:
            async with gate:
                try:
                    await call(target, option)
                except BatchError as error:
                    return Outcome.of_error(target, error)
            return Outcome(target)

        return await asyncio.gather(*(one(target) for target in targets))

    return perform
