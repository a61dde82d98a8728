"""Provides the `:` commands: parsing, aliases, completion, running them, the palette.

    :pools            :nodes POOL        :node POOL NODE     :heatmap POOL     :pool POOL
    :jobs             :tasks JOB         :task JOB TASK      :job JOB
    :schedules        :schedule SCHEDULE
    :overview         :accounts          :help               :q
    :failures JOB
    :runtimes JOB      :timeline POOL

Aliases follow k9s where it has one (`:po`, `:no`, `:ctx`, `:q!`). A navigation command
opens the route of its name (`routes.ROUTES`), its arguments the screen's; `run_command(app,
line)` runs a line, and the palette (`BatchCommands`) offers the same lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Final, cast

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content

from batch_tui.ui.routes import ROUTES, Route, RouteName, route
from batch_tui.ui.sanitize import sanitize_text

if TYPE_CHECKING:
    from batch_tui.ui.app_protocol import ExplorerApp


class CommandError(ValueError):
    """A command line that cannot run; the message says why, in one line."""


@dataclass(frozen=True)
class CommandSpec:
    """One command: its name, aliases, argument names and help."""

    name: str
    aliases: tuple[str, ...]
    args: tuple[str, ...]
    help: str


SPECS: Final = (
    CommandSpec("overview", ("ov", "home"), (), "The account overview"),
    CommandSpec("pools", ("pool-tree", "po"), (), "Pools and their nodes by state"),
    CommandSpec("pool", (), ("POOL",), "A pool's detail"),
    CommandSpec("nodes", ("no",), ("POOL",), "The nodes of a pool"),
    CommandSpec("node", (), ("POOL", "NODE"), "A node's detail"),
    CommandSpec("heatmap", ("hm", "heat"), ("POOL",), "A pool's node heatmap"),
    CommandSpec("jobs", ("jo", "j"), (), "The jobs"),
    CommandSpec("job", (), ("JOB",), "A job's detail and tasks"),
    CommandSpec("tasks", ("ta",), ("JOB",), "The tasks of a job"),
    CommandSpec("task", (), ("JOB", "TASK"), "A task's detail"),
    CommandSpec("schedules", ("sch", "cj", "cronjobs"), (), "The job schedules"),
    CommandSpec("schedule", ("cronjob",), ("SCHEDULE",), "A job schedule's detail and jobs"),
    CommandSpec("failures", ("fail", "triage"), ("JOB",), "A job's failed tasks grouped by cause"),
    CommandSpec("runtimes", ("rt", "runtime"), ("JOB",), "A job's task run times, outliers"),
    CommandSpec("timeline", ("tl",), ("POOL",), "A pool's nodes over time, the tasks they ran"),
    CommandSpec("accounts", ("account", "acc", "ctx"), (), "Choose another account"),
    CommandSpec("help", ("h", "?"), (), "The keys of this screen"),
    CommandSpec("quit", ("q", "q!", "exit"), (), "Quit"),
)
"""Every command, in the order completion offers them."""

_BY_WORD: Final = {word: spec for spec in SPECS for word in (spec.name, *spec.aliases)}

ARG_KINDS: Final = {"POOL": "pool", "JOB": "job", "NODE": "node", "TASK": "task",
                    "SCHEDULE": "schedule"}  # fmt: skip
"""Arguments that complete from ids the session has seen (`AccountSession.known_ids`). A
node or a task is known within its pool or job, the argument before it: `id_kind`."""


def id_kind(kind: str, parent: str | None = None) -> str:
    """The key ids of a kind are remembered under: "pool", or "node pool-a" for the nodes of
    pool-a (node and task ids are only unique within their pool or job)."""
    return f"{kind} {parent}" if parent is not None else kind


@dataclass(frozen=True)
class Command:
    """A parsed command line."""

    name: str
    args: tuple[str, ...] = ()


def parse_command(text: str) -> Command:
    """Parses a command line such as "nodes pool-a" or ":q".

    Raises:
        CommandError: Unknown command or wrong number of arguments.
    """
    words = text.strip().removeprefix(":").split()
    if not words:
        raise CommandError("empty command; try :pools, :jobs or :help")
    spec = _BY_WORD.get(words[0].lower())
    if spec is None:
        raise CommandError(f"unknown command :{words[0]}; try :pools, :jobs or :help")
    args = tuple(words[1:])
    if len(args) != len(spec.args):
        usage = " ".join((spec.name, *spec.args))
        raise CommandError(f"usage: :{usage}")
    return Command(spec.name, args)


def complete(text: str, known_ids: Callable[[str], Sequence[str]]) -> str | None:
    """Completes a command line: the command word, then pool, job, node or task ids.

    Args:
        text: What the user typed so far (without the `:`).
        known_ids: Returns the ids seen for a kind ("pool", "job", "node pool-a" ...).

    Returns:
        The whole completed line, or None when there is no single obvious completion.
    """
    words = text.split(" ")
    if len(words) == 1:
        word = words[0].lower()
        if not word:
            return None
        names = [spec.name for spec in SPECS if spec.name.startswith(word)]
        return names[0] if names else None
    spec = _BY_WORD.get(words[0].lower())
    position = len(words) - 2
    if spec is None or position >= len(spec.args) or spec.args[position] not in ARG_KINDS:
        return None
    prefix = words[-1]
    kind = ARG_KINDS[spec.args[position]]
    scoped = id_kind(kind, words[position]) if kind in ("node", "task") else kind
    for candidate in known_ids(scoped):
        if candidate.startswith(prefix) and candidate != prefix and _typeable(candidate):
            return " ".join([*words[:-1], candidate])
    return None


def _typeable(known_id: str) -> bool:
    """Whether an id from the service can be shown as it is and typed as one word.

    Batch ids are letters, digits, `-` and `_`; one with spaces, controls or escapes could
    not name anything on a command line, and showing it raw would reach the terminal.
    """
    return sanitize_text(known_id, limit=None) == known_id and len(known_id.split()) == 1


def command_route(command: Command) -> Route | None:
    """The route a navigation command opens (None for the app's own: quit, accounts, help)."""
    if command.name not in ROUTES or command.name in APP_COMMANDS:
        return None
    return route(cast("RouteName", command.name), *command.args)


APP_COMMANDS: Final = frozenset({"quit", "accounts", "help"})
"""Commands the app runs itself rather than opening a screen."""


def run_command(app: ExplorerApp, text: str) -> None:
    """Runs a `:` command line ("pools", "nodes pool-a", "q" ...) in the app.

    A line that does not parse says why in a toast; navigation goes through the route table.
    """
    try:
        command = parse_command(text)
    except CommandError as error:
        app.notify(str(error), severity="error", markup=False)
        return
    if command.name == "quit":
        app.exit()
    elif command.name == "accounts":
        app.show_accounts()
    elif command.name == "help":
        app.action_help()
    else:
        to = command_route(command)
        if to is not None:
            app.go(to)


class BatchCommands(Provider):
    """The command palette's entries: every `:` command, with the pools and jobs seen so far."""

    @property
    def _app(self) -> ExplorerApp:
        return cast("ExplorerApp", self.app)

    def _entries(self) -> list[tuple[str, str, str]]:
        """Returns (title, command line, help) for each palette entry."""
        session = self._app.session
        entries = [
            (spec.name.capitalize(), spec.name, spec.help) for spec in SPECS if not spec.args
        ]
        if session is not None:
            for raw in session.known_ids("pool"):
                pool = sanitize_text(raw, limit=80)
                entries.append((f"Nodes of pool {pool}", f"nodes {raw}", "Node list"))
                entries.append((f"Heatmap of pool {pool}", f"heatmap {raw}", "Node heatmap"))
                entries.append((f"Pool {pool}", f"pool {raw}", "Pool detail"))
                entries.append((f"Timeline of pool {pool}", f"timeline {raw}", "Node timeline"))
            for raw in session.known_ids("job"):
                job = sanitize_text(raw, limit=80)
                entries.append((f"Tasks of job {job}", f"tasks {raw}", "Job detail and tasks"))
                entries.append(
                    (f"Failures of job {job}", f"failures {raw}", "Failed tasks grouped by cause")
                )
                entries.append(
                    (f"Run times of job {job}", f"runtimes {raw}", "Run time histogram, outliers")
                )
            for raw in session.known_ids("schedule"):
                shown = sanitize_text(raw, limit=80)
                entries.append((f"Job schedule {shown}", f"schedule {raw}", "Schedule and jobs"))
        return entries

    def _runner(self, line: str) -> Callable[[], None]:
        return partial(run_command, self._app, line)

    # Titles are passed as Content: the palette parses a plain string as markup, and a
    # pool id like "[reverse]x" must show as typed.

    async def discover(self) -> Hits:
        for title, line, help_text in self._entries():
            yield DiscoveryHit(Content(title), self._runner(line), text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, line, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                shown = _highlight(matcher, title)
                yield Hit(score, shown, self._runner(line), text=title, help=help_text)


def _highlight(matcher: Matcher, title: str) -> Content:
    """The title with the matched letters styled, like `Matcher.highlight` without markup."""
    content = Content(title)
    _, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
