"""The programmes officers send (issue 16): versions, status, and what the approvals of their items used.
The only SQL about them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import Dossier, DossierItem, StoredProgramme, utcnow

STATUSES = ("draft", "published", "closed")


def add_draft(
    s: Session, programme_id: str, yaml_text: str, agency_id: str | None, by: str
) -> StoredProgramme:
    """A new version of ``programme_id``, as a draft (the earlier versions are kept)."""
    last = s.scalar(
        select(func.max(StoredProgramme.version)).where(StoredProgramme.programme_id == programme_id)
    )
    row = StoredProgramme(
        programme_id=programme_id,
        version=(last or 0) + 1,
        yaml_text=yaml_text,
        status="draft",
        agency_id=agency_id,
        added_by=by,
    )
    s.add(row)
    s.flush()
    return row


def latest(s: Session) -> list[StoredProgramme]:
    """The newest version of every stored programme, by programme id."""
    newest = (
        select(StoredProgramme.programme_id, func.max(StoredProgramme.version).label("v"))
        .group_by(StoredProgramme.programme_id)
        .subquery()
    )
    stmt = (
        select(StoredProgramme)
        .join(
            newest,
            (StoredProgramme.programme_id == newest.c.programme_id) & (StoredProgramme.version == newest.c.v),
        )
        .order_by(StoredProgramme.programme_id)
    )
    return list(s.scalars(stmt))


def published(s: Session) -> list[StoredProgramme]:
    """The published versions (at most one per programme: publishing a version closes the others)."""
    stmt = select(StoredProgramme).where(StoredProgramme.status == "published").order_by(StoredProgramme.id)
    return list(s.scalars(stmt))


def published_ids(s: Session) -> tuple[int, ...]:
    """Which versions are published: a version's text never changes, so these ids settle the catalogue."""
    stmt = select(StoredProgramme.id).where(StoredProgramme.status == "published")
    stmt = stmt.order_by(StoredProgramme.id)
    return tuple(s.scalars(stmt))


def set_status(s: Session, programme_id: str, version: int, status: str, by: str) -> str | None:
    """Move one version to ``status``; publishing it closes any other published version. Returns the
    status it had, or None when there is no such version."""
    row = s.scalar(
        select(StoredProgramme).where(
            StoredProgramme.programme_id == programme_id, StoredProgramme.version == version
        )
    )
    if row is None:
        return None
    before = row.status
    if status == "published":
        for other in s.scalars(
            select(StoredProgramme).where(
                StoredProgramme.programme_id == programme_id,
                StoredProgramme.status == "published",
                StoredProgramme.version != version,
            )
        ):
            other.status, other.changed_by, other.changed_at = "closed", by, utcnow()
    row.status, row.changed_by, row.changed_at = status, by, utcnow()
    s.flush()
    return before


def usage(s: Session) -> dict[str, tuple[int, int]]:
    """Programme id -> (sum of the approved amounts of its dossier items, number of dossiers)."""
    stmt = (
        select(
            DossierItem.programme_id,
            func.coalesce(func.sum(DossierItem.approved_vnd), 0),
            func.count(func.distinct(DossierItem.dossier_id)),
        )
        .join(Dossier, Dossier.id == DossierItem.dossier_id)
        .group_by(DossierItem.programme_id)
    )
    return {str(pid): (int(used), int(n)) for pid, used, n in s.execute(stmt)}
