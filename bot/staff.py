"""Who may do what: admins from configuration, officers from the database; and the officer's view of
their agency's dossiers, built from the store for the pure officer commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from bot.store import dossiers as dossiers_store
from bot.store import officers as officers_store
from bot.store.models import Attachment, Dossier
from conversations.officer import request as requests
from conversations.officer.context import (
    DossierRecord,
    FileRecord,
    HistoryEntry,
    Interest,
    ItemRecord,
    OfficerContext,
)
from rules.agencies import DEFAULT_AGENCIES, Agency, load_agencies
from rules.catalogue import Catalogue
from rules.deadline import Calendar


@dataclass(frozen=True)
class Staff:
    admins: frozenset[str] = frozenset()  # channel-qualified user keys, e.g. "telegram:12345"
    agencies: Mapping[str, Agency] = field(default_factory=dict)
    calendar: Calendar = field(default_factory=Calendar)

    @classmethod
    def configured(cls, admin_ids: str, agencies_file: Path | None, extra_days_off: str) -> Staff:
        admins = frozenset(k.strip().lower() for k in admin_ids.split(",") if k.strip())
        days = [dt.date.fromisoformat(d.strip()) for d in extra_days_off.split(",") if d.strip()]
        return cls(admins, load_agencies(agencies_file or DEFAULT_AGENCIES), Calendar(days))

    def role(self, s: Session, user_key: str) -> tuple[str, Agency | None]:
        if user_key.lower() in self.admins:
            return "admin", None
        officer = officers_store.officer_of(s, user_key)
        if officer is not None and officer.agency_id in self.agencies:
            return "officer", self.agencies[officer.agency_id]
        return "owner", None


def record(
    d: Dossier, history: list[HistoryEntry] | None = None, files: tuple[FileRecord, ...] = ()
) -> DossierRecord:
    data = d.data
    profile = data.get("profile", {})
    filed = data.get("filed_on")
    decided = data.get("decided_on")
    items = tuple(
        ItemRecord(
            item_id=i.item_id,
            code=i.code,
            title_vi=i.data.get("title_vi", i.code),
            title_en=i.data.get("title_en", i.code),
            cost_vnd=i.cost_vnd,
            quantity=i.quantity,
            state_vnd=i.state_vnd,
            approved_vnd=i.approved_vnd,
            basis_vi=i.data.get("basis_vi", ""),
            basis_en=i.data.get("basis_en", ""),
            unit_cost_vnd=i.data.get("unit_cost_vnd"),
            consultant_code=i.data.get("consultant_code"),
            quote=bool(i.data.get("quote")),
        )
        for i in d.items
    )
    return DossierRecord(
        id=d.id,
        ref=d.ref,
        status=d.status,
        version=d.version,
        firm=str(profile.get("name", "")),
        tax_code=str(profile.get("tax_code", "")),
        size=d.size,
        province=str(data.get("province", "")),
        commune=str(data.get("commune", "")),
        filed_on=dt.date.fromisoformat(filed) if filed else d.created_at.date(),
        total_state_vnd=d.total_state_vnd,
        items=items,
        flags=frozenset(data.get("flags", [])),
        agency_id=d.agency_id,
        decided_on=dt.date.fromisoformat(decided) if decided else None,
        attachments=int(data.get("attachments", 0)),
        checklist=tuple(data.get("checklist", [])),
        size_summary={"vi": data.get("size_summary_vi", ""), "en": data.get("size_summary_en", "")},
        history=tuple(history or ()),
        last_change=_last_change(data.get("last_change")),
        owner_id=d.user_id,
        claimed_by=data.get("claimed_by"),
        profile=dict(profile),
        size_reason={"vi": data.get("size_reason_vi", ""), "en": data.get("size_reason_en", "")},
        files=files,
        request=requests.from_json(data.get("open_request")),
    )


def file_records(d: Dossier, attachments: list[Attachment]) -> tuple[FileRecord, ...]:
    """The dossier's files numbered #1, #2... as received; the same content twice points to the first."""
    proves: dict[str, str] = dict(d.data.get("evidence_files") or {})
    first: dict[str, int] = {}
    out = []
    for number, a in enumerate(attachments, start=1):
        out.append(
            FileRecord(
                number=number,
                attachment_id=a.id,
                name=a.filename,
                mime=a.mime,
                size_bytes=a.size_bytes,
                sha256=a.sha256,
                evidence_id=proves.get(str(a.id)),
                duplicate_of=first.get(a.sha256),
            )
        )
        first.setdefault(a.sha256, number)
    return tuple(out)


def _last_change(value: object) -> tuple[str, str] | None:
    if isinstance(value, dict) and "actor" in value and "action" in value:
        return str(value["actor"]), str(value["action"])
    return None


def history(s: Session, dossier_id: int) -> list[HistoryEntry]:
    return [HistoryEntry(e.at, e.actor, e.action, e.note) for e in dossiers_store.events_of(s, dossier_id)]


def officer_context(
    s: Session,
    staff: Staff,
    catalogue: Catalogue,
    today: dt.date,
    actor: str,
    role: str,
    agency: Agency | None,
    with_history_of: str | None = None,
) -> OfficerContext:
    dossiers = dossiers_store.agency_dossiers(s, agency.id if agency else None)
    wanted = (with_history_of or "").strip().split(" ")[0].upper()
    records = tuple(
        record(d, history(s, d.id), file_records(d, dossiers_store.dossier_attachments(s, d.id)))
        if d.ref == wanted
        else record(d)
        for d in dossiers
    )
    officers = (
        tuple((o.user_key, o.agency_id) for o in officers_store.list_officers(s)) if role == "admin" else ()
    )
    keys = {actor, *(key for key, _ in officers)}
    interests = {key: interest(s, key) for key in keys}
    return OfficerContext(
        actor=actor,
        role=role,
        today=today,
        catalogue=catalogue,
        calendar=staff.calendar,
        agencies=staff.agencies,
        agency=agency,
        dossiers=records,
        officers=officers,
        interests=interests,
    )


def interest(s: Session, user_key: str) -> Interest:
    """What a staff member is recorded against: their user, and the tax codes of their firm and dossiers."""
    user_id, tax_codes = officers_store.interests_of(s, user_key)
    return Interest(user_id, frozenset(tax_codes))
