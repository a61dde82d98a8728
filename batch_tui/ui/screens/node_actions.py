"""Provides NodeActionScreen: node action keys (reboot ... add user) for the node screens.

The node list, the heatmap and the node detail subclass it. A subclass sets `pool_id` and
provides `node_targets()` (the node in view, or the marked nodes) and `known_node(id)` (the
last `Node` seen, for greying keys out by state).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import ClassVar

from textual.binding import BindingType

from batch_tui.batch.errors import BatchError
from batch_tui.batch.models import Node
from batch_tui.ui.action_runs import each, summarize
from batch_tui.ui.actions import ACTIONS, Kind, Scope
from batch_tui.ui.screens.base import BatchScreen
from batch_tui.ui.screens.dialogs import AddUserScreen, NewUser, SshCommandScreen
from batch_tui.ui.screens.screen_actions import action_bindings
from batch_tui.ui.screens.state_actions import start_state_action


def ssh_command(user: str, address: str, port: int) -> str:
    """Returns the SSH command for a node's remote login settings."""
    return f"ssh {user}@{address} -p {port}"


class NodeActionScreen(BatchScreen):
    """A screen whose node (or marked nodes) can be rebooted, reimaged, ... from the keyboard."""

    BINDINGS: ClassVar[list[BindingType]] = action_bindings("node")

    pool_id: str = ""
    """The pool of the nodes this screen shows."""

    def node_targets(self) -> tuple[str, ...]:
        """The nodes an action applies to: the marked ones, else the one in view."""
        return ()

    def known_node(self, node_id: str) -> Node | None:
        """The last data seen for a node, or None."""
        return None

    def preset_state(self) -> str | None:
        """The node state "act on all in a state" starts from, or None to ask."""
        return None

    def action_targets(self, kind: Kind) -> tuple[str, ...]:
        return self.node_targets() if kind == "node" else ()

    def action_subject(self, kind: Kind, target: str) -> Node | None:
        return self.known_node(target) if kind == "node" else None

    def action_scope(self) -> Scope:
        return Scope(pool_id=self.pool_id)

    def action_context(self, kind: Kind) -> str:
        return f"pool {self.pool_id}"

    def flow_all_in_state(self) -> None:
        """Acts on every node of the pool in a state: chosen, confirmed, paced, reported."""
        start_state_action(self, self.pool_id, self.preset_state())

    def flow_add_user(self) -> None:
        """Asks for a user, adds it to the node(s), then shows the SSH command(s)."""
        chosen, reasons = self.applicable(ACTIONS["node.add-user"], self.node_targets())
        if not chosen:
            reason = reasons[0] if reasons else "no node selected"
            self.notify(f"Add user: {reason}", severity="warning", markup=False)
            return

        def entered(user: NewUser | None) -> None:
            if user is None:
                self.notify("Add user: cancelled, nothing was sent")
                return
            self.run_worker(
                self._add_user(chosen, user), group="node-add-user", exit_on_error=False
            )

        self.app.push_screen(
            AddUserScreen(
                chosen, context=self.action_context("node"), marked=self.targets_marked("node")
            ),
            callback=entered,
        )

    async def _add_user(self, targets: list[str], user: NewUser) -> None:
        expiry = self.now() + timedelta(hours=user.expiry_hours)
        client, pool = self.client, self.pool_id

        async def add(node_id: str, _option: str | None) -> None:
            await client.add_node_user(
                pool,
                node_id,
                user.name,
                password=user.password,
                ssh_public_key=user.ssh_public_key,
                is_admin=user.is_admin,
                expiry_time=expiry,
            )

        outcomes = list(await each(add)(targets, None))
        text, ok = summarize(ACTIONS["node.add-user"], outcomes)
        self.notify(text, severity="information" if ok else "error", markup=False)
        added = [outcome.target for outcome in outcomes if outcome.error is None]
        if added:
            commands, notes = await self._ssh_commands(user.name, added)
            self.app.push_screen(SshCommandScreen(commands, notes=notes))

    async def _ssh_commands(self, user: str, nodes: Sequence[str]) -> tuple[list[str], list[str]]:
        """Reads each node's remote login settings; a failure becomes a note."""
        commands, notes = [], []
        for node_id in nodes:
            try:
                login = await self.client.get_remote_login_settings(self.pool_id, node_id)
            except BatchError as error:
                notes.append(f"{node_id}: no remote login settings: {error}")
                continue
            command = ssh_command(user, login.remote_login_ip_address, login.remote_login_port)
            commands.append(command if len(nodes) == 1 else f"{command}  # {node_id}")
        return commands, notes
