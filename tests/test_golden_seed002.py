"""Golden rows of seed 002 (Quảng Ngãi dispatch 770/UBND, Biểu 3, 4, 6, 7) reproduced by the estimator.

The seed's amounts are in million đồng and rounded (120.6 is printed 120, 98.7 is printed 99), so a row
matches when the computed amount is within one million đồng of the printed one.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from rules.catalogue import Flag, default_catalogue
from rules.estimate import Profile, estimate, plan_row
from rules.size import Size

GOLDEN = Path(__file__).parent / "golden"
FILES = sorted(GOLDEN.glob("qn*.yaml"))


def _rows() -> list[tuple[str, dict[str, Any], int]]:
    out = []
    for path in FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for row in data["rows"]:
            out.append((path.stem, row, int(data["unit_vnd"])))
    return out


ROWS = _rows()


def test_every_table_has_rows() -> None:
    assert {p.stem for p in FILES} == {
        "qn2026_bieu3",
        "qn2026_bieu4",
        "qn2026_2028_bieu6",
        "qn2026_2028_bieu7",
    }
    assert len(ROWS) >= 16


@pytest.mark.parametrize(("table", "row", "unit"), ROWS, ids=[f"{t}:{r['code']}" for t, r, _ in ROWS])
def test_plan_row_reproduces_seed(table: str, row: dict[str, Any], unit: int) -> None:
    item = default_catalogue().row(row["code"], programme="nd80-national")
    assert item is not None, row["code"]
    assert item.rate_percent == Decimal(row["rate_percent"])
    if "cap_per_unit" in row:
        assert item.cap_vnd == row["cap_per_unit"] * unit
    total = int(Decimal(str(row["total_cost"])) * unit)
    state = plan_row(item, row["quantity"], total)
    assert abs(state - row["state"] * unit) < unit, f"{row['code']}: {state} vs {row['state']} M"
    assert abs((total - state) - row["enterprise"] * unit) < unit


# The single-firm rows worked out exactly, through the owner's path (Circular 06 Art. 3.2 row choice).
EXACT = [
    ("III.A", (Size.small,), frozenset(), 200_000_000, 100_000_000, "III.A.2.1"),
    ("III.A", (Size.small,), frozenset({Flag.women_owned}), 250_000_000, 125_000_000, "III.A.2.2"),
    ("III.A", (Size.medium,), frozenset(), 402_000_000, 120_600_000, "III.A.3.1"),
    ("III.A", (Size.micro,), frozenset(), 50_000_000, 50_000_000, "III.A.1.1"),
    ("III.A", (Size.micro,), frozenset({Flag.many_female_workers}), 66_400_000, 66_400_000, "III.A.1.2"),
]


@pytest.mark.parametrize(("ref", "sizes", "flags", "cost", "state", "row"), EXACT)
def test_owner_estimate_nd80_art13_2(
    ref: str, sizes: tuple[Size, ...], flags: frozenset[Flag], cost: int, state: int, row: str
) -> None:
    est = estimate(default_catalogue().find(ref), Profile(sizes, flags), cost)
    assert est.eligible
    assert est.item.code == row
    assert est.state_vnd == state
    assert est.enterprise_vnd == cost - state


def test_training_in_company_course_nd80_art14_3() -> None:
    catalogue = default_catalogue()
    profile = Profile((Size.small,), frozenset({Flag.production_processing}))
    plain = estimate(catalogue.find("T.I.4"), profile, 70_000_000)
    assert (plain.item.code, plain.state_vnd) == ("T.I.4", 49_000_000)  # 70 %, point a
    priority = Profile((Size.small,), frozenset({Flag.production_processing, Flag.women_owned}))
    best = estimate(catalogue.find("T.I.4"), priority, 70_000_000)
    assert (best.item.code, best.state_vnd) == ("T.I.5", 70_000_000)  # 100 %, point b
