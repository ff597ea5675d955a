"""Repositories: plain functions over a SQLAlchemy Session (sync; async callers use run_sync).

The caller owns the transaction: nothing here commits (functions flush when the caller needs an id).
Insert-or-ignore and upserts use the dialect's ``ON CONFLICT``; SQLite and PostgreSQL are supported.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Select, bindparam, delete, func, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

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
    Officer,
    Outbox,
    ProcessedUpdate,
    User,
    utcnow,
)
from bot.store.outbox import ERASED
from bot.store.sql import dialect, insert_for, rowcount
from rules.dossier import RETAINED_ON_ERASURE
from rules.usage import Received

Json = dict[str, Any]
ITEM_MONEY_KEYS = ("cost_vnd", "state_vnd", "enterprise_vnd")


# users


def user_key(channel: str, external_id: str) -> str:
    """The inbox's user_key for a platform user, e.g. "telegram:12345"."""
    return f"{channel}:{external_id}"


def _user_by_identity(s: Session, channel: str, external_id: str) -> User | None:
    stmt = select(User).where(User.channel == channel, User.external_id == external_id)
    return s.scalar(stmt)


def get_or_create_user(s: Session, channel: str, external_id: str) -> User:
    found = _user_by_identity(s, channel, external_id)
    if found is not None:
        return found
    user = User(channel=channel, external_id=external_id)
    try:
        with s.begin_nested():
            s.add(user)
    except IntegrityError:  # another session inserted the same user between our select and insert
        found = _user_by_identity(s, channel, external_id)
        if found is None:
            raise
        return found
    return user


def lock_user(s: Session, user_id: int) -> None:
    """Serialise this transaction with every other one that locks the same user, until commit."""
    if dialect(s) == "postgresql":
        s.execute(select(User.id).where(User.id == user_id).with_for_update())
    # SQLite: every transaction starts with BEGIN IMMEDIATE (see db.py), which already holds the
    # database's single write lock until commit, so there is nothing more to take.


def _snapshot_statement() -> Select[Any]:
    dossiers = select(func.count(Dossier.id)).where(Dossier.user_id == User.id).scalar_subquery()
    return (
        select(User, ConversationState.state, Enterprise, dossiers)
        .outerjoin(ConversationState, ConversationState.user_id == User.id)
        .outerjoin(Enterprise, Enterprise.user_id == User.id)
        .where(User.channel == bindparam("channel"), User.external_id == bindparam("external_id"))
    )


_SNAPSHOT = _snapshot_statement()  # built once: this runs for every message


def user_snapshot(
    s: Session, channel: str, external_id: str
) -> tuple[User, Json | None, Enterprise | None, int]:
    """The user (created if new), their conversation state, enterprise and dossier count: one query."""
    row = s.execute(_SNAPSHOT, {"channel": channel, "external_id": external_id}).first()
    if row is None:
        return get_or_create_user(s, channel, external_id), None, None, 0
    user, state, enterprise, count = row
    return user, state, enterprise, int(count or 0)


# conversation state


def load_state(s: Session, user_id: int) -> Json | None:
    stmt = select(ConversationState.state).where(ConversationState.user_id == user_id)
    return s.scalar(stmt)


_STATES = ConversationState.__table__
_UPDATE_STATE = (
    update(_STATES)
    .where(_STATES.c.user_id == bindparam("uid"))
    .values(
        state=bindparam("new_state", type_=_STATES.c.state.type),
        version=_STATES.c.version + 1,
        updated_at=bindparam("now", type_=_STATES.c.updated_at.type),
    )
)


def save_state(s: Session, user_id: int, state: Json, exists: bool | None = None) -> None:
    """Store the state, version + 1. ``exists`` (known from :func:`user_snapshot`) skips the upsert."""
    if exists:
        s.connection().execute(_UPDATE_STATE, {"uid": user_id, "new_state": state, "now": utcnow()})
        return
    insert = insert_for(s)(ConversationState).values(
        user_id=user_id, state=state, version=1, updated_at=utcnow()
    )
    s.execute(
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


def next_dossier_ref(s: Session, year: int) -> str:
    """The next reference of `year`: one atomic upsert of the year's counter, locked until commit."""
    insert = insert_for(s)(DossierCounter).values(year=year, last=1)
    stmt = insert.on_conflict_do_update(
        index_elements=[DossierCounter.year], set_={"last": DossierCounter.last + 1}
    ).returning(DossierCounter.last)
    number = (s.execute(stmt)).scalar_one()
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


def add_dossier(
    s: Session,
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
        ref=next_dossier_ref(s, year),
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
    s.flush()
    return dossier


def open_item_ids(s: Session, user_id: int) -> set[str]:
    """The items this user has in a dossier that is not closed yet (approved, rejected, withdrawn)."""
    stmt = (
        select(DossierItem.item_id)
        .join(Dossier, Dossier.id == DossierItem.dossier_id)
        .where(Dossier.user_id == user_id, Dossier.status.not_in(CLOSED_STATUSES))
        .distinct()
    )
    return set(s.scalars(stmt))


def dossiers_of(s: Session, user_id: int) -> list[Dossier]:
    stmt = (
        select(Dossier)
        .where(Dossier.user_id == user_id)
        .order_by(Dossier.created_at.desc(), Dossier.id.desc())
        .options(selectinload(Dossier.items))
    )
    return list(s.scalars(stmt))


def dossier_by_ref(s: Session, ref: str) -> Dossier | None:
    stmt = (
        select(Dossier)
        .where(Dossier.ref == ref)
        .options(selectinload(Dossier.items), selectinload(Dossier.attachments))
    )
    return s.scalar(stmt)


def received_this_year(s: Session, user_id: int, tax_code: str | None, year: int) -> list[Received]:
    """Approved items of `year` for this firm: this account's dossiers and, by the firm's tax code, every
    other account's on any channel (caps are per firm per year: TT06 Art. 3.5)."""
    firm = Dossier.user_id == user_id
    if tax_code:
        same_code = select(Enterprise.id).where(Enterprise.tax_code == tax_code)
        firm = or_(firm, Dossier.enterprise_id.in_(same_code))
    stmt = (
        select(DossierItem.item_id, DossierItem.approved_vnd, DossierItem.quantity, DossierItem.data)
        .join(Dossier, Dossier.id == DossierItem.dossier_id)
        .where(firm, Dossier.year == year, Dossier.status == "approved")
        .where(DossierItem.approved_vnd.is_not(None))
    )
    return [
        Received(item_id, year, int(vnd or 0), int((data or {}).get("supported_units", quantity) or 0))
        for item_id, vnd, quantity, data in s.execute(stmt).all()
    ]


def enterprise_of(s: Session, user_id: int) -> Enterprise | None:
    return s.scalar(select(Enterprise).where(Enterprise.user_id == user_id))


def upsert_enterprise(s: Session, user_id: int, name: str, tax_code: str | None, profile: Json) -> Enterprise:
    enterprise = enterprise_of(s, user_id)
    if enterprise is None:
        enterprise = Enterprise(user_id=user_id)
        s.add(enterprise)
    enterprise.name = name
    enterprise.tax_code = tax_code
    enterprise.profile = dict(profile)
    s.flush()
    return enterprise


# attachments and audit


def add_attachment(
    s: Session,
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
    s.flush()
    return attachment


def unlinked_attachments(s: Session, user_id: int) -> list[Attachment]:
    """The files a user sent that are not linked to a dossier yet, oldest first."""
    stmt = (
        select(Attachment)
        .where(Attachment.user_id == user_id, Attachment.dossier_id.is_(None))
        .order_by(Attachment.id)
    )
    return list(s.scalars(stmt))


def add_event(
    s: Session,
    actor: str,
    action: str,
    dossier_id: int | None = None,
    before: Json | None = None,
    after: Json | None = None,
    note: str | None = None,
) -> Event:
    event = Event(actor=actor, action=action, dossier_id=dossier_id, before=before, after=after, note=note)
    s.add(event)
    s.flush()
    return event


# a person's data: export and erasure


def _plain(row: Base) -> Json:
    """A row as JSON-serialisable values (datetimes in ISO 8601)."""
    values: Json = {}
    for attribute in inspect(type(row)).column_attrs:
        value = getattr(row, attribute.key)
        values[attribute.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


def _user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    return user


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


# officers and the review of dossiers


def officer_of(s: Session, user_key_: str) -> Officer | None:
    return s.scalar(select(Officer).where(Officer.user_key == user_key_))


def list_officers(s: Session) -> list[Officer]:
    return list(s.scalars(select(Officer).order_by(Officer.agency_id, Officer.user_key)))


def add_officer(s: Session, user_key_: str, agency_id: str, added_by: str) -> Officer:
    officer = officer_of(s, user_key_)
    if officer is None:
        officer = Officer(user_key=user_key_, agency_id=agency_id, added_by=added_by)
        s.add(officer)
    else:
        officer.agency_id, officer.added_by = agency_id, added_by
    s.flush()
    return officer


def remove_officer(s: Session, user_key_: str) -> bool:
    return rowcount(s, delete(Officer).where(Officer.user_key == user_key_)) > 0


def agency_dossiers(s: Session, agency_id: str | None) -> list[Dossier]:
    """The dossiers an agency reviews (``None``: every dossier, for an administrator), oldest first."""
    stmt = select(Dossier).options(selectinload(Dossier.items)).order_by(Dossier.id)
    if agency_id is not None:
        stmt = stmt.where(Dossier.agency_id == agency_id)
    return list(s.scalars(stmt))


def events_of(s: Session, dossier_id: int) -> list[Event]:
    return list(s.scalars(select(Event).where(Event.dossier_id == dossier_id).order_by(Event.id)))


def move_dossier(s: Session, dossier_id: int, expected_version: int, status: str, data: Json) -> bool:
    """Optimistic: the move happens only if nobody changed the dossier since ``expected_version`` was read."""
    stmt = (
        update(Dossier)
        .where(Dossier.id == dossier_id, Dossier.version == expected_version)
        .values(status=status, version=Dossier.version + 1, data=data, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    moved = rowcount(s, stmt) == 1
    if moved:
        dossier = s.get(Dossier, dossier_id)
        if dossier is not None:
            s.refresh(dossier)
    return moved


def last_event(s: Session, dossier_id: int) -> Event | None:
    return s.scalar(select(Event).where(Event.dossier_id == dossier_id).order_by(Event.id.desc()).limit(1))


def dossier_attachments(s: Session, dossier_id: int) -> list[Attachment]:
    """A dossier's files in the order they arrived (the officer's #1, #2...)."""
    stmt = select(Attachment).where(Attachment.dossier_id == dossier_id).order_by(Attachment.id)
    return list(s.scalars(stmt))


def user_by_key(s: Session, key: str) -> User | None:
    """The user behind a channel-qualified key ("telegram:12345"), if they ever wrote to the bot."""
    channel, _, external_id = key.partition(":")
    return _user_by_identity(s, channel, external_id) if external_id else None


def interests_of(s: Session, key: str) -> tuple[int | None, set[str]]:
    """A staff member's user id and the tax codes they are recorded against: their saved firm's and
    those of every dossier they filed (a conflict of interest for the dossiers of those firms)."""
    user = user_by_key(s, key)
    if user is None:
        return None, set()
    codes = set(s.scalars(select(Enterprise.tax_code).where(Enterprise.user_id == user.id)))
    for data in s.scalars(select(Dossier.data).where(Dossier.user_id == user.id)):
        codes.add(str((data or {}).get("profile", {}).get("tax_code") or ""))
    return user.id, {code for code in codes if code}
