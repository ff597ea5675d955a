"""The OA's token pair in the database (``platform_tokens``), shared by every process of one deployment.

:class:`DbTokenStore` is the :class:`~bot.channels.zalo_oa.tokens.TokenStore` ``smebot run`` uses:
``exclusive()`` takes the row's lease (waiting while another process holds a live one) and remembers the
version it read, and ``save()`` writes the new pair only at that version (compare-and-set), which also gives
the lease back. Between them a refresh token is exchanged at most once across processes, and a pair is
written down before anyone uses it. :func:`seed` puts the settings' pair in the table once (see
:mod:`bot.store.tokens` for when it replaces a dead one).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from bot.channels.zalo_oa.errors import TransientError
from bot.channels.zalo_oa.tokens import ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, TokenPair
from bot.store import tokens as tokens_store
from bot.store.db import Database

LEASE_SECONDS = 30.0  # longer than one exchange with the token endpoint (its time-out is 10 s)
LEASE_POLL = 0.1  # seconds between two looks at a lease another process holds


def token_name(app_id: str) -> str:
    return f"zalo_oa:{app_id}"


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(min(epoch, 253402300799.0), UTC)  # inf: the far future


def _epoch(at: datetime | None) -> float:
    return at.timestamp() if at is not None else math.inf


class DbTokenStore:
    def __init__(self, db: Database, name: str, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self.db, self.name, self.lease_seconds = db, name, lease_seconds
        self._version: int | None = None  # the version read with the lease, while it is held

    async def load(self) -> TokenPair | None:
        stored = await self.db.run(tokens_store.load_pair, self.name)
        if stored is None:
            return None
        return TokenPair(
            stored.access_token,
            stored.refresh_token,
            _epoch(stored.access_expires_at),
            _epoch(stored.refresh_expires_at),
        )

    async def save(self, pair: TokenPair) -> None:
        saved = await self.db.run(
            tokens_store.save_pair,
            self.name,
            self._version,
            pair.access_token,
            pair.refresh_token,
            _at(pair.access_expires_at),
            _at(pair.refresh_expires_at),
        )
        if not saved:  # our lease ran out and another process wrote a newer pair: it is the one to use
            raise TransientError("token", None, "another process wrote a newer token pair")
        if self._version is not None:
            self._version += 1

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """The refresh lease, across processes; without a stored pair there is nothing to guard."""
        while True:
            version = await self.db.run(tokens_store.take_lease, self.name, self.lease_seconds)
            if version is not None or not await self.db.run(tokens_store.has_pair, self.name):
                break
            await asyncio.sleep(LEASE_POLL)
        self._version = version
        try:
            yield
        finally:
            held, self._version = self._version, None
            if held is not None:  # a refresh that wrote nothing (refused, a network error) gives it back
                await self.db.run(tokens_store.release_lease, self.name, held)


async def seed(db: Database, name: str, access_token: str, refresh_token: str, now: float) -> str:
    """The pair from the settings into the table, once. Its age is unknown: it is taken as fresh (an
    access token refused as expired is refreshed on the spot anyway)."""
    if not access_token or not refresh_token:
        return "kept" if await db.run(tokens_store.has_pair, name) else "missing"
    return await db.run(
        tokens_store.seed_pair,
        name,
        access_token,
        refresh_token,
        _at(now + ACCESS_TOKEN_TTL.total_seconds()),
        _at(now + REFRESH_TOKEN_TTL.total_seconds()),
    )
