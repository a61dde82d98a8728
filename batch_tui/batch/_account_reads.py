"""Provides the job schedule and account reads of `BatchClient`: job schedules, application
packages and the VM images pools can use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeVar

from batch_tui.batch._transport import Expand, FilterArg, Select, collect, list_query, segment
from batch_tui.batch.models import Application, JobSchedule, SupportedImage

T = TypeVar("T")

PAGE_SIZE = 1000
"""The API's maximum ``maxresults``."""


class AccountReadOperations:
    """Job schedule and account reads; mixed into `BatchClient`."""

    if TYPE_CHECKING:  # provided by BatchClient

        def _pages(
            self, path: str, item_type: type[T], query: dict[str, str]
        ) -> AsyncIterator[list[T]]: ...

        async def _get(
            self,
            path: str,
            type_: type[T],
            query: dict[str, str] | None = None,
            if_none_match: str | None = None,
        ) -> T: ...

    # Job schedules

    def iter_job_schedules(
        self,
        *,
        select: Select = None,
        filter: FilterArg = None,
        expand: Expand = None,
        maxresults: int = PAGE_SIZE,
    ) -> AsyncIterator[list[JobSchedule]]:
        """Yield the account's job schedules page by page."""
        q = list_query(select=select, filter_=filter, expand=expand, maxresults=maxresults)
        return self._pages("/jobschedules", JobSchedule, q)

    async def list_job_schedules(
        self,
        *,
        select: Select = None,
        filter: FilterArg = None,
        expand: Expand = None,
    ) -> list[JobSchedule]:
        """Return all the account's job schedules."""
        pages = self.iter_job_schedules(select=select, filter=filter, expand=expand)
        return await collect(pages)

    async def get_job_schedule(
        self,
        job_schedule_id: str,
        *,
        select: Select = None,
        expand: Expand = None,
        if_none_match: str | None = None,
    ) -> JobSchedule:
        """Return one job schedule; raises `NotModified` if ``if_none_match`` still matches."""
        q = list_query(select=select, expand=expand)
        path = f"/jobschedules/{segment(job_schedule_id)}"
        return await self._get(path, JobSchedule, q, if_none_match)

    # Account

    def iter_applications(self, *, maxresults: int = PAGE_SIZE) -> AsyncIterator[list[Application]]:
        """Yield the account's application packages page by page."""
        return self._pages("/applications", Application, list_query(maxresults=maxresults))

    async def list_applications(self) -> list[Application]:
        """Return all the account's application packages."""
        return await collect(self.iter_applications())

    def iter_supported_images(
        self,
        *,
        filter: FilterArg = None,
        maxresults: int = PAGE_SIZE,
    ) -> AsyncIterator[list[SupportedImage]]:
        """Yield the VM images pools of this account can use, page by page."""
        q = list_query(filter_=filter, maxresults=maxresults)
        return self._pages("/supportedimages", SupportedImage, q)

    async def list_supported_images(
        self,
        *,
        filter: FilterArg = None,
    ) -> list[SupportedImage]:
        """Return all the VM images pools of this account can use."""
        return await collect(self.iter_supported_images(filter=filter))
