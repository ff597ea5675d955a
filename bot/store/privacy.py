"""Personal data: all about a user for /mydata, and erasure (what the law keeps stays: ND80 Art. 31)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, delete, inspect, or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.store.models import (
    OPEN_STATUSES,
    Attachment,
    Base,
    ConversationState,
    Dossier,
    DossierItem,
    Enterprise,
    Event,
    Outbox,
    ProcessedUpdate,
    Subscription,
    utcnow,
)
from bot.store.outbox import ERASED
from bot.store.sql import Json, rowcount
from bot.store.users import _user, enterprise_of, load_state, user_key
from rules.dossier import RETAINED_ON_ERASURE


def _plain(row: Base) -> Json:
    """A row as JSON-serialisable values (datetimes in ISO 8601)."""
    values: Json = {}
    for attribute in inspect(type(row)).column_attrs:
        value = getattr(row, attribute.key)
        values[attribute.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


#: What an erasure keeps: dossiers still under review (ND80 Art. 32: the agency must answer them) and
#: approved ones (records of state money, which ND80 Art. 31 lets the state recover).
RETAINED_STATUSES = RETAINED_ON_ERASURE  # ND80 Art. 31-32 (rules/dossier.py)


def _events_about(user_id: int, key: str, dossier_ids: Iterable[int]) -> Any:
    """Events about a user: on their dossiers, or done by them (consent, refused commands, erasure)."""
    return or_(Event.dossier_id.in_(list(dossier_ids)), Event.actor == key)


def export_user_data(s: Session, user_id: int, key: str | None = None) -> Json:
    """Everything stored about a user, as JSON-serialisable data (the right of access): the profile,
    the conversation, dossiers, files, every event about them, what they sent (the updates as the
    platform delivered them) and every message the bot sent or will send them."""
    user = _user(s, user_id)
    key = key or user_key(user.channel, user.external_id)
    enterprise = enterprise_of(s, user_id)
    dossiers = list(
        s.scalars(
            select(Dossier)
            .where(Dossier.user_id == user_id)
            .order_by(Dossier.id)
            .options(selectinload(Dossier.items))
        )
    )
    attachments = s.scalars(select(Attachment).where(Attachment.user_id == user_id).order_by(Attachment.id))
    events = s.scalars(
        select(Event).where(_events_about(user_id, key, (d.id for d in dossiers))).order_by(Event.id)
    )
    updates = s.scalars(
        select(ProcessedUpdate)
        .where(ProcessedUpdate.user_key == key)
        .order_by(ProcessedUpdate.received_at, ProcessedUpdate.update_id)
    )
    messages = s.scalars(select(Outbox).where(Outbox.user_id == user_id).order_by(Outbox.id))
    subscription = s.get(Subscription, user_id)
    return {
        "exported_at": utcnow().isoformat(),
        "user": _plain(user),
        "enterprise": _plain(enterprise) if enterprise else None,
        "conversation_state": load_state(s, user_id),
        "dossiers": [{**_plain(d), "items": [_plain(item) for item in d.items]} for d in dossiers],
        "attachments": [_plain(a) for a in attachments],
        "events": [_plain(e) for e in events],
        "received": [_plain(u) for u in updates],
        "sent": [_plain(m) for m in messages],
        "news_subscription": _plain(subscription) if subscription else None,
    }


def dossier_statuses(s: Session, user_id: int) -> list[tuple[str, str]]:
    """(ref, status) of a user's dossiers."""
    stmt = select(Dossier.ref, Dossier.status).where(Dossier.user_id == user_id).order_by(Dossier.id)
    return [(ref, status) for ref, status in s.execute(stmt)]


def _spooled(payloads: Iterable[Json]) -> list[str]:
    """The spool files of outbox messages (a /mydata export not delivered yet)."""
    return [
        str(document["path"])
        for payload in payloads
        for document in payload.get("documents") or []
        if isinstance(document, dict) and document.get("spool") and document.get("path")
    ]


def erase_user(s: Session, user_id: int, keep_statuses: Iterable[str] = OPEN_STATUSES) -> Json:
    """Delete a user's personal data, except the dossiers in ``keep_statuses`` with their items, files
    and audit trail.

    Deletes the conversation state, the enterprise profile (kept dossiers hold their own snapshot), the
    other dossiers with their items and events, the events the user's own actions wrote (consent,
    refused commands), attachments not linked to a kept dossier, the content of the outbox messages
    (status "erased"). The inbox keeps
    the ids of the updates already handled, without their content or sender, so that a redelivery is
    recognised and not handled again (it would enrol the user anew). Blanks display_name, sets
    deleted_at. Returns the kept refs ("kept_dossiers"; "kept": (ref, status) pairs), a count per table,
    and "files": what to delete from disk after the commit (attachment files no other row uses, spooled
    exports).
    """
    user = _user(s, user_id)
    key = user_key(user.channel, user.external_id)
    mine = (
        s.execute(select(Dossier.id, Dossier.ref, Dossier.status).where(Dossier.user_id == user_id))
    ).all()
    keep = set(keep_statuses)
    kept = sorted((row.id, row.ref, row.status) for row in mine if row.status in keep)
    kept_ids = [dossier_id for dossier_id, _, _ in kept]
    doomed_ids = [row.id for row in mine if row.status not in keep]
    loose = (Attachment.user_id == user_id) & (
        Attachment.dossier_id.is_(None) | Attachment.dossier_id.not_in(kept_ids)
    )
    files = set(s.scalars(select(Attachment.path).where(loose)))
    spooled = _spooled(s.scalars(select(Outbox.payload).where(Outbox.user_id == user_id)))
    # the kept dossiers hold their own snapshot of the profile; detach them so it can go
    s.execute(update(Dossier).where(Dossier.id.in_(kept_ids)).values(enterprise_id=None))
    own_events = (Event.actor == key) & (Event.dossier_id.is_(None) | Event.dossier_id.in_(doomed_ids))
    statements: dict[str, Executable] = {
        "attachments": delete(Attachment).where(loose),
        "events": delete(Event).where(Event.dossier_id.in_(doomed_ids) | own_events),
        "dossier_items": delete(DossierItem).where(DossierItem.dossier_id.in_(doomed_ids)),
        "dossiers": delete(Dossier).where(Dossier.id.in_(doomed_ids)),
        "conversation_states": delete(ConversationState).where(ConversationState.user_id == user_id),
        "enterprises": delete(Enterprise).where(Enterprise.user_id == user_id),
        # programme news: the consent goes too (the broadcaster closes a row of theirs not sent yet)
        "subscriptions": delete(Subscription).where(Subscription.user_id == user_id),
        # the messages: their content goes, the rows stay (a sender may hold one in flight, and a deleted
        # id would be given to the next message: marked sent, it would never be delivered)
        "outbox": update(Outbox).where(Outbox.user_id == user_id).values(payload={}, status=ERASED),
        # handled updates: the key stays, the content goes (unhandled ones are handled in turn)
        "processed_updates": update(ProcessedUpdate)
        .where(ProcessedUpdate.user_key == key, ProcessedUpdate.processed_at.is_not(None))
        .values(payload={}, user_key=None),
    }
    # "evaluate" also removes the deleted rows from this session's identity map
    deleted = {
        table: rowcount(s, statement.execution_options(synchronize_session="evaluate"))
        for table, statement in statements.items()
    }
    # a file sent by two people (the store keeps one copy per content) stays for the other one
    shared = set(s.scalars(select(Attachment.path).where(Attachment.path.in_(files)))) if files else set()
    user.display_name = None
    user.deleted_at = utcnow()
    s.flush()
    return {
        "kept_dossiers": [ref for _, ref, _ in kept],
        "kept": [(ref, status) for _, ref, status in kept],
        "deleted": deleted,
        "files": sorted(files - shared) + spooled,
    }
