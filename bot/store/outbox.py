"""The outbox: every message the bot sends (replies, notifications), queued in the transaction that
decided it and drained by a rate-limited sender. A message is ``pending`` (possibly with a retry time),
``sent``, ``failed`` (with the platform's reason, never the text), ``held`` (the platform may not carry
it now: a Zalo OA user outside the window) or ``erased`` (its content gone with the
person's data; an erasure is never undone by a late "sent"). A reply in parts keeps the parts delivered so
far in ``parts``, so a retry sends only the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from bot.store.models import Outbox, User, utcnow
from bot.store.sql import dialect, per_dialect

Json = dict[str, Any]
ERASED = (
    "erased"  # the status of an outbox message whose content was erased (see bot.store.privacy.erase_user)
)
HELD = "held"  # a message the platform may not carry now (a Zalo OA user outside the window): not sent

_OUTBOX = Outbox.__table__
_ENQUEUE = per_dialect(
    lambda insert: (
        insert(_OUTBOX)
        .values(
            user_id=bindparam("b_user_id"),
            channel=bindparam("b_channel"),
            external_id=bindparam("b_external_id"),
            payload=bindparam("b_payload", type_=_OUTBOX.c.payload.type),
            dedup_key=bindparam("b_dedup_key"),
            status="pending",
            attempts=0,
            created_at=bindparam("b_now"),
        )
        .on_conflict_do_nothing(index_elements=[_OUTBOX.c.dedup_key])
        .returning(_OUTBOX.c.id)
    )
)
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("oid"), _OUTBOX.c.status != ERASED)  # an erasure is not undone
    .values(status="sent", sent_at=bindparam("now"), attempts=_OUTBOX.c.attempts + 1)
)
_MARK_SENT_WITH = _MARK_SENT.values(payload=bindparam("new_payload", type_=_OUTBOX.c.payload.type))


@dataclass(frozen=True)
class Due:
    """A message to send now, with what the sender needs: the chat, the user's language, the parts done."""

    outbox_id: int
    user_id: int
    external_id: str
    lang: str
    payload: Json
    attempts: int
    parts: Json = field(default_factory=dict)


def enqueue(s: Session, user: User, payload: Json, dedup_key: str | None = None) -> int | None:
    """Queue a message for `user`; with a dedup_key already queued, do nothing. Its id if queued now."""
    values = {
        "b_user_id": user.id,
        "b_channel": user.channel,
        "b_external_id": user.external_id,
        "b_payload": payload,
        "b_dedup_key": dedup_key,
        "b_now": utcnow(),
    }
    return s.connection().execute(_ENQUEUE[dialect(s)], values).scalar()


def due_messages(s: Session, channel: str, limit: int = 100, now: datetime | None = None) -> list[Due]:
    """One channel's messages that may be sent now (pending, not waiting for a retry time), oldest first."""
    stmt = (
        select(Outbox, User.lang)
        .join(User, User.id == Outbox.user_id)
        .where(
            Outbox.channel == channel,
            Outbox.status == "pending",
            or_(Outbox.not_before.is_(None), Outbox.not_before <= (now or utcnow())),
        )
        .order_by(Outbox.id)
        .limit(limit)
    )
    return [
        Due(o.id, o.user_id, o.external_id, lang, o.payload, o.attempts, o.parts or {})
        for o, lang in s.execute(stmt).all()
    ]


def pending_for_user(s: Session, user_id: int) -> list[Outbox]:
    stmt = select(Outbox).where(Outbox.user_id == user_id, Outbox.status == "pending").order_by(Outbox.id)
    return list(s.scalars(stmt))


def mark_sent(s: Session, outbox_id: int, payload: Json | None = None) -> None:
    """Delivered; ``payload`` replaces the stored one (e.g. with the platform's message id added)."""
    mark_sent_many(s, [(outbox_id, payload)])


def mark_sent_many(s: Session, sent: list[tuple[int, Json | None]]) -> None:
    """Delivered, in one statement per shape; a payload replaces the stored one (with the message id)."""
    now = utcnow()
    plain = [{"oid": oid, "now": now} for oid, payload in sent if payload is None]
    rich = [{"oid": oid, "now": now, "new_payload": payload} for oid, payload in sent if payload is not None]
    connection = s.connection()
    if plain:
        connection.execute(_MARK_SENT, plain)
    if rich:
        connection.execute(_MARK_SENT_WITH, rich)


def mark_failed(
    s: Session,
    outbox_id: int,
    retry_at: datetime | None,
    error: str | None = None,
    parts: Json | None = None,
) -> None:
    """One more failed attempt: try again at `retry_at`, or give up (status 'failed') if it is None.

    ``error`` says why (the platform's answer, never the message's text); ``parts`` is the progress of a
    reply in parts (see :func:`mark_parts`), kept with the row so a retry sends only what is left.
    """
    status = "failed" if retry_at is None else "pending"
    values: dict[str, Any] = {"status": status, "not_before": retry_at, "attempts": Outbox.attempts + 1}
    if error is not None:
        values["error"] = error[:500]
    if parts is not None:
        values["parts"] = parts
    s.execute(update(Outbox).where(Outbox.id == outbox_id, Outbox.status != ERASED).values(**values))


def mark_parts(s: Session, outbox_id: int, parts: Json) -> None:
    """The parts of a reply delivered so far (e.g. the text, before its documents): written as each one
    goes, so a retry or a restart never sends them again."""
    s.execute(update(Outbox).where(Outbox.id == outbox_id, Outbox.status != ERASED).values(parts=parts))


def give_up(
    s: Session, outbox_id: int, user_id: int, reason: str, parts: Json | None, notice: Json | None
) -> tuple[str | None, int | None]:
    """The message failed for good: marked so, with the reason. ``notice`` (a message telling the user) is
    queued unless they can no longer be written to (erased, deleted, unreachable). Returns the message's
    dedup key (for the log) and the notice's id if it was queued."""
    mark_failed(s, outbox_id, None, reason, parts)
    row = s.get(Outbox, outbox_id)
    user = s.get(User, user_id)
    dedup = row.dedup_key if row is not None else "?"
    if row is None or row.status == ERASED or user is None or user.deleted_at is not None:
        return dedup, None  # erased meanwhile: nothing more is written to them
    if notice is None or user.unreachable:
        return dedup, None
    return dedup, enqueue(s, user, notice, dedup_key=f"failed:{outbox_id}")


def hold(s: Session, outbox_id: int, reason: str, parts: Json | None = None) -> None:
    """The platform may not carry the message now (a Zalo OA user outside the window): ``held`` with the
    reason, never sent blind; the sender does not pick it up again."""
    values: dict[str, Any] = {"status": HELD, "error": reason[:500]}
    if parts is not None:
        values["parts"] = parts
    s.execute(update(Outbox).where(Outbox.id == outbox_id, Outbox.status != ERASED).values(**values))


_HELD_FOR = (
    select(_OUTBOX.c.id, _OUTBOX.c.external_id, _OUTBOX.c.payload, _OUTBOX.c.attempts, _OUTBOX.c.parts)
    .where(_OUTBOX.c.user_id == bindparam("uid"), _OUTBOX.c.status == HELD)
    .order_by(_OUTBOX.c.id)
)


def release_held(s: Session, user_id: int) -> list[Due]:
    """The user wrote again, so the platform carries messages to them again: what was held for them is
    pending once more, oldest first (the caller hands it to the sender before the reply it queues)."""
    rows = s.connection().execute(_HELD_FOR, {"uid": user_id}).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    s.execute(update(Outbox).where(Outbox.id.in_(ids)).values(status="pending", not_before=None))
    lang = ""  # the sender takes the language of the message that released them
    return [Due(r.id, user_id, r.external_id, lang, r.payload, r.attempts, r.parts or {}) for r in rows]


def block(s: Session, outbox_id: int, user_id: int, reason: str) -> None:
    """The user blocked the bot: mark them unreachable and give up on what is queued for them."""
    user = s.get(User, user_id)
    if user is not None:
        user.unreachable = True
    for row in pending_for_user(s, user_id):
        mark_failed(s, row.id, None, reason)
    mark_failed(s, outbox_id, None, reason)


def latest_keyboard(s: Session, channel: str, external_id: str) -> int | None:
    """The platform's id of the last message with buttons delivered to a chat (only its buttons answer)."""
    stmt = (
        select(Outbox.payload)
        .where(Outbox.channel == channel, Outbox.external_id == external_id, Outbox.status == "sent")
        .order_by(Outbox.id.desc())
        .limit(20)
    )
    for payload in s.scalars(stmt):
        if payload.get("buttons") and payload.get("message_id") is not None:
            return int(payload["message_id"])
    return None


def last_choices(s: Session, channel: str, external_id: str) -> list[tuple[str, str]]:
    """The choices (payload, label) under the last message to a chat (being delivered, or delivered a
    moment ago and not yet marked so); none if it had none. A platform without buttons lists them as
    lines, and the label typed back stands for the choice."""
    user_id = select(User.id).where(User.channel == channel, User.external_id == external_id)
    stmt = (
        select(Outbox.payload)
        .where(Outbox.user_id == user_id.scalar_subquery(), Outbox.status.in_(("sent", "pending")))
        .order_by(Outbox.id.desc())
        .limit(1)
    )
    payload = s.scalar(stmt) or {}
    return [(str(choice), str(label)) for choice, label in payload.get("buttons") or []]
