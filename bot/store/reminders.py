"""Reminders (issue 16): who may be reminded of what, read as plain rows, and a reminder recorded once.

:func:`remind` inserts the ``reminders`` row (its key unique: insert-or-ignore) and, only if this call
inserted it, queues the message in the outbox, in the caller's transaction: two processes scanning at
the same moment, or a process restarted after a crash, queue each reminder exactly once. Nobody erased,
deleted or unreachable (blocked the bot) is offered as a recipient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, bindparam, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from bot.store import outbox
from bot.store import users as users_store
from bot.store.models import (
    ConversationState,
    Dossier,
    Event,
    Officer,
    Reminder,
    Subscription,
    User,
    utcnow,
)
from bot.store.sql import Json, dialect, per_dialect
from rules.dossier import Status

_REMINDERS = Reminder.__table__
_CLAIM = per_dialect(
    lambda insert: (
        insert(_REMINDERS)
        .values(
            key=bindparam("b_key"),
            kind=bindparam("b_kind"),
            user_id=bindparam("b_user_id"),
            due_at=bindparam("b_due_at", type_=_REMINDERS.c.due_at.type),
            sent_at=bindparam("b_now", type_=_REMINDERS.c.sent_at.type),
            created_at=bindparam("b_created", type_=_REMINDERS.c.created_at.type),
        )
        .on_conflict_do_nothing(index_elements=[_REMINDERS.c.key])
        .returning(_REMINDERS.c.id)
    )
)


def reachable(user: User | None) -> bool:
    """Someone the bot may write to on its own: not erased or deleted, not blocking the bot."""
    return user is not None and user.deleted_at is None and not user.unreachable


def remind(
    s: Session, user: User, key: str, kind: str, due_at: dt.datetime, payload: Json, now: dt.datetime
) -> bool:
    """Record the reminder ``key`` and queue its message, in this transaction; False (nothing queued) if
    the key was recorded before, by this process or another. ``sent_at`` is when it was queued: the
    outbox row (deduplicated on the same key) says when the platform took it."""
    values = {"b_key": key, "b_kind": kind, "b_user_id": user.id, "b_due_at": due_at, "b_now": now}
    values["b_created"] = utcnow()  # the row's own time, on the real clock even when ``now`` is injected
    if s.connection().execute(_CLAIM[dialect(s)], values).scalar() is None:
        return False
    outbox.enqueue(s, user, payload, dedup_key=f"reminder:{key}")
    return True


def known_keys(s: Session, keys: Iterable[str]) -> set[str]:
    """The keys among ``keys`` already recorded (a cheap skip before deciding again)."""
    wanted = list(keys)
    if not wanted:
        return set()
    return set(s.scalars(select(Reminder.key).where(Reminder.key.in_(wanted))))


@dataclass(frozen=True)
class OfficerRow:
    user: User
    agency_id: str


def officers(s: Session) -> list[OfficerRow]:
    """Every officer the bot may write to, with their agency. An officer who has not written to the bot
    yet gets a user row now (like any notification to them: it waits until they do)."""
    out = []
    for officer in s.scalars(select(Officer).order_by(Officer.agency_id, Officer.user_key)):
        channel, _, external_id = officer.user_key.partition(":")
        if not external_id:
            continue
        user = users_store.get_or_create_user(s, channel, external_id)
        if reachable(user):
            out.append(OfficerRow(user, officer.agency_id))
    return out


@dataclass(frozen=True)
class AgencyDossier:
    agency_id: str
    ref: str
    firm: str
    filed_on: dt.date
    status: str


def agency_dossiers(s: Session, agency_ids: Iterable[str], statuses: Iterable[str]) -> list[AgencyDossier]:
    """The dossiers of these agencies in these statuses, with what the officer's list shows."""
    wanted = sorted(set(agency_ids))
    if not wanted:
        return []
    stmt = (
        select(Dossier.agency_id, Dossier.ref, Dossier.data, Dossier.created_at, Dossier.status)
        .where(Dossier.agency_id.in_(wanted), Dossier.status.in_(list(statuses)))
        .order_by(Dossier.id)
    )
    return [
        AgencyDossier(str(agency), ref, _firm(data), _filed_on(data, created), status)
        for agency, ref, data, created, status in s.execute(stmt).all()
    ]


def _firm(data: dict[str, Any] | None) -> str:
    return str(((data or {}).get("profile") or {}).get("name") or "")


def _filed_on(data: dict[str, Any] | None, created: dt.datetime) -> dt.date:
    """As the officer's queue reads it (bot/staff.py): the filing date the journey recorded."""
    filed = (data or {}).get("filed_on")
    return dt.date.fromisoformat(filed) if filed else created.date()


@dataclass(frozen=True)
class OpenRequest:
    owner: User
    event_id: int  # the officer's "ask": the request's name
    asked_at: dt.datetime
    ref: str
    data: dict[str, Any]  # the dossier's data: its open request, item by item


def open_requests(s: Session) -> list[OpenRequest]:
    """Every request for documents still open (the dossier waits in ``needs_info``) and not reminded of
    yet, with the officer's last "ask" on it and its owner, when the owner may be written to."""
    last_ask = (
        select(Event.dossier_id, func.max(Event.id).label("event_id"))
        .where(Event.action == "ask", Event.dossier_id.is_not(None))
        .group_by(Event.dossier_id)
        .subquery()
    )
    stmt = (
        select(User, Event.id, Event.at, Dossier.ref, Dossier.data)
        .join(last_ask, last_ask.c.dossier_id == Dossier.id)
        .join(Event, Event.id == last_ask.c.event_id)
        .join(User, User.id == Dossier.user_id)
        .where(Dossier.status == Status.needs_info, User.deleted_at.is_(None), User.unreachable.is_(False))
        .where(~exists().where(Reminder.key == literal("request:") + cast(Event.id, String)))
        .order_by(Event.id)
    )
    return [
        OpenRequest(user, event_id, at, ref, dict(data or {}))
        for user, event_id, at, ref, data in s.execute(stmt)
    ]


@dataclass(frozen=True)
class Draft:
    owner: User
    started_at: dt.datetime
    last_seen_at: dt.datetime


def abandoned_drafts(s: Session, quiet_since: dt.datetime) -> list[Draft]:
    """Owners with a journey in progress who have not written since ``quiet_since``, who gave the dossier
    consent and hold an active news subscription (the only ground for writing to them about a draft)."""
    last_seen = func.coalesce(User.last_seen_at, ConversationState.updated_at)
    stmt = (
        select(User, ConversationState.draft_started_at, last_seen)
        .join(ConversationState, ConversationState.user_id == User.id)
        .join(Subscription, Subscription.user_id == User.id)
        .where(
            ConversationState.draft_started_at.is_not(None),
            Subscription.unsubscribed_at.is_(None),
            User.consent_at.is_not(None),
            User.deleted_at.is_(None),
            User.unreachable.is_(False),
            last_seen <= quiet_since,
            # not reminded of this draft yet (a reminder made since it began is its one); the key is
            # what makes it once, this keeps the scan from reading every reminded draft again
            ~exists().where(
                Reminder.user_id == User.id,
                Reminder.kind == "draft",
                Reminder.created_at >= ConversationState.draft_started_at,
            ),
        )
        .order_by(User.id)
    )
    return [Draft(user, _aware(started), _aware(seen)) for user, started, seen in s.execute(stmt)]


def _aware(moment: Any) -> dt.datetime:
    """An aware UTC datetime, should the driver hand back a naive one or a string (SQLite's text)."""
    value: dt.datetime = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
