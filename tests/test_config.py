"""Tests the config file: defaults, validation messages, key resolution, private writes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from batch_tui import paths
from batch_tui.config import ConfigError, load_settings, parse_settings

GOOD = """
[accounts.prod]
url = "https://prod.westeurope.batch.azure.com"
auth = "shared-key"
key_env = "PROD_BATCH_KEY"

[accounts.dev]
url = "https://devacct.eastus.batch.azure.com"
account = "devacct"
auth = "device-code"
tenant_id = "contoso.onmicrosoft.com"

[refresh]
tasks = 30

[ui]
read_only = true

[keymap]
"node.reboot" = "ctrl+r"
"""


def test_good_file_parses_into_typed_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROD_BATCH_KEY", "a2V5")
    settings = parse_settings(GOOD, Path("config.toml"))
    prod = settings.accounts["prod"]
    assert prod.name == "prod"
    assert prod.resolve_key() == "a2V5"
    assert settings.accounts["dev"].auth == "device-code"
    assert settings.refresh.tasks == 30
    assert settings.refresh.pools == 10  # untouched defaults stay
    assert settings.ui.read_only is True
    assert settings.keymap == {"node.reboot": "ctrl+r"}


def test_missing_key_env_means_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROD_BATCH_KEY", raising=False)
    settings = parse_settings(GOOD, Path("config.toml"))
    assert settings.accounts["prod"].resolve_key() is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[accounts.a]\nurl = "https://a.b.batch.azure.com"\ncolour = 1',
            "unknown key `accounts.a.colour`",
        ),
        ('[accounts.a]\nurl = "https://a.b"\nauth = "password"', "`accounts.a.auth`"),
        ("[accounts.a]\nauth = 'cli'", "missing required field `url`"),
        ('[accounts.a]\nurl = "a.b.batch.azure.com"', "expected an http(s) URL"),
        ("[refresh]\ntasks = 'soon'", "`refresh.tasks`"),
        ("[refresh]\nnodes = 0", "`refresh.nodes`: expected a number of seconds > 0"),
        ("volume = 11", "unknown key `volume`"),
        ("[ui\n", "not valid TOML"),
    ],
)
def test_bad_files_name_the_file_and_the_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(text, Path("/home/me/.config/batch-tui/config.toml"))
    message = str(info.value)
    assert message.startswith("/home/me/.config/batch-tui/config.toml: ")
    assert expected in message


def test_account_repr_hides_the_key() -> None:
    settings = parse_settings(
        '[accounts.a]\nurl = "https://a.b.batch.azure.com"\nkey = "c2VjcmV0LWtleQ=="',
        Path("c.toml"),
    )
    assert "c2VjcmV0LWtleQ" not in repr(settings.accounts["a"])
    assert "c2VjcmV0LWtleQ" not in repr(settings)


def test_load_settings_honours_env_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "elsewhere.toml"
    file.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv(paths.CONFIG_ENV, str(file))
    assert paths.config_file() == file
    assert "prod" in load_settings().accounts


def test_no_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml")
    assert settings.accounts == {}
    assert settings.refresh.tasks == 15


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_bytes(b"\xff\xfe\x00not utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(file)


def test_write_private_creates_0600_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "snapshot.json"
    paths.write_private(target, b"{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o644)
    paths.write_private(target, b"{}")  # rewriting tightens an existing file too
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
