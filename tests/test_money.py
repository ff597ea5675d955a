"""rules.money: what owners type -> int VND, and back. Never a float."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locales import LANGUAGES, t
from rules.money import MAX_VND, MoneyError, format_vnd, format_vnd_full, parse_vnd

ACCEPTED = [
    ("2,5 tỷ", 2_500_000_000),
    ("2.5 tỷ", 2_500_000_000),
    ("2 tỷ 500 triệu", 2_500_000_000),
    ("2 tỷ 5", 2_500_000_000),
    ("1.200 triệu", 1_200_000_000),
    ("2.500.000.000", 2_500_000_000),
    ("2500000000", 2_500_000_000),
    ("2.500.000.000 đồng", 2_500_000_000),
    ("500tr", 500_000_000),
    ("500 triệu đồng", 500_000_000),
    ("800k", 800_000),
    ("3 ty", 3_000_000_000),
    ("3 tỉ", 3_000_000_000),
    ("9 ty 500 trieu", 9_500_000_000),
    ("1,5 tỉ đồng", 1_500_000_000),
    ("2.5 billion", 2_500_000_000),
    ("500 million", 500_000_000),
    ("  2,5   TỶ  ", 2_500_000_000),
    ("2 tỷ rưỡi", 2_500_000_000),
    ("120.600.000 đ", 120_600_000),
    ("500 đồng", 500),
    ("0 đồng", 0),
    ("3 triệu 2", 3_200_000),
    ("2 tỷ 500", 2_500_000_000),
    ("2,500,000,000", 2_500_000_000),
    ("1.234,5 triệu", 1_234_500_000),
    ("50000000 VND", 50_000_000),
]


@pytest.mark.parametrize(("text", "vnd"), ACCEPTED)
def test_parse_accepts_what_owners_type(text: str, vnd: int) -> None:
    value = parse_vnd(text)
    assert value == vnd
    assert type(value) is int


REJECTED = [
    ("", "empty"),
    ("   ", "empty"),
    ("-5 triệu", "negative"),
    ("âm 5 triệu", "negative"),
    ("abc", "not_a_number"),
    ("năm trăm", "not_a_number"),
    ("2 tỷ abc", "not_a_number"),
    ("10000000 tỷ", "too_large"),
    ("1000000000000001", "too_large"),
    ("500", "ambiguous"),  # 500 đồng or 500 triệu?
    ("1,500", "ambiguous"),  # Vietnamese 1.5 or English 1500?
    ("2 triệu 3 tỷ", "ambiguous"),  # units must go down
    ("2 tỷ 50", "ambiguous"),
    ("2,5 đồng", "fraction"),
    ("1.2.3", "not_a_number"),
]


@pytest.mark.parametrize(("text", "code"), REJECTED)
def test_parse_rejects_with_a_specific_reason(text: str, code: str) -> None:
    with pytest.raises(MoneyError) as info:
        parse_vnd(text)
    assert info.value.code == code
    for lang in LANGUAGES:  # a message exists in both languages and is not the key itself
        message = t(f"money.error.{code}", lang, text=text)
        assert message and not message.startswith("money.")


def test_format_short_and_full() -> None:
    assert format_vnd(2_500_000_000) == "2,5 tỷ đồng"
    assert format_vnd(120_600_000) == "120,6 triệu đồng"
    assert format_vnd_full(120_600_000) == "120.600.000 đ"
    assert format_vnd(50_000_000) == "50 triệu đồng"
    assert format_vnd(1_234_000_000) == "1.234 triệu đồng"
    assert format_vnd(1_234_567) == "1.234.567 đồng"
    assert format_vnd(2_500_000_000, "en") == "2.5 billion VND"


@given(st.integers(min_value=0, max_value=MAX_VND))
def test_parse_of_format_is_identity(vnd: int) -> None:
    assert parse_vnd(format_vnd(vnd)) == vnd
    assert parse_vnd(format_vnd_full(vnd)) == vnd
    assert parse_vnd(format_vnd(vnd, "en")) == vnd


@given(st.integers(min_value=10_000, max_value=MAX_VND))
def test_plain_digits_parse(vnd: int) -> None:
    assert parse_vnd(str(vnd)) == vnd
