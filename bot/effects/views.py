"""Database rows as the views others take: a dossier as the owner's dialogues see it (with the history an
owner reads), a dossier for its DOCX/HTML, an item and a dossier for the export's sheets and CSV; and the
documents of a dossier rendered from that view (pure, in the pool)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from bot import documents
from bot.effects.base import DOCX, Document, Env
from bot.store.models import Dossier
from conversations.context import DossierView, HistoryStep
from conversations.officer import request as requests
from conversations.owner.support import looks_like_consultant_code
from locales import t
from rules.evidence import PROVIDED_BY_BOT, required_evidence


def status_at(d: Dossier, on: dt.date) -> str | None:
    """A dossier's status on a date, from the dates it keeps: None if filed later; a decision or a
    withdrawal dated later does not count yet (the dossier was still under review then)."""
    filed = d.data.get("filed_on")
    if filed and dt.date.fromisoformat(filed) > on:
        return None
    decided = d.status in ("approved", "rejected")
    moved_on = d.data.get("decided_on") if decided else d.data.get("withdrawn_on")
    if moved_on and dt.date.fromisoformat(moved_on) > on:
        return "in_review"
    return d.status


def export_item(item: Any, state_vnd: int) -> dict[str, Any]:
    return {
        "code": item.code,
        "programme_id": item.programme_id,
        "title": item.data.get("title_vi", item.code),
        "quantity": 1,
        "cost_vnd": item.cost_vnd,
        "state_vnd": state_vnd,
        "enterprise_vnd": item.cost_vnd - state_vnd,
    }


def csv_row(d: Dossier, env: Env) -> dict[str, Any]:
    profile = d.data.get("profile", {})
    agency = env.staff.agencies.get(d.agency_id or "")
    return {
        "ref": d.ref,
        "status": d.status,
        "filed_on": d.data.get("filed_on", d.created_at.date().isoformat()),
        "firm": profile.get("name", ""),
        "tax_code": profile.get("tax_code", ""),
        "province": d.data.get("province", ""),
        "commune": d.data.get("commune", ""),
        "size": d.size,
        "total_state_vnd": d.total_state_vnd,
        "approved_vnd": sum(i.approved_vnd or 0 for i in d.items),
        "agency": agency.name_vi if agency else "",
    }


def render_dossier_documents(ref: str, data: dict[str, Any], lang: str) -> list[Document]:
    """The dossier as DOCX (to print and sign) and HTML (to read on a phone). Pure CPU, no session."""
    name = ref if lang == "vi" else f"{ref}-{lang}"  # the Vietnamese form keeps the plain name
    return [
        Document(f"{name}.docx", documents.dossier_docx(data, lang), DOCX),
        Document(f"{name}.html", documents.dossier_html(data, lang).encode(), "text/html"),
    ]


def document_data(env: Env, d: Dossier, lang: str) -> dict[str, Any]:
    """A dossier as the documents module takes it (labels in the language, amounts in đồng)."""
    profile = dict(d.data.get("profile", {}))
    agency = env.staff.agencies.get(d.agency_id or "")
    evidence = env.catalogue.evidence
    proven = set((d.data.get("evidence_files") or {}).values())
    flags = set(d.data.get("flags", ()))
    quote = any(i.data.get("quote") for i in d.items)
    checklist = required_evidence(d.data.get("checklist", []), flags, quote)
    return {
        "ref": d.ref,
        "status": d.status,
        "filed_on": d.data.get("filed_on", d.created_at.date().isoformat()),
        "agency": agency.name(lang) if agency else None,
        "profile": {
            "name": profile.get("name", ""),
            "tax_code": profile.get("tax_code", ""),
            "entity_type": t(f"entity_type.{profile.get('entity_type', 'llc1')}", lang),
            "province": d.data.get("province", ""),
            "commune": d.data.get("commune", ""),
            "address": profile.get("address", ""),
            "phone": profile.get("phone", ""),
            "email": profile.get("email"),
            "sector": t(f"sector.{profile.get('sector', 'services')}", lang),
            "workers": profile.get("workers", 0),
            "female_workers": profile.get("female_workers"),
            "revenue_vnd": profile.get("revenue"),
            "capital_vnd": profile.get("capital", 0),
            "women_owned": bool(profile.get("women_owned")),
            "woman_executive": None,
            "social_enterprise": bool(profile.get("social_enterprise")),
        },
        "size_summary": d.data.get(f"size_summary_{lang}", d.data.get("size_summary_vi", "")),
        "size_reason": d.data.get(f"size_reason_{lang}", d.data.get("size_reason_vi", "")),
        "items": [
            {
                "code": i.code,
                "title": i.data.get(f"title_{lang}", i.code),
                "rate_percent": i.data.get("rate_percent"),
                "cap_vnd": i.data.get("cap_vnd"),
                "cost_vnd": i.cost_vnd,
                "quantity": i.quantity,
                "state_vnd": i.state_vnd,
                "enterprise_vnd": i.enterprise_vnd,
                "approved_vnd": i.approved_vnd,
                "basis": i.data.get(f"basis_{lang}", ""),
                "consulting": "network_consultant_contract" in i.data.get("evidence", ()),
                "consultant_code": i.data.get("consultant_code")
                if looks_like_consultant_code(i.data.get("consultant_code"))
                else None,
                "quote": bool(i.data.get("quote")),
                "quote_attached": bool(i.data.get("quote")) and "provider_quote" in proven,
                "used_known_vnd": i.data.get("used_known_vnd"),
                "used_declared_vnd": i.data.get("used_declared_vnd"),
            }
            for i in d.items
        ],
        "total_state_vnd": d.total_state_vnd,
        "checklist": [
            {
                "title": evidence[e].title.get(lang) if e in evidence else e,
                "attached": e in proven or e in PROVIDED_BY_BOT,
                "provided": e in PROVIDED_BY_BOT,
            }
            for e in checklist
        ],
        "decision_note": d.data.get("decision_note") if d.status in ("approved", "rejected") else None,
        "history": [],
    }


#: What an owner reads of a dossier's history: the moves, the officer's questions, their own words and files
#: (an officer's internal /note, an assignment or a refused command are the agency's own).
OWNER_HISTORY = frozenset(
    {"file", "attach", "claim", "ask", "answer_part", "answer", "message", "approve", "reject", "withdraw"}
)


def owner_history(events: Iterable[Any], owner_key: str) -> tuple[HistoryStep, ...]:
    steps: list[HistoryStep] = []
    for e in events:
        if e.action not in OWNER_HISTORY:
            continue
        step = HistoryStep(e.at, "you" if e.actor == owner_key else "officer", e.action, e.note)
        last = steps[-1] if steps else None
        if last and last.action == "attach" and e.action in ("answer_part", "answer") and e.note == last.note:
            steps[-1] = replace(step, action="attach")  # one file, one line (it answered the request)
            continue
        steps.append(step)
    return tuple(steps)


def dossier_view(d: Dossier, history: tuple[HistoryStep, ...] = ()) -> DossierView:
    proven = set((d.data.get("evidence_files") or {}).values()) | PROVIDED_BY_BOT
    checklist = tuple((e, e in proven) for e in d.data.get("checklist", []))
    asked = requests.from_json(d.data.get("open_request"))
    return DossierView(
        ref=d.ref,
        status=d.status,
        created=d.created_at.date(),
        total_state_vnd=d.total_state_vnd,
        items=tuple((i.item_id, i.code, i.state_vnd) for i in d.items),
        checklist=checklist,
        attachments=int(d.data.get("attachments", 0)),
        request=requests.numbered(asked) if asked else d.data.get("request"),
        approved=tuple(i.approved_vnd for i in d.items),
        decision_note=d.data.get("decision_note") if d.status in ("approved", "rejected") else None,
        agency_id=d.agency_id,
        history=history,
    )
