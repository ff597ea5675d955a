"""The OA's token pair and who may change it.

An access token lives 25 h; a refresh token 3 months and is **single-use**: the first exchange spends it,
so two processes refreshing at once would leave one of them with a refused token, and a pair obtained but
not written down before a crash is lost for good (an admin must authorise the OA again). Hence the
:class:`TokenManager` refreshes ahead of expiry, one refresh at a time (an :class:`asyncio.Lock` in the
process, the store's ``exclusive()`` across processes), writes the new pair **before** it uses it, and
raises :class:`RefreshTokenLost` (an alert, never a crash) when the refresh token is missing, expired or
refused. A refused refresh token is written down as expired, so no process offers it again.

Stores: :class:`MemoryTokenStore` (one process), :class:`JsonFileTokenStore` (a file and ``flock``), and
the database's :class:`bot.channels.zalo_oa.stored_tokens.DbTokenStore` that ``smebot run`` uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import aiohttp

from bot.channels.zalo_common import SessionOwner
from bot.channels.zalo_oa.errors import (
    OAUTH_BASE_URL,
    TOKEN_PATH,
    RefreshTokenLost,
    TransientError,
    as_int,
)

ACCESS_TOKEN_TTL = timedelta(hours=25)
REFRESH_TOKEN_TTL = timedelta(days=90)
REFRESH_AHEAD = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: float  # epoch seconds
    refresh_expires_at: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TokenPair:
        data = json.loads(text)
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            access_expires_at=float(data["access_expires_at"]),
            refresh_expires_at=float(data["refresh_expires_at"]),
        )


class TokenStore(Protocol):
    """Where the current pair lives. ``exclusive()`` is held around a refresh: it must exclude every other
    process refreshing with the same store (a file lock, a database row lock...)."""

    async def load(self) -> TokenPair | None: ...

    async def save(self, pair: TokenPair) -> None: ...

    def exclusive(self) -> contextlib.AbstractAsyncContextManager[None]: ...


class MemoryTokenStore:
    """The pair in memory: one process only (tests, a single-process run)."""

    def __init__(self, pair: TokenPair | None = None) -> None:
        self._pair = pair
        self._lock = asyncio.Lock()
        self.saves = 0

    async def load(self) -> TokenPair | None:
        return self._pair

    async def save(self, pair: TokenPair) -> None:
        self._pair = pair
        self.saves += 1

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._lock:
            yield


class JsonFileTokenStore:
    """The pair in a JSON file, written atomically (a temporary file, fsync, rename), and refreshes
    serialised across processes by ``flock`` on ``<file>.lock``."""

    def __init__(self, path: Path | str, *, lock_poll: float = 0.02) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_poll = lock_poll

    async def load(self) -> TokenPair | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return TokenPair.from_json(text)
        except (ValueError, KeyError, TypeError):
            return None

    async def save(self, pair: TokenPair) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, pair.to_json().encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:  # non-blocking attempts: waiting never blocks the event loop and can be cancelled
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(self.lock_poll)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class TokenManager(SessionOwner):
    """The OA's current access token, refreshed ahead of expiry, one refresh at a time."""

    def __init__(
        self,
        store: TokenStore,
        *,
        app_id: str,
        app_secret: str,
        oauth_base_url: str = OAUTH_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        refresh_ahead: timedelta = REFRESH_AHEAD,
        clock: Callable[[], float] = time.time,
        request_timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.app_id = app_id
        self._app_secret = app_secret
        self.oauth_base_url = oauth_base_url.rstrip("/")
        super().__init__(session)
        self.refresh_ahead = refresh_ahead.total_seconds()
        self.clock = clock
        self.request_timeout = request_timeout
        self._pair: TokenPair | None = None
        self._lock = asyncio.Lock()
        self._refused: str | None = None  # a refresh token the endpoint refused: not offered again
        self.refreshes = 0  # refreshes this manager made (the others found one made already)

    def _due(self, pair: TokenPair) -> bool:
        return pair.access_expires_at - self.refresh_ahead <= self.clock()

    async def access_token(self) -> str:
        """A token to call the API with: the current one, or a new one when it expires within
        ``refresh_ahead``."""
        pair = self._pair or await self.store.load()
        if pair is None:
            raise RefreshTokenLost("token", None, "no token pair stored: authorise the OA")
        self._pair = pair
        if self._due(pair):
            pair = await self.refresh(stale=pair.access_token)
        return pair.access_token

    async def refresh(self, stale: str | None = None) -> TokenPair:
        """Exchange the refresh token for a new pair, unless the stored access token is already another
        than ``stale`` and not due (another task or process refreshed meanwhile)."""
        async with self._lock, self.store.exclusive():
            pair = await self.store.load()
            if pair is None:
                raise RefreshTokenLost("token", None, "no token pair stored: authorise the OA")
            if pair.access_token != stale and not self._due(pair):
                self._pair = pair
                return pair
            if pair.refresh_token == self._refused:
                raise RefreshTokenLost("token", None, "the refresh token was refused: authorise the OA")
            if pair.refresh_expires_at <= self.clock():
                raise RefreshTokenLost("token", None, "the refresh token has expired: authorise the OA")
            try:
                new = await self._exchange(
                    {"grant_type": "refresh_token", "refresh_token": pair.refresh_token}
                )
            except RefreshTokenLost:
                self._refused = pair.refresh_token
                # written down as spent: no process offers it again, and a new pair from the settings
                # may take its place at the next start
                await self.store.save(
                    replace(pair, refresh_expires_at=min(pair.refresh_expires_at, self.clock()))
                )
                raise
            await self.store.save(
                new
            )  # before it is used: a crash now leaves the new pair, not the spent one
            self._pair = new
            self.refreshes += 1
            return new

    async def authorize(self, code: str, code_verifier: str | None = None) -> TokenPair:
        """The first pair, from the authorisation code the OA admin's consent gave (single-use)."""
        params = {"grant_type": "authorization_code", "code": code}
        if code_verifier:
            params["code_verifier"] = code_verifier
        async with self._lock, self.store.exclusive():
            new = await self._exchange(params)
            await self.store.save(new)
            self._pair = new
            return new

    async def _exchange(self, params: Mapping[str, str]) -> TokenPair:
        url = f"{self.oauth_base_url}{TOKEN_PATH}"
        try:
            async with self._client().post(
                url,
                data={**params, "app_id": self.app_id},
                headers={"secret_key": self._app_secret},
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
            ) as response:
                status = response.status
                body = await response.read()
        except TimeoutError as exc:
            raise TransientError("token", None, "timed out") from exc
        except aiohttp.ClientError as exc:
            raise TransientError("token", None, f"network error: {type(exc).__name__}") from exc
        if status >= 500:
            raise TransientError("token", status, f"HTTP {status}")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise TransientError("token", status, "not JSON") from exc
        if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
            code = as_int(data.get("error"), 0) or None if isinstance(data, dict) else None
            message = (
                str(data.get("message") or data.get("error_reason") or "") if isinstance(data, dict) else ""
            )
            raise RefreshTokenLost("token", code, message or "the token endpoint refused the grant")
        now = self.clock()
        access_ttl = as_int(data.get("expires_in"), 0) or int(ACCESS_TOKEN_TTL.total_seconds())
        refresh_ttl = as_int(data.get("refresh_token_expires_in"), 0) or int(
            REFRESH_TOKEN_TTL.total_seconds()
        )
        return TokenPair(
            str(data["access_token"]), str(data["refresh_token"]), now + access_ttl, now + refresh_ttl
        )
