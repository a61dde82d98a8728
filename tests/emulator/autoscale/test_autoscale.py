"""Tests autoscale: the formula language, samples, the wire operations and periodic evaluation."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import httpx
import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.ops import autoscale
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.metrics import History, measure
from batch_tui.emulator.ops.pools import add_pool
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.emulator.state.store import Record
from tests.emulator.support import POOL_BODY, Settle, assert_error

DEFAULTS = "$TargetDedicatedNodes=0;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"
"""The results of a formula that assigns nothing, on a pool with no targets."""


def make_pool(emulator: Emulator, pool_id: str = "pool1", **changes: Any) -> Record:
    body = copy.deepcopy(POOL_BODY)
    body.update(id=pool_id, targetDedicatedNodes=0, **changes)
    return add_pool(emulator, body)


def history(clock: ManualClock, values: list[float], name: str = "$PendingTasks") -> History:
    """Samples every 30 s, the last one taken now."""
    samples = History()
    start = clock.now() - timedelta(seconds=30 * (len(values) - 1))
    for index, value in enumerate(values):
        samples.add(start + timedelta(seconds=30 * index), {name: float(value)})
    return samples


FORMULAS = [
    ("$TargetDedicatedNodes = 3", "$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;"
     "$NodeDeallocationOption=requeue"),
    ("$TargetDedicated = 2; $TargetLowPriority = 1", "$TargetDedicatedNodes=2;"
     "$TargetLowPriorityNodes=1;$NodeDeallocationOption=requeue"),
    ("b = (1 + 2) * 3; a = 1 + 2 * 3; c = 7 % 4; d = -a; e = 7 / 2", DEFAULTS
     + ";a=7;b=9;c=3;d=-7;e=3.5"),
    ("x = 1 < 2 && 2 >= 3 || !0; y = 3 == 3 ? 10 : 20; z = 1 != 1; w = 0 ? 1 : 0 ? 2 : 3",
     DEFAULTS + ";w=3;x=1;y=10;z=0"),
    ("m = max(1, 5, 3); n = min(4, 2); s = sum(1, 2, 3); l = len(1, 2, 3); r = range(1, 5)",
     DEFAULTS + ";l=3;m=5;n=2;r=4;s=6"),
    ("$NodeDeallocationOption = taskcompletion; $TargetDedicatedNodes = 1",
     "$TargetDedicatedNodes=1;$TargetLowPriorityNodes=0;$NodeDeallocationOption=taskcompletion"),
    ("t = time(); h = t.hour; wd = t.weekday; later = t + TimeInterval_Hour * 2; gap = later - t",
     DEFAULTS + ";gap=02:00:00;h=12;later=2024-10-01T14:00:00.000Z;t=2024-10-01T12:00:00.000Z;wd=2"),
    ('y = time("2023-09-06T12:44:09Z").year; old = time("Wed, 06 Sep 2023 12:44:09 GMT") < time()',
     DEFAULTS + ";old=1;y=2023"),
    ("// scale out\n$TargetDedicatedNodes =\n    1 +\n    2\n/* and */ x = 5\nz = x\n  * 2",
     "$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue;x=5;z=10"),
    ("$TargetDedicatedNodes = 2; stop(); $TargetDedicatedNodes = 9",
     "$TargetDedicatedNodes=2;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"),
    ("$TargetDedicatedNodes = $CurrentDedicatedNodes + $TaskSlotsPerNode", "$TargetDedicatedNodes=1;"
     "$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"),
]  # fmt: skip


@pytest.mark.parametrize(("formula", "results"), FORMULAS)
def test_formula_results(emulator: Emulator, formula: str, results: str) -> None:
    evaluation = autoscale.evaluate(emulator, make_pool(emulator), formula)
    assert "error" not in evaluation.run, evaluation.run
    assert evaluation.run["results"] == results
    assert evaluation.run["timestamp"] == "2024-10-01T12:00:00.0000000Z"


def test_functions_over_vectors(emulator: Emulator, clock: ManualClock) -> None:
    formula = (
        "v = $PendingTasks.GetSample(4); a = avg(v); s = std(1, 2, 3); g = lg(8); "
        "l = lg(v); n = norm(3, 4); p = percentile(v, 50); last = val(v, 3); d = v * 2 + 1"
    )
    samples = history(clock, [1, 2, 4, 8, 16])
    run = autoscale.evaluate(emulator, make_pool(emulator), formula, samples).run
    assert "error" not in run, run
    assert run["results"] == (
        DEFAULTS + ";a=7.5;d=[5,9,17,33];g=3;l=[1,2,3,4];last=16;n=5;p=4;s=1;v=[2,4,8,16]"
    )


def test_sampling_functions(emulator: Emulator, clock: ManualClock) -> None:
    samples = history(clock, [float(i) for i in range(20)])  # 10 minutes of samples
    formula = (
        "last = $PendingTasks.GetSample(1); five = len($PendingTasks.GetSample(TimeInterval_Minute"
        " * 5)); pct = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 20); old = "
        "$PendingTasks.GetSample(TimeInterval_Minute * 1, TimeInterval_Minute * 2); "
        "count = $PendingTasks.Count(); period = $PendingTasks.GetSamplePeriod(); "
        "ok = avg($PendingTasks.GetSample(TimeInterval_Minute * 10, 95))"
    )
    run = autoscale.evaluate(emulator, make_pool(emulator), formula, samples).run
    assert "error" not in run, run
    assert run["results"] == (
        DEFAULTS + ";count=20;five=10;last=[19];ok=9.5;old=[16,17];pct=50;period=00:00:30"
    )


@pytest.mark.parametrize(
    ("formula", "code", "message"),
    [
        ("$TargetDedicatedNodes = 4; x = avg($PendingTasks.GetSample(TimeInterval_Minute * 20, 70))",
         "InsufficientSampleData", "Line 1, Col 36: Insufficient data from data set: $PendingTasks"
         " wanted 70%, received 50%"),
        ("x = $CPUPercent.GetSample(1)", "InsufficientSampleData",
         "Line 1, Col 5: Insufficient data from data set: $CPUPercent wanted 1 samples, received 0"),
        ("a = 1;\nb = c", "FormulaEvaluationError", "Line 2, Col 5: The variable 'c' is not defined."),
        ("x = 1 / 0", "FormulaEvaluationError", "Line 1, Col 7: Division by zero."),
        ("$NodeDeallocationOption = 3", "FormulaEvaluationError", "Line 1, Col 1: "
         "$NodeDeallocationOption must be one of requeue, terminate, taskcompletion, retaineddata."),
        ("x = val($PendingTasks.GetSample(2), 5)", "FormulaEvaluationError",
         "Line 1, Col 5: The index 5 is outside the doubleVec of length 2."),
        ('x = "a" < 1', "FormulaEvaluationError", "Line 1, Col 9: Cannot compare a string with a double."),
    ],
)  # fmt: skip
def test_runtime_errors_are_reported_in_the_run(
    emulator: Emulator, clock: ManualClock, formula: str, code: str, message: str
) -> None:
    pool = make_pool(emulator, targetLowPriorityNodes=1)
    samples = history(clock, [float(i) for i in range(20)])
    evaluation = autoscale.evaluate(emulator, pool, formula, samples)
    assert not evaluation.succeeded
    error = evaluation.run["error"]
    assert error["code"] == code and error["message"].startswith("Autoscale evaluation failed")
    assert error["values"] == [{"name": "Message", "value": message}]
    # The results show the variables as they were when the run stopped.
    assert evaluation.run["results"].split(";")[1] == "$TargetLowPriorityNodes=1"


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("$x = (", "Line 1, Col 7: An expression was expected but the end of the formula was found."),
        ("x = 1 2", "Line 1, Col 7: ';' was expected but '2' was found."),
        ("$ActiveTasks = 3", "Line 1, Col 1: The variable '$ActiveTasks' is read-only."),
        ("x = foo(1)", "Line 1, Col 5: 'foo' is not a function."),
        ("x = $PendingTasks.Bogus()", "Line 1, Col 5: 'Bogus' is not a method."),
        ("x = 1 # 2", "Line 1, Col 7: Unexpected character '#'."),
    ],
)  # fmt: skip
def test_syntax_errors_are_400(emulator: Emulator, formula: str, message: str) -> None:
    with pytest.raises(ServiceError) as info:
        autoscale.evaluate(emulator, make_pool(emulator), formula)
    assert (info.value.status, info.value.code) == (400, "AutoScalingFormulaSyntaxError")
    assert info.value.values == {"Message": message}


def test_formula_limits(emulator: Emulator) -> None:
    pool = make_pool(emulator)
    with pytest.raises(ServiceError) as info:
        autoscale.evaluate(emulator, pool, "x = 1;" * 1400)
    assert info.value.code == "AutoScaleFormulaTooLong"
    with pytest.raises(ServiceError) as info:
        autoscale.evaluate(emulator, pool, "x = 1;" * 101)
    assert info.value.code == "AutoScalingFormulaSyntaxError"


def test_targets_truncate_and_never_go_negative(emulator: Emulator) -> None:
    pool = make_pool(emulator)
    evaluation = autoscale.evaluate(
        emulator, pool, "$TargetDedicated = 2.7; $TargetLowPriority = -3"
    )
    assert (evaluation.dedicated, evaluation.low_priority) == (2, 0)
    assert evaluation.run["results"].startswith("$TargetDedicatedNodes=2.7;")


async def test_measure_counts_the_tasks_of_the_jobs_on_the_pool(emulator: Emulator) -> None:
    pool = make_pool(emulator)
    add_job(emulator, {"id": "j1", "poolInfo": {"poolId": "pool1"}, "usesTaskDependencies": True})
    add_job(emulator, {"id": "other", "poolInfo": {"poolId": "elsewhere"}})
    bodies = [
        {"id": "a", "commandLine": "x"},
        {"id": "b", "commandLine": "x", "dependsOn": {"taskIds": ["a"]}},
        {"id": "m", "commandLine": "x", "multiInstanceSettings":
         {"numberOfInstances": 3, "coordinationCommandLine": "c"}},
    ]  # fmt: skip
    add_tasks(emulator, "j1", bodies)
    add_tasks(emulator, "other", [{"id": "z", "commandLine": "x"}])
    values = measure(emulator.engine.ctx, pool, None)
    # `b` waits on `a`; `m` counts its three instances; the other pool's job does not count.
    assert values["$ActiveTasks"] == 4 and values["$PendingTasks"] == 4
    assert values["$RunningTasks"] == values["$SucceededTasks"] == 0
    assert values["$SampleNodeCount"] == 0


# Over the wire


async def enable(http: httpx.AsyncClient, formula: str, interval: str = "PT5M") -> httpx.Response:
    body = {"autoScaleFormula": formula, "autoScaleEvaluationInterval": interval}
    return await http.post("/pools/pool1/enableautoscale", json=body)


async def steady_pool(http: httpx.AsyncClient, emulator: Emulator, settle: Settle) -> None:
    body = copy.deepcopy(POOL_BODY)
    body["targetDedicatedNodes"] = 0
    assert (await http.post("/pools", json=body)).status_code == 201
    await settle(lambda: emulator.store.pools["pool1"].data["allocationState"] == "steady")


async def test_enable_evaluate_and_disable_over_http(
    http: httpx.AsyncClient, emulator: Emulator, clock: ManualClock, settle: Settle
) -> None:
    await steady_pool(http, emulator, settle)
    response = await enable(http, "$TargetDedicatedNodes = 1; spare = 2")
    assert response.status_code == 200 and response.headers["dataserviceid"].endswith(
        "/pools/pool1/enableautoscale"
    )
    pool = (await http.get("/pools/pool1")).json()
    assert pool["enableAutoScale"] is True and pool["autoScaleEvaluationInterval"] == "PT5M"
    assert pool["targetDedicatedNodes"] == 1 and pool["allocationState"] == "resizing"
    assert pool["autoScaleRun"]["results"] == (
        "$TargetDedicatedNodes=1;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue;spare=2"
    )
    evaluated = await http.post(
        "/pools/pool1/evaluateautoscale", json={"autoScaleFormula": "$TargetDedicated = 5"}
    )
    assert evaluated.status_code == 200
    run = evaluated.json()
    assert run["odata.metadata"].endswith("#Microsoft.Azure.Batch.Protocol.Entities.AutoScaleRun")
    assert run["results"].startswith("$TargetDedicatedNodes=5;")
    assert (await http.get("/pools/pool1")).json()["targetDedicatedNodes"] == 1  # not applied
    failing = await http.post(
        "/pools/pool1/evaluateautoscale", json={"autoScaleFormula": "something_useless"}
    )
    assert failing.status_code == 200
    assert failing.json()["results"] == (
        "$TargetDedicatedNodes=1;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"
    )
    assert failing.json()["error"]["code"] == "FormulaEvaluationError"
    broken = await http.post("/pools/pool1/evaluateautoscale", json={"autoScaleFormula": "x = ("})
    assert_error(broken, 400, "AutoScalingFormulaSyntaxError")
    assert (await http.post("/pools/pool1/disableautoscale")).status_code == 200
    pool = (await http.get("/pools/pool1")).json()
    assert pool["enableAutoScale"] is False and "autoScaleRun" not in pool
    assert emulator.periodic.autoscaler.history("pool1") is None


async def test_enable_is_refused_twice_in_30_seconds_and_while_resizing(
    http: httpx.AsyncClient, emulator: Emulator, clock: ManualClock, settle: Settle
) -> None:
    await steady_pool(http, emulator, settle)
    assert (await http.post("/pools/pool1/resize", json={"targetDedicatedNodes": 1})).is_success
    assert_error(await enable(http, "$TargetDedicatedNodes = 0"), 409, "PoolBeingResized")
    await settle(lambda: emulator.store.pools["pool1"].data["allocationState"] == "steady")
    assert (await enable(http, "$TargetDedicatedNodes = 1")).status_code == 200
    again = await enable(http, "$TargetDedicatedNodes = 2")
    assert_error(again, 503, "TooManyEnableAutoScaleRequests")
    clock.advance(30)
    assert (await enable(http, "$TargetDedicatedNodes = 2")).status_code == 200
    too_short = await enable(http, "$TargetDedicatedNodes = 2", interval="PT4M")
    assert_error(too_short, 400, "InvalidPropertyValue")


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"autoScaleFormula": "$TargetDedicatedNodes = ("}, 400, "AutoScalingFormulaSyntaxError"),
        ({"autoScaleFormula": "$TargetDedicatedNodes = 1", "autoScaleEvaluationInterval": "P8D"},
         400, "InvalidPropertyValue"),
    ],
)  # fmt: skip
async def test_pool_add_checks_the_formula(
    http: httpx.AsyncClient, changes: dict[str, Any], status: int, code: str
) -> None:
    body = {k: v for k, v in POOL_BODY.items() if k != "targetDedicatedNodes"}
    body.update(enableAutoScale=True, **changes)
    assert_error(await http.post("/pools", json=body), status, code)
    assert (await http.get("/pools/pool1")).status_code == 404


async def step(emulator: Emulator, clock: ManualClock, seconds: float) -> None:
    """Moves the clock in 30-second steps, stepping the periodic runner after each."""
    for _ in range(int(seconds // 30)):
        clock.advance(30)
        await emulator.periodic.tick()


async def test_periodic_evaluation_resizes_the_pool(
    http: httpx.AsyncClient, emulator: Emulator, clock: ManualClock, settle: Settle
) -> None:
    await steady_pool(http, emulator, settle)
    job = {"id": "j1", "poolInfo": {"poolId": "pool1"}}
    assert (await http.post("/jobs", json=job)).status_code == 201
    tasks = {"value": [{"id": f"t{i}", "commandLine": "sleep 600"} for i in range(6)]}
    assert (await http.post("/jobs/j1/addtaskcollection", json=tasks)).status_code == 200
    formula = "$TargetDedicatedNodes = min(4, max($PendingTasks.GetSample(1)))"
    enabled_at = clock.now()
    assert (await enable(http, formula)).status_code == 200
    pool = emulator.store.pools["pool1"]
    # No samples yet when autoscale is turned on: the run fails and the targets stay.
    assert pool.data["autoScaleRun"]["error"]["code"] == "InsufficientSampleData"
    assert pool.data["targetDedicatedNodes"] == 0
    await step(emulator, clock, 4 * 60 + 30)
    assert pool.data["targetDedicatedNodes"] == 0
    assert len(emulator.periodic.autoscaler.history("pool1").samples) == 9  # type: ignore[union-attr]
    await step(emulator, clock, 30)
    assert "error" not in pool.data["autoScaleRun"]
    assert pool.data["targetDedicatedNodes"] == 4
    assert pool.data["autoScaleRun"]["timestamp"] == iso(enabled_at + timedelta(minutes=5))
    await settle(lambda: pool.data["currentDedicatedNodes"] == 4)
    await settle(lambda: pool.data["allocationState"] == "steady")
    response = await http.get("/pools/pool1")
    assert response.json()["currentDedicatedNodes"] == 4
    assert response.headers["etag"] == pool.etag


async def test_deleted_pool_is_no_longer_watched(
    http: httpx.AsyncClient, emulator: Emulator, clock: ManualClock, settle: Settle
) -> None:
    await steady_pool(http, emulator, settle)
    assert (await enable(http, "$TargetDedicatedNodes = 0")).status_code == 200
    assert (await http.delete("/pools/pool1")).status_code == 202
    await step(emulator, clock, 60)
    assert emulator.periodic.autoscaler.history("pool1") is None
    assert emulator.periodic.autoscaler.next_due() is None
