"""The inbox: every incoming update, stored once (insert-or-ignore on its source and id) before the
platform is acknowledged, then claimed by the transaction that handles it.

An update set aside (one the bot cannot handle) is stored as done with the reason, and never handled.
The hot-path statements are plain Core on the session's connection, built once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.orm import Session

from bot.store import outbox
from bot.store.models import ProcessedUpdate, utcnow
from bot.store.sql import dialect, per_dialect

Json = dict[str, Any]

_INBOX = ProcessedUpdate.__table__
_KEY = (_INBOX.c.source == bindparam("b_source"), _INBOX.c.update_id == bindparam("b_update_id"))
_RECORD = per_dialect(
    lambda insert: (
        insert(_INBOX)
        .values(
            source=bindparam("b_source"),
            update_id=bindparam("b_update_id"),
            user_key=bindparam("b_key"),
            payload=bindparam("b_payload", type_=_INBOX.c.payload.type),
            received_at=bindparam("b_now"),
            processed_at=bindparam("b_done", type_=_INBOX.c.processed_at.type),
            error=bindparam("b_error"),
        )
        .on_conflict_do_nothing(index_elements=[_INBOX.c.source, _INBOX.c.update_id])
        .returning(_INBOX.c.update_id)
    )
)
_MARK_PROCESSED = update(_INBOX).where(*_KEY).values(processed_at=bindparam("b_now"))
_SET_ASIDE = _MARK_PROCESSED.values(error=bindparam("b_error"))
_CLAIM = _MARK_PROCESSED.where(_INBOX.c.processed_at.is_(None))
_EXISTS = select(_INBOX.c.processed_at).where(*_KEY)


@dataclass(frozen=True)
class Waiting:
    """An update stored and not handled yet (a crash left it, or it is next in its user's line)."""

    source: str
    update_id: str
    user_key: str | None
    payload: Json


def record_update(
    s: Session,
    source: str,
    update_id: str,
    user_key: str | None,
    payload: Json,
    error: str | None = None,
) -> bool:
    """Store an incoming update once. True if it is new, False if it was stored before.

    With ``error`` it is set aside: stored as done, with the reason, and never handled (an update the bot
    cannot handle must not be tried again at every start, nor hold back the ones after it).
    """
    now = utcnow()
    values = {
        "b_source": source,
        "b_update_id": str(update_id),
        "b_key": user_key,
        "b_payload": payload,
        "b_now": now,
        "b_done": now if error is not None else None,
        "b_error": error[:500] if error is not None else None,
    }
    stored = s.connection().execute(_RECORD[dialect(s)], values)
    return stored.first() is not None


def record_updates(
    s: Session, source: str, updates: Sequence[tuple[str, str | None, Json, str | None]]
) -> list[bool]:
    """:func:`record_update` for each (update id, user key, payload, error), in this one transaction."""
    return [record_update(s, source, *update) for update in updates]


def unprocessed_updates(s: Session, limit: int = 100, source: str | None = None) -> list[Waiting]:
    """Updates not handled yet, oldest first (of one ``source``, or of all)."""
    stmt = (
        select(ProcessedUpdate)
        .where(ProcessedUpdate.processed_at.is_(None))
        .order_by(ProcessedUpdate.received_at, ProcessedUpdate.source, ProcessedUpdate.update_id)
        .limit(limit)
    )
    if source is not None:
        stmt = stmt.where(ProcessedUpdate.source == source)
    return [Waiting(u.source, u.update_id, u.user_key, u.payload) for u in s.scalars(stmt)]


def mark_processed(s: Session, source: str, update_id: str, error: str | None = None) -> None:
    """Done with an update; with ``error``, set aside for that reason (it could not be handled)."""
    values = {"b_source": source, "b_update_id": str(update_id), "b_now": utcnow()}
    if error is None:
        s.connection().execute(_MARK_PROCESSED, values)
    else:
        s.connection().execute(_SET_ASIDE, {**values, "b_error": error[:500]})


def claim_update(s: Session, source: str, update_id: str) -> bool:
    """Take an update for this transaction: True if it is to be handled now, False if it was before.

    It is marked handled at once; if the transaction fails, so does the mark. An update that was never
    stored (a caller without an inbox) is recorded as handled.
    """
    values = {"b_source": source, "b_update_id": str(update_id), "b_now": utcnow()}
    connection = s.connection()
    if cast(CursorResult[Any], connection.execute(_CLAIM, values)).rowcount:
        return True
    if connection.execute(_EXISTS, values).first() is not None:
        return False
    record_update(s, source, update_id, None, {})
    connection.execute(_MARK_PROCESSED, values)
    return True


def handled_payloads(s: Session, source: str, user_key: str, but: str, limit: int = 50) -> list[Json]:
    """The latest updates of one user already handled (newest first), other than the update ``but``: what
    a channel reads to tell a second press of the same button."""
    stmt = (
        select(ProcessedUpdate.payload)
        .where(
            ProcessedUpdate.source == source,
            ProcessedUpdate.user_key == user_key,
            ProcessedUpdate.processed_at.is_not(None),
            ProcessedUpdate.update_id != but,
        )
        .order_by(ProcessedUpdate.received_at.desc())
        .limit(limit)
    )
    return list(s.scalars(stmt))


def press_context(
    s: Session, source: str, channel: str, external_id: str, but: str, latest: int | None
) -> tuple[int | None, list[Json]]:
    """What a channel reads, in one transaction, to tell a stale button press: the platform's id of the
    last message with buttons delivered to the chat (``latest`` if the sender remembers it) and the
    user's latest handled updates other than ``but``."""
    if latest is None:
        latest = outbox.latest_keyboard(s, channel, external_id)
    return latest, handled_payloads(s, source, f"{channel}:{external_id}", but)
