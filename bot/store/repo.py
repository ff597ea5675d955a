"""Repositories: plain async functions over an AsyncSession.

The caller owns the transaction: nothing here commits (functions flush when the caller needs an id).
Insert-or-ignore and upserts use the dialect's ``ON CONFLICT``; SQLite and PostgreSQL are supported.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, delete, func, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.store.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Attachment,
    Base,
    ConversationState,
    Dossier,
    DossierCounter,
    DossierItem,
    Enterprise,
    Event,
    Outbox,
    ProcessedUpdate,
    User,
    utcnow,
)

Json = dict[str, Any]
ITEM_MONEY_KEYS = ("cost_vnd", "state_vnd", "enterprise_vnd")


def _dialect(s: AsyncSession) -> str:
    return s.get_bind().dialect.name


def _insert(s: AsyncSession) -> Any:
    """The dialect's insert(), which has on_conflict_do_nothing / on_conflict_do_update."""
    name = _dialect(s)
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"smebot's store supports SQLite and PostgreSQL, not {name}")


async def _rowcount(s: AsyncSession, statement: Executable) -> int:
    result = cast(CursorResult[Any], await s.execute(statement))
    return result.rowcount


# users


def user_key(channel: str, external_id: str) -> str:
    """The inbox's user_key for a platform user, e.g. "telegram:12345"."""
    return f"{channel}:{external_id}"


async def _user_by_identity(s: AsyncSession, channel: str, external_id: str) -> User | None:
    stmt = select(User).where(User.channel == channel, User.external_id == external_id)
    return await s.scalar(stmt)


async def get_or_create_user(s: AsyncSession, channel: str, external_id: str) -> User:
    found = await _user_by_identity(s, channel, external_id)
    if found is not None:
        return found
    user = User(channel=channel, external_id=external_id)
    try:
        async with s.begin_nested():
            s.add(user)
    except IntegrityError:  # another session inserted the same user between our select and insert
        found = await _user_by_identity(s, channel, external_id)
        if found is None:
            raise
        return found
    return user


async def lock_user(s: AsyncSession, user_id: int) -> None:
    """Serialise this transaction with every other one that locks the same user, until commit."""
    if _dialect(s) == "postgresql":
        await s.execute(select(User.id).where(User.id == user_id).with_for_update())
    # SQLite: every transaction starts with BEGIN IMMEDIATE (see db.py), which already holds the
    # database's single write lock until commit, so there is nothing more to take.


async def user_snapshot(
    s: AsyncSession, channel: str, external_id: str
) -> tuple[User, Json | None, Enterprise | None, int]:
    """The user (created if new), their conversation state, enterprise and dossier count: one query."""
    dossiers = select(func.count(Dossier.id)).where(Dossier.user_id == User.id).scalar_subquery()
    stmt = (
        select(User, ConversationState.state, Enterprise, dossiers)
        .outerjoin(ConversationState, ConversationState.user_id == User.id)
        .outerjoin(Enterprise, Enterprise.user_id == User.id)
        .where(User.channel == channel, User.external_id == external_id)
    )
    row = (await s.execute(stmt)).first()
    if row is None:
        return await get_or_create_user(s, channel, external_id), None, None, 0
    user, state, enterprise, count = row
    return user, state, enterprise, int(count or 0)


# conversation state


async def load_state(s: AsyncSession, user_id: int) -> Json | None:
    stmt = select(ConversationState.state).where(ConversationState.user_id == user_id)
    return await s.scalar(stmt)


async def save_state(s: AsyncSession, user_id: int, state: Json) -> None:
    insert = _insert(s)(ConversationState).values(
        user_id=user_id, state=state, version=1, updated_at=utcnow()
    )
    await s.execute(
        insert.on_conflict_do_update(
            index_elements=[ConversationState.user_id],
            set_={
                "state": insert.excluded.state,
                "version": ConversationState.version + 1,
                "updated_at": insert.excluded.updated_at,
            },
        )
    )


# dossiers


def format_ref(year: int, number: int) -> str:
    return f"HS-{year}-{number:06d}"


async def next_dossier_ref(s: AsyncSession, year: int) -> str:
    """The next reference of `year`: one atomic upsert of the year's counter, locked until commit."""
    insert = _insert(s)(DossierCounter).values(year=year, last=1)
    stmt = insert.on_conflict_do_update(
        index_elements=[DossierCounter.year], set_={"last": DossierCounter.last + 1}
    ).returning(DossierCounter.last)
    number = (await s.execute(stmt)).scalar_one()
    return format_ref(year, number)


def _item(fields: Json) -> DossierItem:
    for key in ITEM_MONEY_KEYS:
        value = fields[key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{key} must be an int of VND, got {value!r}")
    return DossierItem(
        item_id=fields["item_id"],
        code=fields["code"],
        programme_id=fields["programme_id"],
        cost_vnd=fields["cost_vnd"],
        quantity=fields["quantity"],
        state_vnd=fields["state_vnd"],
        enterprise_vnd=fields["enterprise_vnd"],
        approved_vnd=fields.get("approved_vnd"),
        data=dict(fields.get("data") or {}),
    )


async def add_dossier(
    s: AsyncSession,
    *,
    user_id: int,
    enterprise_id: int | None,
    year: int,
    status: str,
    size: str,
    data: Json,
    items: Iterable[Json],
) -> Dossier:
    rows = [_item(fields) for fields in items]
    dossier = Dossier(
        ref=await next_dossier_ref(s, year),
        year=year,
        user_id=user_id,
        enterprise_id=enterprise_id,
        status=status,
        size=size,
        data=data,
        total_state_vnd=sum(row.state_vnd for row in rows),
        items=rows,
        attachments=[],
    )
    s.add(dossier)
    await s.flush()
    return dossier


async def open_item_ids(s: AsyncSession, user_id: int) -> set[str]:
    """The items this user has in a dossier that is not closed yet (approved, rejected, withdrawn)."""
    stmt = (
        select(DossierItem.item_id)
        .join(Dossier, Dossier.id == DossierItem.dossier_id)
        .where(Dossier.user_id == user_id, Dossier.status.not_in(CLOSED_STATUSES))
        .distinct()
    )
    return set(await s.scalars(stmt))


async def dossiers_of(s: AsyncSession, user_id: int) -> list[Dossier]:
    stmt = (
        select(Dossier)
        .where(Dossier.user_id == user_id)
        .order_by(Dossier.created_at.desc(), Dossier.id.desc())
        .options(selectinload(Dossier.items))
    )
    return list(await s.scalars(stmt))


async def dossier_by_ref(s: AsyncSession, ref: str) -> Dossier | None:
    stmt = (
        select(Dossier)
        .where(Dossier.ref == ref)
        .options(selectinload(Dossier.items), selectinload(Dossier.attachments))
    )
    return await s.scalar(stmt)


async def used_this_year(s: AsyncSession, user_id: int, year: int) -> dict[str, int]:
    """VND already approved per item_id in this user's approved dossiers of `year` (for the yearly caps)."""
    stmt = (
        select(DossierItem.item_id, func.sum(DossierItem.approved_vnd))
        .join(Dossier, Dossier.id == DossierItem.dossier_id)
        .where(
            Dossier.user_id == user_id,
            Dossier.year == year,
            Dossier.status == "approved",
            DossierItem.approved_vnd.is_not(None),
        )
        .group_by(DossierItem.item_id)
    )
    return {item_id: int(total or 0) for item_id, total in (await s.execute(stmt)).all()}


# enterprise profile


async def enterprise_of(s: AsyncSession, user_id: int) -> Enterprise | None:
    return await s.scalar(select(Enterprise).where(Enterprise.user_id == user_id))


async def upsert_enterprise(
    s: AsyncSession, user_id: int, name: str, tax_code: str | None, profile: Json
) -> Enterprise:
    enterprise = await enterprise_of(s, user_id)
    if enterprise is None:
        enterprise = Enterprise(user_id=user_id)
        s.add(enterprise)
    enterprise.name = name
    enterprise.tax_code = tax_code
    enterprise.profile = dict(profile)
    await s.flush()
    return enterprise


# attachments and audit


async def add_attachment(
    s: AsyncSession,
    *,
    user_id: int,
    filename: str,
    mime: str,
    size_bytes: int,
    sha256: str,
    path: str,
    dossier_id: int | None = None,
) -> Attachment:
    attachment = Attachment(
        user_id=user_id,
        dossier_id=dossier_id,
        filename=filename,
        mime=mime,
        size_bytes=size_bytes,
        sha256=sha256,
        path=path,
    )
    s.add(attachment)
    await s.flush()
    return attachment


async def unlinked_attachments(s: AsyncSession, user_id: int) -> list[Attachment]:
    """The files a user sent that are not linked to a dossier yet, oldest first."""
    stmt = (
        select(Attachment)
        .where(Attachment.user_id == user_id, Attachment.dossier_id.is_(None))
        .order_by(Attachment.id)
    )
    return list(await s.scalars(stmt))


async def add_event(
    s: AsyncSession,
    actor: str,
    action: str,
    dossier_id: int | None = None,
    before: Json | None = None,
    after: Json | None = None,
    note: str | None = None,
) -> Event:
    event = Event(actor=actor, action=action, dossier_id=dossier_id, before=before, after=after, note=note)
    s.add(event)
    await s.flush()
    return event


# outbox


async def enqueue(s: AsyncSession, user: User, payload: Json, dedup_key: str | None = None) -> bool:
    """Queue a message for `user`; with a dedup_key already queued, do nothing. True if queued now."""
    insert = _insert(s)(Outbox).values(
        user_id=user.id,
        channel=user.channel,
        external_id=user.external_id,
        payload=payload,
        dedup_key=dedup_key,
    )
    stmt = insert.on_conflict_do_nothing(index_elements=[Outbox.dedup_key]).returning(Outbox.id)
    return (await s.execute(stmt)).first() is not None


async def pending_outbox(s: AsyncSession, limit: int = 100, now: datetime | None = None) -> list[Outbox]:
    """Messages due now, oldest first; on PostgreSQL rows another sender holds are skipped."""
    stmt = (
        select(Outbox)
        .where(
            Outbox.status == "pending",
            or_(Outbox.not_before.is_(None), Outbox.not_before <= (now or utcnow())),
        )
        .order_by(Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await s.scalars(stmt))


async def mark_sent(s: AsyncSession, outbox_id: int) -> None:
    stmt = (
        update(Outbox)
        .where(Outbox.id == outbox_id)
        .values(status="sent", sent_at=utcnow(), attempts=Outbox.attempts + 1)
    )
    await s.execute(stmt)


async def mark_failed(s: AsyncSession, outbox_id: int, retry_at: datetime | None) -> None:
    """One more failed attempt: try again at `retry_at`, or give up (status 'failed') if it is None."""
    status = "failed" if retry_at is None else "pending"
    stmt = (
        update(Outbox)
        .where(Outbox.id == outbox_id)
        .values(status=status, not_before=retry_at, attempts=Outbox.attempts + 1)
    )
    await s.execute(stmt)


# inbox


async def record_update(
    s: AsyncSession, source: str, update_id: str, user_key: str | None, payload: Json
) -> bool:
    """Store an incoming update once. True if it is new, False if it was stored before."""
    insert = _insert(s)(ProcessedUpdate).values(
        source=source, update_id=str(update_id), user_key=user_key, payload=payload
    )
    stmt = insert.on_conflict_do_nothing(
        index_elements=[ProcessedUpdate.source, ProcessedUpdate.update_id]
    ).returning(ProcessedUpdate.update_id)
    return (await s.execute(stmt)).first() is not None


async def unprocessed_updates(s: AsyncSession, limit: int = 100) -> list[ProcessedUpdate]:
    stmt = (
        select(ProcessedUpdate)
        .where(ProcessedUpdate.processed_at.is_(None))
        .order_by(ProcessedUpdate.received_at, ProcessedUpdate.source, ProcessedUpdate.update_id)
        .limit(limit)
    )
    return list(await s.scalars(stmt))


async def mark_processed(s: AsyncSession, source: str, update_id: str) -> None:
    stmt = (
        update(ProcessedUpdate)
        .where(ProcessedUpdate.source == source, ProcessedUpdate.update_id == str(update_id))
        .values(processed_at=utcnow())
    )
    await s.execute(stmt)


# a person's data: export and erasure


def _plain(row: Base) -> Json:
    """A row as JSON-serialisable values (datetimes in ISO 8601)."""
    values: Json = {}
    for attribute in inspect(type(row)).column_attrs:
        value = getattr(row, attribute.key)
        values[attribute.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


async def _user(s: AsyncSession, user_id: int) -> User:
    user = await s.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    return user


async def export_user_data(s: AsyncSession, user_id: int) -> Json:
    """Everything stored about a user, as JSON-serialisable data (the right of access)."""
    user = await _user(s, user_id)
    enterprise = await enterprise_of(s, user_id)
    dossiers = list(
        await s.scalars(
            select(Dossier)
            .where(Dossier.user_id == user_id)
            .order_by(Dossier.id)
            .options(selectinload(Dossier.items))
        )
    )
    attachments = await s.scalars(
        select(Attachment).where(Attachment.user_id == user_id).order_by(Attachment.id)
    )
    events = await s.scalars(
        select(Event).where(Event.dossier_id.in_([d.id for d in dossiers])).order_by(Event.id)
    )
    return {
        "exported_at": utcnow().isoformat(),
        "user": _plain(user),
        "enterprise": _plain(enterprise) if enterprise else None,
        "conversation_state": await load_state(s, user_id),
        "dossiers": [{**_plain(d), "items": [_plain(item) for item in d.items]} for d in dossiers],
        "attachments": [_plain(a) for a in attachments],
        "events": [_plain(e) for e in events],
    }


async def erase_user(s: AsyncSession, user_id: int, keep_statuses: Iterable[str] = OPEN_STATUSES) -> Json:
    """Delete a user's personal data, except dossiers still under review (ND80 Art. 32) and their files.

    Deletes the conversation state, the enterprise profile (kept dossiers hold their own snapshot), the
    other dossiers with their items and audit events, attachments not linked to a kept dossier, outbox
    messages and inbox updates; blanks display_name and sets deleted_at. Returns the kept refs, a count per
    table, and "files": the paths of deleted attachments, for the caller to unlink after commit.
    """
    user = await _user(s, user_id)
    mine = (
        await s.execute(select(Dossier.id, Dossier.ref, Dossier.status).where(Dossier.user_id == user_id))
    ).all()
    keep = set(keep_statuses)
    kept = sorted((row.id, row.ref) for row in mine if row.status in keep)
    kept_ids = [dossier_id for dossier_id, _ in kept]
    doomed_ids = [row.id for row in mine if row.status not in keep]
    loose = (Attachment.user_id == user_id) & (
        Attachment.dossier_id.is_(None) | Attachment.dossier_id.not_in(kept_ids)
    )
    files = list(await s.scalars(select(Attachment.path).where(loose).order_by(Attachment.id)))
    # the kept dossiers hold their own snapshot of the profile; detach them so it can go
    await s.execute(update(Dossier).where(Dossier.id.in_(kept_ids)).values(enterprise_id=None))
    statements = {
        "attachments": delete(Attachment).where(loose),
        "events": delete(Event).where(Event.dossier_id.in_(doomed_ids)),
        "dossier_items": delete(DossierItem).where(DossierItem.dossier_id.in_(doomed_ids)),
        "dossiers": delete(Dossier).where(Dossier.id.in_(doomed_ids)),
        "conversation_states": delete(ConversationState).where(ConversationState.user_id == user_id),
        "enterprises": delete(Enterprise).where(Enterprise.user_id == user_id),
        "outbox": delete(Outbox).where(Outbox.user_id == user_id),
        "processed_updates": delete(ProcessedUpdate).where(
            ProcessedUpdate.user_key == user_key(user.channel, user.external_id)
        ),
    }
    # "evaluate" also removes the deleted rows from this session's identity map
    deleted = {
        table: await _rowcount(s, statement.execution_options(synchronize_session="evaluate"))
        for table, statement in statements.items()
    }
    user.display_name = None
    user.deleted_at = utcnow()
    await s.flush()
    return {"kept_dossiers": [ref for _, ref in kept], "deleted": deleted, "files": files}
