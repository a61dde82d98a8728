"""Provides the executors that run tasks on emulated nodes: `local` and `simulated`.

An executor turns a `RunSpec` (a command line, the node and the task directory it runs in, its
environment) into a run whose `Outcome` arrives later through a callback, and it owns the files
that runs leave behind (`tree`). The engine decides what runs where and when; executors only
run things and report how they ended.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from batch_tui.emulator.node.files import FileTree

KILLED_EXIT_CODE = 137
"""The exit code a task killed by the service reports: 128 + SIGKILL, as a Linux shell shows it.
The spec only says a terminated task may show "an operating system-defined exit code"."""


@dataclass(frozen=True)
class RunSpec:
    """Everything an executor needs to run one command on one node."""

    node_id: str
    pool_id: str
    task_dir: str
    """The run's directory relative to the node root, e.g. `workitems/j/job-1/t` or `startup`."""
    command_line: str
    kind: str
    """`task`, `start`, `prep` or `release`: which kind of task this run is."""
    job_id: str = ""
    task_id: str = ""
    env: dict[str, str] = field(default_factory=dict)
    """`AZ_BATCH_*` variables that are not directories, plus the task's environment settings."""
    prep_dir: str | None = None
    """The job preparation task's directory, for `AZ_BATCH_JOB_PREP_DIR`."""
    resource_files: list[dict[str, Any]] = field(default_factory=list)
    """The task's `resourceFiles`, downloaded into its working directory before it runs."""
    common_resource_files: list[dict[str, Any]] = field(default_factory=list)
    """A multi-instance task's `commonResourceFiles`, downloaded on every instance before
    `resource_files`, into the task directory: one above the working directory (the spec)."""
    output_files: list[dict[str, Any]] = field(default_factory=list)
    """The task's `outputFiles`, uploaded after its process exits (see `outputfiles`)."""


@dataclass(frozen=True)
class Outcome:
    """How a run ended: an exit code, or a failure to start (a `failureInfo` dict)."""

    exit_code: int | None
    failure: dict[str, Any] | None = None
    upload_failed: bool = False
    """True when the process ran but its output files could not be uploaded (`failure` says
    why): the exit conditions' `fileUploadError` applies, and the task is not retried."""


class RunHandle(ABC):
    """A run in progress; `kill` stops it (the outcome callback is then never called)."""

    @abstractmethod
    def kill(self) -> None:
        """Stops the run now; idempotent."""


ExitCallback = Callable[[Outcome], None]
"""Receives a run's outcome; called at most once, never for a killed run."""

CallLater = Callable[[float, Callable[[], None]], Callable[[], None]]
"""`call_later(delay, fn)` schedules `fn` on the engine's clock and returns a canceller."""


class Executor(ABC):
    """Runs commands on emulated nodes and keeps their files."""

    @abstractmethod
    async def launch(self, spec: RunSpec, on_exit: ExitCallback) -> RunHandle:
        """Starts `spec`; `on_exit` is called once with the outcome unless the run is killed."""

    @abstractmethod
    def tree(self, node_id: str, subdir: str = "") -> FileTree:
        """Returns the files of a node, or of one directory of it (a task's)."""

    @abstractmethod
    def node_created(self, node_id: str) -> None:
        """Lays out a new node's directories."""

    @abstractmethod
    def node_reimaged(self, node_id: str) -> None:
        """Wipes a node's files, as a reimage does, and lays out its directories again."""

    @abstractmethod
    def node_removed(self, node_id: str) -> None:
        """Deletes everything a node had: a node that leaves its pool loses its disk."""

    @abstractmethod
    def delete_dir(self, node_id: str, subdir: str) -> None:
        """Deletes one directory of a node (a deleted task's or job's files)."""

    @abstractmethod
    async def shutdown(self) -> None:
        """Kills every run still going and waits until they are gone."""

    def restarted(self) -> None:  # noqa: B027 - most executors have nothing to do
        """Called once when the emulator takes back saved state, before anything runs: ends
        what an earlier emulator on the same data directory left running."""
