"""The year's plan as a workbook in the layout of Circular 06/2022 Annex 4 "Biểu 2".

One row per Annex row of the national programme (the tree and its totals are ``rules.plan``'s), with
heading rows, subtotals and the grand total as formulas, so a spreadsheet recomputes them; rows of other
programmes go to an extra section after the Annex's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

from bot.documents.sheet import TITLE_ROWS, Heading, Sheet, column_letters, workbook
from locales import catalogue as messages
from locales import t
from rules import plan
from rules.catalogue import Catalogue, Item
from rules.legal import Basis

NATIONAL = plan.NATIONAL
TT06 = Basis(document="TT06")

# Biểu 2 columns a..m and where they sit in the sheet (k = g + h + i lands on J: G+H+I).
COLUMNS = (
    *("tt", "activity", "unit", "quantity", "rate", "cap"),
    *("state", "enterprise", "sponsor", "total", "basis", "note"),
)
LETTERS = ("a", "b", "c", "d", "đ", "e", "g", "h", "i", "k = g+h+i", "l", "m")
COL = column_letters(COLUMNS)
SUMMED = ("quantity", "state", "enterprise", "sponsor", "total")
WIDTHS = (8, 60, 10, 10, 9, 15, 17, 17, 14, 17, 32, 28)
HEADER_ROWS = 3  # two header rows and the row of column letters
FIRST_DATA_ROW = TITLE_ROWS + HEADER_ROWS + 1


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


def _rate_value(rate: Decimal | None) -> tuple[Decimal | None, str]:
    if rate is None:
        return None, "General"
    fraction = rate / 100
    return fraction, "0%" if rate == rate.to_integral_value() else "0.0%"


class _PlanSheet(Sheet):
    columns = COL
    formulas = frozenset(COL[name] for name in SUMMED)  # every other column holds text or numbers
    money = frozenset((*SUMMED, "cap"))

    first_row = FIRST_DATA_ROW

    def __init__(self, ws: Worksheet, lang: str, catalogue: Catalogue) -> None:
        super().__init__(ws, lang)
        self.catalogue = catalogue

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
                self.header_cell(row, COL[name], None, italic=row == letters)
        ws.row_dimensions[top].height = 30
        ws.row_dimensions[sub].height = 30
        for name, width in zip(COLUMNS, WIDTHS, strict=True):
            ws.column_dimensions[COL[name]].width = width
        ws.freeze_panes = f"A{FIRST_DATA_ROW}"
        ws.print_title_rows = f"{top}:{letters}"

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
        self.style_row(row, bold=False)
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
        self.sums(row, SUMMED, child_rows)
        self.style_row(row, bold=True)

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
        self.sums(row, SUMMED, top_rows)
        self.style_row(row, bold=True)
        return row

    def body(self, entries: Sequence[Mapping[str, Any]]) -> None:
        catalogue, lang = self.catalogue, self.lang
        sums = plan.aggregate(catalogue, entries)
        annex = plan.annex_codes(catalogue)
        national = {code: totals for (pid, code), totals in sums.items() if pid == NATIONAL and code in annex}
        sections = _annex_tree(catalogue, lang)
        outside = {
            key: totals for key, totals in sums.items() if not (key[0] == NATIONAL and key[1] in annex)
        }
        other = _other_node(catalogue, outside, lang)
        other_sums = {f"{pid}:{code}": totals for (pid, code), totals in sums.items()}
        top_rows = [self.node(section, national) for section in sections]
        labels = [section.tt for section in sections]
        if other is not None:
            top_rows.append(self.node(other, other_sums))
            labels.append(other.tt)
        self.grand_total(top_rows, labels)


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
    heading = Heading(
        agency, t("doc.plan.title", lang, year=year), t("doc.plan.form", lang, basis=TT06.cite(lang))
    )
    lines = scopes or (t("doc.plan.scope_approved", lang), t("doc.plan.scope_submitted", lang))
    return workbook(lambda ws: _PlanSheet(ws, lang, catalogue), heading, lines, approved, submitted, lang)
