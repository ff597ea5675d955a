"""The documents the shell hands out: a dossier as DOCX and HTML, the plan as XLSX, the dossier list as CSV.

Plain data in, bytes or text out; no database. A dossier is rendered in three parts: the Decree 80 annex
declaration form (with province and commune: communes replaced districts in the 2025 reform), the support
request with its estimate table, and the evidence checklist. Both formats print the same strings, taken
from one view (:class:`DossierView`) built from ``locales/*.documents.yaml``.

The plan workbook follows Circular 06/2022 Annex 4 "Biểu 2": one row per Annex row of the national
programme, with heading rows, subtotals and the grand total as formulas, so a spreadsheet recomputes them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

import locales
from conversations.owner.support import looks_like_consultant_code
from locales import catalogue as messages
from locales import t
from rules import plan
from rules.catalogue import Catalogue, Item
from rules.explain import rate_text
from rules.legal import Basis
from rules.money import format_vnd_full

TEMPLATES = Path(locales.__file__).parent / "templates"
FONT = "Times New Roman"
NATIONAL = plan.NATIONAL
SIZES = ("micro", "small", "medium")
CHECKED, UNCHECKED = "☑", "☐"

ND80 = Basis(document="ND80")
TT06 = Basis(document="TT06")
FALSE_DECLARATION = Basis(document="ND80", article=10)  # a false declaration means repaying the support
AGENCY_DECIDES = Basis(document="ND80", article=32, clause=3, point="a")
COPIES_UNCERTIFIED = Basis(document="TT06", article=3, clause=7)


# ---------------------------------------------------------------------------------------------- the view


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


# ---------------------------------------------------------------------------------------------- HTML


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def dossier_html(doc: dict[str, Any], lang: str = "vi") -> str:
    """A complete standalone UTF-8 page (inline styles, no external assets) of the dossier."""
    return _environment().get_template("dossier.html.j2").render(v=dossier_view(doc, lang))


# ---------------------------------------------------------------------------------------------- DOCX


def _set_font(rpr: Any, name: str = FONT, lang_tag: str | None = None) -> None:
    """Name the font for every script (Latin, east-asian, complex); drop the theme fonts that win over it."""
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    if lang_tag:
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), lang_tag)


def _setup_styles(document: DocxDocument, lang: str) -> None:
    lang_tag = "vi-VN" if lang == "vi" else "en-GB"
    styles = document.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            _set_font(rpr)
    normal = styles["Normal"]
    normal.font.size = Pt(12)
    normal.paragraph_format.space_after = Pt(3)
    _set_font(normal.element.get_or_add_rPr(), lang_tag=lang_tag)
    for name, size in (("Heading 1", 14), ("Heading 2", 13), ("List Bullet", 12)):
        style = styles[name]
        style.font.size = Pt(size)
        if name.startswith("Heading"):
            style.font.bold = True
            style.font.color.rgb = None
            style.paragraph_format.space_before = Pt(10)
            style.paragraph_format.space_after = Pt(4)
        _set_font(style.element.get_or_add_rPr())


@lru_cache(maxsize=1)
def _style_ids() -> dict[str, str]:
    """The ids of the styles used, in python-docx's default template (every dossier starts from it).

    Setting a style by name makes python-docx search the styles part twice per paragraph (the name,
    then the default style to compare with): a tenth of a dossier's rendering time. By id it is a
    plain attribute.
    """
    styles = Document().styles
    names = ("Heading 1", "Heading 2", "List Bullet", "Table Grid")
    return {name: styles[name].style_id for name in names}


def _heading(document: DocxDocument, text: str, level: int) -> Paragraph:
    return _paragraph(document, text, style=f"Heading {level}")


def _paragraph(
    container: Any,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    align: WD_ALIGN_PARAGRAPH | None = None,
    style: str | None = None,
) -> Paragraph:
    paragraph: Paragraph = container.add_paragraph()
    if style is not None:
        paragraph._p.style = _style_ids()[style]
    if text:
        run = paragraph.add_run(text)
        if bold:  # only when set: assigning None still adds an empty <w:rPr>
            run.bold = True
        if italic:
            run.italic = True
        if size:
            run.font.size = Pt(size)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def _cell_text(cell: Any, text: str, *, bold: bool = False, align: WD_ALIGN_PARAGRAPH | None = None) -> None:
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(text)
    if bold:
        run.bold = True
    if align is not None:
        paragraph.alignment = align


def _repeat_header(table: Table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _widths(table: Table, widths_cm: Sequence[float]) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=False):
            cell.width = Cm(width)


def _grid(document: DocxDocument, rows: int, cols: int) -> Table:
    table: Table = document.add_table(rows=rows, cols=cols)
    table._tbl.tblStyle_val = _style_ids()["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    return table


def _docx_form(document: DocxDocument, v: DossierView) -> None:
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(document, " · ".join(v.meta), italic=True, size=9, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _heading(document, v.form_part, 1)
    _paragraph(document, v.country, bold=True, align=center)
    _paragraph(document, v.motto, bold=True, align=center)
    _paragraph(document, "———————", align=center)
    _paragraph(document, v.form_title, bold=True, size=13, align=center)
    _paragraph(document, v.form_subtitle, italic=True, align=center)
    _paragraph(document, v.addressee, bold=True, align=center)

    _heading(document, v.info_heading, 2)
    table = _grid(document, len(v.info), 2)
    for row, line in zip(table.rows, v.info, strict=True):
        _cell_text(row.cells[0], f"{line.number} {line.label}")
        _cell_text(row.cells[1], line.value)
    _widths(table, (7.5, 9.0))

    _heading(document, v.size_heading, 2)
    _paragraph(document, "    ".join(v.size_boxes))
    table = _grid(document, len(v.size), 2)
    for row, line in zip(table.rows, v.size, strict=True):
        _cell_text(row.cells[0], line.label)
        _cell_text(row.cells[1], line.value)
    _widths(table, (5.0, 11.5))

    _heading(document, v.request_heading, 2)
    _paragraph(document, v.request_intro)
    for request in v.requested:
        _paragraph(document, request, style="List Bullet")

    _heading(document, v.commitment_heading, 2)
    _paragraph(document, v.commitment, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    signature = document.add_table(rows=1, cols=2)
    cell = signature.rows[0].cells[1]
    _cell_text(cell, v.place_date, align=center)
    cell.paragraphs[0].runs[0].italic = True
    _paragraph(cell, v.signer, bold=True, align=center)
    _paragraph(cell, v.signer_hint, italic=True, align=center)
    for _ in range(3):
        _paragraph(cell)
    _widths(signature, (6.5, 10.0))


def _new_section(document: DocxDocument, landscape: bool) -> None:
    section = document.add_section(WD_SECTION.NEW_PAGE)
    width, height = (Cm(29.7), Cm(21.0)) if landscape else (Cm(21.0), Cm(29.7))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = width, height


def _docx_request(document: DocxDocument, v: DossierView) -> None:
    _new_section(document, landscape=True)
    _heading(document, v.estimate_part, 1)
    _paragraph(document, v.estimate_title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    right = WD_ALIGN_PARAGRAPH.RIGHT
    if not v.rows:
        _paragraph(document, v.no_rows, italic=True)
    else:
        table = _grid(document, 1, len(v.columns))
        for cell, label in zip(table.rows[0].cells, v.columns, strict=True):
            _cell_text(cell, label, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _repeat_header(table)
        for row in (*v.rows, v.totals):
            is_total = row is v.totals
            values = [row.code, row.title, row.cost, row.rate, row.cap, row.state, row.enterprise]
            if v.show_approved:
                values.append(row.approved)
            values.append(row.basis)
            cells = table.add_row().cells
            for index, (cell, value) in enumerate(zip(cells, values, strict=True)):
                money = index >= 2 and index < len(values) - 1
                _cell_text(cell, value, bold=is_total, align=right if money else None)
            for detail in row.details:
                _paragraph(cells[1], detail, italic=True, size=10)
        widths = [2.3, 6.4, 2.9, 1.9, 2.9, 2.9, 2.9]
        if v.show_approved:
            widths = [2.1, 5.4, 2.7, 1.8, 2.6, 2.7, 2.7, 2.7]
        _widths(table, [*widths, 3.6])
    _paragraph(document)
    _paragraph(document, v.total_line, bold=True)
    if v.approved_line:
        _paragraph(document, v.approved_line, bold=True)
    for line in v.decision:
        _paragraph(document, line, bold=True)
    _paragraph(document, v.indicative, italic=True)


def _docx_checklist(document: DocxDocument, v: DossierView) -> None:
    _new_section(document, landscape=False)
    _heading(document, v.checklist_part, 1)
    _paragraph(document, v.checklist_title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    if not v.checks:
        _paragraph(document, v.no_checks, italic=True)
    else:
        table = _grid(document, 1, 3)
        for cell, label in zip(table.rows[0].cells, v.checklist_columns, strict=True):
            _cell_text(cell, label, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _repeat_header(table)
        for check in v.checks:
            cells = table.add_row().cells
            _cell_text(cells[0], check.mark, align=WD_ALIGN_PARAGRAPH.CENTER)
            _cell_text(cells[1], check.title)
            _cell_text(cells[2], check.status)
        _widths(table, (2.0, 10.5, 4.0))
    _paragraph(document)
    _paragraph(document, v.checklist_summary)
    _paragraph(document, v.copies_note, italic=True)


def dossier_docx(doc: dict[str, Any], lang: str = "vi") -> bytes:
    """The dossier as a Word document: A4, Times New Roman for every script, real tables."""
    v = dossier_view(doc, lang)
    document = Document()
    _setup_styles(document, lang)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for current in (section,):
        current.left_margin = current.right_margin = Cm(2.0)
        current.top_margin = current.bottom_margin = Cm(2.0)
    document.core_properties.title = v.page_title
    document.core_properties.language = "vi-VN" if lang == "vi" else "en-GB"
    document.core_properties.author = "smebot"
    _docx_form(document, v)
    _docx_request(document, v)
    _docx_checklist(document, v)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- XLSX

# Biểu 2 columns a..m and where they sit in the sheet (k = g + h + i lands on J: G+H+I).
COLUMNS = (
    *("tt", "activity", "unit", "quantity", "rate", "cap"),
    *("state", "enterprise", "sponsor", "total", "basis", "note"),
)
LETTERS = ("a", "b", "c", "d", "đ", "e", "g", "h", "i", "k = g+h+i", "l", "m")
COL = {name: chr(ord("A") + i) for i, name in enumerate(COLUMNS)}
SUMMED = ("quantity", "state", "enterprise", "sponsor", "total")
PLAN_FORMULAS = frozenset(COL[name] for name in SUMMED)  # every other column holds text or numbers
WIDTHS = (8, 60, 10, 10, 9, 15, 17, 17, 14, 17, 32, 28)
MONEY = "#,##0"
TITLE_ROWS = 5
HEADER_ROWS = 3  # two header rows and the row of column letters
FIRST_DATA_ROW = TITLE_ROWS + HEADER_ROWS + 1

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


@dataclass
class _Node:
    """A row of the plan as rendered: a rules.plan node with its title in the sheet's language."""

    code: str
    tt: str
    title: str
    item: Item | None = None
    children: list[_Node] = field(default_factory=list)
    sums_label: bool = False  # print "(=1+2+3)" after the title, as Biểu 2 does for sections and parts


def _heading_title(code: str, lang: str) -> str:
    key = f"doc.plan.heading.{code.replace('.', '_')}"
    return t(key, lang) if key in messages(lang) or key in messages("vi") else code


def _titled(node: plan.PlanNode, lang: str) -> _Node:
    title = node.item.title.get(lang) if node.item else _heading_title(node.code, lang)
    children = [_titled(child, lang) for child in node.children]
    return _Node(node.code, node.tt, title, node.item, children, node.sums_label)


def _annex_tree(catalogue: Catalogue, lang: str) -> list[_Node]:
    return [_titled(node, lang) for node in plan.annex_tree(catalogue)]


def _other_node(catalogue: Catalogue, sums: Mapping[tuple[str, str], plan.Totals], lang: str) -> _Node | None:
    """The extra section for rows outside Biểu 2: provincial programmes, training rows, unknown codes."""
    order = {pid: i for i, pid in enumerate(catalogue.programmes)}

    def position(key: tuple[str, str]) -> tuple[int, int, str]:
        pid, code = key
        programme = catalogue.programmes.get(pid)
        codes = [it.code for it in programme.items] if programme else []
        return (order.get(pid, len(order)), codes.index(code) if code in codes else len(codes), code)

    section = _Node("", t("doc.plan.other_tt", lang), t("doc.plan.other", lang))
    programmes: dict[str, _Node] = {}
    for pid, code in sorted(sums, key=position):
        programme = catalogue.programmes.get(pid)
        if pid not in programmes:
            title = (
                programme.title.get(lang) if programme else t("doc.plan.other_programme", lang, programme=pid)
            )
            programmes[pid] = _Node(pid, "", title)
            section.children.append(programmes[pid])
        item = catalogue.row(code, programme=pid) if programme else None
        title = item.title.get(lang) if item else sums[pid, code].title or code
        programmes[pid].children.append(_Node(f"{pid}:{code}", code, title, item=item))
    return section if section.children else None


def _leaves(node: _Node) -> list[_Node]:
    if not node.children:
        return [node]
    return [leaf for child in node.children for leaf in _leaves(child)]


def _ranges(column: str, rows: Sequence[int]) -> str:
    """[9, 10, 11, 14] -> "G9:G11,G14": consecutive rows as one range."""
    parts: list[str] = []
    ordered = sorted(rows)
    start = previous = ordered[0]
    for row in [*ordered[1:], None]:
        if row is not None and row == previous + 1:
            previous = row
            continue
        parts.append(f"{column}{start}" if start == previous else f"{column}{start}:{column}{previous}")
        if row is not None:
            start = previous = row
    return ",".join(parts)


def _put(
    ws: Worksheet,
    row: int,
    column: str,
    value: Any,
    *,
    number_format: str | None = None,
    formulas: Collection[str] = (),
) -> Cell:
    """Write one cell; a text starting with "=" is a formula only in a column of ``formulas``."""
    cell: Cell = ws[f"{column}{row}"]
    cell.value = value
    if isinstance(value, str) and value.startswith("=") and column not in formulas:
        cell.data_type = "s"  # a title is text, never a formula
    if number_format:
        cell.number_format = number_format
    return cell


def _rate_value(rate: Decimal | None) -> tuple[Decimal | None, str]:
    if rate is None:
        return None, "General"
    fraction = rate / 100
    return fraction, "0%" if rate == rate.to_integral_value() else "0.0%"


class _PlanSheet:
    def __init__(self, ws: Worksheet, lang: str) -> None:
        self.ws = ws
        self.lang = lang
        self.row = FIRST_DATA_ROW

    def put(self, row: int, column: str, value: Any, *, number_format: str | None = None) -> Cell:
        return _put(self.ws, row, column, value, number_format=number_format, formulas=PLAN_FORMULAS)

    def title_block(self, agency: str, year: int, scope: str) -> None:
        ws, lang = self.ws, self.lang
        last = COL["note"]
        lines = [
            (agency, Font(name=FONT, bold=True, size=12), Alignment(horizontal="left")),
            (t("doc.plan.title", lang, year=year), Font(name=FONT, bold=True, size=13), _CENTER),
            (scope, Font(name=FONT, italic=True), _CENTER),
            (t("doc.plan.form", lang, basis=TT06.cite(lang)), Font(name=FONT, italic=True), _CENTER),
            (t("doc.plan.money_unit", lang), Font(name=FONT, italic=True), Alignment(horizontal="right")),
        ]
        for number, (text, font, alignment) in enumerate(lines, start=1):
            ws.merge_cells(f"A{number}:{last}{number}")
            cell = self.put(number, "A", text)
            cell.font, cell.alignment = font, alignment
        ws.row_dimensions[2].height = 36

    def header(self) -> None:
        ws, lang = self.ws, self.lang
        top, sub, letters = TITLE_ROWS + 1, TITLE_ROWS + 2, TITLE_ROWS + 3
        for name in COLUMNS:
            column = COL[name]
            if name in ("rate", "cap"):
                continue
            self.put(top, column, t(f"doc.plan.{name}", lang))
            ws.merge_cells(f"{column}{top}:{column}{sub}")
        self.put(top, COL["rate"], t("doc.plan.norm", lang))
        ws.merge_cells(f"{COL['rate']}{top}:{COL['cap']}{top}")
        self.put(sub, COL["rate"], t("doc.plan.rate", lang))
        self.put(sub, COL["cap"], t("doc.plan.amount", lang))
        for name, letter in zip(COLUMNS, LETTERS, strict=True):
            self.put(letters, COL[name], letter)
        for row in (top, sub, letters):
            for name in COLUMNS:
                cell = ws[f"{COL[name]}{row}"]
                cell.font = Font(name=FONT, bold=True, italic=row == letters)
                cell.alignment = _CENTER
                cell.border = _BORDER
                cell.fill = _HEADER_FILL
        ws.row_dimensions[top].height = 30
        ws.row_dimensions[sub].height = 30
        for name, width in zip(COLUMNS, WIDTHS, strict=True):
            ws.column_dimensions[COL[name]].width = width
        ws.freeze_panes = f"A{FIRST_DATA_ROW}"
        ws.print_title_rows = f"{top}:{letters}"

    def _style_row(self, row: int, *, bold: bool) -> None:
        for name in COLUMNS:
            cell = self.ws[f"{COL[name]}{row}"]
            cell.border = _BORDER
            cell.font = Font(name=FONT, bold=bold)
            cell.alignment = _WRAP if name in ("activity", "basis", "note") else Alignment(vertical="top")
            if name in SUMMED or name == "cap":
                cell.number_format = MONEY

    def leaf(self, node: _Node, totals: plan.Totals | None) -> int:
        lang, row = self.lang, self.row
        self.row += 1
        item = node.item
        totals = totals or plan.Totals()
        self.put(row, COL["tt"], node.tt)
        self.put(row, COL["activity"], node.title)
        if item is not None:
            self.put(row, COL["unit"], t(f"doc.plan.unit_name.{item.cap_unit.value}", lang))
            rate, rate_format = _rate_value(item.rate_percent)
            self.put(row, COL["rate"], rate, number_format=rate_format)
            self.put(row, COL["cap"], item.cap_vnd)
            self.put(row, COL["basis"], item.basis.cite(lang))
            if item.unconfirmed and item.note is not None:
                self.put(row, COL["note"], item.note.get(lang))
        self.put(row, COL["quantity"], totals.quantity)
        self.put(row, COL["state"], totals.state)
        self.put(row, COL["enterprise"], totals.enterprise)
        self.put(row, COL["sponsor"], 0)
        g, h, i = COL["state"], COL["enterprise"], COL["sponsor"]
        self.put(row, COL["total"], f"={g}{row}+{h}{row}+{i}{row}")
        self._style_row(row, bold=False)
        return row

    def heading(self, node: _Node, child_rows: Sequence[int], row: int, *, basis: Basis | None) -> None:
        lang = self.lang
        title = node.title
        if node.sums_label and len(node.children) > 1:
            title += " " + t("doc.plan.sums", lang, parts="+".join(child.tt for child in node.children))
        self.put(row, COL["tt"], node.tt)
        self.put(row, COL["activity"], title)
        if basis is not None:
            self.put(row, COL["basis"], basis.cite(lang))
        for name in SUMMED:
            column = COL[name]
            self.put(row, column, f"=SUM({_ranges(column, child_rows)})" if child_rows else 0)
        self._style_row(row, bold=True)

    def node(self, node: _Node, sums: Mapping[str, plan.Totals]) -> int:
        if node.item is not None or not node.children:
            return self.leaf(node, sums.get(node.code))
        row = self.row
        self.row += 1
        child_rows = [self.node(child, sums) for child in node.children]
        items = [leaf.item for leaf in _leaves(node) if leaf.item is not None]
        national = all(":" not in leaf.code for leaf in _leaves(node))
        self.heading(node, child_rows, row, basis=plan.common_basis(items) if national else None)
        return row

    def grand_total(self, top_rows: Sequence[int], labels: Sequence[str]) -> int:
        row = self.row
        self.row += 1
        self.put(row, COL["activity"], t("doc.plan.grand_total", self.lang, parts="+".join(labels)))
        for name in SUMMED:
            column = COL[name]
            self.put(row, column, f"=SUM({_ranges(column, top_rows)})" if top_rows else 0)
        self._style_row(row, bold=True)
        return row

    def signatures(self) -> None:
        ws, lang = self.ws, self.lang
        row = self.row + 1
        left, right_from, right_to = COL["activity"], COL["total"], COL["note"]
        ws.merge_cells(f"{right_from}{row}:{right_to}{row}")
        cell = self.put(row, right_from, t("doc.form.place_date_blank", lang))
        cell.font, cell.alignment = Font(name=FONT, italic=True), _CENTER
        for r, (left_key, right_key, bold) in enumerate(
            (("preparer", "head", True), ("preparer_hint", "head_hint", False)), start=row + 1
        ):
            ws.merge_cells(f"{right_from}{r}:{right_to}{r}")
            for column, key in ((left, left_key), (right_from, right_key)):
                cell = self.put(r, column, t(f"doc.plan.{key}", lang))
                cell.font, cell.alignment = Font(name=FONT, bold=bold, italic=not bold), _CENTER


def _plan_sheet(
    ws: Worksheet,
    catalogue: Catalogue,
    entries: Sequence[Mapping[str, Any]],
    *,
    agency: str,
    year: int,
    scope: str,
    lang: str,
) -> None:
    sheet = _PlanSheet(ws, lang)
    sheet.title_block(agency, year, scope)
    sheet.header()
    sums = plan.aggregate(catalogue, entries)
    annex = plan.annex_codes(catalogue)
    national = {code: totals for (pid, code), totals in sums.items() if pid == NATIONAL and code in annex}
    sections = _annex_tree(catalogue, lang)
    outside = {key: totals for key, totals in sums.items() if not (key[0] == NATIONAL and key[1] in annex)}
    other = _other_node(catalogue, outside, lang)
    other_sums = {f"{pid}:{code}": totals for (pid, code), totals in sums.items()}
    top_rows = [sheet.node(section, national) for section in sections]
    labels = [section.tt for section in sections]
    if other is not None:
        top_rows.append(sheet.node(other, other_sums))
        labels.append(other.tt)
    sheet.grand_total(top_rows, labels)
    sheet.signatures()
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def plan_xlsx(
    catalogue: Catalogue,
    approved: list[dict[str, Any]],
    submitted: list[dict[str, Any]],
    *,
    agency: str,
    year: int,
    lang: str = "vi",
    scopes: tuple[str, str] | None = None,
) -> bytes:
    """The year's plan and estimate in the layout of Circular 06 Annex 4 Biểu 2: approved, then submitted.

    ``scopes`` replace the sheets' scope lines (the export says at which date and how many dossiers)."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = t("doc.plan.sheet_approved", lang)
    scope = scopes[0] if scopes else t("doc.plan.scope_approved", lang)
    _plan_sheet(first, catalogue, approved, agency=agency, year=year, scope=scope, lang=lang)
    second = workbook.create_sheet(t("doc.plan.sheet_submitted", lang))
    scope = scopes[1] if scopes else t("doc.plan.scope_submitted", lang)
    _plan_sheet(second, catalogue, submitted, agency=agency, year=year, scope=scope, lang=lang)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ------------------------------------------------------------- XLSX: a programme that is not Decree 80

# A commune khuyến công plan (Decree 45/2012 as amended) is not Biểu 2: its own table lists its own rows
# (content, unit, support per unit, planned quantity, amount), then the plan's budget and what is left.
PROGRAMME_COLUMNS = (
    "tt",
    "activity",
    "unit",
    "cap",
    "quantity",
    "state",
    "enterprise",
    "total",
    "basis",
    "note",
)
PCOL = {name: chr(ord("A") + i) for i, name in enumerate(PROGRAMME_COLUMNS)}
PROGRAMME_WIDTHS = (8, 60, 10, 16, 10, 17, 17, 17, 26, 40)
PROGRAMME_SUMMED = ("quantity", "state", "enterprise", "total")
PROGRAMME_FORMULAS = frozenset(PCOL[name] for name in PROGRAMME_SUMMED)


class _ProgrammeSheet:
    def __init__(self, ws: Worksheet, lang: str) -> None:
        self.ws, self.lang, self.row = ws, lang, 1

    def put(self, row: int, column: str, value: Any) -> Cell:
        return _put(self.ws, row, column, value, formulas=PROGRAMME_FORMULAS)

    def _line(self, text: str, font: Font, alignment: Alignment) -> None:
        last = PCOL["note"]
        self.ws.merge_cells(f"A{self.row}:{last}{self.row}")
        cell = self.put(self.row, "A", text)
        cell.font, cell.alignment = font, alignment
        self.row += 1

    def title_block(self, agency: str, title: str, scope: str, basis: str) -> None:
        self._line(agency, Font(name=FONT, bold=True, size=12), Alignment(horizontal="left"))
        self._line(title, Font(name=FONT, bold=True, size=13), _CENTER)
        self.ws.row_dimensions[self.row - 1].height = 36
        self._line(scope, Font(name=FONT, italic=True), _CENTER)
        self._line(basis, Font(name=FONT, italic=True), _CENTER)
        self._line(
            t("doc.plan.money_unit", self.lang), Font(name=FONT, italic=True), Alignment(horizontal="right")
        )

    def header(self) -> None:
        ws, row = self.ws, self.row
        for name, width in zip(PROGRAMME_COLUMNS, PROGRAMME_WIDTHS, strict=True):
            key = {"basis": "basis_column"}.get(name, name)
            cell = self.put(row, PCOL[name], t(f"export.programme.{key}", self.lang))
            cell.font, cell.alignment, cell.border, cell.fill = (
                Font(name=FONT, bold=True),
                _CENTER,
                _BORDER,
                _HEADER_FILL,
            )
            ws.column_dimensions[PCOL[name]].width = width
        ws.row_dimensions[row].height = 45
        ws.freeze_panes = f"A{row + 1}"
        ws.print_title_rows = f"{row}:{row}"
        self.row += 1

    def _style(self, row: int, *, bold: bool) -> None:
        for name in PROGRAMME_COLUMNS:
            cell = self.ws[f"{PCOL[name]}{row}"]
            cell.border = _BORDER
            cell.font = Font(name=FONT, bold=bold)
            cell.alignment = _WRAP if name in ("activity", "basis", "note") else Alignment(vertical="top")
            if name in (*PROGRAMME_SUMMED, "cap") and name != "quantity":
                cell.number_format = MONEY

    def item(self, number: int, item: Item, totals: plan.Totals) -> int:
        lang, row = self.lang, self.row
        self.row += 1
        self.put(row, PCOL["tt"], number)
        self.put(row, PCOL["activity"], item.title.get(lang))
        self.put(row, PCOL["unit"], t(f"doc.plan.unit_name.{item.cap_unit.value}", lang))
        self.put(row, PCOL["cap"], item.cap_vnd)
        self.put(row, PCOL["quantity"], totals.quantity)
        self.put(row, PCOL["state"], totals.state)
        self.put(row, PCOL["enterprise"], totals.enterprise)
        f, g = PCOL["state"], PCOL["enterprise"]
        self.put(row, PCOL["total"], f"={f}{row}+{g}{row}")
        self.put(row, PCOL["basis"], f"{item.code} · {item.basis.cite(lang)}")
        if item.note is not None:
            self.put(row, PCOL["note"], item.note.get(lang))
        self._style(row, bold=False)
        return row

    def total(self, rows: Sequence[int], budget: int | None) -> None:
        lang, row = self.lang, self.row
        self.put(row, PCOL["activity"], t("export.programme.total_row", lang))
        for name in PROGRAMME_SUMMED:
            column = PCOL[name]
            self.put(row, column, f"=SUM({_ranges(column, rows)})" if rows else 0)
        self._style(row, bold=True)
        self.row += 1
        if budget is None:
            return
        self.put(row + 1, PCOL["activity"], t("export.programme.budget", lang))
        self.put(row + 1, PCOL["state"], budget)
        self.put(row + 2, PCOL["activity"], t("export.programme.left", lang))
        self.put(row + 2, PCOL["state"], f"={PCOL['state']}{row + 1}-{PCOL['state']}{row}")
        for r in (row + 1, row + 2):
            self._style(r, bold=False)
        self.row += 2

    def signatures(self) -> None:
        ws, lang = self.ws, self.lang
        row = self.row + 1
        left, right_from, right_to = PCOL["activity"], PCOL["total"], PCOL["note"]
        ws.merge_cells(f"{right_from}{row}:{right_to}{row}")
        cell = self.put(row, right_from, t("doc.form.place_date_blank", lang))
        cell.font, cell.alignment = Font(name=FONT, italic=True), _CENTER
        for r, (left_key, right_key, bold) in enumerate(
            (("preparer", "head", True), ("preparer_hint", "head_hint", False)), start=row + 1
        ):
            ws.merge_cells(f"{right_from}{r}:{right_to}{r}")
            for column, key in ((left, left_key), (right_from, right_key)):
                cell = self.put(r, column, t(f"doc.plan.{key}", lang))
                cell.font, cell.alignment = Font(name=FONT, bold=bold, italic=not bold), _CENTER


def _programme_sheet(
    ws: Worksheet,
    catalogue: Catalogue,
    programme_ids: Sequence[str],
    entries: Sequence[Mapping[str, Any]],
    *,
    agency: str,
    year: int,
    scope: str,
    lang: str,
) -> None:
    sheet = _ProgrammeSheet(ws, lang)
    programmes = [catalogue.programmes[p] for p in programme_ids if p in catalogue.programmes]
    title = "; ".join(p.title.get(lang) for p in programmes)
    bases = sorted({b.cite(lang) for p in programmes for b in p.basis})
    sheet.title_block(
        agency,
        t("export.programme.title", lang, title=title, year=year),
        scope,
        t("export.programme.basis", lang, basis="; ".join(bases)),
    )
    sheet.header()
    sums = plan.aggregate(catalogue, entries)
    for programme in programmes:
        rows = [
            sheet.item(number, item, sums.get((programme.id, item.code), plan.Totals()))
            for number, item in enumerate(programme.items, start=1)
        ]
        sheet.total(rows, programme.budget_vnd)
    sheet.signatures()
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def programme_plan_xlsx(
    catalogue: Catalogue,
    programme_ids: Sequence[str],
    approved: list[dict[str, Any]],
    submitted: list[dict[str, Any]],
    *,
    agency: str,
    year: int,
    scopes: tuple[str, str],
    lang: str = "vi",
) -> bytes:
    """The plan of an agency that runs programmes outside Decree 80 (a commune khuyến công plan): each
    programme's own rows, approved on the first sheet and under review on the second."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = t("doc.plan.sheet_approved", lang)
    _programme_sheet(
        first, catalogue, programme_ids, approved, agency=agency, year=year, scope=scopes[0], lang=lang
    )
    second = workbook.create_sheet(t("doc.plan.sheet_submitted", lang))
    _programme_sheet(
        second, catalogue, programme_ids, submitted, agency=agency, year=year, scope=scopes[1], lang=lang
    )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- CSV

CSV_COLUMNS = (
    "ref",
    "status",
    "filed_on",
    "firm",
    "tax_code",
    "province",
    "commune",
    "size",
    "total_state_vnd",
    "approved_vnd",
    "agency",
    "sheet",  # the plan sheet that counts it at the export date (none: rejected, withdrawn, later)
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value)
    # A spreadsheet runs a cell that starts like a formula; a firm's name must stay text (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def dossiers_csv(rows: list[dict[str, Any]]) -> bytes:
    """One line per dossier, UTF-8 with a BOM so that Excel shows Vietnamese correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")
