"""Tests `batch-tui emulator` as a new user runs it, queried by the official SDK from outside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from azure.batch import BatchClient
from azure.core.credentials import AzureNamedKeyCredential

from batch_tui.emulator.http.background import free_port
from tests.emulator.support import KEY

STARTUP_SECONDS = 60


def _start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "batch_tui", "emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def _wait_for_banner(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("Press Ctrl-C"):
            return lines
    proc.kill()
    _, errors = proc.communicate()
    raise AssertionError(f"the emulator did not start: {lines} {errors}")


def test_emulator_command_serves_the_sdk_and_stops_on_ctrl_c() -> None:
    port = free_port()
    proc = _start(
        "--port", str(port), "--scenario", "demo", "--executor", "simulated", "--key", KEY
    )
    try:
        banner = _wait_for_banner(proc)
        endpoint = f"http://127.0.0.1:{port}"
        assert f"Azure Batch emulator listening on {endpoint}" in banner
        assert f"  key:      {KEY}" in banner
        client = BatchClient(endpoint, AzureNamedKeyCredential("emulator", KEY))
        pools = sorted(pool.id for pool in client.list_pools())
        assert pools == ["etl-pool", "gpu-pool", "render-pool"]
        jobs = {job.id for job in client.list_jobs()}
        assert {"nightly-render", "etl-daily", "train-model", "backfill-2024"} <= jobs
        client.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, errors = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    assert proc.returncode == 0
    assert "Emulator stopped." in rest
    assert "Traceback" not in errors
    assert "batch-tui emulator: warning: --key shows the key to every local user (ps)" in errors


def test_generated_key_is_printed_and_a_wrong_key_is_refused() -> None:
    port = free_port()
    proc = _start("--port", str(port))
    try:
        banner = _wait_for_banner(proc)
        key = next(line.split()[-1] for line in banner if line.strip().startswith("key:"))
        assert len(key) >= 44
        client = BatchClient(f"http://127.0.0.1:{port}", AzureNamedKeyCredential("emulator", KEY))
        from azure.core.exceptions import HttpResponseError

        with pytest.raises(HttpResponseError) as info:
            list(client.list_pools())
        assert info.value.status_code == 403
        client.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "BATCH_TUI_EMULATOR_KEY or --key-file"),
        (["--faults", "429:rate=2"], "--faults: fault spec item 1"),
        (["--faults", "latency:profile=wan"], "unknown latency profile 'wan'"),
        (["--scenario", "large", "--executor", "local"], "needs --executor simulated"),
    ],
)
def test_bad_invocations_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "batch_tui", "emulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc (Linux)")
def test_a_key_from_the_environment_stays_out_of_ps_and_the_banner() -> None:
    port = free_port()
    proc = _start(
        "--port", str(port), "--executor", "simulated", env={"BATCH_TUI_EMULATOR_KEY": KEY}
    )
    try:
        banner = _wait_for_banner(proc)
        assert "  key:      (from BATCH_TUI_EMULATOR_KEY)" in banner
        assert KEY not in "\n".join(banner)
        command_line = Path(f"/proc/{proc.pid}/cmdline").read_bytes()  # what ps shows
        assert KEY.encode() not in command_line
        client = BatchClient(f"http://127.0.0.1:{port}", AzureNamedKeyCredential("emulator", KEY))
        assert list(client.list_pools()) == []
        client.close()
    finally:
        proc.send_signal(signal.SIGINT)
        _, errors = proc.communicate(timeout=30)
    assert "warning" not in errors
