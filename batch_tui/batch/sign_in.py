"""Provides the remembered device-code sign-in: one device code, then none on later starts.

`DeviceCodeSignIn` wraps azure-identity's ``DeviceCodeCredential`` with its persistent token
cache and keeps the ``AuthenticationRecord`` of the sign-in (who signed in, no secret) in the
user data directory, mode 0600. The next start reads the record back and hands it to the
credential, which then gets its tokens silently from the cache. `DeviceCodeSignIn.sign_out`
forgets both.

The token cache is azure-identity's: its public API names the cache (`CACHE_NAME`) but not its
folder, which is ``~/.IdentityService`` (``%LOCALAPPDATA%\\.IdentityService`` on Windows). It is
encrypted where the platform can (Keychain, DPAPI, libsecret); where it cannot (Linux without
libsecret, as over SSH) it is a plain file that msal-extensions creates 0600, and that
`SignInStore.tighten` keeps 0600. The ``cli`` and ``default`` methods need none of this: the
Azure CLI keeps its own sign-in (``az login`` / ``az logout``).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batch_tui import paths

if TYPE_CHECKING:
    from azure.identity import AuthenticationRecord, TokenCachePersistenceOptions

# azure.identity is imported where it is used: the account screen imports this module, and
# azure-identity costs a noticeable part of the start-up budget.

CACHE_NAME = "batch-tui"
"""The token cache's name: batch-tui's tokens kept apart from other tools' (``msal.cache``)."""

RECORD_PREFIX = "sign-in-"
"""Record files are ``sign-in-<tenant>.json``: one per ``--tenant``, as each is its own sign-in."""

_CACHE_SUFFIXES = (".nocae", ".cae")
"""azure-identity keeps tokens with and without Continuous Access Evaluation in two caches."""


class SignInStore:
    """Where a device-code sign-in is remembered: the records and the token cache."""

    def __init__(self, directory: Path | None = None, *, cache_name: str = CACHE_NAME) -> None:
        """Args:
        directory: Where the records go; the user data directory by default.
        cache_name: The token cache's name (tests use their own).
        """
        self.directory = directory or paths.data_dir()
        self.cache_name = cache_name
        self.problem: str | None = None
        """Why the last `load` found a record it could not use, or None."""

    def record_path(self, tenant: str | None) -> Path:
        """The record file of a tenant (None: the user's home tenant)."""
        key = re.sub(r"[^A-Za-z0-9._-]", "_", tenant) if tenant else "default"
        return self.directory / f"{RECORD_PREFIX}{key}.json"

    def load(self, tenant: str | None) -> AuthenticationRecord | None:
        """The remembered record of a tenant, or None if there is none or it is unreadable.

        A record that is there but cannot be read costs one new device code, and says so in
        `problem` (never skipped without a word).
        """
        from azure.identity import AuthenticationRecord

        path = self.record_path(tenant)
        self.problem = None
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            self.problem = f"the remembered sign-in {path} cannot be read ({error.strerror})"
            return None
        try:
            return AuthenticationRecord.deserialize(text)
        except (ValueError, KeyError, TypeError):
            self.problem = f"the remembered sign-in {path} is damaged"
            return None

    def save(self, tenant: str | None, record: AuthenticationRecord) -> None:
        """Remembers a record (0600), and makes sure the token cache file is 0600 too."""
        paths.replace_private(self.record_path(tenant), record.serialize().encode("utf-8"))
        self.tighten()

    def cache_options(self) -> TokenCachePersistenceOptions:
        """The persistent cache options for the credential: plain file only if nothing else."""
        from azure.identity import TokenCachePersistenceOptions

        return TokenCachePersistenceOptions(name=self.cache_name, allow_unencrypted_storage=True)

    def cache_files(self) -> list[Path]:
        """The token cache's files where azure-identity puts them (they may not exist)."""
        base = os.environ.get("LOCALAPPDATA") if sys.platform.startswith("win") else None
        folder = Path(base or Path.home()) / ".IdentityService"
        names = [self.cache_name + suffix for suffix in _CACHE_SUFFIXES]
        return [folder / name for name in names] + [folder / f"{name}.lockfile" for name in names]

    def tighten(self) -> None:
        """Sets the cache files to 0600: msal-extensions only does so for files it creates."""
        for path in self.cache_files():
            with contextlib.suppress(OSError):
                path.chmod(0o600)

    def forget(self) -> None:
        """Deletes every record and the token cache (its keyring entries emptied too)."""
        for path in self.directory.glob(f"{RECORD_PREFIX}*.json"):
            path.unlink(missing_ok=True)
        for is_cae in (False, True):
            _empty_cache(self.cache_options(), is_cae)
        for path in self.cache_files():
            path.unlink(missing_ok=True)


def _empty_cache(options: TokenCachePersistenceOptions, is_cae: bool) -> None:
    # Where the cache is a keyring entry (Keychain, libsecret), deleting its file leaves the
    # tokens: remove them through the cache. azure-identity has no public way to open it.
    try:
        from azure.identity._persistent_cache import _load_persistent_cache
        from msal import TokenCache  # type: ignore[import-untyped]

        cache = _load_persistent_cache(options, is_cae)
        kinds = TokenCache.CredentialType
        for kind in (kinds.ACCESS_TOKEN, kinds.REFRESH_TOKEN, kinds.ID_TOKEN, kinds.ACCOUNT):
            for entry in list(cache.search(kind)):
                cache.modify(kind, entry)
    except Exception:  # best effort: the record is gone, so nothing uses these tokens silently
        return


CredentialFactory = Callable[..., Any]
"""Builds the inner credential; ``DeviceCodeCredential`` (tests pass a stand-in)."""


class DeviceCodeSignIn:
    """A device-code credential that signs in once and is remembered across starts.

    It never prompts from ``get_token`` on its own: when no one is signed in, or the cached
    sign-in has expired, it calls ``authenticate`` (the device code shows through
    ``prompt_callback``) and saves the record. A lock makes the token requests of Resource
    Manager and of every account opened with this credential wait for one sign-in.
    """

    def __init__(
        self,
        *,
        tenant_id: str | None = None,
        prompt_callback: Callable[[str, str, Any], None] | None = None,
        store: SignInStore | None = None,
        factory: CredentialFactory | None = None,
    ) -> None:
        """Args:
        tenant_id: The Entra tenant (``--tenant``); None for the user's home tenant.
        prompt_callback: Shows the device code (called in a worker thread).
        store: Where the sign-in is remembered; the user data directory by default.
        factory: Builds the inner credential with azure-identity's keyword arguments
            (``DeviceCodeCredential`` by default).
        """
        if factory is None:
            from azure.identity import DeviceCodeCredential

            factory = DeviceCodeCredential
        self.tenant_id = tenant_id
        self.store = store or SignInStore()
        self.sign_outs = 0
        """How many times this sign-in was signed out: a token got before is stale."""
        self._prompt = prompt_callback
        self._factory = factory
        self._lock = threading.Lock()
        self.record = self.store.load(tenant_id)
        self._credential = self._build()

    def __repr__(self) -> str:
        who = self.record.username if self.record else None
        return f"DeviceCodeSignIn(tenant_id={self.tenant_id!r}, username={who!r})"

    def _build(self) -> Any:
        return self._factory(
            tenant_id=self.tenant_id,
            prompt_callback=self._prompt,
            cache_persistence_options=self.store.cache_options(),
            authentication_record=self.record,
            disable_automatic_authentication=True,
        )

    @property
    def username(self) -> str | None:
        """Who is signed in, or None before the first sign-in (or after a sign-out)."""
        return self.record.username if self.record else None

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """Returns a token, signing in first (a device code) if no one is or it expired."""
        from azure.identity import AuthenticationRequiredError

        with self._lock:
            if self.record is None:
                self._sign_in(scopes)
            credential = self._credential
        try:
            return credential.get_token(*scopes, **kwargs)
        except AuthenticationRequiredError:
            with self._lock:  # another request may have signed in again meanwhile
                if self._credential is credential:
                    self._sign_in(scopes)
                credential = self._credential
            return credential.get_token(*scopes, **kwargs)

    def _sign_in(self, scopes: tuple[str, ...]) -> None:
        record = self._credential.authenticate(scopes=list(scopes))
        self.store.save(self.tenant_id, record)
        self.record = record

    def sign_out(self) -> None:
        """Forgets the sign-in: the records, the token cache, and this credential's tokens.

        The next token request shows a new device code.

        Raises:
            OSError: A file could not be deleted; this credential is signed out all the same.
        """
        with self._lock:
            self._close_inner()
            self.record = None
            self.sign_outs += 1
            self._credential = self._build()
            self.store.forget()

    def _close_inner(self) -> None:
        close = getattr(self._credential, "close", None)
        if close is not None:
            close()

    def close(self) -> None:
        """Closes the inner credential (its HTTP session)."""
        self._close_inner()
