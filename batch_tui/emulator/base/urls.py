"""Provides the URLs of an account's entities as its clients see them (the `url` fields, the
`Location` and `DataServiceId` headers, `odata.nextLink`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Urls:
    """The URLs of one account's entities.

    Args:
        base: The account's URL, without a trailing slash (`http://127.0.0.1:8765`).
    """

    base: str

    def of(self, path: str) -> str:
        """Returns the absolute URL of `path` (e.g. `/pools/p1`)."""
        return f"{self.base}{path}"

    def pool(self, pool_id: str) -> str:
        return f"{self.base}/pools/{pool_id}"

    def node(self, pool_id: str, node_id: str) -> str:
        return f"{self.base}/pools/{pool_id}/nodes/{node_id}"

    def job(self, job_id: str) -> str:
        return f"{self.base}/jobs/{job_id}"

    def task(self, job_id: str, task_id: str) -> str:
        return f"{self.base}/jobs/{job_id}/tasks/{task_id}"

    def schedule(self, schedule_id: str) -> str:
        return f"{self.base}/jobschedules/{schedule_id}"
