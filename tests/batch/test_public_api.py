"""Tests the public face of `batch_tui.batch`: what it exports, that it loads lazily, and a script."""

from __future__ import annotations

import base64
import importlib
import inspect
import pkgutil
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

import httpx

import batch_tui.batch
from batch_tui.batch import BatchClient, BatchError, NotFound, PoolState
from batch_tui.emulator import build_emulator, create_app
from batch_tui.emulator.base.settings import EmulatorSettings

EXPECTED = [
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

URL = "https://acct.westus.batch.azure.com"
KEY = base64.b64encode(b"public-api-test-key-0123456789abcdef").decode()


def run_python(code: str) -> str:
    """Run `code` in a fresh interpreter (nothing imported yet) and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_all_is_the_pinned_sorted_list() -> None:
    assert EXPECTED == sorted(EXPECTED)
    assert batch_tui.batch.__all__ == EXPECTED


def test_every_exported_name_resolves_to_what_the_layer_defines() -> None:
    for name in batch_tui.batch.__all__:
        value = getattr(batch_tui.batch, name)
        assert value.__name__ == name
        assert value.__module__.startswith("batch_tui.batch.")
    star: dict[str, object] = {}
    exec("from batch_tui.batch import *", star)
    assert sorted(set(star) - {"__builtins__"}) == EXPECTED


def test_a_name_that_is_not_exported_is_an_attribute_error() -> None:
    # `error_from_response` is public in errors.py but internal to the layer.
    for name in ("error_from_response", "Transport", "NoSuchThing"):
        assert not hasattr(batch_tui.batch, name)
    # A submodule is still imported through the package (the UI does it for odata).
    from batch_tui.batch import odata

    assert str(odata.eq("state", "active")) == "state eq 'active'"


def test_importing_the_package_loads_nothing_until_a_name_is_used() -> None:
    loaded = (
        "import sys\n"
        "def loaded():\n"
        "    return sorted(m for m in sys.modules if m.startswith('batch_tui.batch.')"
        " or m.split('.')[0] in ('httpx', 'textual'))\n"
    )
    out = run_python(
        loaded + "import batch_tui.batch as b\n"
        "print(loaded(), set(b.__all__) <= set(dir(b)))\n"
        "from batch_tui.batch import NodeState\n"
        "print('httpx' in sys.modules)\n"
        "from batch_tui.batch import *\n"
        "print([m for m in loaded() if m.startswith('textual')])\n"
    )
    # Nothing loaded, yet dir() lists every name; the models do without httpx; the whole face
    # loaded does without Textual.
    assert out.splitlines() == ["[] True", "False", "[]"]


def test_every_public_exception_of_the_layer_is_exported() -> None:
    found = {}
    for module_info in pkgutil.walk_packages(batch_tui.batch.__path__, "batch_tui.batch."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[name] = value
    assert "BatchError" in found and "OutcomeUnknown" in found
    for name, exception in found.items():
        assert name in batch_tui.batch.__all__
        assert getattr(batch_tui.batch, name) is exception
        assert issubclass(exception, BatchError), f"{name} is outside the one error tree"


def classes_in(hint: object) -> Iterator[type]:
    """The classes a type hint names: `Pool` in ``AsyncIterator[list[Pool]]``."""
    if isinstance(hint, type) and typing.get_origin(hint) is None:
        yield hint
    for arg in typing.get_args(hint):
        yield from classes_in(arg)


def public_callables(cls: type) -> Iterator[tuple[str, object]]:
    """The constructor, methods, class methods and properties a caller of `cls` uses."""
    for name in ["__init__", *(n for n in dir(cls) if not n.startswith("_"))]:
        raw = inspect.getattr_static(cls, name)
        if isinstance(raw, (classmethod, staticmethod)):
            yield name, raw.__func__
        elif isinstance(raw, property):
            yield name, raw.fget
        elif inspect.isfunction(raw):
            yield name, raw


def test_the_client_takes_and_returns_only_exported_types() -> None:
    named: dict[str, type] = {}
    for method, function in public_callables(BatchClient):
        for hint in typing.get_type_hints(function).values():
            for cls in classes_in(hint):
                if cls.__module__.startswith("batch_tui."):
                    named[f"{cls.__name__} (in {method})"] = cls
    names = {cls.__name__ for cls in named.values()}
    assert {"Pool", "Node", "Task", "FileInfo", "RetryPolicy", "Filter"} <= names
    for where, cls in named.items():
        assert getattr(batch_tui.batch, cls.__name__, None) is cls, f"{where} is not exported"


async def test_a_script_lists_pools_and_catches_not_found(tmp_path: Path) -> None:
    settings = EmulatorSettings(
        account="acct",
        key=KEY,
        executor="simulated",
        scenario="demo",
        data_dir=tmp_path,
        persist=False,
        base_url=URL,
    )
    emulator = build_emulator(settings)
    transport = httpx.ASGITransport(app=create_app(emulator))
    missing: BatchError | None = None
    try:
        async with BatchClient.with_shared_key(URL, "acct", KEY, transport=transport) as client:
            pools = await client.list_pools(select=["id", "state"])
            try:
                await client.get_job("no-such-job")
            except NotFound as error:
                missing = error
    finally:
        await emulator.stop()
    assert sorted(pool.id for pool in pools) == ["etl-pool", "gpu-pool", "render-pool"]
    assert {pool.state for pool in pools} == {PoolState.ACTIVE}
    assert missing is not None
    assert (missing.status, missing.code) == (404, "JobNotFound")
