"""Tests that a damaged saved state stops the emulator with one line, and is left as it was.

The cases are the ones the journal format lost data on without a word (issue 13): (a) a part
of the state missing, (b) a file cut short, (c) one byte changed, (d) a damaged middle. Each
is made on a copy of a real state: one an emulator stopped cleanly (everything in
`emulator.db`), or one it was "killed" with (its files copied while it ran, after its last
answer: what SIGKILL leaves, committed writes still in `emulator.db-wal`). The emulator must
refuse to start, in process (`build_emulator`) and from the command line, with one line that
names the file and says what to do, and must not change a byte of the state folder.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from batch_tui.emulator import build_emulator, create_app
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.state import StateError
from tests.emulator.shared_key import SharedKeyAuth
from tests.emulator.support import ACCOUNT, API_VERSION, BASE_URL, KEY, POOL_BODY, fast_timings

TASKS = [f"t{batch}-{i}" for batch in range(3) for i in range(100)]
PAGE = 16384
FRAME = 24 + PAGE
"""A WAL frame: its header and one page (`database.PAGE_SIZE`, checked below)."""
CLI_TIMEOUT = 60.0
"""Seconds the command line may take to refuse (it never serves: it exits at once)."""


def settings(data_dir: Path) -> EmulatorSettings:
    return EmulatorSettings(account=ACCOUNT, key=KEY, executor="simulated", data_dir=data_dir,
                            base_url=BASE_URL, timings=fast_timings())  # fmt: skip


async def serve_and_copy(data_dir: Path, killed: Path) -> None:
    """Adds a pool, a job and `TASKS` (nothing runs: the pool has no nodes, so every task is
    written once), copies the state folder before the emulator stops, then stops it."""
    emu = build_emulator(settings(data_dir), ManualClock())
    auth = SharedKeyAuth(ACCOUNT, KEY, API_VERSION)
    transport = httpx.ASGITransport(app=create_app(emu))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=auth) as http:
        assert (await http.post("/pools", json={**POOL_BODY, "targetDedicatedNodes": 0})).is_success
        assert (
            await http.post("/jobs", json={"id": "job1", "poolInfo": {"poolId": "pool1"}})
        ).is_success
        for batch in range(3):
            tasks = [
                {"id": t, "commandLine": "echo " + "x" * 200} for t in TASKS[batch * 100 :][:100]
            ]
            response = await http.post("/jobs/job1/addtaskcollection", json={"value": tasks})
            assert response.status_code == 200
        shutil.copytree(data_dir / "state", killed / "state")  # while it runs, as a kill leaves it
    await emu.stop()


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two undamaged data dirs: `saved` (stopped cleanly) and `killed`."""
    root = tmp_path_factory.mktemp("states")
    asyncio.run(serve_and_copy(root / "saved", root / "killed"))
    wal = root / "killed" / "state" / "emulator.db-wal"
    assert int.from_bytes(wal.read_bytes()[8:12], "big") == PAGE  # the WAL header's page size
    assert wal_frames(wal) > 10  # the killed one's writes are in its WAL
    assert not (root / "saved" / "state" / "emulator.db-wal").exists()
    return {"saved": root / "saved", "killed": root / "killed"}


def flip(path: Path, at: int) -> None:
    content = bytearray(path.read_bytes())
    content[at] ^= 0x01
    path.write_bytes(bytes(content))


def cut(path: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


def change_a_saved_task(path: Path) -> None:
    content = path.read_bytes()
    at = content.find(b'"id":"t1-50"')
    assert at > 0 and content.count(b'"id":"t1-50"') == 1
    flip(path, at + len('"id":"t1-') + 1)  # its body says "t1-51": valid JSON, a wrong task


def damage_the_middle(path: Path) -> None:
    content = bytearray(path.read_bytes())
    middle = len(content) // 2 // PAGE * PAGE
    content[middle : middle + PAGE] = b"\xaa" * PAGE
    path.write_bytes(bytes(content))


def wal_frames(path: Path) -> int:
    return (path.stat().st_size - 32) // FRAME


def change_a_frame(path: Path) -> None:
    """Changes a byte in the page of the WAL's first frame that does not end a transaction."""
    content = path.read_bytes()
    for index in range(wal_frames(path)):
        start = 32 + index * FRAME
        if not int.from_bytes(content[start + 4 : start + 8], "big"):  # not a commit frame
            flip(path, start + 24 + 2000)
            return
    raise AssertionError("every frame of the WAL ends a transaction")


@dataclass(frozen=True)
class Damage:
    state: str
    """`saved` or `killed`."""
    file: str
    """The file damaged (and named in the message)."""
    damage: Callable[[Path], None]
    says: str
    """What the message says is wrong."""


DAMAGES = {
    # (a) a missing part of the state
    "database gone": Damage("saved", "emulator.db", Path.unlink,
                            "is missing, but status.json says this folder holds"),
    "database gone beside its WAL": Damage("killed", "emulator.db", Path.unlink,
                                           "is missing, but emulator.db-wal holds writes"),
    "WAL gone after a kill": Damage("killed", "emulator.db-wal", Path.unlink,
                                    "is missing, but the emulator that had emulator.db open "
                                    "did not stop cleanly"),
    # (b) a file cut short
    "database cut in half": Damage("saved", "emulator.db", cut, "is cut short"),
    # (c) one byte changed
    "a byte of a saved task": Damage("saved", "emulator.db", change_a_saved_task,
                                     "the saved task 't1-50' is damaged (does not match its checksum)"),
    "a byte of the header": Damage("saved", "emulator.db", lambda p: flip(p, 0),
                                   "is not a SQLite database"),
    "a byte of a WAL frame": Damage("killed", "emulator.db-wal", change_a_frame,
                                    "does not match its checksum, and a transaction committed "
                                    "after it"),
    "a byte of the last commit": Damage("killed", "emulator.db-wal",
                                        lambda p: flip(p, 32 + (wal_frames(p) - 1) * FRAME + 100),
                                        "a commit, does not match its checksum"),
    # (d) a damaged middle
    "a page of garbage in the middle": Damage("saved", "emulator.db", damage_the_middle,
                                              "cannot be read (database disk image is malformed)"),
}  # fmt: skip


def fingerprint(state: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in state.iterdir()}


def run_cli(data_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "batch_tui", "emulator", "--data-dir", str(data_dir),
               "--port", "0", "--key", KEY, "--account", ACCOUNT, "--executor", "simulated"]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)


@pytest.mark.parametrize("case", DAMAGES, ids=list(DAMAGES))
def test_damage_stops_the_emulator_with_one_line_and_changes_nothing(
    case: str, states: dict[str, Path], tmp_path: Path
) -> None:
    spec = DAMAGES[case]
    data_dir = tmp_path / "data"
    shutil.copytree(states[spec.state], data_dir)
    state = data_dir / "state"
    spec.damage(state / spec.file)
    before = fingerprint(state)

    with pytest.raises(StateError) as refused:
        build_emulator(settings(data_dir), ManualClock())
    message = str(refused.value)
    assert message.startswith(f"{state / spec.file}: ") and spec.says in message
    assert "\n" not in message and "restore the file from a backup" in message
    assert fingerprint(state) == before

    done = run_cli(data_dir)
    assert done.returncode == 1
    assert done.stderr == f"batch-tui emulator: {message}\n"  # one line, no traceback
    assert "listening" not in done.stdout  # it never served
    assert fingerprint(state) == before


def test_a_killed_state_is_read_whole(states: dict[str, Path], tmp_path: Path) -> None:
    """The undamaged copy of the killed emulator starts with every task it acknowledged: the
    cases above are refused for their damage, not for being a crash's leftovers."""
    shutil.copytree(states["killed"], tmp_path / "data")
    emu = build_emulator(settings(tmp_path / "data"), ManualClock())
    assert list(emu.store.job_tasks("job1")) == TASKS


def test_a_cut_wal_is_a_crash_to_sqlite(states: dict[str, Path], tmp_path: Path) -> None:
    """The limit of what can be found: a WAL cut at a frame boundary looks exactly like one a
    kill interrupted mid-write, to SQLite and to this check. The start keeps what was whole."""
    shutil.copytree(states["killed"], tmp_path / "data")
    wal = tmp_path / "data" / "state" / "emulator.db-wal"
    with wal.open("r+b") as f:
        f.truncate(32 + wal_frames(wal) // 2 * FRAME)
    emu = build_emulator(settings(tmp_path / "data"), ManualClock())
    assert 0 < len(emu.store.job_tasks("job1")) < len(TASKS)
