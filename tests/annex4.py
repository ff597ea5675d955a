"""Read Circular 06/2022 Annex 4 "Biểu 2" from the seed text into rows (code, title, unit, rate, amount).

Used twice: to write ``tests/golden/tt06_annex4_bieu2.tsv`` (committed, so the suite needs no seed) and,
when ``../shared/seeds`` is present, to check that file against the seed itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "001_631732fb105efd2e.txt"
GOLDEN = Path(__file__).parent / "golden" / "tt06_annex4_bieu2.tsv"
START = "Biểu 2: Kế hoạch và dự toán kinh phí hỗ trợ DNNVV về công nghệ"
SECTIONS = {"I", "II", "III", "IV", "V"}
PARTS = {"A", "B", "C"}


@dataclass(frozen=True)
class AnnexRow:
    code: str
    title: str
    unit: str
    rate_percent: int | None
    amount_vnd: int | None


def _clean(cell: str) -> str:
    return re.sub(r"</?[bi]>", "", cell).strip()


def parse_seed(text: str) -> list[AnnexRow]:
    body = text[text.index(START) :]
    body = body[: body.index("(\\*): lập dự toán chi tiết")]
    rows: list[AnnexRow] = []
    section = part = ""
    for line in body.splitlines():
        cells = [_clean(c) for c in line.split("\t")]
        if len(cells) < 6 or cells[0] in ("", "TT", "a"):
            continue
        tt = cells[0].strip("*")
        if tt in SECTIONS:
            section, part = tt, ""
            continue
        if tt in PARTS:
            part = tt
            code = f"{section}.{part}"
        elif re.fullmatch(r"\d+(\.\d+)*", tt):
            code = ".".join(p for p in (section, part, tt) if p)
        else:
            continue
        rate_cell, amount_cell = cells[4].replace("%%", "%"), cells[5]
        rate = int(rate_cell.rstrip("%")) if rate_cell.endswith("%") else None
        amount = int(amount_cell.replace(".", "")) if amount_cell.replace(".", "").isdigit() else None
        if rate is None and amount is None:
            continue  # a heading row: it carries the ND80 clause, not an item
        rows.append(AnnexRow(code, cells[1], cells[2], rate, amount))
    return rows


def read_golden(path: Path = GOLDEN) -> list[AnnexRow]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        code, title, unit, rate, amount = line.split("\t")
        rows.append(AnnexRow(code, title, unit, int(rate) if rate else None, int(amount) if amount else None))
    return rows


def write_golden(rows: list[AnnexRow], path: Path = GOLDEN) -> None:
    lines = ["code\ttitle\tunit\trate_percent\tamount_vnd"]
    for r in rows:
        rate = "" if r.rate_percent is None else str(r.rate_percent)
        amount = "" if r.amount_vnd is None else str(r.amount_vnd)
        lines.append(f"{r.code}\t{r.title}\t{r.unit}\t{rate}\t{amount}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_golden(parse_seed(SEED.read_text(encoding="utf-8")))
    print(f"wrote {GOLDEN}")
