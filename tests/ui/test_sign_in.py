"""Tests the account screen's sign-in line and sign-out key (issue 12, "Sign in once")."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken

from batch_tui.batch.arm import ARM_SCOPE
from batch_tui.batch.auth import TokenCredentialAuth
from batch_tui.batch.sign_in import DeviceCodeSignIn, SignInStore
from batch_tui.ui.screens.accounts import AccountsScreen
from batch_tui.ui.session import arm_discoverer
from tests.arm_standin import arm_transport
from tests.sign_in_standin import ALICE, stand_in
from tests.ui.support import capture_notifications, pilot_settle, screen_text, wait_for_text


def device_code_discovery(credential: Any, method: str = "device-code") -> Any:
    auth = TokenCredentialAuth(credential, ARM_SCOPE)
    return arm_discoverer(auth, method=method, transport=arm_transport())


async def test_the_account_screen_says_who_signed_in_and_x_signs_out(make_app, tmp_path: Path):
    kind, store = stand_in(), SignInStore(tmp_path / "data")
    credential = DeviceCodeSignIn(store=store, factory=kind)
    app = make_app(open_account=False, discover=device_code_discovery(credential))
    async with app.run_test(size=(120, 30)) as pilot:
        seen = capture_notifications(app)
        await pilot_settle(pilot)
        text = await wait_for_text(pilot, "Signed in as alice@contoso.com")
        assert "prodbatch" in text, "listing the accounts signed in (one device code)"
        assert f"tenant {ALICE.tenant_id}" in text and "Sign out" in text
        assert kind.made[0].prompts == 1
        record = store.record_path(None)
        assert stat.S_IMODE(record.stat().st_mode) == 0o600

        await pilot.press("x")
        await pilot_settle(pilot)
        assert not record.exists() and credential.record is None
        assert kind.made[0].closed, "the shared credential is closed"
        assert any("Signed out alice@contoso.com" in message for message, _ in seen)
        text = await wait_for_text(pilot, "Not signed in")
        assert "Signed in as" not in text
        assert isinstance(app.screen, AccountsScreen)
        assert app.screen.check_action("sign_out", ()) is None, "nothing left to sign out"


async def test_a_remembered_sign_in_shows_at_start_without_a_device_code(make_app, tmp_path: Path):
    kind, store = stand_in(), SignInStore(tmp_path / "data")
    store.save(None, ALICE)  # a previous start signed in
    credential = DeviceCodeSignIn(store=store, factory=kind)
    app = make_app(open_account=False, discover=device_code_discovery(credential))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot_settle(pilot)
        text = await wait_for_text(pilot, "prodbatch")
        assert "Signed in as alice@contoso.com" in text
        assert kind.made[0].prompts == 0


class AzCliStandIn:
    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        return AccessToken("az-token", 10**10)


async def test_an_azure_cli_sign_in_is_az_s_to_end(make_app):
    app = make_app(open_account=False, discover=device_code_discovery(AzCliStandIn(), "cli"))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot_settle(pilot)
        text = await wait_for_text(pilot, "Azure CLI")
        assert "az logout signs out" in text
        assert "Sign out" not in screen_text(app)
        assert app.screen.check_action("sign_out", ()) is False


async def test_without_an_entra_sign_in_there_is_no_sign_in_line(make_app):
    app = make_app(open_account=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot_settle(pilot)
        assert app.screen.query_one("#sign-in").has_class("hidden")
        assert "Sign out" not in screen_text(app)


def test_a_damaged_remembered_sign_in_is_named_on_the_account_screen(tmp_path: Path) -> None:
    from batch_tui.ui.screens.accounts import sign_in_line

    store = SignInStore(tmp_path)
    store.record_path(None).write_text("{not json")
    credential = DeviceCodeSignIn(store=store, factory=lambda **_: object())
    line = sign_in_line("device-code", credential)
    assert line.startswith("Not signed in: the remembered sign-in ") and "is damaged" in line
