"""What every effect runner shares: the one call context, the typed results, the documents a reply
carries (made now, or rendered after the commit), and the registry of runners keyed by effect type."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bot.staff import Staff
from bot.store import officers as officers_store
from bot.store import outbox
from bot.store import users as users_store
from bot.store.models import User
from conversations.effects import Effect
from rules.catalogue import Catalogue

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    mime: str


@dataclass(frozen=True)
class DossierDocuments:
    """A dossier's documents, rendered after the transaction (a DOCX takes ~0.1 s: not on the writer)."""

    ref: str
    lang: str
    for_staff: bool = False  # an officer's copy (see conversations.effects.DossierDocument)


@dataclass(frozen=True)
class ChartDocument:
    """The /stats picture, as plain data: rendered after the commit (matplotlib takes ~0.2 s)."""

    year: int
    title: str
    xlabel: str
    series: tuple[tuple[str, int], ...]  # label (in the officer's language) -> count, in order
    lang: str


@dataclass(frozen=True)
class ExportDocuments:
    """The /export plan workbook and dossier list, as plain data: rendered after the commit."""

    year: int
    lang: str
    agency: str
    programmes: tuple[str, ...] | None  # a programme's own layout; None: the national Annex 4 layout
    approved: tuple[dict[str, Any], ...]
    submitted: tuple[dict[str, Any], ...]
    scopes: tuple[str, str]
    rows: tuple[dict[str, Any], ...]  # one CSV row per dossier


#: A document a reply carries that is rendered after the commit, in the worker pool.
Deferred = DossierDocuments | ChartDocument | ExportDocuments


def deferred_to_json(document: Deferred) -> dict[str, Any]:
    """A deferred document as the outbox keeps it, in the reply's own row: the sender renders it when it
    delivers the reply, so a crash after the commit loses no file (it is rendered on the next attempt)."""
    if isinstance(document, DossierDocuments):
        staff = {"for_staff": True} if document.for_staff else {}
        return {"dossier": document.ref, "lang": document.lang, **staff}
    kind = "chart" if isinstance(document, ChartDocument) else "export"
    # its fields are plain data already (tuples, dicts, numbers, text): no deep copy (asdict) needed, which
    # for an export of a year's dossiers took a millisecond or more of the writer's transaction
    return {"render": kind, **{f.name: getattr(document, f.name) for f in fields(document)}}


def deferred_from_json(data: dict[str, Any], lang: str) -> Deferred | None:
    """The request written by :func:`deferred_to_json`; None for a document made already (a file)."""
    if "dossier" in data:
        return DossierDocuments(
            str(data["dossier"]), str(data.get("lang", lang)), bool(data.get("for_staff"))
        )
    kind = data.get("render")
    if kind == "chart":
        series = tuple((str(label), int(n)) for label, n in data["series"])
        return ChartDocument(int(data["year"]), data["title"], data["xlabel"], series, data["lang"])
    if kind == "export":
        programmes = data.get("programmes")
        return ExportDocuments(
            int(data["year"]),
            data["lang"],
            data["agency"],
            tuple(programmes) if programmes is not None else None,
            tuple(data["approved"]),
            tuple(data["submitted"]),
            (str(data["scopes"][0]), str(data["scopes"][1])),
            tuple(data["rows"]),
        )
    return None


@dataclass(frozen=True)
class Env:
    today: dt.date
    staff: Staff
    catalogue: Catalogue


@dataclass(frozen=True)
class Attached:
    id: int
    name: str
    sha256: str


@dataclass
class Results:
    """What running a message's effects produced, for its replies and for the shell after the commit."""

    dossier_refs: list[str] = field(default_factory=list)
    request_progress: str = ""
    erase_summary: str = ""
    outcome: str = ""
    export_summary: str = ""
    attached: Attached | None = None
    documents: dict[str, list[Document | Deferred]] = field(default_factory=dict)  # per Reply.attach
    notified: bool = False  # messages were queued for other users (an officer's decision)
    forget: bool = False  # the user's state is not saved (no consent, or erased)
    remove: list[str] = field(default_factory=list)  # files to delete once committed (an erasure's)
    erased_dossiers: list[str] = field(default_factory=list)  # refs whose written documents go too
    notifications: list[str] = field(default_factory=list)  # pending ones, for a channel without a sender

    def attach(self, key: str, *documents: Document | Deferred) -> None:
        self.documents.setdefault(key, []).extend(documents)

    def shown(self) -> dict[str, str]:
        """The values a reply's :class:`conversations.messages.Result` names."""
        return {
            "dossier_ref": ", ".join(self.dossier_refs),
            "request_progress": self.request_progress,
            "erase_summary": self.erase_summary,
            "outcome": self.outcome,
            "export_summary": self.export_summary,
        }


@dataclass(frozen=True)
class Ctx:
    """The one call context of an effect runner: the transaction, who asked, in which language."""

    s: Session
    user: User
    key: str  # the actor's user key ("telegram:42")
    lang: str
    env: Env
    results: Results


E = TypeVar("E")
Runner = Callable[[Any, Ctx], None]
RUNNERS: dict[type[Any], Runner] = {}


def runs(kind: type[E]) -> Callable[[Callable[[E, Ctx], None]], Callable[[E, Ctx], None]]:
    """Register the runner of one effect type."""

    def register(fn: Callable[[E, Ctx], None]) -> Callable[[E, Ctx], None]:
        if kind in RUNNERS:
            raise TypeError(f"two runners for {kind.__name__}")
        RUNNERS[kind] = fn
        return fn

    return register


def run(effect: Effect, ctx: Ctx) -> None:
    RUNNERS[type(effect)](effect, ctx)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def notify_staff(s: Session, user_key: str, payload: dict[str, Any], dedup_key: str) -> bool:
    """A message to an officer, rendered in their language when delivered (it waits in the outbox if
    they have not written to the bot yet)."""
    channel, _, external_id = user_key.partition(":")
    if not external_id:
        return False
    officer = users_store.get_or_create_user(s, channel, external_id)
    if officer.deleted_at is not None:
        return False
    outbox.enqueue(s, officer, payload, dedup_key=dedup_key)
    return True


def agency_officers(s: Session, claimed: Any, agency_id: str | None) -> list[str]:
    """Who hears about a dossier: the officer who has it; nobody has it yet: every officer of its agency."""
    if claimed:
        return [str(claimed)]
    return [o.user_key for o in officers_store.list_officers(s) if o.agency_id == agency_id]
