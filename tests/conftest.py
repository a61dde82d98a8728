"""Fixtures and set-up shared by every test folder.

The fixtures live in `tests/fixtures/`, one module per family, loaded here: pytest takes
`pytest_plugins` only from the top-level conftest. Helpers live in modules that are not test
modules (`tests/*/support.py`, `tests/batch/strategies.py` ...); no module imports a test
module or a conftest (`tests/test_suite_layout.py` checks it).
"""

import gc
from collections.abc import Iterator
from pathlib import Path

# Imported before any test module on purpose: a late first import of hypothesis while the
# garbage collector runs has crashed CPython 3.11 ("AST constructor recursion depth
# mismatch") at the end of a run.
import hypothesis  # noqa: F401
import pytest

from batch_tui import paths

# The helpers assert too: rewritten, a failed check in one says what it compared. This must run
# before anything imports them (the plugins below do).
pytest.register_assert_rewrite(
    "tests.batch", "tests.emulator", "tests.ui", "tests.hardening", "tests.polling"
)

pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.engine",
    "tests.fixtures.sdk",
    "tests.fixtures.ui",
    "tests.fixtures.hardening",
]


@pytest.fixture(autouse=True)
def private_cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Keeps every test's cache files (the last-known snapshot) out of the user's cache
    directory, in this process and in the processes it starts."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setattr(paths, "cache_dir", lambda: cache)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    yield cache


@pytest.fixture(autouse=True)
def collect_garbage_after() -> Iterator[None]:
    """Collects garbage as each test ends, so that a socket, client or transport it left open is
    reported (as an unraisable ResourceWarning, an error) in that test's teardown. Left to the
    collector's own timing, it surfaced in whatever test ran next on the worker: the official
    SDK's sockets (requests/urllib3) failed the SIGKILL test twice."""
    yield
    gc.collect()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak-seconds",
        type=float,
        default=None,
        help="how long tests/hardening/test_soak.py drives the app (default 60; CI runs that)",
    )
    parser.addoption(
        "--burst-rounds",
        type=int,
        default=None,
        help="seeded rounds of tests/hardening/test_burst_typing.py per screen (default 3)",
    )
