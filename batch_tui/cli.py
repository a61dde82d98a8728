"""Provides the command line: parse arguments, load config, then run the app or the emulator."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from batch_tui import __version__
from batch_tui.accounts import (
    ENV_ENDPOINT,
    AccountTarget,
    target_from_command_line,
    targets_from_settings,
)
from batch_tui.config import SIGN_IN_METHODS, ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from batch_tui.emulator.http.background import BackgroundEmulator
    from batch_tui.ui.app import BatchApp
    from batch_tui.ui.session import AccountSession


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser for `batch-tui` and its `emulator` subcommand."""
    parser = argparse.ArgumentParser(
        prog="batch-tui",
        description="A terminal explorer for Azure Batch. With no options it opens the "
        "account screen (accounts from the config file, plus the demo).",
        epilog="The shared key is read from AZURE_BATCH_ACCESS_KEY only, never from a flag. "
        "AZURE_BATCH_ENDPOINT and AZURE_BATCH_ACCOUNT stand in for --url and --account.",
    )
    parser.add_argument("--version", action="version", version=f"batch-tui {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="start a local emulator with demo data and open it"
    )
    parser.add_argument(
        "--url", help="the Batch account endpoint, e.g. https://acct.region.batch.azure.com"
    )
    parser.add_argument("--account", help="the Batch account name (default: from the URL)")
    parser.add_argument(
        "--auth",
        choices=SIGN_IN_METHODS,
        help="how to sign in (default: shared-key if AZURE_BATCH_ACCESS_KEY is set, else default)",
    )
    parser.add_argument("--tenant", help="the Entra tenant for cli and device-code sign-in")
    parser.add_argument(
        "--read-only", action="store_true", help="send no mutating request; hide mutating keys"
    )
    parser.add_argument("--config", type=Path, help="config file to use instead of the default")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    emulator = sub.add_parser(
        "emulator",
        help="serve the local Azure Batch emulator over HTTP",
        description="Serve the local Azure Batch emulator for the official SDKs, the Azure CLI "
        "and batch-tui. It prints its endpoint, account and key, and runs until Ctrl-C.",
        epilog="The account key (base64) is read from BATCH_TUI_EMULATOR_KEY or --key-file; "
        "without either a key is generated and printed. --key is for loopback use: every local "
        "user sees it in ps. Bound beyond loopback (--host), the emulator needs a key from "
        "BATCH_TUI_EMULATOR_KEY or --key-file of at least 32 bytes (decoded). Every request, "
        "the control endpoints /_emulator/faults and /_emulator/pools/{id}/preempt included, "
        "is signed with the key (SharedKey, with an ocp-date within 15 minutes); the control "
        "endpoints take application/json bodies only.",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    emulator.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    emulator.add_argument("--account", default="emulator", help="account name (default: emulator)")
    key = emulator.add_mutually_exclusive_group()
    key.add_argument(
        "--key-file", type=Path, metavar="PATH", help="read the account key (base64) from PATH"
    )
    key.add_argument(
        "--key",
        help="account key, base64, for loopback use: ps shows it to every local user "
        "(default: BATCH_TUI_EMULATOR_KEY, else a generated key)",
    )
    emulator.add_argument(
        "--scenario", choices=("empty", "demo", "large", "large-1m"), default="empty"
    )
    emulator.add_argument(
        "--executor",
        choices=("local", "simulated"),
        help="local runs tasks as real processes; simulated synthesises them "
        "(default: simulated for the large scenario, else local)",
    )
    emulator.add_argument(
        "--data-dir",
        type=Path,
        help="keep the state (and the node directories) here, so a restart finds it; "
        "without it the emulator runs in memory",
    )
    emulator.add_argument(
        "--faults",
        metavar="SPEC",
        help="inject faults, e.g. 'seed=7;429:rate=0.2:path=/jobs/*/tasks:retry-after=1;"
        "latency:ms=50:jitter=20' (change them at runtime at /_emulator/faults); a latency "
        "like the service's: 'latency:ms=150:per-item-us=200' (per request plus per item of "
        "the list page returned), or a named one: 'latency:profile=realistic' (the same) or "
        "'latency:profile=lan' (20 ms)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs batch-tui; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "emulator":
        return run_emulator(args)
    problem = command_line_problem(args)
    if problem:
        print(f"batch-tui: {problem}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"batch-tui: {exc}", file=sys.stderr)
        return 2
    return run_app(args, settings)


def command_line_problem(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> str | None:
    """Says which option cannot take effect without an endpoint, or None if all can."""
    env = os.environ if env is None else env
    if args.demo or args.url or env.get(ENV_ENDPOINT):
        return None
    if args.account:
        return "--account needs --url (or AZURE_BATCH_ENDPOINT): the account's endpoint"
    if args.auth == "shared-key":
        return "--auth shared-key needs --url (or AZURE_BATCH_ENDPOINT) and AZURE_BATCH_ACCESS_KEY"
    return None


def run_emulator(args: argparse.Namespace) -> int:
    """Serves the emulator until Ctrl-C."""
    from batch_tui.emulator.base.settings import EmulatorSettings
    from batch_tui.emulator.http import server
    from batch_tui.emulator.state import StateError

    key, source, problem = emulator_key(args, os.environ)
    problem = problem or emulator_problem(args, key, source)
    if problem:
        print(f"batch-tui emulator: {problem}", file=sys.stderr)
        return 2
    settings = EmulatorSettings(
        account=args.account,
        executor=args.executor or ("simulated" if args.scenario.startswith("large") else "local"),
        scenario=args.scenario,
        data_dir=args.data_dir,
        base_url=f"http://{args.host}:{args.port}",
        faults=args.faults,
    )
    if key is not None:
        settings.key = key
    # A key the user keeps (environment, file) is named in the banner, not printed.
    kept = source if key is not None and args.key is None else None
    try:
        server.serve(
            settings, args.host, args.port, key_source=kept, warnings=emulator_key_warnings(args)
        )
    except StateError as exc:  # a damaged or busy data dir: its one-line message says it all
        print(f"batch-tui emulator: {exc}", file=sys.stderr)
        return 1
    return 0


def emulator_problem(args: argparse.Namespace, key: str | None, source: str) -> str | None:
    """Says why `batch-tui emulator` cannot start with these arguments and key, or None."""
    from batch_tui.emulator.base.settings import key_problem
    from batch_tui.emulator.http.faults_spec import FaultPlan
    from batch_tui.emulator.http.server import bind_problem

    bad_key = key_problem(key) if key is not None else None
    if bad_key:
        return f"{source} {bad_key}"
    problem = bind_problem(args.host, key, key_on_command_line=args.key is not None)
    if problem:
        return problem
    if args.scenario.startswith("large") and args.executor == "local":
        return (
            "the large scenario needs --executor simulated "
            "(100,000 real processes would not be a demo)"
        )
    if args.faults:
        try:
            FaultPlan.from_spec(args.faults)
        except ValueError as exc:
            return f"--faults: {exc}"
    return None


def emulator_key(
    args: argparse.Namespace, env: Mapping[str, str]
) -> tuple[str | None, str, str | None]:
    """Finds the key `batch-tui emulator` was given: `--key`, `--key-file`, else
    `BATCH_TUI_EMULATOR_KEY` (a flag wins over the environment).

    Returns:
        The key (None for a generated one), where it came from (for messages), and why it
        cannot be read (or None).
    """
    from batch_tui.emulator.base.settings import KEY_ENV, read_key_file

    if args.key is not None:
        return args.key, "--key", None
    if args.key_file is None:
        return env.get(KEY_ENV) or None, KEY_ENV, None
    source = f"--key-file {args.key_file}"
    try:
        return read_key_file(args.key_file), source, None
    except OSError as exc:
        return None, source, f"{source}: cannot read it ({exc.strerror or exc})"


def emulator_key_warnings(args: argparse.Namespace) -> list[str]:
    """Says what exposes the key `batch-tui emulator` was given: `--key`, or a key file other
    users may read. The emulator prints them once it is built, beside its banner."""
    from batch_tui.emulator.base.settings import key_file_exposed

    if args.key is not None:
        return [
            "--key shows the key to every local user (ps); "
            "give it in BATCH_TUI_EMULATOR_KEY or --key-file instead"
        ]
    try:
        exposed = args.key_file is not None and key_file_exposed(args.key_file)
    except OSError:
        exposed = False  # read a moment ago; gone now, which the start will not miss
    return [f"{args.key_file} can be read by other users (chmod 600 it)"] if exposed else []


def config_path(args: argparse.Namespace) -> Path:
    """The config file in use: `--config`, else `BATCH_TUI_CONFIG`, else the default."""
    from batch_tui import paths

    return Path(args.config) if args.config else paths.config_file()


def run_app(args: argparse.Namespace, settings: Settings) -> int:
    """Opens the explorer; the demo emulator starts when `--demo` is given or the demo is chosen."""
    from batch_tui.ui.settings_check import settings_problem

    with tempfile.TemporaryDirectory(prefix="batch-tui-demo-") as data_dir:
        demo = DemoLauncher(Path(data_dir))
        try:
            if args.demo:
                # First: the emulator imports and seeds in its thread while the UI is imported.
                demo.launch()
            app = build_app(args, settings, demo)
            problem = settings_problem(settings, set(app.available_themes), config_path(args))
            if problem:
                print(f"batch-tui: {problem}", file=sys.stderr)
                return 2
            app.run()
        finally:
            demo.stop()
    if demo.failure is not None:
        print(f"batch-tui: the demo emulator failed: {demo.failure!r}", file=sys.stderr)
        return 1
    return app.return_code or 0


def build_app(args: argparse.Namespace, settings: Settings, demo: DemoLauncher) -> BatchApp:
    """Builds the explorer for the command line; `bench/startup.py` times this same path.

    Args:
        args: The parsed command line (`--demo`, `--url`, `--auth` ...).
        settings: The loaded config.
        demo: Starts the demo emulator when the demo account is opened.
    """
    from batch_tui.ui.app import BatchApp

    open_target = target_from_command_line(args.url, args.account, args.auth, args.tenant)
    if args.demo:
        open_target = demo.target()
    targets = [*targets_from_settings(settings), DEMO_TARGET]
    if open_target is not None and not any(same_account(open_target, t) for t in targets):
        # Listed too: back on the account screen, the account it started with opens again.
        targets.insert(0, open_target)
    app = BatchApp(
        settings,
        targets=targets,
        open_target=open_target,
        read_only=args.read_only or settings.ui.read_only,
    )
    opener = app.session_factory
    app.session_factory = lambda target: opener(demo.target() if target.is_demo else target)
    if open_target is None and args.auth not in (None, "shared-key"):
        share_entra_sign_in(app, args.auth, args.tenant)
    return app


def same_account(one: AccountTarget, other: AccountTarget) -> bool:
    """Whether two targets open the same account the same way (the demo is one account)."""
    if one.is_demo or other.is_demo:
        return one.is_demo and other.is_demo
    return (one.url, one.auth, one.tenant_id) == (other.url, other.auth, other.tenant_id)


DEMO_TARGET = AccountTarget(
    name="demo (local emulator)", url="", account="demo", auth="shared-key", is_demo=True
)
"""The account screen's demo entry; its emulator starts when it is opened."""


class DemoLauncher:
    """Starts the demo emulator (demo scenario, real task processes) on first use."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.emulator: BackgroundEmulator | None = None

    def launch(self) -> BackgroundEmulator:
        """Starts the emulator if needed and returns at once; requests wait until it serves."""
        if self.emulator is None:
            from batch_tui.emulator.base.settings import EmulatorSettings
            from batch_tui.emulator.http.background import BackgroundEmulator

            settings = EmulatorSettings(
                account="demo",
                scenario="demo",
                executor="local",
                data_dir=self.data_dir,
                persist=False,  # the demo's data dir is a temp dir thrown away on exit
            )
            self.emulator = BackgroundEmulator(settings).start(wait=False)
        return self.emulator

    def target(self) -> AccountTarget:
        """Returns the demo's target, starting the emulator if needed."""
        return demo_target(self.launch())

    @property
    def failure(self) -> BaseException | None:
        """Why the emulator stopped on its own (it could not start), or None."""
        return self.emulator.failure if self.emulator is not None else None

    def stop(self) -> None:
        """Stops the emulator (and its task processes) if it was started."""
        if self.emulator is not None:
            self.emulator.stop()


def share_entra_sign_in(app: BatchApp, method: str, tenant: str | None) -> None:
    """Lists the Batch accounts of the user's subscriptions on the account screen, and opens
    them with the same sign-in.

    Used when `--auth` names an Entra method but no account. One credential serves Resource
    Manager and every account the user then opens with that method: a device code shows once
    (in the app), not again for each account.
    """
    from batch_tui.batch.arm import ARM_SCOPE
    from batch_tui.batch.auth import TokenCredentialAuth, make_credential
    from batch_tui.ui.session import arm_discoverer, open_session

    credential = make_credential(method, tenant_id=tenant, prompt_callback=app.show_device_code)
    arm = TokenCredentialAuth(credential, ARM_SCOPE)
    app.discover = arm_discoverer(arm, method=method, tenant=tenant)
    opener = app.session_factory

    def open_signed_in(target: AccountTarget) -> AccountSession:
        if target.key is None and target.auth == method and target.tenant_id == tenant:
            return open_session(
                target,
                read_only=app.read_only,
                prompt_callback=app.show_device_code,
                credential=credential,
            )
        return opener(target)

    app.session_factory = open_signed_in


def demo_target(demo: BackgroundEmulator) -> AccountTarget:
    """Returns the account target of a running demo emulator."""
    return AccountTarget(
        name="demo (local emulator)",
        url=demo.url,
        account=demo.settings.account,
        auth="shared-key",
        key=demo.settings.key,
        is_demo=True,
        source="demo",
    )
