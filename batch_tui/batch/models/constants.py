"""String constants for the states and options of Batch entities (api-version 2024-07-01.20.0).

Model fields stay plain ``str`` and are compared with these (``node.state == NodeState.IDLE``):
Azure adds values over time, and an unknown value must never fail a decode.
"""

from __future__ import annotations

from enum import Enum


class StrConstants(str, Enum):
    """A str-valued Enum that compares, hashes, prints and formats as its value.

    Python 3.10 has no ``enum.StrEnum``; this is the part of it we need. ``str()`` and
    f-strings give the bare value, so a constant can go straight into a filter or a body.
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


class PoolState(StrConstants):
    """``CloudPool.state``."""

    ACTIVE = "active"
    DELETING = "deleting"


class AllocationState(StrConstants):
    """``CloudPool.allocationState``."""

    STEADY = "steady"
    RESIZING = "resizing"
    STOPPING = "stopping"


class NodeState(StrConstants):
    """``ComputeNode.state``: all 16 states of 20.0 (``deallocated``/``deallocating`` are new)."""

    IDLE = "idle"
    REBOOTING = "rebooting"
    REIMAGING = "reimaging"
    RUNNING = "running"
    UNUSABLE = "unusable"
    CREATING = "creating"
    STARTING = "starting"
    WAITING_FOR_START_TASK = "waitingforstarttask"
    START_TASK_FAILED = "starttaskfailed"
    UNKNOWN = "unknown"
    LEAVING_POOL = "leavingpool"
    OFFLINE = "offline"
    PREEMPTED = "preempted"
    UPGRADING_OS = "upgradingos"
    DEALLOCATED = "deallocated"
    DEALLOCATING = "deallocating"


class SchedulingState(StrConstants):
    """``ComputeNode.schedulingState``."""

    ENABLED = "enabled"
    DISABLED = "disabled"


class JobState(StrConstants):
    """``CloudJob.state``."""

    ACTIVE = "active"
    DISABLING = "disabling"
    DISABLED = "disabled"
    ENABLING = "enabling"
    TERMINATING = "terminating"
    COMPLETED = "completed"
    DELETING = "deleting"


class TaskState(StrConstants):
    """``CloudTask.state``."""

    ACTIVE = "active"
    PREPARING = "preparing"
    RUNNING = "running"
    COMPLETED = "completed"


class SubtaskState(StrConstants):
    """``SubtaskInformation.state`` of a multi-instance task's subtask."""

    PREPARING = "preparing"
    RUNNING = "running"
    COMPLETED = "completed"


class TaskRunState(StrConstants):
    """The state of a start task, job preparation task or job release task run."""

    RUNNING = "running"
    COMPLETED = "completed"


class JobScheduleState(StrConstants):
    """``CloudJobSchedule.state``."""

    ACTIVE = "active"
    COMPLETED = "completed"
    DISABLED = "disabled"
    TERMINATING = "terminating"
    DELETING = "deleting"


class TaskExecutionResult(StrConstants):
    """``result`` of a task, subtask, start task or job preparation/release task run."""

    SUCCESS = "success"
    FAILURE = "failure"


class ErrorCategory(StrConstants):
    """``category`` of a task failure or job scheduling error."""

    USER_ERROR = "usererror"
    SERVER_ERROR = "servererror"


class NodeDeallocationOption(StrConstants):
    """What happens to running tasks when nodes leave a pool (resize, remove nodes)."""

    REQUEUE = "requeue"
    """Terminate running task processes and requeue the tasks (the default)."""
    TERMINATE = "terminate"
    """Terminate running tasks: they complete with a failureInfo and do not run again."""
    TASK_COMPLETION = "taskcompletion"
    """Let running tasks finish; schedule no new ones meanwhile."""
    RETAINED_DATA = "retaineddata"
    """Let running tasks finish, then wait for all task data retention periods to expire."""


class NodeRebootOption(StrConstants):
    """``nodeRebootOption``; the same values and meanings as ``NodeDeallocationOption``."""

    REQUEUE = "requeue"
    TERMINATE = "terminate"
    TASK_COMPLETION = "taskcompletion"
    RETAINED_DATA = "retaineddata"


class NodeReimageOption(StrConstants):
    """``nodeReimageOption``; the same values and meanings as ``NodeDeallocationOption``."""

    REQUEUE = "requeue"
    TERMINATE = "terminate"
    TASK_COMPLETION = "taskcompletion"
    RETAINED_DATA = "retaineddata"


class NodeDeallocateOption(StrConstants):
    """``nodeDeallocateOption``; the same values and meanings as ``NodeDeallocationOption``."""

    REQUEUE = "requeue"
    TERMINATE = "terminate"
    TASK_COMPLETION = "taskcompletion"
    RETAINED_DATA = "retaineddata"


class DisableSchedulingOption(StrConstants):
    """``nodeDisableSchedulingOption``: like the others, but without ``retaineddata``."""

    REQUEUE = "requeue"
    TERMINATE = "terminate"
    TASK_COMPLETION = "taskcompletion"


class DisableJobOption(StrConstants):
    """``JobDisableParameter.disableTasks``: what happens to the job's running tasks."""

    REQUEUE = "requeue"
    TERMINATE = "terminate"
    WAIT = "wait"


class OnAllTasksComplete(StrConstants):
    """``onAllTasksComplete`` of a job."""

    NO_ACTION = "noaction"
    TERMINATE_JOB = "terminatejob"


class OnTaskFailure(StrConstants):
    """``onTaskFailure`` of a job."""

    NO_ACTION = "noaction"
    PERFORM_EXIT_OPTIONS_JOB_ACTION = "performexitoptionsjobaction"


class TaskAddStatus(StrConstants):
    """``TaskAddResult.status`` of one task in an add-collection call."""

    SUCCESS = "success"
    CLIENT_ERROR = "clienterror"
    SERVER_ERROR = "servererror"
