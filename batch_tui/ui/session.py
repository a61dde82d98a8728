"""Provides the open account's session: its target, client, cache, read-only guard, the ids
seen and the last-known snapshot.

API (stable; screens and the CLI use it):

- `AccountSession(target, client, cache=None, *, read_only=False, snapshot_path=None)`: what a
  screen reads through: `session.target`, `session.client` (a `BatchClient`),
  `session.cache` (a `BatchCache` over that client), `session.read_only`; `await
  session.aclose()` closes the client and its credential. In read-only mode the client's
  transport refuses every mutating request before it is sent (`ReadOnly`): the one gate,
  whatever a screen does (the screens also hide their mutating keys, derived from the action
  registry).
- The ids screens have seen, for `:` completion and the palette: `session.remember_ids("pool",
  ids)`, `session.known_ids("pool")` (a node or task id under `commands.id_kind`). A new
  session starts with none: ids belong to their account.
- The last-known snapshot (`batch_tui.batch.snapshot`) of the overview's reads
  (`overview_reads.SNAPSHOT_PLAN`): `restore_snapshot()` seeds the cache from the file,
  `capture_snapshot(now)` takes one, `save_snapshot(now)` writes it, and `await
  save_snapshot_soon(now)` writes it off the event loop at most every `SNAPSHOT_EVERY`
  seconds (the overview calls it after each refresh). All do nothing for the demo, whose
  data is throwaway and whose port changes. The file is `snapshot_path`, by default
  `snapshot.default_path()`.
- The history (`batch_tui.ui.history`): `await open_history()` returns the account's rings
  (read from its file in a thread the first time; the demo's start empty and stay in
  memory), `session.history` the ones open; `await save_history_soon()` writes them at most
  every `SNAPSHOT_EVERY` seconds, `await write_history()` now (another account opened),
  `save_history()` at once on the event loop (at exit). The file is
  `history_store.history_file(endpoint, history_folder)`, 0600.
- `open_session(target, *, read_only=False, transport=None, prompt_callback=None)`: the
  default `session_factory` for `BatchApp`: builds the client for the target's auth method
  (SharedKey with its key, otherwise Entra ID through azure-identity). A plain-`http://`
  endpoint (the local emulator) gets a transport that skips loading the CA bundle.
- `arm_discoverer(auth, method=..., transport=None)`: the `discover` callable for `BatchApp`
  (an `ArmDiscoverer`, whose `auth` names the sign-in): lists the signed-in user's Batch
  accounts through Resource Manager as `AccountTarget`s.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import httpx

from batch_tui.accounts import AccountTarget, normalise_url
from batch_tui.batch.arm import DiscoveredAccount, discover_accounts
from batch_tui.batch.auth import PromptCallback, make_credential
from batch_tui.batch.cache import BatchCache
from batch_tui.batch.client import BatchClient
from batch_tui.batch.snapshot import (
    AccountSnapshot,
    capture,
    default_path,
    load_snapshot,
    save_snapshot,
    seed_cache,
)
from batch_tui.batch.task_snapshot import FOLDER_NAME as TASK_LISTS_FOLDER
from batch_tui.batch.task_snapshot import TaskListSnapshot, load_task_list, save_task_list
from batch_tui.ui.history import History
from batch_tui.ui.history_store import history_file, load_history, save_history
from batch_tui.ui.overview_reads import SNAPSHOT_PLAN

SNAPSHOT_EVERY: Final = 60.0
"""Seconds between saves of the snapshot after refreshes: a crash loses at most a minute,
and an overview refreshing every few seconds does not rewrite the file each time."""


class NoSession(RuntimeError):
    """A screen asked for the account session while none is open."""


class NoCredentials(ValueError):
    """The target cannot sign in: SharedKey without a key. The message says what to set."""


class AccountSession:
    """The open account: where it is, how to read it, and whether writes are allowed."""

    def __init__(
        self,
        target: AccountTarget,
        client: BatchClient,
        cache: BatchCache | None = None,
        *,
        read_only: bool = False,
        snapshot_path: Path | None = None,
        history_folder: Path | None = None,
    ) -> None:
        self.target = target
        self.client = client
        self.cache = cache if cache is not None else BatchCache(client)
        self.read_only = read_only
        self.snapshot_path = snapshot_path
        """The last-known snapshot file; None for `snapshot.default_path()`."""
        self._known: dict[str, set[str]] = {}
        self._snapshot_saved: float | None = None
        self._task_list: TaskListSnapshot | None = None
        self.history_folder = history_folder
        """Where the history file goes; None for `paths.data_dir() / "history"`."""
        self._history: History | None = None
        self._history_saved: float | None = None
        if read_only:
            client.refuse_writes()

    @property
    def name(self) -> str:
        """The account's display name."""
        return self.target.name

    @property
    def endpoint(self) -> str:
        """The account endpoint URL."""
        return self.target.url

    # -- the ids seen ----------------------------------------------------------------------

    def remember_ids(self, kind: str, ids: Iterable[str]) -> None:
        """Records ids a screen has seen (pools, jobs), for completion and the palette."""
        self._known.setdefault(kind, set()).update(ids)

    def known_ids(self, kind: str) -> list[str]:
        """The ids of a kind seen so far, sorted."""
        return sorted(self._known.get(kind, ()))

    # -- the last-known snapshot -------------------------------------------------------

    @property
    def keeps_snapshot(self) -> bool:
        """Whether this account's data goes to the snapshot file (not the demo's)."""
        return not self.target.is_demo

    @property
    def snapshot_file(self) -> Path:
        """The snapshot file this session reads and writes."""
        return self.snapshot_path or default_path()

    def restore_snapshot(self, *, latest: AccountSnapshot | None = None) -> int:
        """Seeds the cache with what the snapshot file holds for this account.

        Args:
            latest: A snapshot just taken; used instead of the file if it is this account's
                (the background save of the session closed for this one may not have
                reached the disk yet).

        Returns:
            How many reads were seeded: 0 for the demo, or with no usable file.
        """
        if not self.keeps_snapshot:
            return 0
        snapshot = latest if latest and latest.endpoint == self.client.endpoint else None
        snapshot = snapshot or load_snapshot(self.snapshot_file, self.client.endpoint)
        return 0 if snapshot is None else seed_cache(self.cache, snapshot, SNAPSHOT_PLAN)

    def capture_snapshot(self, now: datetime) -> AccountSnapshot | None:
        """Returns this account's snapshot for saving, or None for the demo."""
        return capture(self.cache, SNAPSHOT_PLAN, now) if self.keeps_snapshot else None

    def save_snapshot(self, now: datetime) -> None:
        """Writes this account's snapshot now (on the event loop: at exit)."""
        snapshot = self.capture_snapshot(now)
        if snapshot is not None:
            save_snapshot(self.snapshot_file, snapshot)

    async def save_snapshot_soon(self, now: datetime) -> None:
        """Writes this account's snapshot at most every `SNAPSHOT_EVERY` seconds.

        It is taken on the event loop (the cache is not shared with threads) and written in
        a thread: encoding and the disk's fsync stay off the loop, so keys keep their latency.
        """
        moment = time.monotonic()
        if self._snapshot_saved is not None and moment - self._snapshot_saved < SNAPSHOT_EVERY:
            return
        self._snapshot_saved = moment
        await self.write_snapshot(self.capture_snapshot(now))

    async def write_snapshot(self, snapshot: AccountSnapshot | None) -> None:
        """Writes a snapshot taken earlier to this session's file, in a thread."""
        if snapshot is not None:
            await asyncio.to_thread(save_snapshot, self.snapshot_file, snapshot)

    # -- the history ----------------------------------------------------------------------

    @property
    def history_file(self) -> Path:
        """The file this account's history is kept in (not for the demo)."""
        return history_file(self.client.endpoint, self.history_folder)

    @property
    def history(self) -> History | None:
        """The history, once `open_history` has opened it."""
        return self._history

    async def open_history(self) -> History:
        """The account's history: read from its file (in a thread) the first time, but for
        the demo's, which starts empty and lives in memory (its endpoint changes each run)."""
        if self._history is None:
            found = History()
            if self.keeps_snapshot:
                found = await asyncio.to_thread(
                    load_history, self.history_file, self.client.endpoint
                )
            if self._history is None:  # two first refreshes may have both read the file
                self._history = found
        return self._history

    def adopt_history(self, previous: AccountSession) -> None:
        """Takes over the history of the session this one replaces, if it is the same
        account's (its last samples may not be on disk yet)."""
        if self._history is None and previous.client.endpoint == self.client.endpoint:
            self._history = previous.history

    def save_history(self) -> None:
        """Writes the history now (on the event loop: at exit); a disk error is let go."""
        if self._history is not None and self.keeps_snapshot:
            try:
                save_history(self.history_file, self.client.endpoint, self._history.dump())
            except OSError:
                pass  # a nicety: the app must still close

    async def save_history_soon(self) -> None:
        """Writes the history at most every `SNAPSHOT_EVERY` seconds: copied on the event
        loop (the rings change there), encoded and written in a thread.

        Raises:
            OSError: The file cannot be written (the caller's worker lets it go).
        """
        if self._history is None or not self.keeps_snapshot:
            return
        moment = time.monotonic()
        if self._history_saved is not None and moment - self._history_saved < SNAPSHOT_EVERY:
            return
        self._history_saved = moment
        await self.write_history()

    async def write_history(self) -> None:
        """Writes the history now: copied on the event loop, encoded and written in a thread
        (when another account is opened). Raises OSError when it cannot."""
        if self._history is None or not self.keeps_snapshot:
            return
        dumped = self._history.dump()
        await asyncio.to_thread(save_history, self.history_file, self.client.endpoint, dumped)

    # -- the last task listings ------------------------------------------------------------

    @property
    def task_lists_folder(self) -> Path:
        """Where this session keeps jobs' last task listings: beside the snapshot file."""
        return self.snapshot_file.parent / TASK_LISTS_FOLDER

    async def load_task_list(self, job_id: str) -> TaskListSnapshot | None:
        """A job's last task listing: the one kept in memory, else the one on disk (read in
        a thread), else None. The demo keeps listings in memory only."""
        kept = self._task_list
        if kept is not None and kept.job_id == job_id:
            return kept
        if not self.keeps_snapshot:
            return None
        return await asyncio.to_thread(
            load_task_list, self.task_lists_folder, self.client.endpoint, job_id
        )

    async def keep_task_list(self, snapshot: TaskListSnapshot) -> None:
        """Keeps a job's task listing: in memory (the latest job only: 100,000 tasks are
        tens of MB) and, but for the demo, on disk (encoded and written in a thread)."""
        self._task_list = snapshot
        if self.keeps_snapshot:
            await asyncio.to_thread(save_task_list, self.task_lists_folder, snapshot)

    async def aclose(self) -> None:
        """Closes the client (and its credential)."""
        await self.client.aclose()

    def __repr__(self) -> str:
        return f"AccountSession(target={self.target.name!r}, read_only={self.read_only!r})"


def plain_http_transport(url: str) -> httpx.AsyncBaseTransport | None:
    """Returns a transport for a plain-`http://` endpoint (the local emulator), else None.

    httpx loads the system's CA bundle for every client it builds (about 40 ms, on the demo's
    path to its first screen), though a client of a plain-HTTP endpoint never does TLS. This
    transport's TLS context trusts no certificate at all instead, so TLS still cannot pass
    unverified if a request ever went to an `https://` URL through it.
    """
    if not url.startswith("http://"):
        return None
    return httpx.AsyncHTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))


def open_session(
    target: AccountTarget,
    *,
    read_only: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    prompt_callback: PromptCallback | None = None,
    credential: Any | None = None,
    snapshot_path: Path | None = None,
) -> AccountSession:
    """Builds the session for a target: SharedKey when it has a key, else Entra ID.

    Args:
        target: The account to open.
        read_only: Refuse every mutating call.
        transport: An httpx transport to use instead of the network (tests, the emulator).
        prompt_callback: Shows the device code for `device-code` sign-in.
        credential: An Entra credential already signed in, to use instead of a new one (which
            would sign in again: a second device code); the session does not close it.
        snapshot_path: The last-known snapshot file, if not the default one.

    Returns:
        The session; the caller closes it with `aclose()`.

    Raises:
        NoCredentials: A SharedKey target without a key.
        ValueError: An unknown auth method.
    """
    transport = transport or plain_http_transport(target.url)
    if target.auth == "shared-key":
        if not target.key:
            raise NoCredentials(
                f"{target.name}: no shared key; set the variable named by key_env "
                "(or AZURE_BATCH_ACCESS_KEY), or sign in with Entra ID"
            )
        client = BatchClient.with_shared_key(
            target.url, target.account, target.key, transport=transport, read_only=read_only
        )
    else:
        owned = credential is None
        if credential is None:
            credential = make_credential(
                target.auth, tenant_id=target.tenant_id, prompt_callback=prompt_callback
            )
        client = BatchClient.with_credential(
            target.url, credential, transport=transport, read_only=read_only, owns_credential=owned
        )
    return AccountSession(target, client, read_only=read_only, snapshot_path=snapshot_path)


def discovered_target(
    found: DiscoveredAccount, method: str, tenant: str | None = None
) -> AccountTarget:
    """Turns an account found through Resource Manager into a target signed in with `method`
    (in `tenant`, the one it was found in)."""
    return AccountTarget(
        name=found.name,
        url=normalise_url(found.endpoint),
        account=found.name,
        auth=method,
        tenant_id=tenant,
        source=f"discovered: {found.subscription_name or found.subscription_id}",
    )


class ArmDiscoverer:
    """The `discover` callable of `BatchApp` for an Entra sign-in (made by `arm_discoverer`).

    `auth` is kept so the account screen can show who is signed in, and sign out.
    """

    def __init__(
        self,
        auth: httpx.Auth,
        method: str,
        tenant: str | None,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.auth = auth
        self.method = method
        self.tenant = tenant
        self._transport = transport

    async def __call__(self) -> Sequence[AccountTarget]:
        found = await discover_accounts(self.auth, transport=self._transport)
        targets = (discovered_target(item, self.method, self.tenant) for item in found)
        return sorted(targets, key=lambda t: t.name)


def arm_discoverer(
    auth: httpx.Auth,
    *,
    method: str,
    tenant: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ArmDiscoverer:
    """Returns the `discover` callable of `BatchApp` for an Entra sign-in.

    Args:
        auth: An ARM-scoped token flow (`TokenCredentialAuth(credential, ARM_SCOPE)`).
        method: The `--auth` method the discovered accounts are opened with.
        tenant: The tenant signed in to (`--tenant`), None for the default one.
        transport: A stand-in for Resource Manager (tests).

    Returns:
        An async callable listing the accounts, sorted by name.
    """
    return ArmDiscoverer(auth, method, tenant, transport)
