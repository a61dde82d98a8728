"""Provides the "act on every node in a state" flow: reboot all 17 starttaskfailed nodes.

Pressing `*` (`node.all-in-state`) on the node list, the heatmap or the pool tree asks which
state (unless the screen is on one already: the pool tree's state group, a node list filtered
to a state), then which action of those the service takes in that state, then confirms it
naming the count, the state and the pool ("Reboot all 17 starttaskfailed nodes of gpu-pool";
more than 10 nodes want the count typed). The requests go a few at a time and pace down if
the service throttles; a progress line counts them and a summary closes the action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from batch_tui.batch.errors import BatchError
from batch_tui.batch.models import Node, NodeState
from batch_tui.ui.action_runs import perform_for
from batch_tui.ui.actions import ACTIONS, Scope, refusal, specs_of
from batch_tui.ui.screens.confirm import ChoiceScreen

if TYPE_CHECKING:
    from batch_tui.ui.screens.batch_screen import BatchScreen

STATE_FIELDS: Final = ("id", "state", "schedulingState")
"""What the flow needs of each node: one light listing of the pool."""

BAD_FIRST: Final = (
    NodeState.START_TASK_FAILED,
    NodeState.UNUSABLE,
    NodeState.UNKNOWN,
    NodeState.OFFLINE,
    NodeState.PREEMPTED,
)
"""The states offered first: those a person acts on all at once."""


def start_state_action(screen: BatchScreen, pool_id: str, state: str | None) -> None:
    """Starts the flow on `screen` for `pool_id`, from `state` or asking for one."""
    if not pool_id:
        screen.notify("All in state: no pool selected", severity="warning")
        return
    screen.run_worker(
        _state_action(screen, pool_id, state),
        group="state-action",
        exclusive=True,
        exit_on_error=False,
    )


def ordered_states(by_state: dict[str, list[Node]]) -> list[str]:
    """The states present, the bad ones first, then by count."""
    bad = [state for state in BAD_FIRST if state in by_state]
    rest = sorted((s for s in by_state if s not in bad), key=lambda s: (-len(by_state[s]), s))
    return bad + rest


async def _state_action(screen: BatchScreen, pool_id: str, state: str | None) -> None:
    try:
        nodes = await screen.client.list_nodes(pool_id, select=STATE_FIELDS)
    except BatchError as error:
        screen.notify(f"All in state: {error}", severity="error", markup=False)
        return
    by_state: dict[str, list[Node]] = {}
    for node in nodes:
        by_state.setdefault(node.state, []).append(node)
    if state is None:
        if not by_state:
            screen.notify(f"All in state: pool {pool_id} has no nodes", severity="warning")
            return
        choices = [(s, f"{s} ({len(by_state[s])})") for s in ordered_states(by_state)]
        question = f"Act on every node of {pool_id} in which state?"
        state = await screen.app.push_screen_wait(ChoiceScreen(question, choices))
        if state is None:
            return
    members = by_state.get(state, [])
    if not members:
        screen.notify(f"All in state: no {state} node in pool {pool_id} now", severity="warning")
        return
    offered = []
    for spec in specs_of("node"):
        if spec.call is None:
            continue
        takes = sum(1 for node in members if refusal(spec, node) is None)
        if takes:
            extra = "" if takes == len(members) else f" ({takes} of them)"
            offered.append((spec.id, f"{spec.label}{extra}: {spec.description}"))
    if not offered:
        screen.notify(f"All in state: the service takes no action on {state} nodes")
        return
    question = f"All {len(members)} {state} nodes of {pool_id}: which action?"
    action_id = await screen.app.push_screen_wait(ChoiceScreen(question, offered))
    if action_id is None:
        return
    spec = ACTIONS[action_id]
    targets = sorted(node.id for node in members if refusal(spec, node) is None)
    screen.confirm_action(
        spec,
        targets,
        perform_for(spec, screen.client, Scope(pool_id=pool_id)),
        context=f"pool {pool_id}",
        heading=f"{spec.label} all {len(targets)} {state} nodes of {pool_id}",
    )
