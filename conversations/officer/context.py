"""What the shell tells the officer commands: who asks, their agency, and that agency's dossiers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from rules.agencies import Agency
from rules.catalogue import PRIORITY_GROUPS, Catalogue, Programme
from rules.deadline import Calendar
from rules.estimate import Profile


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
    unit_cost_vnd: int | None = None
    consultant_code: str | None = None
    quote: bool = False

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
class FileRecord:
    """An attachment of a dossier as the officer sees it: numbered #1, #2... in the order received."""

    number: int
    attachment_id: int
    name: str
    mime: str
    size_bytes: int
    sha256: str
    evidence_id: str | None = None  # the checklist item it proves, once the officer assigned it
    duplicate_of: int | None = None  # the number of an earlier file with the same content


@dataclass(frozen=True)
class RequestItem:
    text: str
    answer: str | None = None  # what covered it: a file name or the owner's words


@dataclass(frozen=True)
class RequestRecord:
    """The open request for documents: what the officer asked, item by item, and what came back."""

    by: str
    items: tuple[RequestItem, ...]
    messages: tuple[str, ...] = ()  # the owner's other words while it was open

    @property
    def missing(self) -> tuple[int, ...]:
        return tuple(n for n, item in enumerate(self.items, start=1) if item.answer is None)


@dataclass(frozen=True)
class Interest:
    """What an officer is recorded against: their own user id and the tax codes of their firms."""

    user_id: int | None = None
    tax_codes: frozenset[str] = frozenset()


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
    owner_id: int | None = None  # the user who filed it
    claimed_by: str | None = None  # the officer who claimed it (keeps it through a request for documents)
    profile: Mapping[str, object] = field(default_factory=dict)  # the declaration as filed
    size_reason: Mapping[str, str] = field(default_factory=dict)  # lang -> text
    files: tuple[FileRecord, ...] = ()  # only for the dossier a command names
    request: RequestRecord | None = None

    @property
    def priority(self) -> bool:
        """Women-owned, many-female-worker and social-enterprise SMEs are served first (ND80 Art. 4.1)."""
        return bool(self.flags & PRIORITY_GROUPS)

    @property
    def approved_vnd(self) -> int:
        return sum(i.approved_vnd or 0 for i in self.items)


@dataclass(frozen=True)
class ProgrammeRecord:
    """A programme as /programmes shows it: shipped (in rules/data) or stored (its newest version), with
    the version that is live, and what the approvals of its items used (issue 16)."""

    programme: Programme
    status: str  # shipped | draft | published | closed (of the newest version)
    version: int = 0  # the newest stored version; 0 for a shipped one
    live_version: int | None = None  # the published version, if any
    agency_id: str | None = None
    used_vnd: int = 0
    dossiers: int = 0

    @property
    def id(self) -> str:
        return self.programme.id


@dataclass(frozen=True)
class Subscriber:
    """An owner who takes programme news (issue 16), as a broadcast's audience is drawn from: their saved
    profile, head office and language, the kinds of support they chose (empty: every kind)."""

    user_id: int
    lang: str
    province: str
    commune: str
    sector: str | None
    profile: Profile
    topics: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BroadcastRecord:
    """A broadcast and its progress, as /broadcast_status shows it."""

    id: int
    programme_id: str
    agency_id: str | None
    officer_key: str
    status: str  # sending | done | cancelled
    created: dt.datetime
    total: int
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    remaining: int = 0


class NewsReader(Protocol):
    """What the shell reads for the broadcast commands, only when one of them asks (a subscriber list can
    be long: it is not loaded for the other commands)."""

    def subscribers(self) -> tuple[Subscriber, ...]: ...

    def broadcasts(self) -> tuple[BroadcastRecord, ...]: ...


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
    interests: Mapping[str, Interest] = field(
        default_factory=dict
    )  # user key -> what they are recorded against
    programmes: tuple[ProgrammeRecord, ...] = ()  # shipped and stored, with their use (issue 16)
    news: NewsReader | None = None  # subscribers and broadcasts the actor may see, read on demand (issue 16)

    def conflict(self, d: DossierRecord, who: str | None = None) -> str | None:
        """Why ``who`` (the actor by default) may not decide ``d``: "own" (they filed it), "firm" (a
        firm they are recorded against, same tax code), or None."""
        interest = self.interests.get(who or self.actor)
        if interest is None:
            return None
        if interest.user_id is not None and d.owner_id == interest.user_id:
            return "own"
        if d.tax_code and d.tax_code in interest.tax_codes:
            return "firm"
        return None

    def programme(self, programme_id: str) -> ProgrammeRecord | None:
        return next((p for p in self.programmes if p.id == programme_id), None)

    def find(self, ref: str) -> DossierRecord | None:
        wanted = ref.strip().upper()
        return next((d for d in self.dossiers if d.ref == wanted), None)
