"""A platform's token pair (the Zalo OA's, issue 17) in ``platform_tokens``: one row per name.

A refresh token is single-use, so two processes must never exchange it at once, and a new pair must be
written down before anyone uses it. The row carries both guards:

- ``lease_until``: a process takes the lease (an UPDATE that succeeds only when no live lease is there)
  before it exchanges the refresh token; the others wait, then read the pair it wrote. A lease that
  outlives its holder (a crash mid-refresh) simply expires.
- ``version``: the new pair is written only if the row is still at the version read with the lease
  (compare-and-set), so a holder whose lease expired while it waited on the platform cannot overwrite a
  newer pair with an older one.

The first pair comes from the settings, seeded once: it takes the row's place only when there is none,
or when the stored refresh token is dead (expired, or refused and so written down as expired) and the
settings carry another one (an admin authorised the OA again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.store.models import PlatformToken, utcnow
from bot.store.sql import rowcount


@dataclass(frozen=True)
class StoredPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    version: int


def _pair(row: PlatformToken) -> StoredPair:
    return StoredPair(
        row.access_token, row.refresh_token, row.access_expires_at, row.refresh_expires_at, row.version
    )


def load_pair(s: Session, name: str) -> StoredPair | None:
    row = s.get(PlatformToken, name, populate_existing=True)
    return _pair(row) if row is not None else None


def seed_pair(
    s: Session,
    name: str,
    access_token: str,
    refresh_token: str,
    access_expires_at: datetime,
    refresh_expires_at: datetime,
    now: datetime | None = None,
) -> str:
    """The settings' pair into the table: ``seeded`` (there was none), ``replaced`` (the stored refresh
    token was dead and the settings carry another) or ``kept`` (the stored pair is the live one)."""
    now = now or utcnow()
    row = s.get(PlatformToken, name, with_for_update=True)
    if row is None:
        s.add(
            PlatformToken(
                name=name,
                access_token=access_token,
                refresh_token=refresh_token,
                access_expires_at=access_expires_at,
                refresh_expires_at=refresh_expires_at,
                version=0,
            )
        )
        return "seeded"
    dead = row.refresh_expires_at is not None and row.refresh_expires_at <= now
    if not dead or row.refresh_token == refresh_token:
        return "kept"
    row.access_token, row.refresh_token = access_token, refresh_token
    row.access_expires_at, row.refresh_expires_at = access_expires_at, refresh_expires_at
    row.version += 1
    row.lease_until = None
    return "replaced"


def take_lease(s: Session, name: str, seconds: float, now: datetime | None = None) -> int | None:
    """Take the refresh lease for ``seconds``: the row's version if taken now, None if another process
    holds a live one (or there is no row: nothing to refresh)."""
    now = now or utcnow()
    free = or_(PlatformToken.lease_until.is_(None), PlatformToken.lease_until <= now)
    taken = rowcount(
        s,
        update(PlatformToken)
        .where(PlatformToken.name == name, free)
        .values(lease_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False),
    )
    if not taken:
        return None
    return s.scalar(select(PlatformToken.version).where(PlatformToken.name == name))


def has_pair(s: Session, name: str) -> bool:
    return s.scalar(select(PlatformToken.name).where(PlatformToken.name == name)) is not None


def release_lease(s: Session, name: str, version: int) -> None:
    """Give the lease back (the refresh failed, or was not needed)."""
    s.execute(
        update(PlatformToken)
        .where(PlatformToken.name == name, PlatformToken.version == version)
        .values(lease_until=None)
        .execution_options(synchronize_session=False)
    )


def save_pair(
    s: Session,
    name: str,
    version: int | None,
    access_token: str,
    refresh_token: str,
    access_expires_at: datetime,
    refresh_expires_at: datetime,
) -> bool:
    """Write a new pair if the row is still at ``version`` (compare-and-set; the lease goes with it); with
    ``version`` None, whatever is there (a first authorisation). False when another writer came first."""
    row = s.get(PlatformToken, name, with_for_update=True, populate_existing=True)
    if row is None:
        s.add(
            PlatformToken(
                name=name,
                access_token=access_token,
                refresh_token=refresh_token,
                access_expires_at=access_expires_at,
                refresh_expires_at=refresh_expires_at,
                version=0,
            )
        )
        return True
    if version is not None and row.version != version:
        return False
    row.access_token, row.refresh_token = access_token, refresh_token
    row.access_expires_at, row.refresh_expires_at = access_expires_at, refresh_expires_at
    row.version += 1
    row.lease_until = None
    return True
