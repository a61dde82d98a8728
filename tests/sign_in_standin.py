"""A stand-in for azure-identity's DeviceCodeCredential: Entra cannot be reached from tests."""

from __future__ import annotations

import threading
from typing import Any

from azure.core.credentials import AccessToken
from azure.identity import AuthenticationRecord, AuthenticationRequiredError

ALICE = AuthenticationRecord(
    tenant_id="72f988bf-0000-0000-0000-2d7cd011db47",
    client_id="04b07795-8ddb-461a-bbee-02f9e1bf7b46",
    authority="login.microsoftonline.com",
    home_account_id="alice-oid.72f988bf-0000-0000-0000-2d7cd011db47",
    username="alice@contoso.com",
)
BOB = AuthenticationRecord(
    ALICE.tenant_id, ALICE.client_id, ALICE.authority, "bob-oid", "bob@contoso.com"
)


class StandInDeviceCode:
    """Takes DeviceCodeCredential's keyword arguments; every instance is kept in `made`.

    `authenticate` is the device code: it counts in `prompts` and returns `record`. With an
    `authentication_record` (or after `authenticate`) `get_token` answers silently, as from the
    persistent cache, unless `expired` is set: then it raises AuthenticationRequiredError, as
    the real one does when its refresh token is no longer valid.
    """

    made: list[StandInDeviceCode] = []
    record = ALICE
    expired = False

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.signed_in: AuthenticationRecord | None = kwargs.get("authentication_record")
        self.prompts = 0
        self.closed = False
        self.entered = threading.Event()
        type(self).made.append(self)

    def authenticate(self, *, scopes: list[str], **_: Any) -> AuthenticationRecord:
        self.entered.set()
        self.prompts += 1
        self.signed_in = type(self).record
        type(self).expired = False
        return self.signed_in

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        if self.signed_in is None or type(self).expired:
            raise AuthenticationRequiredError(scopes, message="sign in again")
        return AccessToken(f"token-for-{self.signed_in.username}", 10**10)

    def close(self) -> None:
        self.closed = True


def stand_in() -> type[StandInDeviceCode]:
    """A fresh stand-in class (its own `made`, `record` and `expired`)."""
    return type("StandIn", (StandInDeviceCode,), {"made": [], "record": ALICE, "expired": False})
