"""Shared fixtures: a fresh database per test (SQLite; PostgreSQL when SMEBOT_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.store.models import Base

POSTGRES_URL = os.environ.get("SMEBOT_TEST_POSTGRES_URL")


async def _create_database(admin: AsyncEngine, name: str) -> bool:
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError:  # no CREATEDB right: fall back to emptying the given database
        return False
    return True


async def _drop_smebot_tables(admin: AsyncEngine) -> None:
    async with admin.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@asynccontextmanager
async def fresh_postgres(base_url: str) -> AsyncIterator[str]:
    """A new, empty database for one test, dropped afterwards (or the given one, emptied)."""
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    name = f"smebot_test_{uuid.uuid4().hex[:12]}"
    try:
        if not await _create_database(admin, name):
            await _drop_smebot_tables(admin)
            yield base_url
            return
        try:
            yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'not-yet' / 'smebot.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL: set SMEBOT_TEST_POSTGRES_URL=postgresql+asyncpg://user@host:5432/db to run")
    async with fresh_postgres(POSTGRES_URL) as url:
        yield url
