"""Issue 12 golden cases (tests/golden/law_round2.yaml): each names its article; written from the sources."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from rules.catalogue import DateKey, EntityType, Flag, default_catalogue
from rules.estimate import NOTHING_USED, Profile, Request, Used, estimate_all
from rules.size import Size
from rules.usage import Received, combined, used_this_year

CAT = default_catalogue()
CASES = yaml.safe_load((Path(__file__).parent / "golden" / "law_round2.yaml").read_text(encoding="utf-8"))[
    "cases"
]


def profile(firm: dict[str, Any]) -> Profile:
    dates = {DateKey(k): v for k, v in (firm.get("dates") or {}).items()}
    return Profile(
        tuple(Size(s) for s in firm["sizes"]),
        frozenset(Flag(f) for f in firm.get("flags", [])),
        EntityType(firm.get("entity", "enterprise")),
        tuple(sorted(dates.items())),
    )


def request(spec: dict[str, Any]) -> Request:
    rows = CAT.content_rows()[spec["content"]] if "content" in spec else CAT.resolve(spec["ref"])
    return Request(rows, spec["cost"], spec.get("quantity", 1))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_golden_case(case: dict[str, Any]) -> None:
    on: dt.date = case["day"]
    received = [
        Received(r["item"], on.year, r["vnd"], r.get("units", 0), r.get("content"))
        for r in case.get("received", [])
    ]
    declared = {c: Used(u["vnd"], u.get("units", 0)) for c, u in (case.get("declared") or {}).items()}
    used = combined(used_this_year(received, on.year, CAT), declared)
    ests = estimate_all([request(r) for r in case["requests"]], profile(case["firm"]), used, on)
    assert len(ests) == len(case["expect"])
    for est, want in zip(ests, case["expect"], strict=True):
        assert est.eligible is want["eligible"], (case["article"], est.refusal)
        if "state" in want:
            assert est.state_vnd == want["state"], case["article"]
        if "refusal" in want:
            assert est.refusal is not None and est.refusal.key == want["refusal"], case["article"]
        if "limited_by" in want:
            assert est.amount is not None and est.amount.limited_by == want["limited_by"], case["article"]
        if "supported" in want:
            assert est.amount is not None and est.amount.supported_units == want["supported"]
        if "row" in want:
            assert est.item.code == want["row"]
    if "total" in case:
        assert sum(e.state_vnd for e in ests) == case["total"]


def test_nothing_used_is_zero() -> None:
    assert Used(0, 0) == NOTHING_USED
