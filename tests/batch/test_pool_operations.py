"""Tests the pool operations of `BatchClient` against the emulator: resize and stop, autoscale
on, evaluated and off, and delete, with the service's refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from batch_tui.batch import AutoScaleRun, BadRequest, Conflict, NotFound
from batch_tui.batch.client import BatchClient
from batch_tui.batch.retry import RetryPolicy
from batch_tui.emulator import Emulator
from tests.emulator.support import Settle
from tests.ui.support import ACCOUNT, BASE_URL, KEY

FORMULA = "$TargetDedicatedNodes = 2; $TargetLowPriorityNodes = 1; spare = 3;"


@pytest.fixture
async def client(app: Any) -> AsyncIterator[BatchClient]:
    transport = httpx.ASGITransport(app=app)
    async with BatchClient.with_shared_key(
        BASE_URL, ACCOUNT, KEY, transport=transport, retry=RetryPolicy(max_attempts=1)
    ) as batch:
        yield batch


async def test_resize_takes_both_targets_the_timeout_and_stop_halts_it(
    client: BatchClient, seed_pool: Callable[..., Awaitable[list[str]]]
) -> None:
    await seed_pool("p", 1)
    await client.resize_pool(
        "p", target_dedicated=3, target_low_priority=2, option="taskcompletion",
        resize_timeout=timedelta(minutes=20),
    )  # fmt: skip
    pool = await client.get_pool("p")
    assert (pool.target_dedicated_nodes, pool.target_low_priority_nodes) == (3, 2)
    assert pool.resize_timeout == timedelta(minutes=20)
    assert pool.allocation_state == "resizing"
    with pytest.raises(Conflict) as refused:
        await client.resize_pool("p", target_dedicated=1)
    assert refused.value.code == "PoolBeingResized"
    await client.stop_resize_pool("p")
    assert (await client.get_pool("p")).allocation_state in ("stopping", "steady")


async def test_autoscale_evaluates_only_once_enabled_then_applies_and_turns_off(
    client: BatchClient,
    seed_pool: Callable[..., Awaitable[list[str]]],
    emulator: Emulator,
    settle: Settle,
) -> None:
    await seed_pool("p", 1)
    with pytest.raises(Conflict) as refused:
        await client.evaluate_pool_autoscale("p", FORMULA)
    assert refused.value.code == "AutoScaleNotEnabled"

    await client.enable_pool_autoscale("p", FORMULA, timedelta(minutes=10))
    pool = await client.get_pool("p")
    assert pool.enable_auto_scale and pool.auto_scale_formula == FORMULA
    assert pool.auto_scale_evaluation_interval == timedelta(minutes=10)
    assert pool.auto_scale_run is not None and pool.auto_scale_run.error is None
    assert (pool.target_dedicated_nodes, pool.target_low_priority_nodes) == (2, 1)
    await settle(lambda: emulator.store.pools["p"].data["allocationState"] == "steady")
    with pytest.raises(Conflict) as by_hand:
        await client.resize_pool("p", target_dedicated=5)
    assert by_hand.value.code == "AutoScalingEnabled"

    run = await client.evaluate_pool_autoscale("p", "$TargetDedicatedNodes = 4; extra = 7;")
    assert isinstance(run, AutoScaleRun) and run.error is None
    assert run.results is not None
    assert "$TargetDedicatedNodes=4" in run.results and "extra=7" in run.results
    assert (await client.get_pool("p")).target_dedicated_nodes == 2  # evaluate applies nothing

    await client.disable_pool_autoscale("p")
    pool = await client.get_pool("p")
    assert not pool.enable_auto_scale and pool.auto_scale_formula is None


async def test_a_formula_that_does_not_parse_is_a_bad_request_with_its_position(
    client: BatchClient, seed_pool: Callable[..., Awaitable[list[str]]]
) -> None:
    await seed_pool("p", 1)
    with pytest.raises(BadRequest) as refused:
        await client.enable_pool_autoscale("p", "$TargetDedicatedNodes = = 1;")
    assert refused.value.code == "AutoScalingFormulaSyntaxError"
    assert "Line 1" in refused.value.values["Message"]
    assert not (await client.get_pool("p")).enable_auto_scale


async def test_a_formula_that_fails_while_running_returns_a_run_with_its_error(
    client: BatchClient, seed_pool: Callable[..., Awaitable[list[str]]]
) -> None:
    await seed_pool("p", 1)
    await client.enable_pool_autoscale("p", "$TargetDedicatedNodes = 1;")
    run = await client.evaluate_pool_autoscale("p", "$TargetDedicatedNodes = 1 / 0;")
    assert run.error is not None and run.error.code
    assert run.error.values and run.error.values[0].value.startswith("Line ")


async def test_delete_pool_marks_it_deleting_until_it_is_gone(
    client: BatchClient, seed_pool: Callable[..., Awaitable[list[str]]]
) -> None:
    await seed_pool("p", 1)
    await client.delete_pool("p")
    try:
        assert (await client.get_pool("p")).state == "deleting"
    except NotFound:
        pass  # already gone: the emulator removed its last node at once
    with pytest.raises(NotFound):
        await client.delete_pool("nope")
