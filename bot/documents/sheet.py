"""What the two plan workbooks share (openpyxl): cells, borders and fonts, the signature block, the page.

A sheet names its columns (name -> letter), which of them hold formulas and which hold money; a text that
starts with "=" in any other column (a firm's or an agency's name) stays text.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from bot.documents.view import FONT
from locales import t

MONEY = "#,##0"
THIN = Side(style="thin")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left")
RIGHT = Alignment(horizontal="right")
WRAPPED = ("activity", "basis", "note")  # long texts wrap in their cell
TITLE_ROWS = 5


def column_letters(columns: Sequence[str]) -> dict[str, str]:
    """("tt", "activity", ...) -> {"tt": "A", "activity": "B", ...}."""
    return {name: chr(ord("A") + i) for i, name in enumerate(columns)}


def ranges(column: str, rows: Sequence[int]) -> str:
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


def put(
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


class Sheet(ABC):
    """One sheet being written row by row; subclasses name their columns and write its header and body."""

    columns: Mapping[str, str]  # name -> letter, in order; "activity", "total" and "note" are required
    formulas: frozenset[str]  # letters of the columns that hold formulas
    money: frozenset[str]  # names of the columns that hold amounts of VND

    first_row: int  # where ``body`` starts writing

    def __init__(self, ws: Worksheet, lang: str) -> None:
        self.ws, self.lang, self.row = ws, lang, self.first_row

    @abstractmethod
    def header(self) -> None:
        """The column headings."""

    @abstractmethod
    def body(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """The rows of ``entries`` (the dossiers' items), from ``self.row`` on."""

    def write(self, heading: Heading, scope: str, entries: Sequence[Mapping[str, Any]]) -> None:
        self.title_block(heading.agency, heading.title, scope, heading.basis)
        self.header()
        self.body(entries)
        self.signatures()
        self.fit_to_page()

    def put(self, row: int, column: str, value: Any, *, number_format: str | None = None) -> Cell:
        return put(self.ws, row, column, value, number_format=number_format, formulas=self.formulas)

    def title_block(self, agency: str, title: str, scope: str, basis: str) -> None:
        """Rows 1 to ``TITLE_ROWS``, each merged across the sheet: who, what, which dossiers, which law."""
        lines = [
            (agency, Font(name=FONT, bold=True, size=12), LEFT),
            (title, Font(name=FONT, bold=True, size=13), CENTER),
            (scope, Font(name=FONT, italic=True), CENTER),
            (basis, Font(name=FONT, italic=True), CENTER),
            (t("doc.plan.money_unit", self.lang), Font(name=FONT, italic=True), RIGHT),
        ]
        for row, (text, font, alignment) in enumerate(lines, start=1):
            self.ws.merge_cells(f"A{row}:{self.columns['note']}{row}")
            cell = self.put(row, "A", text)
            cell.font, cell.alignment = font, alignment
        self.ws.row_dimensions[2].height = 36

    def header_cell(self, row: int, column: str, value: Any, *, italic: bool = False) -> Cell:
        cell = self.put(row, column, value) if value is not None else self.ws[f"{column}{row}"]
        cell.font = Font(name=FONT, bold=True, italic=italic)
        cell.alignment, cell.border, cell.fill = CENTER, BORDER, HEADER_FILL
        return cell

    def sums(self, row: int, names: Sequence[str], rows: Sequence[int]) -> None:
        """In each column of ``names``, the sum of ``rows`` (0 when there are none)."""
        for name in names:
            column = self.columns[name]
            self.put(row, column, f"=SUM({ranges(column, rows)})" if rows else 0)

    def style_row(self, row: int, *, bold: bool) -> None:
        for name, column in self.columns.items():
            cell = self.ws[f"{column}{row}"]
            cell.border = BORDER
            cell.font = Font(name=FONT, bold=bold)
            cell.alignment = WRAP if name in WRAPPED else Alignment(vertical="top")
            if name in self.money:
                cell.number_format = MONEY

    def signatures(self) -> None:
        """Place and date, who prepared it and the head of the agency, below the table."""
        ws, lang = self.ws, self.lang
        row = self.row + 1
        left, right_from, right_to = self.columns["activity"], self.columns["total"], self.columns["note"]
        ws.merge_cells(f"{right_from}{row}:{right_to}{row}")
        cell = self.put(row, right_from, t("doc.form.place_date_blank", lang))
        cell.font, cell.alignment = Font(name=FONT, italic=True), CENTER
        for r, (left_key, right_key, bold) in enumerate(
            (("preparer", "head", True), ("preparer_hint", "head_hint", False)), start=row + 1
        ):
            ws.merge_cells(f"{right_from}{r}:{right_to}{r}")
            for column, key in ((left, left_key), (right_from, right_key)):
                cell = self.put(r, column, t(f"doc.plan.{key}", lang))
                cell.font, cell.alignment = Font(name=FONT, bold=bold, italic=not bold), CENTER

    def fit_to_page(self) -> None:
        """A4 landscape, as wide as one page, as long as it takes."""
        ws = self.ws
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True


@dataclass(frozen=True)
class Heading:
    """The title block's lines that both sheets share (each has its own scope line)."""

    agency: str
    title: str
    basis: str


def workbook(
    sheet: Callable[[Worksheet], Sheet],
    heading: Heading,
    scopes: tuple[str, str],
    approved: Sequence[Mapping[str, Any]],
    submitted: Sequence[Mapping[str, Any]],
    lang: str,
) -> bytes:
    """Two sheets: the approved dossiers' ("Đã duyệt"), then the submitted ones'."""
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = t("doc.plan.sheet_approved", lang)
    sheet(first).write(heading, scopes[0], approved)
    second = book.create_sheet(t("doc.plan.sheet_submitted", lang))
    sheet(second).write(heading, scopes[1], submitted)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
