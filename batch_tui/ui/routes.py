"""Provides the route table: the one way screens open each other.

A screen never imports another screen's module. It asks the app for a route,

    self.batch_app.open(route("node", self.pool_id, node_id))

and the app builds the screen from `ROUTES`, importing its module then: a screen nobody opens
costs nothing at start-up, and no two screen modules depend on each other. The `:` commands
are routes too (`:node POOL NODE` opens `route("node", POOL, NODE)`; `commands.py`).

Dialogs that answer a screen (`screens/confirm.py`, `screens/dialogs.py`) are pushed
directly, with a callback: they are part of the screen that asks, not somewhere to go.
`tests/ui/test_routes.py` fails if a screen module imports another one.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from textual.screen import Screen

RouteName = Literal[
    "accounts", "overview", "pools", "pool", "nodes", "node", "heatmap", "jobs", "job",
    "tasks", "task", "prep-release", "file", "help", "command-line",
    "schedules", "schedule",
    "json",
    "failures", "failure-group",
    "runtimes",
    "timeline",
]  # fmt: skip
"""Every place the app can go (mypy checks the names at each `route(...)`)."""

SCREENS_PACKAGE: Final = "batch_tui.ui.screens"

ROUTES: Final[Mapping[RouteName, tuple[str, str]]] = {
    "accounts": ("accounts", "AccountsScreen"),
    "overview": ("overview", "OverviewScreen"),
    "pools": ("pools", "PoolsScreen"),
    "pool": ("pool_detail", "PoolDetailScreen"),
    "nodes": ("nodes", "NodesScreen"),
    "node": ("node_detail", "NodeDetailScreen"),
    "heatmap": ("heatmap", "HeatmapScreen"),
    "jobs": ("jobs", "JobsScreen"),
    "job": ("job_detail", "JobDetailScreen"),
    "tasks": ("job_detail", "JobDetailScreen"),
    "task": ("task_detail", "TaskDetailScreen"),
    "prep-release": ("prep_release", "PrepReleaseScreen"),
    "file": ("file_viewer", "FileViewerScreen"),
    "help": ("help", "HelpScreen"),
    "command-line": ("command_line", "CommandLineScreen"),
    "schedules": ("schedules", "SchedulesScreen"),
    "schedule": ("schedule_detail", "ScheduleDetailScreen"),
    "json": ("json_view", "JsonViewScreen"),
    "failures": ("failures", "FailuresScreen"),
    "failure-group": ("failures", "FailureGroupScreen"),
    "runtimes": ("run_times", "RunTimesScreen"),
    "timeline": ("timeline", "TimelineScreen"),
}
"""Route -> (module under `batch_tui.ui.screens`, screen class); a route's arguments are the
screen's constructor arguments (`NodeDetailScreen(pool_id, node_id)`)."""


@dataclass(frozen=True)
class Route:
    """Where to go: a name in `ROUTES` and the arguments of its screen.

    Attributes:
        name: The route.
        args: The screen's positional arguments (ids, a file reference).
        options: Its keyword arguments, as (name, value) pairs (`follow=True`).
    """

    name: RouteName
    args: tuple[Any, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()


def route(name: RouteName, *args: Any, **options: Any) -> Route:
    """Returns the route to a screen: `route("task", job_id, task_id)`."""
    return Route(name, args, tuple(options.items()))


def screen_for(to: Route) -> Screen[Any]:
    """Builds the screen a route opens, importing its module on first use.

    Raises:
        ImportError: The screen's module is missing from this build.
    """
    module_name, class_name = ROUTES[to.name]
    module = importlib.import_module(f"{SCREENS_PACKAGE}.{module_name}")
    screen: Screen[Any] = getattr(module, class_name)(*to.args, **dict(to.options))
    return screen


def is_screen_of(screen: object, name: RouteName) -> bool:
    """Whether `screen` is the kind of screen a route opens (its module is not imported for
    this: if it never was, no such screen exists)."""
    module_name, class_name = ROUTES[name]
    module = sys.modules.get(f"{SCREENS_PACKAGE}.{module_name}")
    return module is not None and isinstance(screen, getattr(module, class_name))
