"""The Zalo OA's token pair in ``platform_tokens`` (issue 17): seeded once from the settings, refreshed once
across processes (the lease), written only at the version read (compare-and-set), a refused refresh token
written down as spent so a new pair from the settings takes its place. On SQLite and PostgreSQL, against
the fake's token endpoint (its refresh tokens are single-use)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.zalo_oa import RefreshTokenLost, TokenManager
from bot.channels.zalo_oa.stored_tokens import DbTokenStore, seed, token_name
from bot.store import tokens as tokens_store
from bot.store.db import Database, open_db
from tests.fakes.zalo_oa import FakeZaloOA

HOUR = 3600.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA() as server:
        yield server


def manager(fake: FakeZaloOA, db: Database) -> TokenManager:
    store = DbTokenStore(db, token_name(fake.app_id))
    return TokenManager(
        store, app_id=fake.app_id, app_secret=fake.app_secret, oauth_base_url=fake.base_url, clock=fake.now
    )


async def test_processes_sharing_the_table_refresh_once(db_url: str, fake: FakeZaloOA) -> None:
    databases = [await open_db(db_url) for _ in range(3)]  # three processes' connections to one database
    try:
        access, refresh, _ = fake.issue_tokens()
        name = token_name(fake.app_id)
        assert await seed(databases[0], name, access, refresh, fake.now()) == "seeded"
        assert await seed(databases[1], name, access, refresh, fake.now()) == "kept"  # once
        fake.advance(25 * HOUR)  # every one of them finds the access token due
        managers = [manager(fake, db) for db in databases]
        tokens = await asyncio.gather(*(m.access_token() for m in managers))
        assert len(set(tokens)) == 1 and tokens[0] != access
        assert fake.refresh_count == 1 and fake.refusals == []  # the single-use token spent once
        assert sum(m.refreshes for m in managers) == 1
        stored = await databases[2].run(tokens_store.load_pair, name)
        assert stored is not None and (stored.access_token, stored.version) == (tokens[0], 1)
        for m in managers:
            await m.close()
    finally:
        for db in databases:
            await db.close()


async def test_the_lease_and_the_version_guard_the_row(db_url: str) -> None:
    db = await open_db(db_url)
    try:
        now = datetime.now(UTC)
        later = now + timedelta(hours=25)
        assert await db.run(tokens_store.take_lease, "x", 30.0) is None  # no row: nothing to refresh
        assert (
            await db.run(tokens_store.seed_pair, "x", "a1", "r1", later, later + timedelta(days=90))
            == "seeded"
        )
        version = await db.run(tokens_store.take_lease, "x", 30.0)
        assert version == 0
        assert await db.run(tokens_store.take_lease, "x", 30.0) is None  # held by the first
        await db.run(tokens_store.release_lease, "x", version)
        stale = await db.run(tokens_store.take_lease, "x", 0.0)  # a lease that lapses at once
        assert stale == 0
        fresh = await db.run(tokens_store.take_lease, "x", 30.0)  # another process takes it over
        assert fresh == 0
        assert await db.run(tokens_store.save_pair, "x", fresh, "a2", "r2", later, later)
        # the first holder, back from the platform late, may not overwrite the newer pair
        assert not await db.run(tokens_store.save_pair, "x", stale, "a3", "r3", later, later)
        stored = await db.run(tokens_store.load_pair, "x")
        assert stored is not None and (stored.refresh_token, stored.version) == ("r2", 1)
    finally:
        await db.close()


async def test_a_refused_refresh_token_is_spent_and_a_new_pair_from_the_settings_replaces_it(
    db_url: str, fake: FakeZaloOA
) -> None:
    db = await open_db(db_url)
    try:
        name = token_name(fake.app_id)
        access, _, _ = fake.issue_tokens()
        await seed(db, name, access, "spent-long-ago", fake.now())
        fake.expire_access_tokens()
        tokens = manager(fake, db)
        with pytest.raises(RefreshTokenLost):
            await tokens.refresh(stale=access)
        await tokens.close()
        again = manager(fake, db)  # another process: the spent token is not offered to the platform again
        with pytest.raises(RefreshTokenLost, match="expired"):
            await again.refresh(stale=access)
        await again.close()
        assert fake.refusals == ["spent-long-ago"]
        assert await seed(db, name, access, "spent-long-ago", time.time()) == "kept"  # the same dead one
        new_access, new_refresh, _ = fake.issue_tokens()  # an admin authorised the OA again
        assert await seed(db, name, new_access, new_refresh, time.time()) == "replaced"
        fresh = manager(fake, db)
        assert await fresh.access_token() == new_access
        await fresh.close()
    finally:
        await db.close()
