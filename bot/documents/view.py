"""The dossier view: every string one dossier document prints, in one language, from plain data.

A dossier is rendered in three parts: the Decree 80 annex declaration form (with province and commune:
communes replaced districts in the 2025 reform), the support request with its estimate table, and the
evidence checklist. The DOCX and the HTML print the same strings, taken from one :class:`DossierView` built
from ``locales/*.documents.yaml``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from conversations.owner.support import looks_like_consultant_code
from locales import catalogue as messages
from locales import t
from rules.explain import rate_text
from rules.legal import Basis
from rules.money import format_vnd_full

FONT = "Times New Roman"  # every document, Word and Excel alike
SIZES = ("micro", "small", "medium")
CHECKED, UNCHECKED = "☑", "☐"

ND80 = Basis(document="ND80")
FALSE_DECLARATION = Basis(document="ND80", article=10)  # a false declaration means repaying the support
AGENCY_DECIDES = Basis(document="ND80", article=32, clause=3, point="a")
COPIES_UNCERTIFIED = Basis(document="TT06", article=3, clause=7)


@dataclass(frozen=True)
class Line:
    """A labelled field of the declaration form."""

    number: str
    label: str
    value: str


@dataclass(frozen=True)
class EstimateRow:
    code: str
    title: str
    details: tuple[str, ...]
    cost: str
    rate: str
    cap: str
    state: str
    enterprise: str
    approved: str
    basis: str


@dataclass(frozen=True)
class Check:
    mark: str
    title: str
    status: str
    attached: bool


@dataclass(frozen=True)
class DossierView:
    """Every string one dossier document prints, in one language."""

    lang: str
    page_title: str
    meta: tuple[str, ...]
    country: str
    motto: str
    form_part: str
    form_title: str
    form_subtitle: str
    addressee: str
    info_heading: str
    info: tuple[Line, ...]
    size_heading: str
    size_boxes: tuple[str, ...]
    size: tuple[Line, ...]
    request_heading: str
    request_intro: str
    requested: tuple[str, ...]
    commitment_heading: str
    commitment: str
    place_date: str
    signer: str
    signer_hint: str
    estimate_part: str
    estimate_title: str
    columns: tuple[str, ...]
    show_approved: bool
    rows: tuple[EstimateRow, ...]
    totals: EstimateRow
    no_rows: str
    total_line: str
    approved_line: str | None
    decision: tuple[str, ...]
    indicative: str
    checklist_part: str
    checklist_title: str
    checklist_columns: tuple[str, ...]
    checks: tuple[Check, ...]
    no_checks: str
    checklist_summary: str
    copies_note: str


def _date_parts(value: Any) -> tuple[int, int, int] | None:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.day, value.month, value.year
    if isinstance(value, str) and len(value) >= 10:
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
        return day.day, day.month, day.year
    return None


def _date(value: Any, lang: str) -> str:
    parts = _date_parts(value)
    if parts is None:
        return str(value or "")
    day, month, year = parts
    return t("doc.meta.date", lang, day=f"{day:02d}", month=f"{month:02d}", year=year)


def _text(value: Any, lang: str) -> str:
    if value is None or value == "":
        return t("doc.missing", lang)
    return str(value)


def _yes_no(value: Any, lang: str) -> str:
    return t("doc.answer_yes" if value else "doc.answer_no", lang)


def _money(value: int | None) -> str:
    return "" if value is None else format_vnd_full(int(value))


def _rate(value: Any, lang: str) -> str:
    if value is None or value == "":
        return t("doc.request.rate_none", lang)
    return rate_text(Decimal(str(value)), lang)


def _size_code(doc: Mapping[str, Any], lang: str) -> str | None:
    code = doc.get("size")
    if code in SIZES:
        return str(code)
    summary = str(doc.get("size_summary") or "").casefold()
    names = sorted(SIZES, key=lambda s: -len(t(f"size.name.{s}", lang)))
    return next((s for s in names if summary.startswith(t(f"size.name.{s}", lang).casefold())), None)


def _info_lines(profile: Mapping[str, Any], lang: str) -> tuple[Line, ...]:
    fields: list[tuple[str, str]] = [
        ("name", _text(profile.get("name"), lang)),
        ("tax_code", _text(profile.get("tax_code"), lang)),
        ("entity_type", _text(profile.get("entity_type"), lang)),
        ("address", _text(profile.get("address"), lang)),
        ("commune", _text(profile.get("commune"), lang)),
        ("province", _text(profile.get("province"), lang)),
        ("phone", _text(profile.get("phone"), lang)),
    ]
    if profile.get("fax"):
        fields.append(("fax", str(profile["fax"])))
    fields.append(("email", _text(profile.get("email"), lang)))
    fields.append(("women_owned", _yes_no(profile.get("women_owned"), lang)))
    if profile.get("women_owned") or profile.get("woman_executive"):
        fields.append(("woman_executive", _text(profile.get("woman_executive"), lang)))
    fields.append(("sector", _text(profile.get("sector"), lang)))
    workers = t(
        "doc.form.workers_value",
        lang,
        workers=profile.get("workers") if profile.get("workers") is not None else "…",
        female=profile.get("female_workers") if profile.get("female_workers") is not None else "…",
    )
    fields.append(("workers", workers))
    capital = profile.get("capital_vnd")
    fields.append(("capital", _money(capital) if capital is not None else t("doc.missing", lang)))
    revenue = profile.get("revenue_vnd")
    fields.append(("revenue", _money(revenue) if revenue is not None else t("doc.form.revenue_none", lang)))
    fields.append(("social_enterprise", _yes_no(profile.get("social_enterprise"), lang)))
    return tuple(
        Line(f"{n}.", t(f"doc.form.{key}", lang), value) for n, (key, value) in enumerate(fields, start=1)
    )


def _estimate_rows(items: Sequence[Mapping[str, Any]], lang: str) -> tuple[EstimateRow, ...]:
    rows: list[EstimateRow] = []
    for item in items:
        details: list[str] = []
        quantity = item.get("quantity") or 1
        if quantity != 1:
            details.append(t("doc.request.quantity", lang, quantity=quantity))
        code = item.get("consultant_code")
        if code and looks_like_consultant_code(code):
            details.append(t("doc.request.consultant", lang, code=str(code).strip().upper()))
        elif item.get("consulting") or code:  # asked, and no code yet: said so, never a made-up value
            details.append(t("doc.request.consultant_none", lang))
        if item.get("quote") is not None:  # "attached" only when a file proves it
            quote = (
                "quote_attached"
                if item.get("quote_attached")
                else "quote_yes"
                if item["quote"]
                else "quote_no"
            )
            details.append(t(f"doc.request.{quote}", lang))
        for key in ("used_known_vnd", "used_declared_vnd"):  # the year's use of the content (TT06 Art. 3.5)
            if item.get(key):
                details.append(t(f"doc.request.{key.removesuffix('_vnd')}", lang, amount=_money(item[key])))
        cap = item.get("cap_vnd")
        approved = item.get("approved_vnd")
        rows.append(
            EstimateRow(
                code=str(item.get("code") or ""),
                title=str(item.get("title") or ""),
                details=tuple(details),
                cost=_money(item.get("cost_vnd")),
                rate=_rate(item.get("rate_percent"), lang),
                cap=_money(cap) if cap is not None else t("doc.request.cap_none", lang),
                state=_money(item.get("state_vnd")),
                enterprise=_money(item.get("enterprise_vnd")),
                approved=_money(approved) if approved is not None else t("doc.request.pending", lang),
                basis=str(item.get("basis") or ""),
            )
        )
    return tuple(rows)


def _sum(items: Sequence[Mapping[str, Any]], key: str) -> int:
    return sum(int(item.get(key) or 0) for item in items)


def dossier_view(doc: Mapping[str, Any], lang: str = "vi") -> DossierView:
    """Every string of the dossier documents, in ``lang``."""
    profile: Mapping[str, Any] = doc.get("profile") or {}
    items: Sequence[Mapping[str, Any]] = doc.get("items") or ()
    checklist: Sequence[Mapping[str, Any]] = doc.get("checklist") or ()
    agency = doc.get("agency")
    status = str(doc.get("status") or "")
    status_label = t(f"doc.status.{status}", lang) if f"doc.status.{status}" in messages(lang) else status

    meta = [
        t("doc.meta.ref", lang, ref=doc.get("ref") or ""),
        t("doc.meta.status", lang, status=status_label),
    ]
    if doc.get("filed_on"):
        meta.append(t("doc.meta.filed_on", lang, date=_date(doc["filed_on"], lang)))
    meta.append(t("doc.meta.agency", lang, agency=agency) if agency else t("doc.meta.agency_none", lang))

    size_code = _size_code(doc, lang)
    boxes = tuple(f"{CHECKED if s == size_code else UNCHECKED} {t(f'size.name.{s}', lang)}" for s in SIZES)
    size = (
        Line("", t("doc.form.size_result", lang), _text(doc.get("size_summary"), lang)),
        Line("", t("doc.form.size_reason", lang), _text(doc.get("size_reason"), lang)),
    )
    requested = tuple(
        t(
            "doc.form.request_line",
            lang,
            code=item.get("code") or "",
            title=item.get("title") or "",
            amount=_money(int(item.get("state_vnd") or 0)),
        )
        for item in items
    )

    parts = _date_parts(doc.get("filed_on"))
    place = profile.get("commune") or profile.get("province")
    if parts and place:
        day, month, year = parts
        place_date = t(
            "doc.form.place_date", lang, place=place, day=f"{day:02d}", month=f"{month:02d}", year=year
        )
    else:
        place_date = t("doc.form.place_date_blank", lang)

    show_approved = any(item.get("approved_vnd") is not None for item in items)
    columns = [t(f"doc.request.{key}", lang) for key in ("code", "item", "cost", "rate", "cap", "state")]
    columns.append(t("doc.request.enterprise", lang))
    if show_approved:
        columns.append(t("doc.request.approved", lang))
    columns.append(t("doc.request.basis", lang))
    total_state = (
        int(doc["total_state_vnd"]) if doc.get("total_state_vnd") is not None else _sum(items, "state_vnd")
    )
    approved_total = sum(int(item["approved_vnd"]) for item in items if item.get("approved_vnd") is not None)
    approved_line = (
        t("doc.request.approved_line", lang, amount=_money(approved_total)) if show_approved else None
    )
    totals = EstimateRow(
        code="",
        title=t("doc.request.total", lang),
        details=(),
        cost=_money(_sum(items, "cost_vnd")),
        rate="",
        cap="",
        state=_money(total_state),
        enterprise=_money(_sum(items, "enterprise_vnd")),
        approved=_money(approved_total) if show_approved else "",
        basis="",
    )

    checks = tuple(
        Check(
            mark=CHECKED if entry.get("attached") else UNCHECKED,
            title=str(entry.get("title") or ""),
            status=t(
                "doc.checklist.provided"
                if entry.get("provided")
                else "doc.checklist.attached"
                if entry.get("attached")
                else "doc.checklist.missing",
                lang,
            ),
            attached=bool(entry.get("attached")),
        )
        for entry in checklist
    )
    decision: tuple[str, ...] = ()
    note = str(doc.get("decision_note") or "").strip()
    if status == "approved" and note:
        decision = (t("doc.decision.approved_note", lang, note=note),)
    elif status == "rejected":
        decision = (
            t("doc.decision.rejected", lang, note=note or "—"),
            t("doc.decision.next", lang, agency=agency or t("doc.form.to_default", lang)),
        )

    return DossierView(
        lang=lang,
        page_title=t("doc.meta.page_title", lang, ref=doc.get("ref") or "", name=profile.get("name") or ""),
        meta=tuple(meta),
        country=t("doc.nation.country", lang),
        motto=t("doc.nation.motto", lang),
        form_part=t("doc.part.form", lang),
        form_title=t("doc.form.title", lang),
        form_subtitle=t("doc.form.subtitle", lang, basis=ND80.cite(lang)),
        addressee=t("doc.form.to", lang, agency=agency or t("doc.form.to_default", lang)),
        info_heading=t("doc.form.info", lang),
        info=_info_lines(profile, lang),
        size_heading=t("doc.form.size", lang),
        size_boxes=boxes,
        size=size,
        request_heading=t("doc.form.request", lang),
        request_intro=t("doc.form.request_intro", lang) if items else t("doc.form.request_none", lang),
        requested=requested,
        commitment_heading=t("doc.form.commitment_heading", lang),
        commitment=t("doc.form.commitment", lang, basis=FALSE_DECLARATION.cite(lang)),
        place_date=place_date,
        signer=t("doc.form.signer", lang),
        signer_hint=t("doc.form.signer_hint", lang),
        estimate_part=t("doc.part.request", lang),
        estimate_title=t("doc.request.title", lang),
        columns=tuple(columns),
        show_approved=show_approved,
        rows=_estimate_rows(items, lang),
        totals=totals,
        no_rows=t("doc.request.none", lang),
        total_line=t("doc.request.total_line", lang, amount=_money(total_state)),
        approved_line=approved_line,
        decision=decision,
        indicative=t("doc.request.indicative", lang, basis=AGENCY_DECIDES.cite(lang)),
        checklist_part=t("doc.part.checklist", lang),
        checklist_title=t("doc.checklist.title", lang),
        checklist_columns=tuple(t(f"doc.checklist.{k}", lang) for k in ("mark", "document", "state")),
        checks=checks,
        no_checks=t("doc.checklist.none", lang),
        checklist_summary=t(
            "doc.checklist.summary", lang, attached=sum(c.attached for c in checks), total=len(checks)
        ),
        copies_note=t("doc.checklist.copies", lang, basis=COPIES_UNCERTIFIED.cite(lang)),
    )
