"""The documents, read back by real readers: python-docx, openpyxl, the csv module, the PNG header.

The dossier is the Decree 80 annex form (ND80 Art. 32.2) with province and commune (the 2025 reform removed
districts), the commitment to repay after a false declaration (ND80 Art. 10), the estimate with the note that
the agency decides (ND80 Art. 32.3.a) and the checklist. The plan workbook is Circular 06 Annex 4 "Biểu 2";
seed 002 Biểu 3 (Quảng Ngãi 2026) is rebuilt from its golden rows and its subtotals recomputed.
"""

from __future__ import annotations

import copy
import csv
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
import yaml
from docx.oxml.ns import qn
from openpyxl.worksheet.worksheet import Worksheet

from bot.documents import (
    CSV_COLUMNS,
    FIRST_DATA_ROW,
    dossier_docx,
    dossier_html,
    dossiers_csv,
    plan_xlsx,
    programme_plan_xlsx,
)
from bot.documents.charts import stats_png
from locales import catalogue as messages
from locales import placeholders
from rules.catalogue import default_catalogue
from rules.plan import annex_codes

GOLDEN = Path(__file__).parent / "golden" / "qn2026_bieu3.yaml"
LOCALES = Path(__file__).resolve().parents[1] / "locales"
ROMAN = ("I", "II", "III", "IV")


def make_dossier(name: str = "Công ty TNHH Gốm Vĩnh Thủy") -> dict[str, Any]:
    return {
        "ref": "HS-2026-000001",
        "status": "submitted",
        "filed_on": "2026-12-01",
        "agency": "Sở Công Thương tỉnh Quảng Trị",
        "profile": {
            "name": name,
            "tax_code": "3200123456",
            "entity_type": "Công ty TNHH một thành viên",
            "province": "Quảng Trị",
            "commune": "Xã Vĩnh Thủy",
            "address": "Thôn Bến Hải",
            "phone": "0912345678",
            "email": None,
            "sector": "Công nghiệp",
            "workers": 30,
            "female_workers": 12,
            "revenue_vnd": 20_000_000_000,
            "capital_vnd": 10_000_000_000,
            "women_owned": True,
            "woman_executive": "Nguyễn Thị Lan",
            "social_enterprise": False,
        },
        "size_summary": "Doanh nghiệp nhỏ (theo cả tiêu chí doanh thu và tổng nguồn vốn, "
        "Khoản 2 Điều 5 Nghị định 80/2021/NĐ-CP)",
        "size_reason": "30 lao động (không quá 100) và doanh thu năm trước không quá 50 tỷ đồng.",
        "items": [
            {
                "code": "III.A.2.2",
                "title": "Tư vấn cho doanh nghiệp nhỏ do phụ nữ làm chủ",
                "rate_percent": "50",
                "cap_vnd": 150_000_000,
                "cost_vnd": 250_000_000,
                "quantity": 1,
                "state_vnd": 125_000_000,
                "enterprise_vnd": 125_000_000,
                "approved_vnd": None,
                "basis": "Điểm b khoản 2 Điều 13 Nghị định 80/2021/NĐ-CP",
                "consultant_code": "TVV-0123",
                "quote": True,
            },
            {
                "code": "I.2.2",
                "title": "Hỗ trợ thuê, mua giải pháp chuyển đổi số cho doanh nghiệp nhỏ",
                "rate_percent": "50",
                "cap_vnd": 50_000_000,
                "cost_vnd": 80_000_000,
                "quantity": 1,
                "state_vnd": 40_000_000,
                "enterprise_vnd": 40_000_000,
                "approved_vnd": None,
                "basis": "Khoản 2 Điều 11 Nghị định 80/2021/NĐ-CP",
                "consultant_code": None,
                "quote": False,
            },
        ],
        "total_state_vnd": 165_000_000,
        "checklist": [
            {"title": "Tờ khai xác định DNNVV và đề xuất nhu cầu hỗ trợ", "attached": True},
            {"title": "Hợp đồng với tư vấn viên thuộc mạng lưới tư vấn viên", "attached": False},
        ],
        "history": [{"at": "2026-12-01 10:00", "actor": "owner", "action": "file", "note": None}],
    }


AMOUNTS = (
    "250.000.000 đ",  # cost
    "150.000.000 đ",  # cap
    "125.000.000 đ",  # state and enterprise share
    "80.000.000 đ",
    "40.000.000 đ",
    "165.000.000 đ",  # total state
    "330.000.000 đ",  # total cost
    "10.000.000.000 đ",  # capital
    "20.000.000.000 đ",  # revenue
)


def docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.extend(p.text for p in cell.paragraphs)
    return "\n".join(parts)


def doc_labels(lang: str) -> dict[str, str]:
    return {k: v for k, v in messages(lang).items() if k.startswith("doc.")}


# ------------------------------------------------------------------------------------------------ DOCX


def test_docx_is_the_nd80_annex_form_in_vietnamese(tmp_path: Path) -> None:
    path = tmp_path / "hs.docx"
    path.write_bytes(dossier_docx(make_dossier()))
    text = docx_text(path)

    assert "TỜ KHAI XÁC ĐỊNH DOANH NGHIỆP SIÊU NHỎ, DOANH NGHIỆP NHỎ, DOANH NGHIỆP VỪA" in text
    for value in ("Công ty TNHH Gốm Vĩnh Thủy", "3200123456", "Quảng Trị", "Xã Vĩnh Thủy", "Nguyễn Thị Lan"):
        assert value in text, value
    for label in ("Tỉnh/thành phố", "Xã/phường/đặc khu", "Mã số doanh nghiệp/mã số thuế"):
        assert label in text, label
    for amount in AMOUNTS:
        assert amount in text, amount
    # citations: the items' basis, the false-declaration rule (ND80 Art. 10), the agency decides (Art. 32.3.a)
    assert "Điểm b khoản 2 Điều 13 Nghị định 80/2021/NĐ-CP" in text
    assert "Điều 10 Nghị định 80/2021/NĐ-CP" in text
    assert "hoàn trả" in text
    assert "Điểm a khoản 3 Điều 32 Nghị định 80/2021/NĐ-CP" in text
    assert "ước tính" in text
    assert "☑ Doanh nghiệp nhỏ" in text  # the self-assessed size
    assert "☐ Doanh nghiệp siêu nhỏ" in text
    assert "Ký, ghi rõ họ tên" in text  # a place for the signature
    assert "Xã Vĩnh Thủy, ngày 01 tháng 12 năm 2026" in text
    for entry in make_dossier()["checklist"]:
        assert entry["title"] in text
    assert "☑" in text and "☐" in text
    # communes replaced districts (2025 reform): no district field, in the document or in the labels
    assert "huyện" not in text.lower()
    assert not [k for k, v in doc_labels("vi").items() if "huyện" in v.lower()]


def test_docx_uses_times_new_roman_for_every_script_and_real_tables(tmp_path: Path) -> None:
    path = tmp_path / "hs.docx"
    path.write_bytes(dossier_docx(make_dossier()))
    document = docx.Document(str(path))
    fonts = document.styles["Normal"].element.rPr.rFonts
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        assert fonts.get(qn(attr)) == "Times New Roman", attr
    assert fonts.get(qn("w:asciiTheme")) is None
    assert len(document.tables) >= 4  # fields, size, estimate, checklist (and the signature block)
    estimate = next(t for t in document.tables if t.rows[0].cells[0].text == "Mã nội dung")
    header = [c.text for c in estimate.rows[0].cells]
    assert header[:3] == ["Mã nội dung", "Nội dung hỗ trợ", "Chi phí dự kiến"]
    assert header[-1] == "Căn cứ"
    codes = [row.cells[0].text for row in estimate.rows[1:]]
    assert codes == ["III.A.2.2", "I.2.2", ""]  # the items and the total row
    assert estimate.rows[-1].cells[5].text == "165.000.000 đ"
    assert len(document.sections) == 3  # form, estimate (landscape), checklist
    # styles are set by id (fast); Word must still see the named styles, for its outline and headers
    styles = [p.style.name for p in document.paragraphs]
    assert styles.count("Heading 1") == 3 and styles.count("Heading 2") == 4
    assert estimate.style.name == "Table Grid"
    totals = estimate.rows[-1].cells[5].paragraphs[0].runs[0]
    assert totals.bold and not estimate.rows[1].cells[5].paragraphs[0].runs[0].bold


def test_docx_in_english_has_english_labels(tmp_path: Path) -> None:
    path = tmp_path / "hs-en.docx"
    path.write_bytes(dossier_docx(make_dossier(), lang="en"))
    text = docx_text(path)
    for label in (
        "DECLARATION OF MICRO, SMALL OR MEDIUM ENTERPRISE STATUS",
        "Enterprise name",
        "Province/city",
        "Commune/ward/special zone",
        "Self-assessed size",
        "State budget support",
        "Art. 10, Decree 80/2021/ND-CP",
        "LIST OF ATTACHED DOCUMENTS",
        "Not attached yet",
    ):
        assert label in text, label
    assert "Tên doanh nghiệp" not in text
    assert "125.000.000 đ" in text
    assert "district" not in text.lower()
    assert not [k for k, v in doc_labels("en").items() if "district" in v.lower()]


def test_approved_amounts_get_their_own_column(tmp_path: Path) -> None:
    dossier = make_dossier()
    dossier["status"] = "approved"
    dossier["items"][0]["approved_vnd"] = 120_000_000
    path = tmp_path / "approved.docx"
    path.write_bytes(dossier_docx(dossier))
    text = docx_text(path)
    assert "Được chấp thuận" in text
    assert "120.000.000 đ" in text
    assert "Chưa quyết định" in text  # the second item has no decision yet
    assert "Tổng kinh phí được cơ quan hỗ trợ chấp thuận: 120.000.000 đ" in text
    assert "được chấp thuận" in dossier_html(dossier)


def test_a_sparse_dossier_still_renders(tmp_path: Path) -> None:
    dossier = make_dossier()
    dossier.update(agency=None, filed_on=None, items=[], checklist=[], total_state_vnd=0, size_summary=None)
    dossier["profile"].update(revenue_vnd=None, women_owned=False, woman_executive=None)
    path = tmp_path / "sparse.docx"
    path.write_bytes(dossier_docx(dossier))
    text = docx_text(path)
    assert "Cơ quan, tổ chức hỗ trợ doanh nghiệp nhỏ và vừa" in text
    assert "Chưa có (doanh nghiệp hoạt động dưới 01 năm hoặc chưa có doanh thu)" in text
    assert "Hồ sơ chưa có nội dung hỗ trợ nào." in text
    assert "…………, ngày ….. tháng ….. năm ….." in text
    assert "Họ và tên người quản lý điều hành là nữ" not in text
    html = dossier_html(dossier, "en")
    assert "The dossier has no support item yet." in html


# ------------------------------------------------------------------------------------------------ HTML


def test_html_is_a_standalone_utf8_page_with_the_name_escaped() -> None:
    page = dossier_html(make_dossier(name="Công ty A & B <Đà Nẵng>"))
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert page.rstrip().endswith("</html>")
    assert "Công ty A &amp; B &lt;Đà Nẵng&gt;" in page
    assert "<Đà Nẵng>" not in page
    for amount in AMOUNTS:
        assert amount in page, amount
    assert "Điểm b khoản 2 Điều 13 Nghị định 80/2021/NĐ-CP" in page
    assert "Điều 10 Nghị định 80/2021/NĐ-CP" in page
    assert "Xã Vĩnh Thủy" in page and "Quảng Trị" in page
    assert "☑" in page and "☐" in page
    assert not re.search(r"<link|<script|\bsrc=|@import|https?://", page)  # no external assets
    assert "huyện" not in page.lower()


def test_html_in_english() -> None:
    page = dossier_html(make_dossier(), "en")
    assert '<html lang="en">' in page
    assert "Commune/ward/special zone" in page
    assert "These amounts are indicative estimates only" in page


# ------------------------------------------------------------------------------------------------ XLSX


def _rows_by_code(ws: Worksheet) -> tuple[dict[str, int], dict[str, int]]:
    """The Annex rows by their full code (rebuilt from the TT column as Biểu 2 prints it), and the rest."""
    annex: dict[str, int] = {}
    other: dict[str, int] = {}
    section = part = ""
    outside = False
    for row in range(FIRST_DATA_ROW, ws.max_row + 1):
        tt = ws[f"A{row}"].value
        title = str(ws[f"B{row}"].value or "")
        if not tt:
            if title.startswith(("Tổng cộng", "Grand total")):
                annex["TOTAL"] = row
            continue
        tt = str(tt)
        if tt in ("Khác", "Other"):
            outside = True
            other["SECTION"] = row
        elif outside:
            other[tt] = row
        elif tt in ROMAN:
            section, part = tt, ""
            annex[tt] = row
        elif tt.isalpha():
            part = tt
            annex[f"{section}.{part}"] = row
        else:
            annex[".".join(p for p in (section, part, tt) if p)] = row
    return annex, other


def _value(ws: Worksheet, ref: str) -> int:
    value = ws[ref].value
    if isinstance(value, str) and value.startswith("="):
        return _evaluate(ws, value[1:])
    return int(value or 0)


def _evaluate(ws: Worksheet, expression: str) -> int:
    """Enough of a spreadsheet to recompute the sheet's own formulas: SUM(ranges and cells) and a+b+c."""
    match = re.fullmatch(r"SUM\((.*)\)", expression)
    if match is None:
        return sum(_value(ws, term) for term in expression.split("+"))
    total = 0
    for part in match.group(1).split(","):
        if ":" not in part:
            total += _value(ws, part)
            continue
        start, end = part.split(":")
        column, first = re.fullmatch(r"([A-Z]+)(\d+)", start).groups()  # type: ignore[union-attr]
        end_column, last = re.fullmatch(r"([A-Z]+)(\d+)", end).groups()  # type: ignore[union-attr]
        assert column == end_column
        total += sum(_value(ws, f"{column}{r}") for r in range(int(first), int(last) + 1))
    return total


def _item(
    code: str, state: int, enterprise: int, *, quantity: int = 1, programme: str = "nd80-national"
) -> dict:
    return {
        "code": code,
        "programme_id": programme,
        "quantity": quantity,
        "cost_vnd": state + enterprise,
        "state_vnd": state,
        "enterprise_vnd": enterprise,
    }


def test_plan_has_every_annex_row_and_formulas_for_the_sums(tmp_path: Path) -> None:
    catalogue = default_catalogue()
    approved = [_item("III.A.2.1", 100_000_000, 100_000_000), _item("III.A.2.1", 60_000_000, 60_000_000)]
    submitted = [*approved, _item("I.2.2", 40_000_000, 40_000_000)]
    path = tmp_path / "plan.xlsx"
    path.write_bytes(
        plan_xlsx(catalogue, approved, submitted, agency="Sở Công Thương tỉnh Quảng Trị", year=2026)
    )
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Đã phê duyệt", "Đã nộp"]
    ws = workbook["Đã phê duyệt"]

    assert ws["A1"].value == "Sở Công Thương tỉnh Quảng Trị"
    assert "Kế hoạch và dự toán kinh phí hỗ trợ DNNVV" in ws["A2"].value and "năm 2026" in ws["A2"].value
    assert ws["A5"].value == "ĐVT: đồng"
    letters = [ws.cell(row=FIRST_DATA_ROW - 1, column=c).value for c in range(1, 13)]
    assert letters == ["a", "b", "c", "d", "đ", "e", "g", "h", "i", "k = g+h+i", "l", "m"]
    assert ws.cell(row=FIRST_DATA_ROW - 3, column=1).font.bold
    assert ws.freeze_panes == f"A{FIRST_DATA_ROW}"
    assert ws.column_dimensions["B"].width >= 40

    annex, other = _rows_by_code(ws)
    assert set(annex_codes(catalogue)) <= set(annex)
    assert not other  # nothing outside Biểu 2 was approved
    row = annex["III.A.2.1"]
    assert ws[f"A{row}"].value == "2.1"
    assert ws[f"B{row}"].value == "Tư vấn cho doanh nghiệp nhỏ"
    assert (ws[f"D{row}"].value, ws[f"G{row}"].value, ws[f"H{row}"].value) == (2, 160_000_000, 160_000_000)
    assert ws[f"E{row}"].value == pytest.approx(0.5) and ws[f"E{row}"].number_format == "0%"
    assert ws[f"F{row}"].value == 100_000_000 and ws[f"G{row}"].number_format == "#,##0"
    assert ws[f"J{row}"].value == f"=G{row}+H{row}+I{row}"
    assert ws[f"K{row}"].value == "Điểm b khoản 2 Điều 13 Nghị định 80/2021/NĐ-CP"
    for key in ("III", "TOTAL"):
        for column in "DGHIJ":
            assert str(ws[f"{column}{annex[key]}"].value).startswith("=SUM"), (key, column)
    assert _value(ws, f"G{annex['III']}") == 160_000_000
    assert _value(ws, f"J{annex['TOTAL']}") == 320_000_000
    assert _value(ws, f"G{annex['I']}") == 0
    assert _value(workbook["Đã nộp"], f"G{_rows_by_code(workbook['Đã nộp'])[0]['TOTAL']}") == 200_000_000
    # the heading rows carry their Biểu 2 titles, never a bare code
    for code in ("I.1", "II.3.1", "III.A", "IV.5"):
        title = ws[f"B{annex[code]}"].value
        assert title and not title.startswith(code), code


def test_plan_puts_other_programmes_in_their_own_section() -> None:
    catalogue = default_catalogue()
    approved = [
        _item("III.A.1.1", 50_000_000, 0),
        _item("QT.1.1", 30_000_000, 10_000_000, programme="quang-tri-2025-cluster"),
        _item("T.I.2", 3_000_000, 1_000_000, quantity=2),
        {**_item("XK.1", 1_000_000, 0, programme="xa-khac"), "title": "Hỗ trợ của xã"},
    ]
    workbook = openpyxl.load_workbook(io.BytesIO(plan_xlsx(catalogue, approved, [], agency="=X", year=2026)))
    ws = workbook.worksheets[0]
    assert ws["A1"].value == "=X" and ws["A1"].data_type == "s"  # an agency name is never a formula
    annex, other = _rows_by_code(ws)
    assert set(other) == {"SECTION", "QT.1.1", "T.I.2", "XK.1"}
    assert (
        ws[f"B{other['XK.1']}"].value == "Hỗ trợ của xã"
    )  # a code the catalogue does not know keeps its title
    assert ws[f"B{other['XK.1'] - 1}"].value == "Chương trình không có trong danh mục (xa-khac)"
    assert ws[f"B{other['QT.1.1']}"].value == default_catalogue().row("QT.1.1").title.vi  # type: ignore[union-attr]
    assert ws[f"B{other['SECTION']}"].value == "Chương trình khác (ngoài Biểu 2 Phụ lục 4)"
    assert str(ws[f"G{other['SECTION']}"].value).startswith("=SUM")
    assert _value(ws, f"G{other['SECTION']}") == 34_000_000
    assert ws[f"D{other['T.I.2']}"].value == 2
    assert _value(ws, f"G{annex['TOTAL']}") == 84_000_000
    assert "Khác" in ws[f"B{annex['TOTAL']}"].value

    english = openpyxl.load_workbook(
        io.BytesIO(plan_xlsx(catalogue, approved, [], agency="X", year=2026, lang="en"))
    )
    assert english.sheetnames == ["Approved", "Submitted"]
    ws = english["Approved"]
    assert ws["A5"].value == "Unit: VND"
    _, other = _rows_by_code(ws)
    assert ws[f"B{other['SECTION']}"].value == "Other programmes (outside Table 2 of Annex 4)"


def test_a_commune_programme_sheet_sums_with_formulas_and_keeps_titles_text() -> None:
    """The khuyến công table (Decree 45/2012): its total row and "what is left of the budget" are formulas a
    spreadsheet recomputes (they were written as text in the quantity and state columns), its titles text."""
    catalogue = default_catalogue()
    programme = catalogue.programmes["vinh-thuy-2026-khuyen-cong"]
    first = programme.items[0]
    approved = [_item(first.code, 20_000_000, 5_000_000, programme=programme.id)]
    workbook = openpyxl.load_workbook(
        io.BytesIO(
            programme_plan_xlsx(
                catalogue, [programme.id], approved, [], agency="=X", year=2026, scopes=("a", "b")
            )
        )
    )
    ws = workbook.worksheets[0]
    assert ws["A1"].value == "=X" and ws["A1"].data_type == "s"
    total = next(r for r in range(1, ws.max_row + 1) if ws[f"B{r}"].value == "Tổng cộng")
    for column in "EFGH":
        assert ws[f"{column}{total}"].data_type == "f", column
    assert _value(ws, f"F{total}") == 20_000_000 and _value(ws, f"H{total}") == 25_000_000
    left = ws[f"F{total + 2}"]
    assert ws[f"B{total + 2}"].value == "Còn lại" and left.data_type == "f"
    assert _value(ws, f"F{total + 1}") - _value(ws, f"F{total}") == 110_000_000


def test_plan_reproduces_seed_002_bieu3() -> None:
    """Seed 002 Biểu 3 (Quảng Ngãi 2026): every golden row in place; subtotals recomputed within rounding."""
    golden = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
    unit = int(golden["unit_vnd"])
    items = [
        {
            "code": row["code"],
            "programme_id": "nd80-national",
            "quantity": row["quantity"],
            "cost_vnd": row["total_cost"] * unit,
            "state_vnd": row["state"] * unit,
            "enterprise_vnd": row["enterprise"] * unit,
        }
        for row in golden["rows"]
    ]
    data = plan_xlsx(default_catalogue(), items, items, agency="Sở Kế hoạch và Đầu tư", year=2026)
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    annex, _ = _rows_by_code(ws)
    for row in golden["rows"]:
        r = annex[row["code"]]
        assert ws[f"D{r}"].value == row["quantity"], row["code"]
        assert ws[f"G{r}"].value == row["state"] * unit, row["code"]
        assert ws[f"H{r}"].value == row["enterprise"] * unit, row["code"]
        assert ws[f"F{r}"].value == row["cap_per_unit"] * unit, row["code"]
        assert ws[f"E{r}"].value == pytest.approx(row["rate_percent"] / 100), row["code"]
    # the seed's own sums are rounded: 745 + 332 = 1077 is printed 1076 (III.A.1)
    for subtotal in golden["subtotals"]:
        r = annex[subtotal["code"]]
        assert str(ws[f"G{r}"].value).startswith("=SUM"), subtotal["code"]
        assert _value(ws, f"D{r}") == subtotal["quantity"], subtotal["code"]
        for column, key in (("G", "state"), ("H", "enterprise"), ("J", "total_cost")):
            computed = _value(ws, f"{column}{r}")
            assert abs(computed - subtotal[key] * unit) <= unit, (subtotal["code"], key, computed)
    assert _value(ws, f"G{annex['III']}") == 1_422 * unit
    assert _value(ws, f"J{annex['TOTAL']}") == 1_928 * unit


# ------------------------------------------------------------------------------------------------ PDF


@pytest.mark.slow
def test_docx_converts_to_pdf_with_libreoffice(tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip(
            "LibreOffice is not installed (no soffice or libreoffice on PATH): DOCX to PDF not checked"
        )
    source = tmp_path / "dossier.docx"
    source.write_bytes(dossier_docx(make_dossier()))
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    pdf = tmp_path / "dossier.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_size > 5_000


# ------------------------------------------------------------------------------------------------ CSV


def test_csv_has_a_bom_a_header_and_round_trips_vietnamese() -> None:
    rows = [
        {
            "ref": "HS-2026-000001",
            "status": "approved",
            "filed_on": "2026-12-01",
            "firm": "Công ty TNHH Thủy Sản Đà Nẵng",
            "tax_code": "0401234567",
            "province": "Đà Nẵng",
            "commune": "Phường Hải Châu",
            "size": "Doanh nghiệp nhỏ",
            "total_state_vnd": 125_000_000,
            "approved_vnd": 120_000_000,
            "agency": "Sở Tài chính thành phố Đà Nẵng",
        },
        {
            "ref": "HS-2026-000002",
            "firm": '=HYPERLINK("http://x")',
            "approved_vnd": None,
            "total_state_vnd": 0,
        },
    ]
    data = dossiers_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert (
        tuple(parsed[0])
        == CSV_COLUMNS
        == (
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
            "sheet",  # the plan sheet that counts it at the export date (issue 15.9)
        )
    )
    first = dict(zip(parsed[0], parsed[1], strict=True))
    assert first["firm"] == "Công ty TNHH Thủy Sản Đà Nẵng"
    assert first["commune"] == "Phường Hải Châu"
    assert (first["total_state_vnd"], first["approved_vnd"], first["tax_code"]) == (
        "125000000",
        "120000000",
        "0401234567",
    )
    second = dict(zip(parsed[0], parsed[2], strict=True))
    assert second["approved_vnd"] == "" and second["status"] == ""
    assert second["firm"].startswith("'=")  # a spreadsheet will not run it as a formula
    assert len(parsed) == 3


# ------------------------------------------------------------------------------------------------ chart


def test_stats_png_is_a_png_of_reasonable_size() -> None:
    data = stats_png(
        "Hồ sơ theo trạng thái", {"đã nộp": 12, "được chấp thuận": 3, "không được chấp thuận": 1}
    )
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert 5_000 < len(data) < 2_000_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 600 and height >= 250
    empty = stats_png("Không có hồ sơ", {}, lang="en")
    assert empty.startswith(b"\x89PNG")


def test_importing_charts_does_not_import_pyplot() -> None:
    code = (
        "import sys, bot.documents.charts, matplotlib as m;"
        " print('matplotlib.pyplot' in sys.modules, m.get_backend())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.lower().split() == ["false", "agg"]


# ------------------------------------------------------------------------------------------------ locales


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> dict[str, str]:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)
    return out


def test_document_catalogues_match_and_sit_under_doc() -> None:
    vi = yaml.safe_load((LOCALES / "vi.documents.yaml").read_text(encoding="utf-8"))
    en = yaml.safe_load((LOCALES / "en.documents.yaml").read_text(encoding="utf-8"))
    assert list(vi) == ["doc"] and list(en) == ["doc"]
    flat_vi, flat_en = _flatten("", vi, {}), _flatten("", en, {})
    assert set(flat_vi) == set(flat_en), sorted(set(flat_vi) ^ set(flat_en))
    for key in flat_vi:
        assert placeholders(flat_vi[key]) == placeholders(flat_en[key]), key
    assert all(isinstance(k, str) for k in vi["doc"])  # no YAML 1.1 surprise: yes/no keys are booleans
    # every heading of the Annex tree (I, I.1, ..., IV.5) has its Biểu 2 title
    codes = annex_codes(default_catalogue())
    headings = {".".join(c.split(".")[:n]) for c in codes for n in range(1, len(c.split(".")))}
    missing = sorted(h for h in headings if f"doc.plan.heading.{h.replace('.', '_')}" not in flat_vi)
    assert not missing


def test_a_dossier_is_not_modified_by_rendering() -> None:
    dossier = make_dossier()
    before = copy.deepcopy(dossier)
    dossier_html(dossier)
    dossier_docx(dossier, "en")
    assert dossier == before
