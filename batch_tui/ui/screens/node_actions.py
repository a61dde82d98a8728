"""Provides NodeActionScreen: node action keys (reboot ... add user) for the node screens.

The node list, the heatmap and the node detail subclass it. A subclass sets `pool_id` and
provides `node_targets()` (the node in view, or the marked nodes) and `known_node(id)` (the
last `Node` seen, for greying keys out by state).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import ClassVar, Final

from textual.binding import Binding, BindingType

from batch_tui.batch.errors import BatchError
from batch_tui.batch.models import Node
from batch_tui.ui.actions import (
    ACTIONS,
    Outcome,
    node_action_allowed,
    node_action_refusal,
    summarize,
)
from batch_tui.ui.screens.base import BatchScreen, Perform, each
from batch_tui.ui.screens.dialogs import AddUserScreen, NewUser, SshCommandScreen

NODE_ACTIONS: Final = {
    "reboot_node": "node.reboot",
    "reimage_node": "node.reimage",
    "deallocate_node": "node.deallocate",
    "start_node": "node.start",
    "disable_scheduling": "node.disable-scheduling",
    "enable_scheduling": "node.enable-scheduling",
    "remove_nodes": "node.remove",
    "add_user": "node.add-user",
}
"""Screen action name -> `ACTIONS` id."""

MAX_REMOVE: Final = 100
"""The service removes at most 100 nodes per request, and the pool is busy after one."""

NODE_ACTION_BINDINGS: Final[list[BindingType]] = [
    Binding("b", "reboot_node", "Reboot", id="node.reboot", tooltip="Reboot the node(s)"),
    Binding("i", "reimage_node", "Reimage", id="node.reimage", tooltip="Reimage the node(s)"),
    Binding("D", "deallocate_node", "Deallocate", id="node.deallocate",
            tooltip="Deallocate the node(s)"),
    Binding("u", "start_node", "Start", id="node.start", tooltip="Start deallocated node(s)"),
    Binding("o", "disable_scheduling", "No sched", id="node.disable-scheduling",
            tooltip="Disable task scheduling on the node(s)"),
    Binding("O", "enable_scheduling", "Sched", id="node.enable-scheduling",
            tooltip="Enable task scheduling on the node(s)"),
    Binding("ctrl+d", "remove_nodes", "Remove", id="node.remove",
            tooltip="Remove the node(s) from the pool"),
    Binding("a", "add_user", "Add user", id="node.add-user",
            tooltip="Add a user and show the SSH command"),
]  # fmt: skip
"""The node action keys; ids are the `ACTIONS` ids, so keymaps can remap them."""


def ssh_command(user: str, address: str, port: int) -> str:
    """Returns the SSH command for a node's remote login settings."""
    return f"ssh {user}@{address} -p {port}"


class NodeActionScreen(BatchScreen):
    """A screen whose node (or marked nodes) can be rebooted, reimaged, ... from the keyboard."""

    MUTATING_ACTIONS: ClassVar[frozenset[str]] = frozenset(NODE_ACTIONS)
    BINDINGS: ClassVar[list[BindingType]] = NODE_ACTION_BINDINGS

    pool_id: str = ""
    """The pool of the nodes this screen shows."""

    def node_targets(self) -> tuple[str, ...]:
        """The nodes an action applies to: the marked ones, else the one in view."""
        return ()

    def known_node(self, node_id: str) -> Node | None:
        """The last data seen for a node, or None."""
        return None

    def _applicable(self, spec_id: str, targets: Sequence[str]) -> list[str]:
        """The targets whose known state allows the action (unknown ones are kept)."""
        chosen = []
        for node_id in targets:
            node = self.known_node(node_id)
            if node is None or node_action_allowed(spec_id, node.state, node.scheduling_state):
                chosen.append(node_id)
        return chosen

    def availability(self, action: str) -> bool | None:
        spec_id = NODE_ACTIONS.get(action)
        if spec_id is None:
            return super().availability(action)
        targets = self.node_targets()
        return True if targets and self._applicable(spec_id, targets) else None

    def why_not(self, action: str) -> str | None:
        spec_id = NODE_ACTIONS.get(action)
        if spec_id is None:
            return super().why_not(action)
        label = ACTIONS[spec_id].label
        targets = self.node_targets()
        if not targets:
            return f"{label}: no node selected"
        reasons = []
        for node_id in targets:
            node = self.known_node(node_id)
            if node is not None:
                reason = node_action_refusal(spec_id, node.state, node.scheduling_state)
                if reason is not None:
                    reasons.append((node_id, reason))
        if not reasons:
            return None
        if len(targets) == 1:
            return f"{label}: not on node {targets[0]}: {reasons[0][1]}"
        return f"{label}: none of the {len(targets)} marked nodes allows it ({reasons[0][1]})"

    def _run_node_action(self, action: str) -> None:
        spec = ACTIONS[NODE_ACTIONS[action]]
        targets = self.node_targets()
        chosen = self._applicable(spec.id, targets)
        skipped = len(targets) - len(chosen)
        if skipped:
            self.notify(f"{spec.label}: {skipped} node(s) skipped: their state does not allow it")
        if spec.id == "node.remove" and len(chosen) > MAX_REMOVE:
            self.notify(f"Remove at most {MAX_REMOVE} nodes at a time", severity="error")
            return
        self.confirm_action(
            spec, chosen, self._perform_for(spec.id), context=self._action_context()
        )

    def _action_context(self) -> str:
        return f"pool {self.pool_id}"

    def _perform_for(self, spec_id: str) -> Perform:
        client, pool = self.client, self.pool_id
        if spec_id == "node.remove":
            return self._remove
        calls = {
            "node.reboot": lambda n, o: client.reboot_node(pool, n, option=o or "requeue"),
            "node.reimage": lambda n, o: client.reimage_node(pool, n, option=o or "requeue"),
            "node.deallocate": lambda n, o: client.deallocate_node(pool, n, option=o or "requeue"),
            "node.start": lambda n, o: client.start_node(pool, n),
            "node.disable-scheduling": lambda n, o: client.disable_node_scheduling(
                pool, n, option=o or "requeue"
            ),
            "node.enable-scheduling": lambda n, o: client.enable_node_scheduling(pool, n),
        }
        return each(calls[spec_id])

    async def _remove(self, targets: Sequence[str], option: str | None) -> Sequence[Outcome]:
        """One request for all targets: the pool resizes once."""
        try:
            await self.client.remove_nodes(self.pool_id, list(targets), option=option or "requeue")
        except BatchError as error:
            return [Outcome.of_error(target, error) for target in targets]
        return [Outcome(target) for target in targets]

    def action_reboot_node(self) -> None:
        """Reboots the node(s), with an option for their running tasks."""
        self._run_node_action("reboot_node")

    def action_reimage_node(self) -> None:
        """Reimages the node(s)."""
        self._run_node_action("reimage_node")

    def action_deallocate_node(self) -> None:
        """Deallocates the node(s)."""
        self._run_node_action("deallocate_node")

    def action_start_node(self) -> None:
        """Starts deallocated node(s)."""
        self._run_node_action("start_node")

    def action_disable_scheduling(self) -> None:
        """Disables task scheduling on the node(s)."""
        self._run_node_action("disable_scheduling")

    def action_enable_scheduling(self) -> None:
        """Enables task scheduling on the node(s)."""
        self._run_node_action("enable_scheduling")

    def action_remove_nodes(self) -> None:
        """Removes the node(s) from the pool."""
        self._run_node_action("remove_nodes")

    def action_add_user(self) -> None:
        """Asks for a user, adds it to the node(s), then shows the SSH command(s)."""
        if self.read_only:
            self.notify("Read-only mode: nothing was sent", severity="warning")
            return
        chosen = self._applicable("node.add-user", self.node_targets())
        if not chosen:
            self.notify("Add user: no node in a state that allows it", severity="warning")
            return

        def entered(user: NewUser | None) -> None:
            if user is None:
                self.notify("Add user: cancelled, nothing was sent")
                return
            self.run_worker(
                self._add_user(chosen, user), group="node-add-user", exit_on_error=False
            )

        self.app.push_screen(
            AddUserScreen(chosen, context=self._action_context()), callback=entered
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
