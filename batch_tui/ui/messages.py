"""Provides the messages that cross screens: an account was chosen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from batch_tui.accounts import AccountTarget


@dataclass
class AccountChosen(Message):
    """The user picked an account on the account screen; the app opens it."""

    target: AccountTarget
