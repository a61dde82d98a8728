"""Tests the command line's start-up path: what it imports, and the demo emulator's launch.

`batch-tui --demo` launches the emulator before importing the UI, and the emulator seeds and
starts serving in its own thread while the UI is imported and starts, so the first screen with
data comes sooner (`bench/startup.py` times it). These tests hold that path to what it
promises: light imports, a launch that does not wait, requests that wait for the emulator
instead of failing, and a quick, reported failure when the emulator cannot start.
"""

from __future__ import annotations

import base64
import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from batch_tui.accounts import AccountTarget
from batch_tui.batch.auth import TokenCredentialAuth
from batch_tui.cli import DEMO_TARGET, DemoLauncher, build_app, build_parser, main
from batch_tui.config import Settings
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.http.background import BackgroundEmulator
from batch_tui.emulator.scenarios import catalog
from batch_tui.ui.session import AccountSession, open_session, plain_http_transport

API = "api-version=2024-07-01.20.0"


def loaded_after(statement: str, prefixes: tuple[str, ...]) -> list[str]:
    """Runs `statement` in a fresh interpreter; returns the modules it loaded of `prefixes`."""
    code = (
        f"import sys\n{statement}\n"
        f"print(','.join(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return [name for name in done.stdout.strip().split(",") if name]


def test_importing_the_cli_leaves_the_ui_the_client_and_the_emulator_for_later() -> None:
    heavy = (
        *("textual", "httpx", "uvicorn", "starlette", "azure"),
        *("batch_tui.ui", "batch_tui.batch", "batch_tui.emulator"),
    )
    assert loaded_after("import batch_tui.cli", heavy) == []


def test_a_request_sent_before_the_emulator_serves_waits_for_it(tmp_path: Path) -> None:
    settings = EmulatorSettings(account="demo", scenario="demo", data_dir=tmp_path, persist=False)
    emulator = BackgroundEmulator(settings).start(wait=False)
    try:
        # Unsigned: the emulator itself must answer (401), not the kernel (refused).
        response = httpx.get(f"{emulator.url}/pools?{API}", timeout=30)
        assert response.status_code == 401
        assert response.json()["code"] == "AuthenticationFailed"
        assert emulator.started and emulator.failure is None
    finally:
        emulator.stop()


def _seed_that_fails(emu: object) -> None:
    raise RuntimeError("the scenario could not be seeded")


@pytest.fixture
def failing_scenario(monkeypatch: pytest.MonkeyPatch) -> str:
    """A scenario whose seed fails: the emulator builds, then cannot start."""
    monkeypatch.setitem(catalog._SEEDERS, "failing", (_seed_that_fails, None))
    return "failing"


def test_an_emulator_that_cannot_start_refuses_requests_and_says_why(
    tmp_path: Path, failing_scenario: str
) -> None:
    settings = EmulatorSettings(data_dir=tmp_path, persist=False, scenario=failing_scenario)
    emulator = BackgroundEmulator(settings).start(wait=False)
    try:
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{emulator.url}/pools?{API}", timeout=30)
    finally:
        emulator.stop()  # joins the thread, which has recorded why it ended
    assert emulator.failure is not None and not emulator.started


def test_waiting_for_an_emulator_that_cannot_start_raises(
    tmp_path: Path, failing_scenario: str
) -> None:
    settings = EmulatorSettings(data_dir=tmp_path, persist=False, scenario=failing_scenario)
    emulator = BackgroundEmulator(settings)
    try:
        with pytest.raises(RuntimeError, match="failed to start"):
            emulator.start()
    finally:
        emulator.stop()


def test_an_unknown_scenario_fails_at_start(tmp_path: Path) -> None:
    settings = EmulatorSettings(data_dir=tmp_path, persist=False, scenario="no-such-scenario")
    with pytest.raises(ValueError, match="unknown scenario"):
        BackgroundEmulator(settings).start(wait=False)


def test_settings_that_cannot_build_an_emulator_fail_at_start(tmp_path: Path) -> None:
    settings = EmulatorSettings(data_dir=tmp_path, persist=False, faults="no-such-fault")
    with pytest.raises(ValueError, match="unknown fault kind"):
        BackgroundEmulator(settings).start(wait=False)


def test_plain_http_endpoints_get_a_transport_that_loads_no_certificates() -> None:
    assert plain_http_transport("https://acct.westus.batch.azure.com") is None
    assert isinstance(plain_http_transport("http://127.0.0.1:8765"), httpx.AsyncHTTPTransport)


async def test_demo_opens_the_launched_emulator_with_its_data(tmp_path: Path) -> None:
    demo = DemoLauncher(tmp_path)
    try:
        emulator = demo.launch()
        assert demo.launch() is emulator
        app = build_app(build_parser().parse_args(["--demo"]), Settings(), demo)
        assert app.open_target is not None and app.open_target.is_demo
        assert app.open_target.url == emulator.url
        assert DEMO_TARGET in app.targets
        session = open_session(app.open_target)
        try:
            pools = await session.client.list_pools()
        finally:
            await session.aclose()
        assert {"render-pool", "gpu-pool", "etl-pool"} <= {pool.id for pool in pools}
    finally:
        demo.stop()
    assert demo.failure is None


def test_the_demo_launcher_without_a_launch_has_nothing_to_stop(tmp_path: Path) -> None:
    demo = DemoLauncher(tmp_path)
    demo.stop()
    assert demo.emulator is None and demo.failure is None


async def test_one_entra_sign_in_serves_the_account_list_and_the_accounts_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--auth device-code` without an account: the account screen lists the accounts found
    through Resource Manager, and opening one uses that same sign-in (a second credential
    would show a second device code). Closing an account leaves the shared sign-in open."""
    made: list[tuple[str, str | None, ClosingCredential]] = []

    def make_credential(method: str, *, tenant_id: str | None = None, **_: object) -> object:
        credential = ClosingCredential()
        made.append((method, tenant_id, credential))
        return credential

    monkeypatch.setattr("batch_tui.batch.auth.make_credential", make_credential)
    monkeypatch.setattr("batch_tui.ui.session.make_credential", make_credential)
    args = build_parser().parse_args(["--auth", "device-code", "--tenant", "contoso"])
    app = build_app(args, Settings(), DemoLauncher(tmp_path))
    assert app.open_target is None and app.discover is not None
    [(method, tenant, signed_in)] = made
    assert (method, tenant) == ("device-code", "contoso")

    found = [
        AccountTarget(name=name, url=f"https://{name}.westeurope.batch.azure.com", account=name,
                      auth="device-code", tenant_id="contoso")
        for name in ("render", "archive")
    ]  # fmt: skip
    sessions = [app.session_factory(target) for target in found]
    assert all(credential_of(session) is signed_in for session in sessions)
    for session in sessions:
        await session.aclose()
    assert not signed_in.closed
    assert len(made) == 1

    other = AccountTarget(name="x", url="https://x.batch.azure.com", account="x", auth="cli")
    session = app.session_factory(other)  # another method: a sign-in of its own
    assert len(made) == 2 and credential_of(session) is made[1][2]
    await session.aclose()
    assert made[1][2].closed


async def test_a_device_code_sign_in_is_remembered_by_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--auth device-code`: the first start signs in once and keeps the record (0600) in the
    user data directory; the next start hands it to the credential, so no device code shows."""
    from batch_tui import paths
    from batch_tui.batch.arm import ARM_SCOPE
    from batch_tui.batch.sign_in import DeviceCodeSignIn
    from batch_tui.ui.session import ArmDiscoverer
    from tests.sign_in_standin import stand_in

    kind = stand_in()
    monkeypatch.setattr("azure.identity.DeviceCodeCredential", kind)
    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path / "data")
    args = build_parser().parse_args(["--auth", "device-code", "--tenant", "contoso"])

    first = build_app(args, Settings(), DemoLauncher(tmp_path))
    assert isinstance(first.discover, ArmDiscoverer)
    arm = first.discover.auth
    assert isinstance(arm, TokenCredentialAuth) and isinstance(arm.credential, DeviceCodeSignIn)
    arm.credential.get_token(ARM_SCOPE)  # what listing the accounts does first
    assert kind.made[0].prompts == 1
    [record] = (tmp_path / "data").glob("sign-in-*.json")
    assert record.stat().st_mode & 0o777 == 0o600

    build_app(args, Settings(), DemoLauncher(tmp_path))  # the next start
    remembered = kind.made[1].kwargs["authentication_record"]
    assert remembered is not None and remembered.username == "alice@contoso.com"
    assert kind.made[1].kwargs["tenant_id"] == "contoso"
    target = AccountTarget(name="render", url="https://render.westeurope.batch.azure.com",
                           account="render", auth="device-code", tenant_id="contoso")  # fmt: skip
    session = open_session(target)  # a configured device-code account: remembered too
    credential = credential_of(session)
    assert isinstance(credential, DeviceCodeSignIn) and credential.username == "alice@contoso.com"
    await session.aclose()
    assert kind.made[-1].prompts == 0


class ClosingCredential:
    """A credential that says whether it was closed."""

    closed = False

    def get_token(self, *scopes: str, **_: object) -> object:
        raise AssertionError("no token is needed to open a session")

    def close(self) -> None:
        self.closed = True


def credential_of(session: AccountSession) -> object:
    auth = session.client._t.auth
    assert isinstance(auth, TokenCredentialAuth)
    return auth.credential


def test_the_account_given_on_the_command_line_is_listed_on_the_account_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back on the account screen, the account batch-tui started with can be opened again."""
    monkeypatch.setenv("AZURE_BATCH_ACCESS_KEY", "a2V5")
    args = build_parser().parse_args(["--url", "https://acct.westeurope.batch.azure.com"])
    app = build_app(args, Settings(), DemoLauncher(tmp_path))
    assert app.open_target is not None
    assert app.targets[0] == app.open_target and app.targets[-1] == DEMO_TARGET
    launcher = DemoLauncher(tmp_path)
    try:
        demo = build_app(build_parser().parse_args(["--demo"]), Settings(), launcher)
        assert [t for t in demo.targets if t.is_demo] == [DEMO_TARGET]  # listed once
    finally:
        launcher.stop()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--account", "acct"], "--account needs --url"),
        (["--auth", "shared-key"], "--auth shared-key needs --url"),
        (["emulator", "--key", "not base64!"], "--key must be base64"),
    ],
)
def test_options_that_cannot_take_effect_stop_with_a_message(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_BATCH_ENDPOINT", raising=False)
    assert main(argv) == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ('[keymap]\n"node.reboto" = "ctrl+r"\n', "[keymap] 'node.reboto': no key has this id"),
        ('[ui]\ntheme = "solarised-neon"\n', "[ui] theme 'solarised-neon' is not a theme"),
    ],
)
def test_a_keymap_id_or_theme_the_app_does_not_have_stops_with_a_message(
    config: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "config.toml"
    file.write_text(config)
    assert main(["--config", str(file)]) == 2
    err = capsys.readouterr().err
    assert str(file) in err and says in err


def test_every_binding_id_the_readme_and_help_name_is_known() -> None:
    from batch_tui.ui.settings_check import binding_ids, settings_problem

    known = binding_ids()
    assert {"node.reboot", "app.quit", "nodes.heatmap", "table.sort", "help.close"} <= known
    assert {"tasks.go-to", "job.prep-release", "overview.jobs"} <= known
    readme = Settings(keymap={"node.reboot": "ctrl+r", "app.quit": "q,ctrl+q"})
    assert settings_problem(readme, {"textual-dark"}, Path("config.toml")) is None


def test_an_emulator_built_with_a_key_that_is_not_base64_says_so() -> None:
    from batch_tui.emulator import build_emulator

    with pytest.raises(ValueError, match="the account key must be base64"):
        build_emulator(EmulatorSettings(key="not base64!"))


# --- the emulator's key: out of `ps`, strong enough off loopback -----------------------------

KEY_32 = base64.b64encode(b"k" * 32).decode()
KEY_16 = base64.b64encode(b"k" * 16).decode()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Records each `serve` call of `batch-tui emulator` instead of serving."""
    from batch_tui.emulator.http import server

    calls: list[dict[str, Any]] = []

    def serve(settings: EmulatorSettings, host: str, port: int, **kwargs: Any) -> None:
        calls.append({"settings": settings, "host": host, **kwargs})

    monkeypatch.setattr(server, "serve", serve)
    monkeypatch.delenv("BATCH_TUI_EMULATOR_KEY", raising=False)
    return calls


def test_the_emulator_key_comes_from_the_environment(
    served: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BATCH_TUI_EMULATOR_KEY", KEY_32)
    assert main(["emulator", "--port", "0"]) == 0
    assert served[0]["settings"].key == KEY_32
    assert served[0]["key_source"] == "BATCH_TUI_EMULATOR_KEY"
    assert served[0]["warnings"] == [] and capsys.readouterr().err == ""


def test_the_emulator_key_comes_from_a_file(
    served: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY_32 + "\n")
    key_file.chmod(0o600)
    assert main(["emulator", "--key-file", str(key_file)]) == 0
    assert served[0]["settings"].key == KEY_32
    assert served[0]["key_source"] == f"--key-file {key_file}"
    assert served[0]["warnings"] == [] and capsys.readouterr().err == ""


def test_a_key_file_others_can_read_is_used_with_a_warning(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY_32)
    key_file.chmod(0o644)
    assert main(["emulator", "--key-file", str(key_file)]) == 0
    assert served[0]["settings"].key == KEY_32
    assert served[0]["warnings"] == [f"{key_file} can be read by other users (chmod 600 it)"]


def test_key_on_the_command_line_works_on_loopback_with_a_warning(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCH_TUI_EMULATOR_KEY", KEY_16)  # the flag wins over the environment
    assert main(["emulator", "--key", KEY_32]) == 0
    assert served[0]["settings"].key == KEY_32 and served[0]["key_source"] is None
    (warning,) = served[0]["warnings"]
    assert warning.startswith("--key") and "ps" in warning and "BATCH_TUI_EMULATOR_KEY" in warning


@pytest.mark.parametrize(
    ("argv", "env_key", "says"),
    [
        (["--host", "0.0.0.0"], None, "BATCH_TUI_EMULATOR_KEY or --key-file"),
        (["--host", "0.0.0.0", "--key", KEY_32], None, "--key is visible in ps"),
        (["--host", "10.1.2.3"], KEY_16, "16 bytes"),
        (["--key", KEY_32, "--key-file", "k"], None, "not allowed with argument"),
        (["--key-file", "/nonexistent/key"], None, "--key-file /nonexistent/key: cannot read"),
    ],
    ids=["no-key", "flag", "short-key", "two-ways", "missing-file"],
)
def test_emulator_key_misuse_exits_2(
    served: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env_key: str | None,
    says: str,
) -> None:
    if env_key:
        monkeypatch.setenv("BATCH_TUI_EMULATOR_KEY", env_key)
    with contextlib.suppress(SystemExit):  # argparse's own errors exit 2 by raising
        assert main(["emulator", *argv]) == 2
    assert says in capsys.readouterr().err and served == []


def test_a_non_loopback_bind_takes_a_32_byte_key_from_the_environment(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCH_TUI_EMULATOR_KEY", KEY_32)
    assert main(["emulator", "--host", "0.0.0.0"]) == 0
    assert served[0]["host"] == "0.0.0.0" and served[0]["settings"].key == KEY_32


def test_emulator_help_says_where_the_key_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["emulator", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--key-file" in text and "BATCH_TUI_EMULATOR_KEY" in text
    assert "32 bytes" in text and "ps" in text


def test_a_generated_key_is_printed(served: list[dict[str, Any]]) -> None:
    assert main(["emulator"]) == 0
    assert served[0]["key_source"] is None and len(served[0]["settings"].key) >= 44
