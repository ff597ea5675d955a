"""Officers of agencies, and what a staff member is recorded against (their user, their firms' tax codes)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.models import (
    Dossier,
    Enterprise,
    Officer,
)
from bot.store.sql import rowcount
from bot.store.users import user_by_key


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
