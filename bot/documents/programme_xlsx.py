"""The plan of an agency whose programmes are not Decree 80's, as a workbook.

A commune khuyến công plan (Decree 45/2012 as amended) is not Biểu 2: its own table lists its own rows
(content, unit, support per unit, planned quantity, amount), then the plan's budget and what is left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

from bot.documents.sheet import TITLE_ROWS, Heading, Sheet, column_letters, workbook
from locales import t
from rules import plan
from rules.catalogue import Catalogue, Item, Programme

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
PCOL = column_letters(PROGRAMME_COLUMNS)
PROGRAMME_WIDTHS = (8, 60, 10, 16, 10, 17, 17, 17, 26, 40)
PROGRAMME_SUMMED = ("quantity", "state", "enterprise", "total")


class _ProgrammeSheet(Sheet):
    columns = PCOL
    formulas = frozenset(PCOL[name] for name in PROGRAMME_SUMMED)
    money = frozenset(("cap", "state", "enterprise", "total"))

    first_row = TITLE_ROWS + 1

    def __init__(
        self, ws: Worksheet, lang: str, programmes: Sequence[Programme], catalogue: Catalogue
    ) -> None:
        super().__init__(ws, lang)
        self.programmes, self.catalogue = programmes, catalogue

    def header(self) -> None:
        ws, row = self.ws, self.row
        for name, width in zip(PROGRAMME_COLUMNS, PROGRAMME_WIDTHS, strict=True):
            key = {"basis": "basis_column"}.get(name, name)
            self.header_cell(row, PCOL[name], t(f"export.programme.{key}", self.lang))
            ws.column_dimensions[PCOL[name]].width = width
        ws.row_dimensions[row].height = 45
        ws.freeze_panes = f"A{row + 1}"
        ws.print_title_rows = f"{row}:{row}"
        self.row += 1

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
        self.style_row(row, bold=False)
        return row

    def total(self, rows: Sequence[int], budget: int | None) -> None:
        lang, row = self.lang, self.row
        self.put(row, PCOL["activity"], t("export.programme.total_row", lang))
        self.sums(row, PROGRAMME_SUMMED, rows)
        self.style_row(row, bold=True)
        self.row += 1
        if budget is None:
            return
        self.put(row + 1, PCOL["activity"], t("export.programme.budget", lang))
        self.put(row + 1, PCOL["state"], budget)
        self.put(row + 2, PCOL["activity"], t("export.programme.left", lang))
        self.put(row + 2, PCOL["state"], f"={PCOL['state']}{row + 1}-{PCOL['state']}{row}")
        for r in (row + 1, row + 2):
            self.style_row(r, bold=False)
        self.row += 2

    def body(self, entries: Sequence[Mapping[str, Any]]) -> None:
        sums = plan.aggregate(self.catalogue, entries)
        for programme in self.programmes:
            rows = [
                self.item(number, item, sums.get((programme.id, item.code), plan.Totals()))
                for number, item in enumerate(programme.items, start=1)
            ]
            self.total(rows, programme.budget_vnd)


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
    programmes = [catalogue.programmes[p] for p in programme_ids if p in catalogue.programmes]
    title = "; ".join(p.title.get(lang) for p in programmes)
    bases = sorted({b.cite(lang) for p in programmes for b in p.basis})
    heading = Heading(
        agency,
        t("export.programme.title", lang, title=title, year=year),
        t("export.programme.basis", lang, basis="; ".join(bases)),
    )

    def sheet(ws: Worksheet) -> _ProgrammeSheet:
        return _ProgrammeSheet(ws, lang, programmes, catalogue)

    return workbook(sheet, heading, scopes, approved, submitted, lang)
