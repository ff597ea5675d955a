"""ND80 Art. 5-9 and TT06 Art. 3.2: size, criterion and alternatives; ND80 Art. 3.8, L04 Art. 3.1 flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rules.size import Declaration, Sector, Size, classify, many_female_workers, women_owned

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "golden" / "size_cases.yaml").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['article']}: {c['name']}" for c in CASES])
def test_size_boundaries(case: dict[str, Any]) -> None:
    result = classify(
        Declaration(
            sector=Sector(case["sector"]),
            workers=case["workers"],
            revenue_vnd=case["revenue"],
            capital_vnd=case["capital"],
            months_operating=case.get("months_operating"),
        )
    )
    assert result.size is Size(case["size"])
    assert result.criterion == case["criterion"]
    assert [s.value for s in result.alternatives] == case["alternatives"]


def test_sector_groups_nd80_art5() -> None:
    for sector, group in [
        (Sector.agriculture, "agri_industry_construction"),
        (Sector.industry, "agri_industry_construction"),
        (Sector.construction, "agri_industry_construction"),
        (Sector.trade, "trade_services"),
        (Sector.services, "trade_services"),
    ]:
        assert classify(Declaration(sector, 1, 1, 1)).sector_group == group


def test_citation_names_the_clause_of_nd80_art5() -> None:
    result = classify(Declaration(Sector.industry, 50, 60_000_000_000, 20_000_000_000))
    assert result.basis.cite("vi") == "Khoản 2 Điều 5 Nghị định 80/2021/NĐ-CP"
    assert result.basis.cite("en") == "clause 2, Art. 5, Decree 80/2021/ND-CP"


def test_candidate_sizes_main_first() -> None:
    result = classify(Declaration(Sector.industry, 8, 2_500_000_000, 5_000_000_000))
    assert result.candidate_sizes == (Size.micro, Size.small)
    assert classify(Declaration(Sector.industry, 500, 1, 1)).candidate_sizes == ()


@pytest.mark.parametrize(
    ("workers", "female", "expected"),
    [
        (10, 5, True),
        (10, 4, False),
        (99, 50, True),
        (99, 49, False),
        (100, 30, True),
        (100, 29, False),
        (250, 75, True),
        (250, 74, False),
        (0, 0, False),
    ],
)
def test_many_female_workers_nd80_art3_8(workers: int, female: int, expected: bool) -> None:
    assert many_female_workers(workers, female) is expected


@pytest.mark.parametrize(
    ("percent", "executive", "expected"),
    [(51, True, True), (50, True, False), (100, False, False), (60, True, True)],
)
def test_women_owned_l04_art3_1(percent: int, executive: bool, expected: bool) -> None:
    assert women_owned(percent, executive) is expected


def test_declaration_rejects_impossible_values() -> None:
    with pytest.raises(ValueError):
        Declaration(Sector.trade, -1, 1, 1)
    with pytest.raises(ValueError):
        Declaration(Sector.trade, 5, 1, 1, female_workers=6)
    with pytest.raises(ValueError):
        Declaration(Sector.trade, 5, -1, 1)
