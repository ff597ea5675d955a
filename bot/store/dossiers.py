"""Dossiers: numbering, filing with items, what is open, the year's approvals by firm, attachments, events and
the optimistic status move."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.store.models import (
    CLOSED_STATUSES,
    Attachment,
    Dossier,
    DossierCounter,
    DossierItem,
    Enterprise,
    Event,
    utcnow,
)
from bot.store.sql import Json, insert_for, rowcount
from rules.usage import Received

ITEM_MONEY_KEYS = ("cost_vnd", "state_vnd", "enterprise_vnd")


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


_RECEIVED = (
    select(DossierItem.item_id, DossierItem.approved_vnd, DossierItem.quantity, DossierItem.data)
    .join(Dossier, Dossier.id == DossierItem.dossier_id)
    .where(Dossier.year == bindparam("year"), Dossier.status == "approved")
    .where(DossierItem.approved_vnd.is_not(None))
)
# built once: this runs for nearly every owner message (the context of the estimate)
_RECEIVED_BY_ACCOUNT = _RECEIVED.where(Dossier.user_id == bindparam("user_id"))
_RECEIVED_BY_FIRM = _RECEIVED.where(
    or_(
        Dossier.user_id == bindparam("user_id"),
        Dossier.enterprise_id.in_(select(Enterprise.id).where(Enterprise.tax_code == bindparam("tax_code"))),
    )
)


def received_this_year(s: Session, user_id: int, tax_code: str | None, year: int) -> list[Received]:
    """Approved items of `year` for this firm: this account's dossiers and, by the firm's tax code, every
    other account's on any channel (caps are per firm per year: TT06 Art. 3.5)."""
    params: dict[str, object] = {"user_id": user_id, "year": year}
    stmt = _RECEIVED_BY_ACCOUNT
    if tax_code:
        stmt, params["tax_code"] = _RECEIVED_BY_FIRM, tax_code
    return [
        Received(
            item_id,
            year,
            int(vnd or 0),
            int((data or {}).get("supported_units", quantity) or 0),
            (data or {}).get("content"),
        )
        for item_id, vnd, quantity, data in s.execute(stmt, params).all()
    ]


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
