"""Tests that screens open each other only through the route table, never by importing.

Read from the source (the AST, function-level and `TYPE_CHECKING` imports included): a screen
module that imported another screen module would tie the two together again, which the route
table (`batch_tui.ui.routes`) exists to prevent.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from textual.screen import Screen

from batch_tui.ui.commands import SPECS, Command, command_route
from batch_tui.ui.routes import ROUTES, SCREENS_PACKAGE

UI = Path(__file__).resolve().parents[2] / "batch_tui" / "ui"
SCREENS = UI / "screens"

SHARED = {
    "base": "the screen API: BatchScreen, ListScreen (re-exported)",
    "batch_screen": "BatchScreen",
    "list_screen": "ListScreen",
    "screen_actions": "ScreenActions, the registry actions of every screen",
    "quiet_footer": "QuietFooter, a base of the job and task screens",
    "node_actions": "NodeActionScreen, the base of the node screens",
    "state_actions": "the act-on-every-node-in-a-state flow of the node screens",
    "confirm": "the dialogs that confirm an action or choose a value",
    "dialogs": "the dialogs that ask for text",
    "json_editor": "the editor of a JSON body to add (a dialog over the screen)",
    "create_flows": "the add and clone flows of the job list, job and task screens",
    "term_filter": "TermFilterScreen, the base of the lists whose / filter takes column terms",
    "pool_actions": "PoolActionScreen, the pool actions of the screens that show pools",
    "pool_dialogs": "the pool dialogs: resize, the autoscale formula editor",
    "download_dialog": "DownloadDialog, which asks where a file list's download goes",
}
"""Screen modules others may import: bases and dialogs, none of them somewhere to go."""

TARGETS = {module for module, _ in ROUTES.values()}


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, at any level of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def screen_imports(path: Path) -> set[str]:
    """The screen modules (`batch_tui.ui.screens.X`) a source file imports, by X."""
    prefix = f"{SCREENS_PACKAGE}."
    return {
        name.removeprefix(prefix).split(".")[0]
        for name in imported_modules(path)
        if name.startswith(prefix)
    }


def ui_sources() -> list[Path]:
    return sorted(path for path in UI.rglob("*.py") if "__pycache__" not in path.parts)


def test_every_screen_module_is_a_route_target_or_shared() -> None:
    modules = {path.stem for path in SCREENS.glob("*.py")} - {"__init__"}
    assert modules - TARGETS - set(SHARED) == set(), "a new screen module: route it or share it"
    assert TARGETS & set(SHARED) == set(), "a shared module is somewhere to go"


@pytest.mark.parametrize("path", ui_sources(), ids=lambda path: str(path.relative_to(UI)))
def test_no_ui_module_imports_a_screen_it_could_open_through_a_route(path: Path) -> None:
    imported = screen_imports(path)
    assert imported & TARGETS == set(), f"{path.name} imports {sorted(imported & TARGETS)}"
    assert imported <= set(SHARED) | TARGETS


@pytest.mark.parametrize(
    "path",
    sorted((*SCREENS.glob("*.py"), *(UI / "widgets").glob("*.py"), UI / "commands.py")),
    ids=lambda path: path.name,
)
def test_screens_and_widgets_see_the_app_through_its_protocol(path: Path) -> None:
    assert "batch_tui.ui.app" not in imported_modules(path), "type it as app_protocol.ExplorerApp"


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_route_names_a_screen_class(name: str) -> None:
    module_name, class_name = ROUTES[name]  # type: ignore[index]
    module = importlib.import_module(f"{SCREENS_PACKAGE}.{module_name}")
    assert issubclass(getattr(module, class_name), Screen)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.name in ROUTES], ids=lambda s: s.name)
def test_every_navigation_command_fits_its_screen(spec) -> None:
    args = tuple(arg.lower() for arg in spec.args)
    to = command_route(Command(spec.name, args))
    assert to is not None or spec.name in ("accounts", "help")
    if to is not None:
        module_name, class_name = ROUTES[to.name]
        screen = getattr(importlib.import_module(f"{SCREENS_PACKAGE}.{module_name}"), class_name)
        inspect.signature(screen).bind(*to.args)  # the command's words are the screen's args


def test_the_check_sees_function_level_imports(tmp_path: Path) -> None:
    source = tmp_path / "sneaky.py"
    source.write_text(
        "def open_node(app):\n"
        "    from batch_tui.ui.screens.node_detail import NodeDetailScreen\n"
        "    app.push_screen(NodeDetailScreen('p', 'n'))\n"
    )
    assert screen_imports(source) == {"node_detail"}
