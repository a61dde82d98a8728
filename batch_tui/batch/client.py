"""Provides `BatchClient`: one async method per Batch REST operation the app uses.

Reads of pools, nodes, jobs and tasks live here; job schedules and the account's
applications and images in ``_account_reads.py``, file operations in ``_files.py``, mutating
actions in ``_actions.py``, big-list reads in ``_partial_lists.py``, and the request machinery
(headers, retries, errors, decoding) in ``_transport.py``.
An entity's JSON body as text (``get_task_json`` ...) is in ``_raw_reads.py``.

Lists come two ways: ``iter_*`` yields page by page (``maxresults`` 1000 by default) so a
view can show the first rows while the rest stream in, and ``list_*`` collects them all.
Every method returns models or raises a `BatchError` subclass (see ``errors.py``).

Conditional reads: ``get_pool``, ``get_job``, ``get_task`` and ``get_job_schedule`` take
``if_none_match=<etag>``; when the entity is unchanged the service answers 304 and the
method raises `NotModified` (the cache then keeps its copy). Without ``if_none_match``
they never raise it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, TypeVar

import httpx

from batch_tui.batch._account_reads import AccountReadOperations
from batch_tui.batch._actions import ActionOperations
from batch_tui.batch._creates import CreateOperations
from batch_tui.batch._files import FileOperations
from batch_tui.batch._job_task_lists import JobTaskListOperations
from batch_tui.batch._partial_lists import PartialListOperations
from batch_tui.batch._raw_reads import RawReadOperations
from batch_tui.batch._schedule_actions import ScheduleActionOperations
from batch_tui.batch._transport import (
    API_VERSION,
    DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT,
    Expand,
    FilterArg,
    ListLimits,
    Select,
    Transport,
    collect,
    list_query,
    segment,
)
from batch_tui.batch.auth import SCOPE, SharedKeyAuth, TokenCredentialAuth
from batch_tui.batch.models import (
    Job,
    JobPrepReleaseStatus,
    Node,
    Pool,
    PoolNodeCounts,
    RemoteLoginSettings,
    Subtask,
    Task,
    TaskCountsResult,
)
from batch_tui.batch.retry import RetryPolicy

__all__ = ["API_VERSION", "BatchClient", "collect"]

T = TypeVar("T")


PAGE_SIZE = 1000
"""The API's maximum ``maxresults``: fewest round trips for 100,000-task jobs."""

NODE_COUNTS_PAGE_SIZE = 10
"""``/nodecounts`` allows at most 10 pools per page."""


class BatchClient(
    FileOperations,
    ActionOperations,
    PartialListOperations,
    AccountReadOperations,
    JobTaskListOperations,
    CreateOperations,
    ScheduleActionOperations,
    RawReadOperations,
):
    """An async client of one Batch account over one long-lived ``httpx.AsyncClient``.

    Use it as an async context manager, or call `aclose` (which also closes the credential).
    """

    def __init__(
        self,
        endpoint: str,
        auth: httpx.Auth,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        read_only: bool = False,
        limits: ListLimits | None = None,
    ) -> None:
        """Args:
        endpoint: ``https://<account>.<region>.batch.azure.com`` or an emulator URL.
        auth: `SharedKeyAuth` or `TokenCredentialAuth`.
        transport: An httpx transport (``MockTransport``, ``ASGITransport``) for tests
            and the embedded emulator; None for the network.
        timeout: Per-request timeouts.
        retry: The retry policy; `RetryPolicy()` by default.
        user_agent: The ``User-Agent`` header.
        read_only: Refuse every mutating request (raise `ReadOnly`) without sending it.
        limits: The most items a listing yields and the biggest body read (`ListLimits`:
            2,000,000 and 64 MB by default), whatever the service sends.
        """
        self._t = Transport(
            endpoint,
            auth,
            transport=transport,
            timeout=timeout,
            retry=retry,
            user_agent=user_agent,
            read_only=read_only,
            limits=limits,
        )

    @classmethod
    def with_shared_key(cls, endpoint: str, account: str, key: str, **kw: Any) -> BatchClient:
        """Build a client that signs with the account's shared key."""
        return cls(endpoint, SharedKeyAuth(account, key), **kw)

    @classmethod
    def with_credential(
        cls,
        endpoint: str,
        credential: Any,
        *,
        scope: str = SCOPE,
        owns_credential: bool = True,
        **kw: Any,
    ) -> BatchClient:
        """Build a client that authenticates with an azure-identity credential; `aclose`
        closes the credential unless ``owns_credential`` is False (a shared one)."""
        auth = TokenCredentialAuth(credential, scope, owns_credential=owns_credential)
        return cls(endpoint, auth, **kw)

    @property
    def endpoint(self) -> str:
        """The account's endpoint URL, without a trailing slash."""
        return self._t.endpoint

    @property
    def read_only(self) -> bool:
        """True when every mutating request is refused before it is sent."""
        return self._t.read_only

    def refuse_writes(self) -> None:
        """Turns read-only mode on for good: every mutating request is refused (`ReadOnly`)
        before it is sent, whoever asks for it."""
        self._t.read_only = True

    def __repr__(self) -> str:
        return f"BatchClient(endpoint={self.endpoint!r}, auth={self._t.auth!r})"

    __str__ = __repr__

    async def __aenter__(self) -> BatchClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections and the credential."""
        await self._t.aclose()

    def _pages(
        self, path: str, item_type: type[T], query: dict[str, str]
    ) -> AsyncIterator[list[T]]:
        return self._t.pages(self._t.url(path, query), item_type)

    async def _get(
        self,
        path: str,
        type_: type[T],
        query: dict[str, str] | None = None,
        if_none_match: str | None = None,
    ) -> T:
        headers = {"If-None-Match": if_none_match} if if_none_match else None
        return await self._t.get(self._t.url(path, query), type_, headers)

    # Pools

    def iter_pools(
        self,
        *,
        select: Select = None,
        filter: FilterArg = None,
        expand: Expand = None,
        maxresults: int = PAGE_SIZE,
    ) -> AsyncIterator[list[Pool]]:
        """Yield the account's pools page by page."""
        q = list_query(select=select, filter_=filter, expand=expand, maxresults=maxresults)
        return self._pages("/pools", Pool, q)

    async def list_pools(
        self,
        *,
        select: Select = None,
        filter: FilterArg = None,
        expand: Expand = None,
    ) -> list[Pool]:
        """Return all the account's pools."""
        return await collect(self.iter_pools(select=select, filter=filter, expand=expand))

    async def get_pool(
        self,
        pool_id: str,
        *,
        select: Select = None,
        expand: Expand = None,
        if_none_match: str | None = None,
    ) -> Pool:
        """Return one pool; raises `NotModified` if ``if_none_match`` still matches."""
        q = list_query(select=select, expand=expand)
        return await self._get(f"/pools/{segment(pool_id)}", Pool, q, if_none_match)

    def iter_node_counts(
        self,
        *,
        filter: FilterArg = None,
        maxresults: int = NODE_COUNTS_PAGE_SIZE,
    ) -> AsyncIterator[list[PoolNodeCounts]]:
        """Yield node counts by state for each pool, 10 pools a page."""
        q = list_query(filter_=filter, maxresults=maxresults)
        return self._pages("/nodecounts", PoolNodeCounts, q)

    async def list_node_counts(
        self,
        *,
        filter: FilterArg = None,
    ) -> list[PoolNodeCounts]:
        """Return node counts by state for every pool."""
        return await collect(self.iter_node_counts(filter=filter))

    # Nodes

    def iter_nodes(
        self,
        pool_id: str,
        *,
        select: Select = None,
        filter: FilterArg = None,
        maxresults: int = PAGE_SIZE,
    ) -> AsyncIterator[list[Node]]:
        """Yield a pool's compute nodes page by page."""
        q = list_query(select=select, filter_=filter, maxresults=maxresults)
        return self._pages(f"/pools/{segment(pool_id)}/nodes", Node, q)

    async def list_nodes(
        self,
        pool_id: str,
        *,
        select: Select = None,
        filter: FilterArg = None,
    ) -> list[Node]:
        """Return all of a pool's compute nodes."""
        return await collect(self.iter_nodes(pool_id, select=select, filter=filter))

    async def get_node(self, pool_id: str, node_id: str, *, select: Select = None) -> Node:
        """Return one compute node."""
        path = f"/pools/{segment(pool_id)}/nodes/{segment(node_id)}"
        return await self._get(path, Node, list_query(select=select))

    async def get_remote_login_settings(self, pool_id: str, node_id: str) -> RemoteLoginSettings:
        """Return the public IP address and port to SSH or RDP into a node."""
        path = f"/pools/{segment(pool_id)}/nodes/{segment(node_id)}/remoteloginsettings"
        return await self._get(path, RemoteLoginSettings)

    # Jobs

    def iter_jobs(
        self,
        *,
        select: Select = None,
        filter: FilterArg = None,
        expand: Expand = None,
        job_schedule_id: str | None = None,
        maxresults: int = PAGE_SIZE,
    ) -> AsyncIterator[list[Job]]:
        """Yield the account's jobs, or those of one job schedule, page by page."""
        q = list_query(select=select, filter_=filter, expand=expand, maxresults=maxresults)
        path = f"/jobschedules/{segment(job_schedule_id)}/jobs" if job_schedule_id else "/jobs"
        return self._pages(path, Job, q)

    async def list_jobs(
        self,
        *,
        select: Select = None,
        filter: FilterArg = None,
        expand: Expand = None,
        job_schedule_id: str | None = None,
    ) -> list[Job]:
        """Return all the account's jobs, or those of one job schedule."""
        pages = self.iter_jobs(
            select=select, filter=filter, expand=expand, job_schedule_id=job_schedule_id
        )
        return await collect(pages)

    async def get_job(
        self,
        job_id: str,
        *,
        select: Select = None,
        expand: Expand = None,
        if_none_match: str | None = None,
    ) -> Job:
        """Return one job; raises `NotModified` if ``if_none_match`` still matches."""
        q = list_query(select=select, expand=expand)
        return await self._get(f"/jobs/{segment(job_id)}", Job, q, if_none_match)

    async def get_task_counts(self, job_id: str) -> TaskCountsResult:
        """Return a job's task and task-slot counts by state (cheap; no task list)."""
        return await self._get(f"/jobs/{segment(job_id)}/taskcounts", TaskCountsResult)

    def iter_job_prep_release_status(
        self,
        job_id: str,
        *,
        select: Select = None,
        filter: FilterArg = None,
        maxresults: int = PAGE_SIZE,
    ) -> AsyncIterator[list[JobPrepReleaseStatus]]:
        """Yield the job preparation/release task status per node, page by page."""
        q = list_query(select=select, filter_=filter, maxresults=maxresults)
        path = f"/jobs/{segment(job_id)}/jobpreparationandreleasetaskstatus"
        return self._pages(path, JobPrepReleaseStatus, q)

    async def list_job_prep_release_status(
        self,
        job_id: str,
        *,
        select: Select = None,
        filter: FilterArg = None,
    ) -> list[JobPrepReleaseStatus]:
        """Return the job preparation/release task status on every node."""
        pages = self.iter_job_prep_release_status(job_id, select=select, filter=filter)
        return await collect(pages)

    # Tasks

    def iter_tasks(
        self,
        job_id: str,
        *,
        select: Select = None,
        filter: FilterArg = None,
        expand: Expand = None,
        maxresults: int = PAGE_SIZE,
    ) -> AsyncIterator[list[Task]]:
        """Yield a job's tasks page by page."""
        q = list_query(select=select, filter_=filter, expand=expand, maxresults=maxresults)
        return self._pages(f"/jobs/{segment(job_id)}/tasks", Task, q)

    async def list_tasks(
        self,
        job_id: str,
        *,
        select: Select = None,
        filter: FilterArg = None,
        expand: Expand = None,
    ) -> list[Task]:
        """Return all of a job's tasks."""
        pages = self.iter_tasks(job_id, select=select, filter=filter, expand=expand)
        return await collect(pages)

    async def get_task(
        self,
        job_id: str,
        task_id: str,
        *,
        select: Select = None,
        expand: Expand = None,
        if_none_match: str | None = None,
    ) -> Task:
        """Return one task; raises `NotModified` if ``if_none_match`` still matches."""
        q = list_query(select=select, expand=expand)
        path = f"/jobs/{segment(job_id)}/tasks/{segment(task_id)}"
        return await self._get(path, Task, q, if_none_match)

    async def list_subtasks(
        self, job_id: str, task_id: str, *, select: Select = None
    ) -> list[Subtask]:
        """Return the subtasks of a multi-instance task (one unpaged response)."""
        path = f"/jobs/{segment(job_id)}/tasks/{segment(task_id)}/subtasksinfo"
        return await collect(self._pages(path, Subtask, list_query(select=select)))
