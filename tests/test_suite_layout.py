"""Tests the test suite's own layout: no module imports a test module or a conftest, and each
shared fixture is defined once.

A test module imported by another ties the two together: the helper's home is a file of tests,
and renaming or moving that file breaks the other. A conftest is pytest's to load; importing it
as a module runs it a second time and passes its fixtures around by hand. Helpers live in
modules that are not test modules (`tests/ui/support.py`, `tests/batch/strategies.py` ...),
shared fixtures in `tests/fixtures/`, which `tests/conftest.py` loads through `pytest_plugins`.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def module_of(path: Path) -> str:
    """The dotted name a file under the repository root is imported as."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def file_of(module: str) -> Path | None:
    """The file under `tests/` that a dotted name is, if it is one (a module or a package)."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file() and TESTS in candidate.parents:
            return candidate
    return None


def imported_files(source: str, path: Path) -> list[tuple[int, Path]]:
    """The files under `tests/` that a module's imports load, with the line of each import.

    Counts `import a.b`, `from a import b` (`b` may be a module) and relative imports, at any
    depth of the module (a function-level import loads the module all the same).
    """
    module = module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, Path]] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        found += [(node.lineno, file) for name in names if (file := file_of(name)) is not None]
    return found


def is_test_or_conftest(path: Path) -> bool:
    """Whether a file is pytest's to collect or load (a test module or a conftest)."""
    return path.name == "conftest.py" or path.name.startswith("test_")


def forbidden_imports(source: str, path: Path) -> list[str]:
    """`file:line imports other` for each import of a test module or a conftest."""
    return [
        f"{path.relative_to(ROOT)}:{line} imports {target.relative_to(ROOT)}"
        for line, target in imported_files(source, path)
        if is_test_or_conftest(target) and target != path
    ]


def test_no_module_imports_a_test_module_or_a_conftest() -> None:
    found = [
        problem
        for path in sorted(TESTS.rglob("*.py"))
        for problem in forbidden_imports(path.read_text(encoding="utf-8"), path)
    ]
    assert found == [], "move what they import into a helper module:\n" + "\n".join(found)


def test_the_check_sees_every_form_of_import() -> None:
    here = TESTS / "hardening" / "support.py"
    imports = [
        "from tests.ui.test_tasks import open_job",
        "from tests.ui import test_tasks",
        "import tests.ui.test_tasks",
        "from .test_soak import Ledger",
        "from . import conftest",
        "from ..emulator.conftest import x",
        "def helper():\n    from tests.hardening.conftest import x",
    ]
    for source in imports:
        assert forbidden_imports(source, here), source
    allowed = [
        "from tests.ui.support import screen_text",
        "from tests.ui import support",
        "from .support import control_chars",
        "from tests.ui.support import test_like_name",  # a name, not a module
        "import pytest",
    ]
    for source in allowed:
        assert forbidden_imports(source, here) == [], source


def fixture_names(path: Path) -> list[str]:
    """The names of the fixtures a module defines (`@pytest.fixture`, with or without
    arguments)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(target) in ("pytest.fixture", "fixture"):
                    names.append(node.name)
    return names


def plugin_fixtures() -> Counter[str]:
    """How many of the plugin modules in `tests/fixtures/` define each fixture."""
    plugins = sorted((TESTS / "fixtures").glob("*.py"))
    return Counter(name for path in plugins for name in fixture_names(path))


def test_each_shared_fixture_is_defined_once() -> None:
    # Two plugins that define one name do not fail: the later one silently wins.
    counts = plugin_fixtures()
    assert counts["emulator"] == counts["make_app"] == 1
    assert [name for name, count in counts.items() if count > 1] == []


def test_a_folders_conftest_only_picks_a_variant_of_a_shared_fixture() -> None:
    # A fixture defined in a folder's conftest and nowhere else is one more place to look for
    # it, and the start of a second copy once another folder needs it too.
    shared = plugin_fixtures()
    own = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in TESTS.glob("*/conftest.py")
        for name in fixture_names(path)
        if name not in shared
    }
    assert own == set(), "define them in tests/fixtures/ instead"
