"""Provides the messages that cross screens: account chosen, action finished."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from batch_tui.accounts import AccountTarget
from batch_tui.ui.action_runs import Outcome


@dataclass
class AccountChosen(Message):
    """The user picked an account on the account screen; the app opens it."""

    target: AccountTarget


@dataclass
class ActionFinished(Message):
    """A confirmed action ran (posted to the app, so any screen may react)."""

    action_id: str
    """The action's id, e.g. "node.reboot"."""
    outcomes: tuple[Outcome, ...]
    """One per target, with the error of each failed one."""

    @property
    def succeeded(self) -> bool:
        """Whether every target succeeded."""
        return all(outcome.error is None for outcome in self.outcomes)
