"""The rules CLI contract: `smebot classify | estimate | items`, JSON fields, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def smebot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_classify_json_nd80_art5_and_tt06_art3_2() -> None:
    out = smebot(
        "classify",
        "--sector",
        "industry",
        "--employees",
        "8",
        "--revenue",
        "2,5 tỷ",
        "--capital",
        "5 tỷ",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["size"] == "micro"
    assert data["alternatives"] == ["small"]
    assert data["sector_group"] == "agri_industry_construction"
    assert (data["revenue_vnd"], data["capital_vnd"]) == (2_500_000_000, 5_000_000_000)
    assert "Điều 5" in data["basis"] and data["reason"]


def test_classify_text_is_vietnamese_and_english() -> None:
    vi = smebot(
        "classify", "--sector", "thuong mai", "--employees", "5", "--revenue", "9 ty", "--capital", "1 ty"
    )
    assert vi.returncode == 0 and "Doanh nghiệp siêu nhỏ" in vi.stdout
    en = smebot(
        "--lang",
        "en",
        "classify",
        "--sector",
        "trade",
        "--employees",
        "5",
        "--revenue",
        "9 ty",
        "--capital",
        "1 ty",
    )
    assert en.returncode == 0 and "Micro enterprise" in en.stdout


def test_estimate_json_fields() -> None:
    out = smebot("estimate", "--item", "III.A", "--cost", "402 triệu", "--size", "medium", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in (
        "eligible",
        "item",
        "row",
        "size",
        "rate_percent",
        "cap_vnd",
        "state_vnd",
        "enterprise_vnd",
        "basis",
        "reason",
    ):
        assert key in data
    assert (data["row"], data["state_vnd"], data["enterprise_vnd"]) == ("III.A.3.1", 120_600_000, 281_400_000)


def test_estimate_from_declaration_picks_the_favourable_size() -> None:
    out = smebot(
        "estimate",
        "--item",
        "III.A",
        "--cost",
        "200tr",
        "--sector",
        "industry",
        "--employees",
        "8",
        "--revenue",
        "2,5 tỷ",
        "--capital",
        "5 tỷ",
        "--json",
    )
    data = json.loads(out.stdout)
    assert (data["size"], data["state_vnd"], data["favourable_size"]) == ("small", 100_000_000, True)


def test_ineligible_is_an_answer_exit_0() -> None:
    out = smebot(
        "estimate",
        "--item",
        "IV.2.2",
        "--cost",
        "50tr",
        "--size",
        "small",
        "--production-processing",
        "--json",
    )
    assert out.returncode == 0
    data = json.loads(out.stdout)
    assert data["eligible"] is False and data["state_vnd"] == 0 and "cụm liên kết" in data["reason"]


def test_quantity_makes_cost_per_unit() -> None:
    out = smebot(
        "estimate",
        "--item",
        "IV.1.2",
        "--cost",
        "12tr",
        "--quantity",
        "4",
        "--size",
        "small",
        "--cluster",
        "--production-processing",
        "--json",
    )
    data = json.loads(out.stdout)
    assert (data["supported_quantity"], data["state_vnd"], data["total_cost_vnd"]) == (
        3,
        18_000_000,
        48_000_000,
    )


def test_items_filters_by_profile() -> None:
    all_items = json.loads(smebot("items", "--json").stdout)["items"]
    micro = json.loads(smebot("items", "--size", "micro", "--json").stdout)["items"]
    assert len(micro) < len(all_items)
    codes = {i["code"] for i in micro}
    assert "III.A.1.1" in codes and "III.A.2.1" not in codes and "IV.2.1" not in codes
    assert all(i["programme"] for i in micro)
    one = json.loads(
        smebot("items", "--programme", "vinh-thuy-2026-khuyen-cong", "--year", "2026", "--json").stdout
    )
    assert {i["programme"] for i in one["items"]} == {"vinh-thuy-2026-khuyen-cong"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("estimate", "--item", "Z.9", "--cost", "1tr", "--size", "small"), "--item"),
        (
            ("classify", "--sector", "mining", "--employees", "1", "--revenue", "1 ty", "--capital", "1 ty"),
            "--sector",
        ),
        (
            ("classify", "--sector", "trade", "--employees", "1", "--revenue", "abc", "--capital", "1 ty"),
            "--revenue",
        ),
        (
            ("classify", "--sector", "trade", "--employees", "1", "--revenue", "-5 ty", "--capital", "1 ty"),
            "--revenue",
        ),
        (
            ("classify", "--sector", "trade", "--employees", "-3", "--revenue", "5 ty", "--capital", "1 ty"),
            "--employees",
        ),
        (("estimate", "--item", "III.A", "--cost", "", "--size", "small"), "--cost"),
        (("estimate", "--item", "III.A", "--cost", "5tr"), "--size"),
        (("items", "--programme", "nope"), "--programme"),
        (("frobnicate",), "frobnicate"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: tuple[str, ...], needle: str) -> None:
    out = smebot(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
    assert "Traceback" not in out.stderr
