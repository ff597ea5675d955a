"""What the shell tells the engine about the user before a step: a read-only snapshot (a port)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.agencies import Agency
from rules.catalogue import Catalogue
from rules.estimate import Used


@dataclass(frozen=True)
class DossierView:
    ref: str
    status: str
    created: dt.date
    total_state_vnd: int
    items: tuple[tuple[str, str, int], ...]  # (item id, code, state amount)
    checklist: tuple[tuple[str, bool], ...] = ()  # (evidence id, attached?)
    attachments: int = 0
    request: str | None = None  # the officer's request when status is needs_info
    approved: tuple[int | None, ...] = ()  # the amount the officer approved, per item (as ``items``)
    decision_note: str | None = None  # the officer's reason for an approval or a rejection
    agency_id: str | None = None  # the agency that reviews it
    history: tuple[HistoryStep, ...] = ()  # what the owner may read of the dossier's history


@dataclass(frozen=True)
class HistoryStep:
    """One entry of a dossier's history as its owner reads it: who (``you`` or ``officer``), what, when."""

    at: dt.datetime
    who: str
    action: str
    note: str | None = None


@dataclass(frozen=True)
class News:
    """The owner's programme news (issue 16): subscribed now or stopped, and the kinds they chose."""

    subscribed: bool
    topics: tuple[str, ...] = ()  # empty: every kind


@dataclass(frozen=True)
class Context:
    today: dt.date
    catalogue: Catalogue
    consented: bool = False
    saved_profile: Mapping[str, Any] | None = None  # the answers of the last filed or confirmed profile
    open_item_ids: frozenset[str] = frozenset()
    used: Mapping[str, Used] = field(default_factory=dict)  # content id -> received this year, by the firm
    dossiers: tuple[DossierView, ...] = ()
    unlinked_attachments: int = 0
    agencies: tuple[Agency, ...] = ()  # where a filed dossier goes (routing by programme and place)
    news: News | None = None  # their subscription to programme news; None: never asked for one
