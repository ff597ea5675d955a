"""Owners' subscriptions to programme news (issue 16; Decree 13/2023: a consent of its own): who takes
news, on which kinds of support, since when; unsubscribing keeps the row with when they stopped. The only
SQL about them, and about which broadcasts an officer may see."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from bot.store.models import Broadcast, Enterprise, Subscription, User, utcnow


def find(s: Session, user_id: int) -> Subscription | None:
    return s.get(Subscription, user_id)


_STATUS = select(Subscription.unsubscribed_at, Subscription.topics).where(
    Subscription.user_id == bindparam("user_id")
)  # built once: read for every owner message (the owner's context)


def status_of(s: Session, user_id: int) -> tuple[bool, tuple[str, ...]] | None:
    """Whether an owner takes news now, and on which kinds of support; None if they were never asked."""
    row = s.execute(_STATUS, {"user_id": user_id}).first()
    if row is None:
        return None
    unsubscribed_at, topics = row
    return unsubscribed_at is None, tuple(str(k) for k in (topics or {}).get("kinds") or ())


def topics_of(row: Subscription) -> tuple[str, ...]:
    """The kinds of support chosen; () means every kind."""
    return tuple(str(k) for k in (row.topics or {}).get("kinds") or ())


def subscribe(s: Session, user_id: int, version: str, topics: Sequence[str] = ()) -> Subscription:
    """Take news from now (again, after an unsubscription: the row is renewed, with the new consent)."""
    row = find(s, user_id)
    if row is None:
        row = Subscription(user_id=user_id, consent_version=version, topics={"kinds": list(topics)})
        s.add(row)
    else:
        row.consent_version, row.topics = version, {"kinds": list(topics)}
        row.subscribed_at, row.unsubscribed_at = utcnow(), None
    s.flush()
    return row


def choose_topics(s: Session, user_id: int, topics: Sequence[str]) -> bool:
    """The kinds of support of an active subscription; False when there is none."""
    row = find(s, user_id)
    if row is None or row.unsubscribed_at is not None:
        return False
    row.topics = {"kinds": list(topics)}
    s.flush()
    return True


def unsubscribe(s: Session, user_id: int) -> bool:
    """No more news; the row stays with when they stopped. False when they were not subscribed."""
    row = find(s, user_id)
    if row is None or row.unsubscribed_at is not None:
        return False
    row.unsubscribed_at = utcnow()
    s.flush()
    return True


@dataclass(frozen=True)
class Active:
    """A subscriber as a broadcast's audience is drawn from (plain columns: read by the thousand)."""

    user_id: int
    lang: str
    topics: tuple[str, ...]
    profile: dict[str, Any]  # the saved profile's answers; empty when the firm is not declared yet


def active(s: Session) -> list[Active]:
    """Every subscriber a broadcast may reach: subscribed now, not erased, reachable, with their saved
    profile."""
    stmt = (
        select(User.id, User.lang, Subscription.topics, Enterprise.profile)
        .join(Subscription, Subscription.user_id == User.id)
        .outerjoin(Enterprise, Enterprise.user_id == User.id)
        .where(Subscription.unsubscribed_at.is_(None), User.deleted_at.is_(None), User.unreachable.is_(False))
        .order_by(User.id)
    )
    return [
        Active(
            int(user_id),
            lang or "vi",
            tuple(str(k) for k in (topics or {}).get("kinds") or ()),
            dict(profile or {}),
        )
        for user_id, lang, topics, profile in s.execute(stmt).all()
    ]


def recipients(s: Session, user_ids: Iterable[int]) -> list[User]:
    """The users among ``user_ids`` still subscribed, not erased and reachable (checked again as the
    broadcast is written, in the same transaction)."""
    ids = list(user_ids)
    if not ids:
        return []
    stmt = (
        select(User)
        .join(Subscription, Subscription.user_id == User.id)
        .where(
            User.id.in_(ids),
            Subscription.unsubscribed_at.is_(None),
            User.deleted_at.is_(None),
            User.unreachable.is_(False),
        )
        .order_by(User.id)
    )
    return list(s.scalars(stmt))


def broadcasts_seen_by(
    s: Session, agency_id: str | None, officer_key: str, limit: int = 50
) -> list[tuple[int, str | None]]:
    """(id, agency) of the broadcasts an officer may follow, newest first: their agency's and their own
    (``agency_id`` None: an admin, every one)."""
    stmt = select(Broadcast.id, Broadcast.agency_id).order_by(Broadcast.id.desc()).limit(limit)
    if agency_id is not None:
        stmt = stmt.where(or_(Broadcast.agency_id == agency_id, Broadcast.officer_key == officer_key))
    return [(int(i), a) for i, a in s.execute(stmt).all()]
