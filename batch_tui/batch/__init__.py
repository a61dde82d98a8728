"""The Batch API layer's public face: the client, how to sign in, the error tree and the models.

A fast async client of Azure Batch, for scripts as much as for the app::

    from batch_tui.batch import BatchClient, NotFound

    async with BatchClient.with_shared_key(endpoint, account, key) as client:
        pools = await client.list_pools()

What is exported here:

- `BatchClient` and what builds one: `SharedKeyAuth`, `TokenCredentialAuth` and
  `make_credential` (an azure-identity credential for ``cli``, ``default``, ``device-code`` or
  ``managed-identity``), `RetryPolicy`, and `ListingStats` (what `list_job_tasks` did).
- The bodies `BatchClient.add_task` and `add_job` send (`TaskAddBody`, `JobAddBody`: read one
  with ``batch_tui.batch.add_bodies.parse_task_add``).
- Every exception a caller may catch: `BatchError` and its subclasses (the tree is drawn in
  ``errors.py``).
- The entities the client's methods return, the constants their ``state`` fields are
  compared with (``node.state == NodeState.IDLE``) and the actions' ``option`` arguments take
  (`NodeRebootOption` ...), and `Filter`, what ``filter=`` takes (build one with
  ``batch_tui.batch.odata``: ``odata.eq("state", "completed")``). The models nested in the
  entities (`TaskCounts`, `StartTask` ...) are in ``batch_tui.batch.models``.

Names load on first use (PEP 562, as ``textual.widgets`` does): importing the package imports
nothing, so ``import batch_tui.batch.models`` does not pull in httpx. This layer never imports
Textual.
"""

from __future__ import annotations

from importlib import import_module as _import_module

TYPE_CHECKING = False
"""True only to type checkers (mypy and pyright read the name so). Not `typing.TYPE_CHECKING`:
importing `typing` would take 2 ms, six times what the package itself takes."""

if TYPE_CHECKING:
    from batch_tui.batch._files import FileStream
    from batch_tui.batch._transport import ListLimits
    from batch_tui.batch.add_bodies import JobAddBody, TaskAddBody
    from batch_tui.batch.auth import SharedKeyAuth, TokenCredentialAuth, make_credential
    from batch_tui.batch.client import BatchClient
    from batch_tui.batch.errors import (
        AuthFailed,
        BadRequest,
        BatchError,
        Conflict,
        InvalidBody,
        ListStopped,
        ListTooLong,
        MalformedResponse,
        NotFound,
        NotModified,
        OutcomeUnknown,
        PagingLoop,
        PreconditionFailed,
        ReadOnly,
        ResponseTooLarge,
        ServiceError,
        Throttled,
        TransportError,
    )
    from batch_tui.batch.id_range_listing import ListingStats
    from batch_tui.batch.models import (
        AllocationState,
        Application,
        AutoScaleRun,
        AutoScaleRunError,
        DisableJobOption,
        DisableSchedulingOption,
        ErrorCategory,
        FileInfo,
        Job,
        JobPrepReleaseStatus,
        JobSchedule,
        JobScheduleState,
        JobState,
        Node,
        NodeDeallocateOption,
        NodeDeallocationOption,
        NodeFile,
        NodeRebootOption,
        NodeReimageOption,
        NodeState,
        OnAllTasksComplete,
        OnTaskFailure,
        Pool,
        PoolNodeCounts,
        PoolState,
        RemoteLoginSettings,
        SchedulingState,
        Subtask,
        SubtaskState,
        SupportedImage,
        Task,
        TaskCountsResult,
        TaskExecutionResult,
        TaskRunState,
        TaskState,
    )
    from batch_tui.batch.models.decoding import undecodable_reason
    from batch_tui.batch.odata import Filter
    from batch_tui.batch.retry import RetryPolicy

__all__ = [
    "AllocationState",
    "Application",
    "AuthFailed",
    "AutoScaleRun",
    "AutoScaleRunError",
    "BadRequest",
    "BatchClient",
    "BatchError",
    "Conflict",
    "DisableJobOption",
    "DisableSchedulingOption",
    "ErrorCategory",
    "FileInfo",
    "FileStream",
    "Filter",
    "InvalidBody",
    "Job",
    "JobAddBody",
    "JobPrepReleaseStatus",
    "JobSchedule",
    "JobScheduleState",
    "JobState",
    "ListLimits",
    "ListStopped",
    "ListTooLong",
    "ListingStats",
    "MalformedResponse",
    "Node",
    "NodeDeallocateOption",
    "NodeDeallocationOption",
    "NodeFile",
    "NodeRebootOption",
    "NodeReimageOption",
    "NodeState",
    "NotFound",
    "NotModified",
    "OnAllTasksComplete",
    "OnTaskFailure",
    "OutcomeUnknown",
    "PagingLoop",
    "Pool",
    "PoolNodeCounts",
    "PoolState",
    "PreconditionFailed",
    "ReadOnly",
    "RemoteLoginSettings",
    "ResponseTooLarge",
    "RetryPolicy",
    "SchedulingState",
    "ServiceError",
    "SharedKeyAuth",
    "Subtask",
    "SubtaskState",
    "SupportedImage",
    "Task",
    "TaskAddBody",
    "TaskCountsResult",
    "TaskExecutionResult",
    "TaskRunState",
    "TaskState",
    "Throttled",
    "TokenCredentialAuth",
    "TransportError",
    "make_credential",
    "undecodable_reason",
]

_SOURCES: dict[str, tuple[str, ...]] = {
    "batch_tui.batch.add_bodies": ("JobAddBody", "TaskAddBody"),
    "batch_tui.batch.auth": ("SharedKeyAuth", "TokenCredentialAuth", "make_credential"),
    "batch_tui.batch.client": ("BatchClient",),
    "batch_tui.batch.errors": (
        "AuthFailed",
        "BadRequest",
        "BatchError",
        "Conflict",
        "InvalidBody",
        "ListStopped",
        "ListTooLong",
        "MalformedResponse",
        "NotFound",
        "NotModified",
        "OutcomeUnknown",
        "PagingLoop",
        "PreconditionFailed",
        "ReadOnly",
        "ResponseTooLarge",
        "ServiceError",
        "Throttled",
        "TransportError",
    ),
    "batch_tui.batch.models": (
        "AllocationState",
        "Application",
        "AutoScaleRun",
        "AutoScaleRunError",
        "DisableJobOption",
        "DisableSchedulingOption",
        "ErrorCategory",
        "FileInfo",
        "Job",
        "JobPrepReleaseStatus",
        "JobSchedule",
        "JobScheduleState",
        "JobState",
        "Node",
        "NodeDeallocateOption",
        "NodeDeallocationOption",
        "NodeFile",
        "NodeRebootOption",
        "NodeReimageOption",
        "NodeState",
        "OnAllTasksComplete",
        "OnTaskFailure",
        "Pool",
        "PoolNodeCounts",
        "PoolState",
        "RemoteLoginSettings",
        "SchedulingState",
        "Subtask",
        "SubtaskState",
        "SupportedImage",
        "Task",
        "TaskCountsResult",
        "TaskExecutionResult",
        "TaskRunState",
        "TaskState",
    ),
    "batch_tui.batch.odata": ("Filter",),
    "batch_tui.batch._files": ("FileStream",),
    "batch_tui.batch.retry": ("RetryPolicy",),
    "batch_tui.batch.id_range_listing": ("ListingStats",),
    "batch_tui.batch._transport": ("ListLimits",),
    "batch_tui.batch.models.decoding": ("undecodable_reason",),
}
"""Where each exported name is defined, so that a name loads only its own module: the models
alone take under a third of the time the client takes, which brings in httpx."""

_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}


def __dir__() -> list[str]:
    """List the exported names too, before their first use loads them."""
    return sorted(set(globals()) | set(__all__))


# Hidden from type checkers, which then see exactly the names imported above (a module-level
# __getattr__ would make any misspelt import type-check).
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        module = _MODULE_OF.get(name) if name in __all__ else None
        if module is None:
            # An AttributeError, not a KeyError: `from batch_tui.batch import odata` relies on
            # it to fall back to importing the submodule.
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(_import_module(module), name)
        globals()[name] = value  # later lookups do not come back here
        return value
