"""Helpers of the Azure CLI tests: an `az` of the pinned version, and `az batch` run against an
emulator.

The `az` comes from `BATCH_TUI_AZ`, the path of an `az` executable of `AZ_VERSION` (`.ci/run`
installs one before the tests, so its install does not compete with them for the CPU). Without
it, `shared_az` installs `AZ_VERSION` with pip into a virtual environment of its own under
pytest's temporary folder, once per run: the xdist workers of one run share it behind a lock.
That takes about 75 s (measured: 1 min 14 s on 2 CPUs, no pip cache, 733 MB). When it cannot be
installed (no network, PyPI down) the tests fail and say why; when `.ci/run` could not install
it, it says why in `BATCH_TUI_AZ_UNAVAILABLE` and the tests fail with that reason.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AZ_VERSION = "2.91.0"
"""The CLI the emulator is tested with; its quirks (issue 14 item 7) are this version's."""

INSTALL_SECONDS = 240
"""How long pip may take to install the CLI: three times the measured 75 s, and short enough
that a test waiting for it ends, failing, before pytest's own timeout (300 s) stops it."""

RUN_SECONDS = 120
"""How long one `az` command may take; a command takes about 0.7 s."""


class AzUnavailable(Exception):
    """The CLI cannot be installed here; the message says why (the tests fail with it)."""


class AzFailed(Exception):
    """An `az` command exited with an error; the message holds its command line and stderr."""

    def __init__(self, args: tuple[str, ...], returncode: int, stderr: str) -> None:
        super().__init__(f"az {' '.join(args)} exited {returncode}:\n{stderr}")
        self.returncode = returncode
        self.stderr = stderr


def az_version(executable: Path, config_dir: Path) -> str:
    """The `azure-cli` version that `executable` reports."""
    done = subprocess.run(
        [str(executable), "version", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        env=az_environment(config_dir),
    )
    if done.returncode != 0:
        raise AzUnavailable(f"{executable} version exited {done.returncode}: {done.stderr}")
    return str(json.loads(done.stdout)["azure-cli"])


def install_az(folder: Path) -> Path:
    """Installs `azure-cli==AZ_VERSION` into a new virtual environment at `folder`.

    Returns:
        The path of its `az`.

    Raises:
        AzUnavailable: If pip fails or takes longer than `INSTALL_SECONDS`.
    """
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    try:
        done = subprocess.run(
            [*pip, "--no-input", "--quiet", f"azure-cli=={AZ_VERSION}"],
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
        )
    except subprocess.TimeoutExpired as error:
        raise AzUnavailable(
            f"pip did not install azure-cli {AZ_VERSION} within {INSTALL_SECONDS} s"
        ) from error
    if done.returncode != 0:
        last = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise AzUnavailable(f"pip install azure-cli=={AZ_VERSION} exited {done.returncode}: {last}")
    return folder / "bin" / "az"


def shared_az(root: Path) -> Path:
    """The `az` installed under `root` for this run: installed by the first caller, reused by
    the others (other xdist workers wait on the lock meanwhile), and a failure is remembered, so
    that it is tried once.

    Raises:
        AzUnavailable: If it could not be installed.
    """
    folder = root / f"azure-cli-{AZ_VERSION}"
    failed = root / f"azure-cli-{AZ_VERSION}.failed"
    with open(root / f"azure-cli-{AZ_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if failed.exists():
            raise AzUnavailable(failed.read_text(encoding="utf-8"))
        if (folder / "bin" / "az").exists():
            return folder / "bin" / "az"
        try:
            return install_az(folder)
        except AzUnavailable as error:
            failed.write_text(str(error), encoding="utf-8")
            raise


def az_environment(config_dir: Path) -> dict[str, str]:
    """The environment `az` runs in: none of the user's `AZURE_*` settings (an
    `AZURE_BATCH_AUTH_MODE=aad` would drop the key), its own config folder, no telemetry
    (whose upload would try the network), no colours or surveys in its output."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AZURE_")}
    env.update(
        AZURE_CONFIG_DIR=str(config_dir),
        AZURE_CORE_COLLECT_TELEMETRY="false",
        AZURE_CORE_NO_COLOR="true",
        AZURE_CORE_SURVEY_MESSAGE="false",
        AZURE_EXTENSION_USE_DYNAMIC_INSTALL="no",
    )
    return env


@dataclass(frozen=True)
class AzBatch:
    """Runs `az batch ...` against one account with its shared key, as a user would without
    `az login`: `--account-name`, `--account-key` and `--account-endpoint` on every command."""

    executable: Path
    config_dir: Path
    endpoint: str
    account: str
    key: str

    def __call__(self, *args: str) -> Any:
        """Runs `az batch *args --output json`.

        Returns:
            The command's JSON output, or None for a command that prints nothing.

        Raises:
            AzFailed: If it exits with an error.
        """
        account = ("--account-name", self.account, "--account-key", self.key)
        command = (*args, *account, "--account-endpoint", self.endpoint, "--output", "json")
        done = subprocess.run(
            [str(self.executable), "batch", *command],
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            env=az_environment(self.config_dir),
        )
        if done.returncode != 0:
            raise AzFailed(args, done.returncode, done.stderr)
        return json.loads(done.stdout) if done.stdout.strip() else None
