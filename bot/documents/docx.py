"""The dossier as a Word document (python-docx): A4, Times New Roman for every script, real tables.

Three sections: the declaration form (portrait), the estimate table (landscape), the checklist (portrait).
Every string comes from the view; this module holds layout only.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

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

from bot.documents.view import FONT, DossierView, dossier_view


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
