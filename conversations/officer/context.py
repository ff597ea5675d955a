"""What the shell tells the officer commands: who asks, their agency, and that agency's dossiers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from conversations.officer.agencies import Agency
from rules.catalogue import Catalogue
from rules.deadline import Calendar

PRIORITY_FLAGS = frozenset({"women_owned", "many_female_workers", "social_enterprise"})


@dataclass(frozen=True)
class ItemRecord:
    item_id: str
    code: str
    title_vi: str
    title_en: str
    cost_vnd: int
    quantity: int
    state_vnd: int
    approved_vnd: int | None
    basis_vi: str
    basis_en: str

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi

    def basis(self, lang: str) -> str:
        return self.basis_en if lang == "en" else self.basis_vi


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    actor: str
    action: str
    note: str | None = None


@dataclass(frozen=True)
class DossierRecord:
    id: int
    ref: str
    status: str
    version: int
    firm: str
    tax_code: str
    size: str
    province: str
    commune: str
    filed_on: dt.date
    total_state_vnd: int
    items: tuple[ItemRecord, ...]
    flags: frozenset[str] = frozenset()
    agency_id: str | None = None
    decided_on: dt.date | None = None
    attachments: int = 0
    checklist: tuple[str, ...] = ()
    size_summary: Mapping[str, str] = field(default_factory=dict)  # lang -> text
    history: tuple[HistoryEntry, ...] = ()
    last_change: tuple[str, str] | None = None  # (actor, action) of the latest status move

    @property
    def priority(self) -> bool:
        """Women-owned, many-female-worker and social-enterprise SMEs are served first (ND80 Art. 4.1)."""
        return bool(self.flags & PRIORITY_FLAGS)

    @property
    def approved_vnd(self) -> int:
        return sum(i.approved_vnd or 0 for i in self.items)


@dataclass(frozen=True)
class OfficerContext:
    actor: str  # "console:bob", "telegram:12345"
    role: str  # owner | officer | admin
    today: dt.date
    catalogue: Catalogue
    calendar: Calendar
    agencies: Mapping[str, Agency]
    agency: Agency | None = None  # None for an admin: every agency
    dossiers: tuple[DossierRecord, ...] = ()
    officers: tuple[tuple[str, str], ...] = ()  # (user key, agency id)

    def find(self, ref: str) -> DossierRecord | None:
        wanted = ref.strip().upper()
        return next((d for d in self.dossiers if d.ref == wanted), None)
