"""Provides the action registry: every mutating action, in one place (pure).

Each `ActionSpec` has an id (the binding id `[keymap]` remaps), a key, a label, its options,
the states it applies to (`refusal`), how it is confirmed (`typed_confirmation`) and its
client call. From it come the bindings (`action_bindings`), so the footer, help, read-only
hiding (`BatchScreen.check_action`) and the list of mutating actions all follow. Running a
confirmed action is `action_runs`. Nothing here imports Textual or builds a request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from batch_tui.batch.models import Job, JobSchedule, Node, Pool, Task
from batch_tui.batch.models.constants import (
    AllocationState,
    JobScheduleState,
    JobState,
    NodeState,
    PoolState,
    SchedulingState,
    TaskState,
)

if TYPE_CHECKING:
    from batch_tui.batch.client import BatchClient

Kind = Literal["node", "job", "task", "schedule", "pool"]

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
class Scope:
    """Where an action's targets live: the pool of nodes, the job of tasks."""

    pool_id: str = ""
    job_id: str = ""


Call = Callable[["BatchClient", Scope, Any, "str | None"], Awaitable[object]]
"""Sends an action: (client, scope, target id — or the list of ids when `together` —, option)."""


@dataclass(frozen=True)
class ActionSpec:
    """One mutating action.

    Attributes:
        id: The binding id, e.g. "node.reboot" (keymaps use it).
        kind: What it acts on.
        key: Its key, on every screen that shows actions of its kind.
        label: A short name for keys and dialogs ("Reboot").
        options: The option values the service takes, default first; empty for none.
        option_name: What the option is called in the dialog.
        destructive: Whether it loses work or data (the dialog says so in red).
        description: One line for tooltips and the help screen.
        call: The client call, or None for an action with a flow of its own.
        flow: The screen method that runs it when it has no `call` (adding a user asks for
            more than a confirmation).
        together: `call` takes every target in one request.
        per_target: It acts on the selected rows, so their states decide whether it
            applies; False for a pool-wide flow (acting on a state picks its own nodes).
        short: The key's name in the footer, where the label is too long for 80 columns.
        own_key: Bound only by the screens that offer it (`action_binding`), not with the
            keys of its kind: `a` adds a task on the job screen but a job on the job list.
    """

    id: str
    kind: Kind
    key: str
    label: str
    options: tuple[str, ...] = ()
    option_name: str = "Running tasks"
    destructive: bool = False
    description: str = ""
    call: Call | None = None
    flow: str = ""
    together: bool = False
    per_target: bool = True
    short: str = ""
    own_key: bool = False

    @property
    def key_label(self) -> str:
        """The key's name in the footer and help."""
        return self.short or self.label

    @property
    def default_option(self) -> str | None:
        """The service's default option, or None when the action takes none."""
        return self.options[0] if self.options else None

    def option_help(self, option: str) -> str:
        """Returns what an option means, or "" when unknown."""
        tables = {"job.disable": JOB_DISABLE_OPTIONS, "job.terminate": JOB_FORCE_OPTIONS,
                  "job.delete": JOB_FORCE_OPTIONS,
                  "schedule.terminate": JOB_FORCE_OPTIONS,
                  "schedule.delete": JOB_FORCE_OPTIONS}  # fmt: skip
        return tables.get(self.id, NODE_OPTIONS).get(option, "")


def _option(option: str | None, default: str = "requeue") -> str:
    return option or default


ACTIONS: Final[Mapping[str, ActionSpec]] = {
    spec.id: spec
    for spec in (
        ActionSpec("node.reboot", "node", "b", "Reboot", _FOUR, destructive=True,
                   description="Restart the node",
                   call=lambda c, s, n, o: c.reboot_node(s.pool_id, n, option=_option(o))),
        ActionSpec("node.reimage", "node", "i", "Reimage", _FOUR, destructive=True,
                   description="Reinstall the node's operating system",
                   call=lambda c, s, n, o: c.reimage_node(s.pool_id, n, option=_option(o))),
        ActionSpec("node.deallocate", "node", "D", "Deallocate", _FOUR, destructive=True,
                   description="Stop the node's VM and release its compute",
                   call=lambda c, s, n, o: c.deallocate_node(s.pool_id, n, option=_option(o))),
        ActionSpec("node.start", "node", "u", "Start", description="Start a deallocated node",
                   call=lambda c, s, n, o: c.start_node(s.pool_id, n)),
        ActionSpec("node.disable-scheduling", "node", "o", "Disable scheduling", _THREE,
                   description="Stop scheduling new tasks on the node", short="No sched",
                   call=lambda c, s, n, o: c.disable_node_scheduling(
                       s.pool_id, n, option=_option(o))),
        ActionSpec("node.enable-scheduling", "node", "O", "Enable scheduling",
                   description="Schedule tasks on the node again", short="Sched",
                   call=lambda c, s, n, o: c.enable_node_scheduling(s.pool_id, n)),
        ActionSpec("node.remove", "node", "ctrl+d", "Remove from pool", _FOUR, destructive=True,
                   description="Remove the node from its pool (the pool shrinks)", short="Remove",
                   call=lambda c, s, ns, o: c.remove_nodes(s.pool_id, ns, option=_option(o)),
                   together=True),
        ActionSpec("node.add-user", "node", "a", "Add user",
                   description="Add a login user and show the SSH command",
                   flow="flow_add_user"),
        ActionSpec("node.all-in-state", "node", "asterisk", "All in state",
                   description="Act on every node of the pool in a state (reboot all "
                   "starttaskfailed ...)", flow="flow_all_in_state", per_target=False),
        ActionSpec("job.terminate", "job", "T", "Terminate", tuple(JOB_FORCE_OPTIONS),
                   option_name="End it", destructive=True,
                   description="Terminate the job and its running tasks",
                   call=lambda c, s, j, o: c.terminate_job(j, force=o == "force")),
        ActionSpec("job.disable", "job", "D", "Disable", ("requeue", "terminate", "wait"),
                   description="Stop scheduling the job's tasks",
                   call=lambda c, s, j, o: c.disable_job(j, _option(o))),
        ActionSpec("job.enable", "job", "E", "Enable", description="Resume a disabled job",
                   call=lambda c, s, j, o: c.enable_job(j)),
        ActionSpec("job.delete", "job", "X", "Delete", tuple(JOB_FORCE_OPTIONS),
                   option_name="End it", destructive=True,
                   description="Delete the job and all its tasks",
                   call=lambda c, s, j, o: c.delete_job(j, force=o == "force")),
        ActionSpec("task.terminate", "task", "t", "Terminate", destructive=True,
                   description="Terminate the task",
                   call=lambda c, s, t, o: c.terminate_task(s.job_id, t)),
        ActionSpec("task.reactivate", "task", "R", "Reactivate",
                   description="Run a failed task again",
                   call=lambda c, s, t, o: c.reactivate_task(s.job_id, t)),
        ActionSpec("task.delete", "task", "ctrl+d", "Delete", destructive=True,
                   description="Delete the task and its files",
                   call=lambda c, s, t, o: c.delete_task(s.job_id, t)),
        ActionSpec("task.add", "task", "a", "Add", flow="flow_add_task", short="Add task",
                   description="Add a task from a JSON body",
                   per_target=False, own_key=True),
        ActionSpec("task.clone", "task", "C", "Clone", flow="flow_clone_task",
                   description="A new task from this one: a rerun after a fix",
                   own_key=True),
        ActionSpec("job.add", "job", "a", "Add", flow="flow_add_job", short="Add job",
                   description="Add a job from a JSON body",
                   per_target=False, own_key=True),
        ActionSpec("schedule.enable", "schedule", "E", "Enable",
                   description="Let the schedule make jobs again",
                   call=lambda c, s, j, o: c.enable_job_schedule(j)),
        ActionSpec("schedule.disable", "schedule", "D", "Disable",
                   description="Make no new jobs until enabled",
                   call=lambda c, s, j, o: c.disable_job_schedule(j)),
        ActionSpec("schedule.terminate", "schedule", "T", "Terminate", tuple(JOB_FORCE_OPTIONS),
                   option_name="End it", destructive=True,
                   description="End the schedule and its active job",
                   call=lambda c, s, j, o: c.terminate_job_schedule(j, force=o == "force")),
        ActionSpec("schedule.delete", "schedule", "X", "Delete", tuple(JOB_FORCE_OPTIONS),
                   option_name="End it", destructive=True,
                   description="Delete the schedule, its jobs and tasks",
                   call=lambda c, s, j, o: c.delete_job_schedule(j, force=o == "force")),
        ActionSpec("pool.resize", "pool", "z", "Resize", _FOUR,
                   option_name="Tasks on removed nodes",
                   description="Set the pool's dedicated and spot node targets",
                   flow="flow_resize_pool"),
        ActionSpec("pool.stop-resize", "pool", "Z", "Stop resize",
                   description="Stop the pool's resize where it is", short="Stop",
                   call=lambda c, s, p, o: c.stop_resize_pool(p)),
        ActionSpec("pool.autoscale", "pool", "a", "Autoscale",
                   description="Edit, evaluate and enable the pool's autoscale formula",
                   flow="flow_autoscale"),
        ActionSpec("pool.disable-autoscale", "pool", "M", "Disable autoscale",
                   description="Turn autoscale off: the pool keeps its size, resized by hand",
                   short="Manual", call=lambda c, s, p, o: c.disable_pool_autoscale(p)),
        ActionSpec("pool.delete", "pool", "ctrl+d", "Delete", destructive=True,
                   description="Delete the pool and its nodes (running tasks are requeued)",
                   call=lambda c, s, p, o: c.delete_pool(p)),
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
    if action_id == "task.clone":
        return True  # any task, in any state, can be the model of a new one
    return action_id == "task.delete"


_SCHEDULE_RULES: Final[Mapping[str, tuple[frozenset[str], str]]] = {
    "schedule.enable": (frozenset({JobScheduleState.DISABLED}),
                        "only a disabled schedule can be enabled"),
    "schedule.disable": (frozenset({JobScheduleState.ACTIVE}),
                         "only an active schedule can be disabled"),
    "schedule.terminate": (frozenset({JobScheduleState.ACTIVE, JobScheduleState.DISABLED}),
                           "only an active or disabled schedule can be terminated"),
    "schedule.delete": (frozenset(set(JobScheduleState) - {JobScheduleState.DELETING}),
                        "it is already being deleted"),
}  # fmt: skip
"""The job schedule states in which the service accepts each schedule action (409
JobScheduleCompleted, JobScheduleBeingTerminated or JobScheduleBeingDeleted elsewhere; enabling
an active or disabling a disabled schedule changes nothing), and the rule in words."""


def schedule_action_refusal(action_id: str, state: str) -> str | None:
    """Says why a job schedule action does not apply in the schedule's `state`, or None.

    Args:
        action_id: An `ACTIONS` id of kind "schedule".
        state: The schedule's `state`.

    Returns:
        A reason ("it is completed; only an active or disabled schedule can be terminated"),
        or None when the service accepts it.
    """
    states, rule = _SCHEDULE_RULES.get(action_id, (frozenset(), "the service refuses it"))
    if state in states:
        return None
    if action_id == "schedule.enable" and state == JobScheduleState.ACTIVE:
        return "it is already active"
    if action_id == "schedule.disable" and state == JobScheduleState.DISABLED:
        return "it is already disabled"
    if action_id == "schedule.delete":
        return rule
    return f"it is {state}; {rule}"


def pool_action_refusal(action_id: str, pool: Pool) -> str | None:
    """Says why the service would refuse a pool action on the pool as it is now, or None.

    The service resizes only a steady pool without autoscale, stops only a resize, enables
    autoscale only on a steady pool (or one that has it on already: a new formula), and
    refuses everything but a read on a pool being deleted.

    Args:
        action_id: An `ACTIONS` id of kind "pool".
        pool: The pool as last seen (its `state`, `allocation_state`, `enable_auto_scale`).
    """
    if pool.state == PoolState.DELETING:
        return "it is being deleted"
    allocation = pool.allocation_state
    if action_id == "pool.resize":
        if pool.enable_auto_scale:
            return "autoscale sizes it; disable autoscale (M) to resize it by hand"
        if allocation != AllocationState.STEADY:
            return f"it is {allocation}; the service resizes only a steady pool"
    if action_id == "pool.stop-resize" and allocation != AllocationState.RESIZING:
        return f"it is {allocation or 'not resizing'}; only a resize can be stopped"
    if action_id == "pool.autoscale" and not pool.enable_auto_scale:
        if allocation != AllocationState.STEADY:
            return f"it is {allocation}; the service enables autoscale only on a steady pool"
    if action_id == "pool.disable-autoscale" and not pool.enable_auto_scale:
        return "autoscale is already off"
    return None


def refusal(spec: ActionSpec, subject: Node | Job | Task | JobSchedule | Pool) -> str | None:
    """Says why the service would refuse `spec` on `subject` as it is now, or None if not."""
    if isinstance(subject, JobSchedule):
        return schedule_action_refusal(spec.id, subject.state)
    if isinstance(subject, Pool):
        return pool_action_refusal(spec.id, subject)
    if isinstance(subject, Node):
        return node_action_refusal(spec.id, subject.state, subject.scheduling_state)
    if isinstance(subject, Job):
        return None if job_action_allowed(spec.id, subject.state) else f"it is {subject.state}"
    failed = subject.execution_info is not None and subject.execution_info.result == "failure"
    if task_action_allowed(spec.id, subject.state, failed):
        return None
    if spec.id == "task.reactivate" and subject.state == TaskState.COMPLETED:
        return "it did not fail; only failed tasks can be reactivated"
    return f"it is {subject.state}"


def specs_of(*kinds: Kind) -> list[ActionSpec]:
    """The actions of these kinds: kind by kind as given, each in the registry's order (but
    not those with keys of their own: `own_key`)."""
    return [
        spec
        for kind in kinds
        for spec in ACTIONS.values()
        if spec.kind == kind and not spec.own_key
    ]


MAX_LISTED_TARGETS: Final = 8
"""How many target ids a dialog lists before it says "and N more" (it must fit 80x24)."""


def target_lines(
    kind: Kind, targets: Sequence[str], *, where: str = "", marked: bool = False
) -> list[str]:
    """Names the targets one per line, for a dialog where every id must be readable.

    Args:
        kind: What the targets are.
        targets: Their ids.
        where: Where they are ("pool gpu-pool"), or "".
        marked: They are the marked rows: the first line says so.

    Returns:
        ["node tvm-1 in pool p"] for one target; else ["the 3 marked nodes in pool p:",
        "tvm-1", "tvm-2", "tvm-3"], with "… and 12 more" after `MAX_LISTED_TARGETS` ids.
    """
    place = f" in {where}" if where else ""
    if len(targets) == 1:
        return [f"{'the marked ' if marked else ''}{kind} {targets[0]}{place}"]
    count = f"the {len(targets)} marked {kind}s" if marked else f"{len(targets)} {kind}s"
    lines = [f"{count}{place}:", *targets[:MAX_LISTED_TARGETS]]
    rest = len(targets) - MAX_LISTED_TARGETS
    if rest > 0:
        lines.append(f"… and {rest} more")
    return lines


MAX_TOGETHER: Final = 100
"""An action sent for all its targets in one request takes at most this many (the service
removes at most 100 nodes per request)."""

MAX_PLAIN_CONFIRM: Final = 10
"""Up to this many targets a `y` confirms; beyond, the count must be typed."""

TYPED_CONFIRM: Final = frozenset({"job.delete", "pool.delete", "schedule.delete"})
"""Actions that lose a whole job, pool or job schedule: their id must be typed to confirm them."""


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
