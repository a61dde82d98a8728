"""Provides PoolNodes: a pool's nodes as a screen keeps them across refreshes (no widgets).

A refresh of a pool of more than a page of nodes lists everything only every `full_every`
times (and when asked): a stream per busy node state at once (`busy_node_states`, from the
pool's node counts), then what changed state while those streamed. In between it asks only
for the nodes whose state changed (`DeltaPlan`). The node list and the heatmap both use it.

With a `$filter` (the node list's `/stexit:1`), one stream lists what it selects, and a delta
refresh drops the nodes that left it (the same test on the nodes in hand).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from batch_tui.batch import odata
from batch_tui.batch.client import PAGE_SIZE, BatchClient
from batch_tui.batch.models import Node
from batch_tui.batch.streams import busy_node_states
from batch_tui.ui.delta import DeltaPlan, newer

FULL_NODES_EVERY = 6
"""In a pool of more than a page of nodes, refreshes between full listings (a minute at the
default 10 s): in between, only nodes whose state changed are fetched. A full listing also
brings what a state change does not show: running-task counters, ages, removed nodes."""

Arrived = Callable[[list[Node]], None]
"""Told each batch of nodes that are new or changed, as they arrive."""


class PoolNodes:
    """The nodes of one pool and when to list them all.

    Args:
        pool_id: The pool.
        select: The node fields the screen shows (``$select``).
        where: The ``$filter`` of the nodes to keep, or None for all.
        keeps: The same test on a node in hand (with `where`).
    """

    def __init__(
        self,
        pool_id: str,
        select: Sequence[str],
        where: odata.Filter | None = None,
        keeps: Callable[[Node], bool] | None = None,
    ) -> None:
        self.pool_id = pool_id
        self.select = select
        self.where = where
        self.keeps = keeps
        self.nodes: dict[str, Node] = {}
        self._delta = DeltaPlan(full_every=FULL_NODES_EVERY)

    async def refresh(
        self, client: BatchClient, *, forced: bool, arrived: Arrived | None = None
    ) -> list[str]:
        """Brings the nodes up to date; returns the ids of nodes that left the pool.

        Args:
            client: The account's client.
            forced: The user asked (`r`): list everything.
            arrived: Told each batch of new or changed nodes as it arrives.
        """
        tell = arrived or _ignore
        big = len(self.nodes) > PAGE_SIZE
        if not self._delta.wants_full(forced=forced, big=big):
            return await self._changed(client, tell)
        began = time.monotonic()
        states = await self._busy_states(client)
        if self.where is not None:
            pages = client.iter_nodes(self.pool_id, select=self.select, filter=self.where)
        else:
            pages = client.iter_nodes_by_state(self.pool_id, select=self.select, states=states)
        seen: dict[str, Node] = {}
        async for page in pages:
            fresh = [node for node in page if newer(node, seen.get(node.id))]
            seen.update((node.id, node) for node in fresh)
            tell(fresh)
        gone = [node_id for node_id in self.nodes if node_id not in seen]
        self.nodes = seen
        self._delta.listed(
            (n.state_transition_time for n in seen.values()), time.monotonic() - began
        )
        if states:  # what changed state while the parts streamed
            gone += await self._changed(client, tell)
        return gone

    async def _busy_states(self, client: BatchClient) -> tuple[str, ...]:
        """The states to list by a stream each: none for a pool of a page or so (as last
        listed), whose one stream is fewest requests."""
        if len(self.nodes) <= PAGE_SIZE or self.where is not None:
            return ()
        return busy_node_states(await client.get_pool_node_counts(self.pool_id), PAGE_SIZE)

    async def _changed(self, client: BatchClient, tell: Arrived) -> list[str]:
        """Brings in the nodes whose state changed; returns those that left the filter."""
        since = self._delta.changed_since()
        changed = await client.list_nodes_changed(self.pool_id, since, select=self.select)
        self._delta.changed(node.state_transition_time for node in changed)
        keeps = self.keeps
        kept = changed if keeps is None else [node for node in changed if keeps(node)]
        left = [n.id for n in changed if keeps is not None and not keeps(n) and n.id in self.nodes]
        for node_id in left:
            del self.nodes[node_id]
        self.nodes.update((node.id, node) for node in kept)
        tell(kept)
        return left


def _ignore(nodes: list[Node]) -> None:
    return None
