"""Fixtures and set-up shared by every test folder."""

from collections.abc import Iterator
from pathlib import Path

# Imported before any test module on purpose: a late first import of hypothesis while the
# garbage collector runs has crashed CPython 3.11 ("AST constructor recursion depth
# mismatch") at the end of a run.
import hypothesis  # noqa: F401
import pytest

from batch_tui import paths


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
