"""Provides PoolActionScreen: the pool action keys (resize, stop resize, autoscale, manual,
delete) for the screens that show pools.

The pool detail and the pool tree subclass it. A subclass provides `pool_targets()` (the pool in
view or under the cursor) and `known_pool(id)` (the last `Pool` seen, so that a key is greyed
out where the service would refuse it). Stop resize, disable autoscale and delete are plain
registry actions (`act`); resize and autoscale read the pool afresh, then open their dialogs
(`pool_dialogs`), and send the request once it is confirmed.
"""

from __future__ import annotations

from datetime import timedelta

from batch_tui.batch.models import AutoScaleRun, Pool
from batch_tui.ui.action_runs import each
from batch_tui.ui.actions import ACTIONS, ActionSpec, Kind, Scope, pool_action_refusal
from batch_tui.ui.pool_changes import ResizeRequest
from batch_tui.ui.screens.base import BatchScreen
from batch_tui.ui.screens.confirm import Confirmation
from batch_tui.ui.screens.pool_dialogs import (
    AutoscaleEditorScreen,
    LoadPool,
    PoolChangeConfirm,
    ResizePoolScreen,
    resize_lines,
)


class PoolActionScreen(BatchScreen):
    """A screen whose pool can be resized, autoscaled or deleted from the keyboard.

    A subclass lists `action_bindings("pool")` after its own keys, which then come first on
    the key bar (at 80 columns it has room for only a few).
    """

    def pool_targets(self) -> tuple[str, ...]:
        """The pool an action applies to: the one in view or under the cursor."""
        return ()

    def known_pool(self, pool_id: str) -> Pool | None:
        """The last data seen for a pool, or None."""
        return None

    def action_targets(self, kind: Kind) -> tuple[str, ...]:
        return self.pool_targets() if kind == "pool" else ()

    def action_subject(self, kind: Kind, target: str) -> Pool | None:
        return self.known_pool(target) if kind == "pool" else None

    def targets_marked(self, kind: Kind) -> bool:
        return False  # a pool action acts on the one pool under the cursor, never on marks

    def action_scope(self) -> Scope:
        return Scope(pool_id=next(iter(self.pool_targets()), ""))

    def _pool_for(self, spec: ActionSpec) -> Pool | None:
        """The pool under action as last seen (only its id if not seen yet), if the service
        would allow `spec` on it; else None, and a toast says why.

        The dialogs open with it at once and read the pool afresh themselves: a read before
        they open would send the keys typed after the action's key to this screen.
        """
        targets = self.pool_targets()
        if not targets:
            self.notify(f"{spec.label}: no pool selected", severity="warning")
            return None
        pool = self.known_pool(targets[0]) or Pool(id=targets[0])
        reason = pool_action_refusal(spec.id, pool) if pool.allocation_state else None
        if reason is not None:
            self.notify(f"{spec.label}: not on pool {pool.id}: {reason}", markup=False)
            return None
        return pool

    def _loader(self, pool_id: str) -> LoadPool:
        client = self.client

        async def load() -> Pool:
            return await client.get_pool(pool_id)

        return load

    # -- resize ---------------------------------------------------------------------------

    def flow_resize_pool(self) -> None:
        """Asks for the new targets, confirms the change, then resizes the pool."""
        spec = ACTIONS["pool.resize"]
        pool = self._pool_for(spec)
        if pool is None:
            return

        def entered(request: ResizeRequest | None) -> None:
            if request is None:
                self.notify(f"{spec.label}: cancelled, nothing was sent")
                return
            self._confirm_resize(spec, dialog.pool, request)

        dialog = ResizePoolScreen(pool, spec, self._loader(pool.id))
        self.app.push_screen(dialog, callback=entered)

    def _confirm_resize(self, spec: ActionSpec, pool: Pool, request: ResizeRequest) -> None:
        client = self.client

        async def resize(pool_id: str, _option: str | None) -> None:
            await client.resize_pool(
                pool_id,
                target_dedicated=request.dedicated,
                target_low_priority=request.low_priority,
                option=request.option,
                resize_timeout=request.timeout,
            )

        def confirmed(result: Confirmation | None) -> None:
            if result is None:
                self.notify(f"{spec.label}: cancelled, nothing was sent")
                return
            self.run_worker(
                self._perform(spec, [pool.id], each(resize), None),
                group=f"{self.refresh_group}-action",
                exit_on_error=False,
            )

        dialog = PoolChangeConfirm(spec, pool.id, resize_lines(pool, request))
        self.app.push_screen(dialog, callback=confirmed)

    # -- autoscale ------------------------------------------------------------------------

    def flow_autoscale(self) -> None:
        """Opens the formula editor: evaluate on the service, then apply (confirmed)."""
        spec = ACTIONS["pool.autoscale"]
        pool = self._pool_for(spec)
        if pool is None:
            return
        client = self.client

        async def evaluate(formula: str) -> AutoScaleRun:
            return await client.evaluate_pool_autoscale(pool.id, formula)

        async def apply(formula: str, interval: timedelta) -> None:
            await client.enable_pool_autoscale(pool.id, formula, interval)

        def closed(applied: bool | None) -> None:
            if not applied:
                self.notify(f"{spec.label}: closed, nothing more was sent")
                return
            self.notify(f"{spec.label}: pool {pool.id} scales with the new formula", markup=False)
            self.cache.invalidate()
            self.refresh_data()

        editor = AutoscaleEditorScreen(pool, spec, evaluate, apply, self._loader(pool.id))
        self.app.push_screen(editor, callback=closed)
