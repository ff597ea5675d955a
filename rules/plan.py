"""The plan table of Circular 06/2022 Annex 4 "Biểu 2": its tree of rows and headings, and its sums.

Sections I-IV of the national programme in the order of Biểu 2, each firm-facing row under its heading rows
(III.A.2.1 under III.A.2 under III.A under III); the TT column as Biểu 2 prints it; the citation a heading
row carries (the clause shared by every row below it); and the totals per programme and row that a plan
export adds up (Annex 4, g = d x e). Rendering (titles in a language, cells, formulas) is the shell's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rules.catalogue import Catalogue, Item
from rules.legal import Basis

NATIONAL = "nd80-national"
ANNEX_SECTIONS = ("I", "II", "III", "IV")


@dataclass
class PlanNode:
    """A row of the plan: an Annex row (``item``), or a heading with children."""

    code: str
    tt: str
    item: Item | None = None
    children: list[PlanNode] = field(default_factory=list)
    sums_label: bool = False  # Biểu 2 prints "(=1+2+3)" after the title of sections and parts


@dataclass
class Totals:
    quantity: int = 0
    state: int = 0
    enterprise: int = 0
    title: str | None = None  # the title the dossier gave, for a code the catalogue does not know


def tt(code: str) -> str:
    """The TT column of Biểu 2: "III.A.2.1" -> "2.1", "III.A" -> "A", "II.3.1.2" -> "3.1.2", "IV" -> "IV"."""
    segments = code.split(".")
    if len(segments) == 1:
        return code
    rest = segments[1:]
    if rest[0].isalpha():
        if len(rest) == 1:
            return rest[0]
        rest = rest[1:]
    return ".".join(rest)


def annex_tree(catalogue: Catalogue) -> list[PlanNode]:
    """Sections I-IV of the national programme: every firm-facing Annex row under its heading rows."""
    programme = catalogue.programmes.get(NATIONAL)
    if programme is None:
        return []
    roots: list[PlanNode] = []
    nodes: dict[str, PlanNode] = {}
    for item in programme.items:
        segments = item.code.split(".")
        if not item.for_firms or segments[0] not in ANNEX_SECTIONS:
            continue
        parent: PlanNode | None = None
        for depth in range(1, len(segments) + 1):
            code = ".".join(segments[:depth])
            node = nodes.get(code)
            if node is None:
                node = PlanNode(
                    code, tt(code), sums_label=depth == 1 or (depth == 2 and segments[1].isalpha())
                )
                nodes[code] = node
                (parent.children if parent else roots).append(node)
            parent = node
        assert parent is not None
        parent.item = item
    return roots


def annex_codes(catalogue: Catalogue) -> set[str]:
    """The codes of the national programme's firm-facing Annex rows (sections I-IV of Biểu 2)."""
    programme = catalogue.programmes.get(NATIONAL)
    if programme is None:
        return set()
    return {it.code for it in programme.items if it.for_firms and it.code.split(".")[0] in ANNEX_SECTIONS}


def leaves(node: PlanNode) -> list[PlanNode]:
    if not node.children:
        return [node]
    return [leaf for child in node.children for leaf in leaves(child)]


def common_basis(items: Sequence[Item]) -> Basis | None:
    """The citation shared by every row below a heading (Biểu 2 cites the clause on the heading row)."""
    if not items:
        return None
    first = items[0].basis
    if any(it.basis.document != first.document for it in items):
        return None
    article = first.article if all(it.basis.article == first.article for it in items) else None
    clause = first.clause if article and all(it.basis.clause == first.clause for it in items) else None
    point = first.point if clause and all(it.basis.point == first.point for it in items) else None
    return Basis(document=first.document, article=article, clause=clause, point=point)


def programme_of_entry(catalogue: Catalogue, entry: Mapping[str, Any]) -> str:
    """The programme a dossier item belongs to: as filed, else the catalogue's for its row code."""
    if entry.get("programme_id"):
        return str(entry["programme_id"])
    item = catalogue.row(str(entry.get("code") or ""))
    return catalogue.programme_of(item.id).id if item is not None else ""


def aggregate(catalogue: Catalogue, entries: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Totals]:
    """Quantity, state and enterprise amounts per (programme, row code) over the dossiers' items."""
    out: dict[tuple[str, str], Totals] = {}
    for entry in entries:
        key = (programme_of_entry(catalogue, entry), str(entry.get("code") or ""))
        totals = out.setdefault(key, Totals())
        totals.quantity += int(entry.get("quantity") or 1)
        totals.state += int(entry.get("state_vnd") or 0)
        totals.enterprise += int(entry.get("enterprise_vnd") or 0)
        totals.title = totals.title or (str(entry["title"]) if entry.get("title") else None)
    return out
