"""Provides the `local` executor: each task is a real process in its node's directory tree.

As on a Batch node, the command line does not run under a shell: it is split with `shlex` and
executed directly (`/bin/sh -c '...'` works as on Linux nodes). The process runs in the task's
working directory under `<data_dir>/nodes/<nodeId>/`, writes `stdout.txt` and `stderr.txt` in
the task directory, and sees the `AZ_BATCH_*` variables but none of the emulator's own
environment (which may hold account keys). Each run gets its own process group, so killing a
task kills everything it started.

A run with resource files downloads them first (`resourcefiles`, in a thread, so the engine
keeps moving) and starts its process only when they are in place; a run with output files
uploads them after its process exits (`outputfiles`) and reports its outcome after that.
Local containers live in `<data_dir>/containers/`. An emulator that takes back a data directory
first ends the processes an earlier one, killed with SIGKILL, left running (`leftovers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.node.disk_tree import DiskTree
from batch_tui.emulator.node.executors import (
    Executor,
    ExitCallback,
    Outcome,
    RunHandle,
    RunSpec,
)
from batch_tui.emulator.node.executors.leftovers import leftover_pids
from batch_tui.emulator.node.files import NODE_DIRS, STARTUP_DIR, FileTree, split_path
from batch_tui.emulator.node.outputfiles import upload_all
from batch_tui.emulator.node.resourcefiles import fetch_all
from batch_tui.emulator.node.storage import CONTAINERS_DIR

log = logging.getLogger(__name__)

PROGRAM_NOT_FOUND = {
    "category": "usererror",
    "code": "CommandProgramNotFound",
    "message": "The specified command program is not found.",
}
"""The failureInfo the service gives when the command's program does not exist."""

LAUNCH_FAILED = {
    "category": "usererror",
    "code": "CommandLaunchFailed",
    "message": "Failed to launch the specified command line.",
}
"""The failureInfo the service gives when the command line cannot be started."""


def launch_failure(base: dict[str, str], detail: str) -> dict[str, object]:
    """Returns a failureInfo with the OS's reason as a `Message` detail."""
    return {**base, "details": [{"name": "Message", "value": detail}]}


def exit_code_of(returncode: int) -> int:
    """Maps a Python return code to what a Linux node reports: 128 + N for a signal N."""
    return 128 - returncode if returncode < 0 else returncode


class _LocalRun(RunHandle):
    """A run: its resource downloads, then its process group, then its uploads."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.killed = False
        self.fetching = False
        """True while its resource files download (nothing runs yet)."""
        self.watcher: asyncio.Task[None] | None = None

    def kill(self) -> None:
        if self.killed:
            return
        self.killed = True
        if self.fetching and self.watcher is not None:
            self.watcher.cancel()  # stop waiting for the download; no process to kill
        else:
            self.signal()

    def signal(self) -> None:
        """Kills the process group if it is still running."""
        if self.process is None or self.process.returncode is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # already gone


class _FailedRun(RunHandle):
    """A run whose command could not start: there is nothing to kill."""

    def kill(self) -> None:
        return None


def _argv(command_line: str) -> list[str]:
    argv = shlex.split(command_line)
    if not argv:
        raise ValueError("the command line is empty")
    return argv


class LocalExecutor(Executor):
    """Runs tasks as real processes under `<data_dir>/nodes/<nodeId>/`.

    Args:
        data_dir: The emulator's data directory.
    """

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "nodes"
        self.containers = data_dir / CONTAINERS_DIR
        self._runs: set[_LocalRun] = set()

    def node_root(self, node_id: str) -> Path:
        """Returns a node's root directory (`AZ_BATCH_NODE_ROOT_DIR`)."""
        return self.root / node_id

    def _dir(self, node_id: str, subdir: str) -> Path:
        return self.node_root(node_id).joinpath(*split_path(subdir))

    def environment(self, spec: RunSpec) -> dict[str, str]:
        """Returns the process environment of `spec`: base, task settings, then directories."""
        node = self.node_root(spec.node_id)
        task = self._dir(spec.node_id, spec.task_dir)
        wd = task / "wd"
        env = {
            "PATH": f"{os.environ.get('PATH', os.defpath)}:{node / 'shared'}:{wd}",
            "HOME": str(wd),
            "LANG": "C.UTF-8",
            **spec.env,
            "AZ_BATCH_NODE_ROOT_DIR": str(node),
            "AZ_BATCH_NODE_SHARED_DIR": str(node / "shared"),
            "AZ_BATCH_NODE_STARTUP_DIR": str(node / STARTUP_DIR),
            "AZ_BATCH_NODE_STARTUP_WORKING_DIR": str(node / STARTUP_DIR / "wd"),
            "AZ_BATCH_NODE_MOUNTS_DIR": str(node / "fsmounts"),
            "AZ_BATCH_TASK_DIR": str(task),
            "AZ_BATCH_TASK_WORKING_DIR": str(wd),
        }
        if spec.prep_dir:
            prep = self._dir(spec.node_id, spec.prep_dir)
            env["AZ_BATCH_JOB_PREP_DIR"] = str(prep)
            env["AZ_BATCH_JOB_PREP_WORKING_DIR"] = str(prep / "wd")
        return env

    async def launch(self, spec: RunSpec, on_exit: ExitCallback) -> RunHandle:
        self._dir(spec.node_id, spec.task_dir).joinpath("wd").mkdir(parents=True, exist_ok=True)
        try:
            argv = _argv(spec.command_line)
        except ValueError as exc:
            on_exit(Outcome(None, launch_failure(LAUNCH_FAILED, str(exc))))
            return _FailedRun()
        run = _LocalRun()
        self._runs.add(run)
        if spec.resource_files or spec.common_resource_files:
            run.fetching = True
            run.watcher = asyncio.create_task(self._fetch_then_run(run, spec, argv, on_exit))
            return run
        failure = await self._start(run, spec, argv)
        if failure is not None:
            self._runs.discard(run)
            on_exit(Outcome(None, failure))
            return _FailedRun()
        run.watcher = asyncio.create_task(self._watch(run, spec, on_exit))
        return run

    async def _fetch_then_run(
        self, run: _LocalRun, spec: RunSpec, argv: list[str], on_exit: ExitCallback
    ) -> None:
        task = self._dir(spec.node_id, spec.task_dir)
        try:
            failure = await asyncio.to_thread(self._fetch, spec, task)
            run.fetching = False
            if run.killed:
                return
            failure = failure or await self._start(run, spec, argv)
            if failure is not None:
                on_exit(Outcome(None, failure))
                return
            await self._finish(run, spec, on_exit)
        finally:
            self._runs.discard(run)
            run.watcher = None

    def _fetch(self, spec: RunSpec, task: Path) -> dict[str, Any] | None:
        """Puts a run's files in place (in a thread); returns the failureInfo of the first
        that cannot be."""
        common = fetch_all(spec.common_resource_files, task, self.containers)
        return common or fetch_all(spec.resource_files, task / "wd", self.containers)

    async def _start(self, run: _LocalRun, spec: RunSpec, argv: list[str]) -> dict[str, Any] | None:
        """Starts the process; returns the failureInfo when it cannot start."""
        task = self._dir(spec.node_id, spec.task_dir)
        try:
            run.process = await self._spawn(argv, task, task / "wd", self.environment(spec))
        except FileNotFoundError as exc:
            return launch_failure(PROGRAM_NOT_FOUND, str(exc))
        except OSError as exc:
            return launch_failure(LAUNCH_FAILED, str(exc))
        if run.killed:
            run.signal()  # killed while it was being started
        return None

    async def _spawn(
        self, argv: list[str], task: Path, wd: Path, env: dict[str, str]
    ) -> asyncio.subprocess.Process:
        # The files are handed to the child and closed here: the child keeps its own copies.
        with (task / "stdout.txt").open("wb") as out, (task / "stderr.txt").open("wb") as err:
            return await asyncio.create_subprocess_exec(
                *argv,
                cwd=wd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    async def _watch(self, run: _LocalRun, spec: RunSpec, on_exit: ExitCallback) -> None:
        try:
            await self._finish(run, spec, on_exit)
        finally:
            self._runs.discard(run)
            run.watcher = None  # no cycle run -> task -> coroutine -> run left behind

    async def _finish(self, run: _LocalRun, spec: RunSpec, on_exit: ExitCallback) -> None:
        """Waits for the process, uploads the output files, then reports the outcome."""
        assert run.process is not None
        code = exit_code_of(await run.process.wait())
        if run.killed:
            return
        failure = None
        if spec.output_files:
            failure = await asyncio.to_thread(
                upload_all,
                spec.output_files,
                code,
                wd=self._dir(spec.node_id, spec.task_dir) / "wd",
                node_root=self.node_root(spec.node_id),
                env=self.environment(spec),
                containers=self.containers,
            )
        if not run.killed:
            on_exit(Outcome(code, failure, upload_failed=failure is not None))

    def tree(self, node_id: str, subdir: str = "") -> FileTree:
        # From the node's root, so that no step below it follows a symlink a task made.
        return DiskTree(self.node_root(node_id), subdir)

    def node_created(self, node_id: str) -> None:
        root = self.node_root(node_id)
        for name in NODE_DIRS:
            (root / name).mkdir(parents=True, exist_ok=True)

    def node_reimaged(self, node_id: str) -> None:
        self.node_removed(node_id)
        self.node_created(node_id)

    def node_removed(self, node_id: str) -> None:
        shutil.rmtree(self.node_root(node_id), ignore_errors=True)

    def delete_dir(self, node_id: str, subdir: str) -> None:
        if split_path(subdir):
            # Walked from the node's root without following symlinks: a task may have replaced
            # a folder on the way with a link out of the node.
            with contextlib.suppress(ServiceError, OSError):
                DiskTree(self.node_root(node_id)).delete(subdir, recursive=True)

    def restarted(self) -> None:
        # The earlier emulator was killed before it could end its runs (SIGKILL): their
        # processes still write into the node directories the requeued tasks will use.
        for pid in leftover_pids(self.root):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass  # ended meanwhile
            else:
                log.warning("ended process %d, left running by an earlier emulator", pid)

    async def shutdown(self) -> None:
        runs = list(self._runs)
        for run in runs:
            run.kill()
        watchers = [run.watcher for run in runs if run.watcher is not None]
        if watchers:
            await asyncio.gather(*watchers, return_exceptions=True)
